"""Report sheets are known by the mark the product writes on them, never by their name: a user's sheet
(or table) named like a report sheet, in any of the four languages, keeps every cell through refresh
and share, and the report goes to another name that the notes give.

Issue 12's case: a Leads table of 400 rows sat on a sheet named ``Portfolio`` (a report sheet's name)
and an in-place refresh deleted it.
"""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

import calc
from addin.report import SECTIONS
from addin.report.labels import LANGUAGES, Labels, all_sheet_names
from addin.report.template import build_template, sample_tables
from addin.workbook import FilePort, cell_fingerprint, refresh_file, share_file
from addin.workbook.port import owned_sheet_names

#: Every report sheet name in every language (``addin/labels/*.json``): the names a user may have.
REPORT_NAMES = sorted({name for key in SECTIONS for name in all_sheet_names(key)})


@pytest.fixture(scope="module")
def tables():
    found = sample_tables(until="2025-02-10")  # about 400 leads, as in the issue
    # spend per day and channel (not per campaign): a smaller table keeps openpyxl's load/save quick
    found["Spend"] = found["Spend"].groupby(["date", "channel"], as_index=False)["cost"].sum()
    return found


def add_table(ws, name: str, frame, *, top: int = 1) -> None:
    """An Excel Table ``name`` holding ``frame`` at A``top`` (dates as dates)."""
    for j, header in enumerate(frame.columns, start=1):
        ws.cell(top, j, str(header))
    for i, row in enumerate(frame.itertuples(index=False), start=top + 1):
        for j, value in enumerate(row, start=1):
            ws.cell(i, j, value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
    last = openpyxl.utils.get_column_letter(len(frame.columns))
    ws.add_table(Table(displayName=name, ref=f"A{top}:{last}{top + len(frame)}"))


def fill_user_sheet(ws, seed: int) -> None:
    """Text, numbers, a date and a formula-looking text on a sheet the user made."""
    ws["A1"] = f"my notes {ws.title}"
    for r in range(2, 22):
        ws.cell(r, 1, f"row {r}")
        ws.cell(r, 2, seed * 100 + r * 1.5)
        ws.cell(r, 3, dt.datetime(2025, 1, 1) + dt.timedelta(days=r))
    ws["D2"] = "keep me"


def users_workbook(path, tables, language: str):
    """A workbook the user made by hand: input tables on sheets with report names, and every other
    report name in every language a sheet of their own; a table of theirs named like a report sheet."""
    book = openpyxl.Workbook()
    book.active.title = "Portfolio"  # the case: the Leads table on a sheet named Portfolio
    add_table(book["Portfolio"], "Leads", tables["Leads"])
    add_table(book.create_sheet(Labels(language)("sheet.dashboard")), "Spend", tables["Spend"])
    add_table(book.create_sheet("稳定性"), "Deals", tables["Deals"])
    settings = book.create_sheet("Pengaturan")
    settings.append(["setting", "value"])
    settings.append(["language", language])
    settings.add_table(Table(displayName="Settings", ref="A1:B2"))
    for seed, name in enumerate(REPORT_NAMES):
        if name not in book.sheetnames:
            fill_user_sheet(book.create_sheet(name), seed)
    # a user table named like a report sheet, on a sheet named like one
    segments = book["Segments"]
    segments["F1"], segments["G1"], segments["F2"], segments["G2"] = "item", "qty", "bolts", 40
    segments.add_table(Table(displayName="Segments", ref="F1:G2"))
    book.save(path)
    return path


@pytest.mark.parametrize("language", LANGUAGES)
def test_refresh_and_share_keep_every_user_cell_under_report_names(language, tables, tmp_path):
    book = users_workbook(tmp_path / f"mine-{language}.xlsx", tables, language)
    users = openpyxl.load_workbook(book).sheetnames
    before = cell_fingerprint(book)
    assert set(REPORT_NAMES) <= set(users)

    notes: list[str] = []
    refresh_file(book, notes=notes)
    after = cell_fingerprint(book)
    assert {sheet: after[sheet] for sheet in users} == before  # every user cell and table, exactly
    L = Labels(language)
    expected = {f"{L(f'sheet.{key}')} (Cycle ROI)": key for key in SECTIONS}
    assert FilePort(book).owned_sheets() == expected
    assert owned_sheet_names(book) == set(expected)
    for key in SECTIONS:  # the notes say where each report went, in the report's language
        assert L("note.sheet_renamed", sheet=L(f"sheet.{key}"), name=f"{L(f'sheet.{key}')} (Cycle ROI)") in notes

    # the report was computed from the tables wherever they sat: the dashboard counts every lead
    dashboard = openpyxl.load_workbook(book)[f"{L('sheet.dashboard')} (Cycle ROI)"]
    values = [c.value for row in dashboard.iter_rows() for c in row]
    assert len(tables["Leads"]) in values
    assert L("sheet.dashboard") == dashboard["A1"].value or L("sheet.dashboard") in str(dashboard["A1"].value)

    if language == "en":  # a second refresh replaces its own sheets and nothing else: no "(Cycle ROI 2)" copies
        names = openpyxl.load_workbook(book).sheetnames
        refresh_file(book)
        assert openpyxl.load_workbook(book).sheetnames == names
        assert {sheet: cell_fingerprint(book)[sheet] for sheet in users} == before

    copy, _ = share_file(book, tmp_path / "finance.xlsx")
    shared = cell_fingerprint(copy)
    assert {sheet: shared[sheet] for sheet in users} == before  # values only: the user's cells are values


@pytest.fixture()
def demo(tables, tmp_path):
    return build_template(tmp_path / "demo.xlsx", tables=tables)


def test_template_and_report_sheets_carry_the_mark(demo, tables, tmp_path):
    en = {Labels("en")(f"sheet.{key}"): key for key in SECTIONS}
    assert FilePort(demo).owned_sheets() == en and owned_sheet_names(demo) == set(en)
    from addin.report import write_report

    report = write_report(calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"]), tmp_path / "r.xlsx",
                          language="ko")
    assert FilePort(report).owned_sheets() == {Labels("ko")(f"sheet.{key}"): key for key in SECTIONS}


def test_a_table_the_user_put_on_a_report_sheet_makes_the_sheet_theirs(demo):
    book = openpyxl.load_workbook(demo)
    dashboard = book["Dashboard"]
    dashboard["P40"], dashboard["Q40"], dashboard["P41"], dashboard["Q41"] = "budget", "amount", "ads", 9000
    dashboard.add_table(Table(displayName="Budget", ref="P40:Q41"))
    book.save(demo)
    before = cell_fingerprint(demo)
    notes: list[str] = []
    refresh_file(demo, notes=notes)
    after = cell_fingerprint(demo)
    assert after["Dashboard"] == before["Dashboard"]
    assert FilePort(demo).owned_sheets()["Dashboard (Cycle ROI)"] == "dashboard"
    assert any("'Dashboard'" in note and "'Dashboard (Cycle ROI)'" in note for note in notes)


def test_a_report_sheet_the_user_renamed_keeps_its_name_and_is_refreshed(demo):
    book = openpyxl.load_workbook(demo)
    book["Dashboard"].title = "My KPIs"
    book.save(demo)
    order = book.sheetnames
    refresh_file(demo)
    refreshed = openpyxl.load_workbook(demo)
    assert refreshed.sheetnames == order  # no second Dashboard appeared
    assert FilePort(demo).owned_sheets()["My KPIs"] == "dashboard"


def test_switching_the_language_renames_the_report_sheets_in_place(demo):
    book = openpyxl.load_workbook(demo)
    ws, table = next((ws, t) for ws in book.worksheets for t in ws.tables.values() if t.name == "Settings")
    for row in ws[table.ref]:
        if row[0].value == "language":
            row[1].value = "zh"
    book.save(demo)
    order = book.sheetnames
    refresh_file(demo)
    zh = Labels("zh")
    renamed = [zh(f"sheet.{key}") for key in SECTIONS]
    en = {Labels("en")(f"sheet.{key}"): zh(f"sheet.{key}") for key in SECTIONS}
    assert openpyxl.load_workbook(demo).sheetnames == [en.get(name, name) for name in order]
    assert set(FilePort(demo).owned_sheets()) == set(renamed)
