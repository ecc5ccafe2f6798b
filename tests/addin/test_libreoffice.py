"""Real-client checks: headless LibreOffice (Debian's libreoffice-calc-nogui, installed by .ci/run)
opens the template, a refreshed demo workbook and its finance copy, recalculates them and renders
them to PDF and PNG (poppler-utils).

Asserted: no report sheet of the finance copy shows an error value; LibreOffice's recalculation of
the ordinary formulas (consultation cost = spend ÷ consultations per row) equals calc's numbers;
every report sheet renders its charts (their titles and axes are in the PDF text of that sheet).
Two soffice runs in all (one to xlsx, one to pdf), each converting several files.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

import calc
from addin.report import SECTIONS
from addin.report.template import build_template, sample_tables
from addin.workbook import refresh_file, share_file
from calc.messages import catalogue

REPO = Path(__file__).resolve().parents[2]
ERRORS = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "###", "Err:")


def soffice(args: list[str], profile: Path) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is required: apt-get install -y libreoffice-calc-nogui poppler-utils"
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", *args],
                   check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("lo")
    tables = sample_tables(until="2025-01-31")
    template = Path(shutil.copy(REPO / "workbook_templates" / "cycle_roi_template.xlsx", root / "template.xlsx"))
    demo = build_template(root / "demo.xlsx", tables=tables)
    refresh_file(demo)
    finance, _ = share_file(demo, root / "finance.xlsx", include_inputs=False)
    profile = root / "profile"
    soffice(["--convert-to", "xlsx", "--outdir", str(root / "xlsx"), str(demo), str(finance)], profile)
    soffice(["--convert-to", "pdf", "--outdir", str(root / "pdf"), str(template), str(finance)], profile)
    text = {}
    for name in ("template", "finance"):
        pdf = root / "pdf" / f"{name}.pdf"
        subprocess.run(["pdftotext", "-layout", str(pdf), str(root / f"{name}.txt")], check=True, timeout=60)
        text[name] = (root / f"{name}.txt").read_text(encoding="utf-8")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(root / "pdf" / "finance.pdf"),
                    str(root / "finance")], check=True, timeout=60)
    return {"root": root, "tables": tables, "text": text}


def sheet_rows(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_libreoffice_recalculates_the_ordinary_formulas_to_calcs_numbers(rendered):
    tables = rendered["tables"]
    expected = calc.kpi_table(calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"]), by="channel")
    rows = sheet_rows(rendered["root"] / "xlsx" / "demo.xlsx", "Dashboard")
    header = next(i for i, r in enumerate(rows) if r[0] == "channel")
    cost_col = rows[header].index("Consultation cost")
    got = {r[0]: r[cost_col] for r in rows[header + 1: header + 1 + len(expected)]}
    assert got == {row.channel: pytest.approx(row.consult_cost, rel=1e-12) for row in expected.itertuples()}


def test_no_report_sheet_of_the_finance_copy_shows_an_error(rendered):
    recalculated = rendered["root"] / "xlsx" / "finance.xlsx"
    book = CalamineWorkbook.from_path(str(recalculated))
    for sheet in book.sheet_names:
        for row in book.get_sheet_by_name(sheet).to_python():
            bad = [v for v in row if isinstance(v, str) and v.startswith(ERRORS)]
            assert bad == [], (sheet, bad)
    # in the rendered pages, an error token is an error unless it sits inside one of our own help sentences
    # (the Start sheet explains what "#NAME?" means); a whole line of the PDF text must then be part of one
    help_text = " ".join(" ".join(str(t).split()) for t in catalogue("en").values() if isinstance(t, str))
    shown = [" ".join(line.split()) for line in rendered["text"]["finance"].splitlines()
             if any(e in line for e in ERRORS)]
    assert [line for line in shown if line not in help_text] == []
    # the template, by contrast, shows #NAME? for the add-in's functions outside Excel: the reason for share
    assert "#NAME?" in rendered["text"]["template"]


def test_every_report_sheet_renders_its_charts(rendered):
    from addin.report.sections import build_sheets
    from addin.report.blocks import Chart

    tables = rendered["tables"]
    sheets = build_sheets(calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"]))
    text = " ".join(rendered["text"]["finance"].split())  # long chart titles wrap; compare words
    starts, position = [], 0
    for s in sheets:  # sheets print in order: find each title after the previous one
        position = text.find(f"{s.name} ", position + 1)
        starts.append(position)
    assert all(p >= 0 for p in starts), starts
    for i, sheet in enumerate(sheets):
        if sheet.key == "data":  # the full rows of long tables; their charts are on the report sheets
            continue
        assert any(isinstance(b, Chart) for b in sheet.blocks), sheet.key  # every report sheet has a chart
        part = text[starts[i]: starts[i + 1] if i + 1 < len(sheets) else len(text)]
        for block in sheet.blocks:
            if isinstance(block, Chart):
                assert " ".join(block.title.split()) in part, (sheet.key, block.title)
    assert len(sheets) == len(SECTIONS)
    pngs = sorted(rendered["root"].glob("finance-*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)  # real pictures, not blank pages


# --- a zh and a ko report: no English sentence on any sheet ---------------------------------------------

#: Words that are not English sentences: table and product names, method abbreviations.
NOT_ENGLISH = {"Spend", "Leads", "Deals", "Settings", "ROI", "ROAS", "XmR", "MR", "CV", "Cycle", "CN", "id",
               "MAPE", "Mack", "Student", "t"}  # method names: Mack chain ladder, Student t band


def _words(text: str) -> list[str]:
    import re

    # identifiers (gross_margin, lead_id, diagnosis_high_cost_ratio) are names the user types, not words
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_'’-]*", text) if "_" not in w]


def _data_words(tables) -> set[str]:
    """Every word of the input tables' texts and headers: segment names such as 'JD store' are data."""
    words = set()
    for frame in tables.values():
        if frame is None:
            continue
        words |= {w for c in frame.columns for w in _words(str(c))}
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype) in ("str", "string"):
                for value in frame[column].dropna().unique():
                    words |= set(_words(str(value)))
    return words


@pytest.fixture(scope="module")
def translated(tmp_path_factory):
    from addin.report import write_report

    root = tmp_path_factory.mktemp("lang")
    tables = sample_tables(until="2025-03-31")
    books = {
        # the whole report with Spend, and (in Korean) one without Spend: missing tiles, notes and reasons
        "zh": (calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"]), tables),
        "ko": (calc.prepare(leads=tables["Leads"], deals=tables["Deals"]), {**tables, "Spend": None}),
    }
    paths = {lang: write_report(data, root / f"{lang}.xlsx", language=lang) for lang, (data, _) in books.items()}
    soffice(["--convert-to", "pdf", "--outdir", str(root), *map(str, paths.values())], root / "profile")
    out = {}
    for lang, path in paths.items():
        subprocess.run(["pdftotext", "-layout", str(root / f"{lang}.pdf"), str(root / f"{lang}.txt")],
                       check=True, timeout=60)
        cells = [str(v) for sheet in CalamineWorkbook.from_path(str(path)).sheet_names
                 for row in sheet_rows(path, sheet) for v in row if isinstance(v, str)]
        out[lang] = {"pdf": (root / f"{lang}.txt").read_text(encoding="utf-8"), "cells": cells,
                     "allowed": NOT_ENGLISH | _data_words(books[lang][1])}
    return out


@pytest.mark.parametrize("language", ["zh", "ko"])
def test_a_translated_report_shows_no_english_on_any_sheet(translated, language):
    got = translated[language]
    printed = [w for w in _words(got["pdf"]) if w not in got["allowed"]]
    in_cells = [w for text in got["cells"] for w in _words(text) if w not in got["allowed"]]
    assert printed == [] and in_cells == [], (sorted(set(printed)), sorted(set(in_cells)))
    assert len(got["pdf"]) > 2000  # the sheets were rendered and read, not an empty file
