"""Printed pages: every chart prints whole on one page and shows every category label.

Checked three ways: on the sheet plans (no row page break inside a chart's rows), in the files both
writers make (the scale, the breaks and the print area are stored, "fit to page" is off so the breaks
count), and on the pages headless LibreOffice prints from a real data set with 11 categories (Olist's
lead origins as channels): LibreOffice prints exactly the planned pages — so it cuts nowhere else — and
each bar chart's page shows all 11 labels beside it. LibreOffice needs Calibri's metrics for its page
widths to match Excel's: ``fonts-crosextra-carlito`` (installed by .ci/run).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

import calc
from addin.report import build_plans, write_report
from addin.report.layout import LINE_POINTS, chart_rows
from addin.report.template import build_template, sample_tables
from addin.workbook import refresh_file


@pytest.fixture(scope="module")
def olist(olist_frames):
    leads, deals = olist_frames
    return calc.prepare(leads=leads, deals=deals, mapping={"Leads": {"channel": "origin"}})


def sample():
    tables = sample_tables(until="2025-03-31")
    return calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"])


def test_no_planned_page_break_falls_inside_a_chart(olist):
    for data, language in ((olist, "zh"), (olist, "en"), (sample(), "ko")):
        for plan in build_plans(data, language=language):
            for chart in plan.charts:
                inside = [b for b in plan.row_breaks if chart.row <= b < chart.row + chart_rows(chart)]
                assert inside == [], (language, plan.key, chart.title, inside)
            assert plan.row_breaks == sorted(set(plan.row_breaks)) and 10 <= plan.print_scale <= 100


def test_a_long_sheet_is_cut_into_pages_that_hold_what_the_scale_fits(olist):
    plan = next(p for p in build_plans(olist, language="zh") if p.key == "data")
    # the Data sheet lists every week: it needs several pages, each no taller than a page at its scale
    # (A4 landscape 595 pt less 0.6 in margins top and bottom, 96 % filled, divided by the scale)
    page = (595 - 2 * 0.6 * 72) * 0.96 * 100 / plan.print_scale
    edges = [0, *plan.row_breaks, plan.print_area[0] + 1]
    assert len(edges) > 3
    for top, bottom in zip(edges, edges[1:]):
        assert sum(plan.heights.get(r, LINE_POINTS) for r in range(top, bottom)) <= page


def stored_pagination(path: Path) -> dict[str, tuple]:
    book = openpyxl.load_workbook(path)
    return {ws.title: (ws.page_setup.scale or 100, [b.id for b in ws.row_breaks.brk],  # 100: none written
                       bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
                       ws.page_setup.orientation, ws.print_area) for ws in book.worksheets}


def test_both_writers_store_the_scale_the_breaks_and_the_print_area(olist, tmp_path):
    plans = {p.name: p for p in build_plans(olist, language="zh")}
    new = stored_pagination(write_report(olist, tmp_path / "report.xlsx", language="zh"))
    for name, plan in plans.items():
        last_row, last_col = plan.print_area
        assert new[name][:4] == (plan.print_scale, plan.row_breaks, False, "landscape"), name
        assert new[name][4].endswith(f"{openpyxl.utils.get_column_letter(last_col + 1)}${last_row + 1}"), name
    # the refresh writes report sheets with openpyxl: the same pagination
    tables = sample_tables(until="2025-03-31")
    book = build_template(tmp_path / "book.xlsx", tables=tables)
    refresh_file(book)
    refreshed = stored_pagination(book)
    data = calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"])
    for plan in build_plans(data):
        assert refreshed[plan.name][:4] == (plan.print_scale, plan.row_breaks, False, "landscape"), plan.name


def _words(pdf: Path, page: int) -> list[tuple[float, float, str]]:
    """(x, y, word) of one PDF page, as pdftotext -bbox reads it."""
    html = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    return [(float(x), float(y), w) for x, y, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', html)]


def test_libreoffice_prints_the_planned_pages_and_every_category_label(olist, tmp_path):
    assert "Carlito" in subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True).stdout, \
        "LibreOffice needs Calibri's metrics: apt-get install fonts-crosextra-carlito"
    plans = build_plans(olist, language="zh")
    path = write_report(olist, tmp_path / "olist_zh.xlsx", language="zh")
    subprocess.run([shutil.which("soffice"), f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True,
                   timeout=180)
    pdf = tmp_path / "olist_zh.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")[:-1]
    # LibreOffice cuts exactly the planned pages: none across (the scale fits the width) and no break of its own
    assert len(pages) == sum(len(plan.row_breaks) + 1 for plan in plans)
    dashboard = plans[0]
    bars = [c for c in dashboard.charts if c.kind == "bar"]
    categories = [dashboard.cell(r, bars[0].categories.col).value
                  for r in range(bars[0].categories.first_row, bars[0].categories.last_row + 1)]
    assert len(categories) >= 11 and "（空白）" in categories  # Olist: 10 origins and the blank one
    for chart in bars:
        title = chart.title.replace(" ", "")
        found = []
        for number in range(1, len(pages) + 1):
            words = _words(pdf, number)
            for i in range(len(words)):
                joined = ""
                for x, y, word in words[i:i + 6]:
                    joined += word
                    if joined == title:
                        found.append((number, words[i][1], words))
                        break
        assert len(found) == 1, (chart.title, len(found))  # the title is printed once: the chart is on one page
        number, top, words = found[0]
        height = chart_rows(chart) * LINE_POINTS * dashboard.print_scale / 100
        beside = {word for x, y, word in words if top < y < top + height}
        assert set(categories) <= beside, (chart.title, set(categories) - beside)
