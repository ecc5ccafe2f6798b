"""The values-only finance copy (``cycle-roi share``)."""
from __future__ import annotations

import zipfile

import openpyxl
import pytest
import xlsxwriter
from typer.testing import CliRunner

import calc
from addin.cli import app
from addin.report.template import build_template, sample_tables
from addin.outputs import OutputError
from addin.workbook import WorkbookError, share_file

runner = CliRunner()


@pytest.fixture(scope="module")
def small_tables():
    return sample_tables(until="2025-02-28")


@pytest.fixture()
def demo(tmp_path, small_tables):
    return build_template(tmp_path / "demo.xlsx", tables=small_tables)


def formulas(path) -> list[str]:
    book = openpyxl.load_workbook(path)
    return [f"{ws.title}!{c.coordinate}" for ws in book.worksheets for row in ws.iter_rows() for c in row
            if (isinstance(c.value, str) and c.value.startswith("=")) or hasattr(c.value, "text")]


def test_finance_copy_has_values_only_charts_and_no_inputs(demo, tmp_path, small_tables):
    assert formulas(demo)  # the template's Dashboard is full of UDF formulas
    copy, notes = share_file(demo, tmp_path / "finance.xlsx", include_inputs=False)
    assert formulas(copy) == []
    book = openpyxl.load_workbook(copy)
    assert not {"Spend", "Leads", "Deals"} & set(book.sheetnames)
    assert "the Spend, Leads and Deals sheets were left out" in notes
    with zipfile.ZipFile(copy) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower() or "customUI" in n]
    ws = book["Dashboard"]
    assert len(ws._charts) == 3 and ws.conditional_formatting
    total = calc.kpi_table(calc.prepare(small_tables["Spend"], small_tables["Leads"], small_tables["Deals"])).iloc[0]
    cells = {ws.cell(r, c).value: ws.cell(r + 1, c).value for r in range(8, 0, -1) for c in range(1, 6)}
    assert cells["Consultation cost"] == pytest.approx(total["consult_cost"], rel=1e-12)
    assert cells["Consultations"] == total["consultations"]


def test_stored_results_replace_formulas_on_the_users_own_sheets(tmp_path):
    src = tmp_path / "excel_saved.xlsx"
    wb = xlsxwriter.Workbook(src)
    ws = wb.add_worksheet("Budget")
    ws.write("A1", 20)
    ws.write_formula("B1", "=A1*2", None, 40)  # as Excel saves it: the formula with its last result
    wb.close()
    copy, _ = share_file(src, tmp_path / "finance.xlsx")
    assert openpyxl.load_workbook(copy)["Budget"]["B1"].value == 40


def test_formulas_without_a_stored_result_are_refused_by_cell(demo, tmp_path):
    book = openpyxl.load_workbook(demo)
    book.create_sheet("My notes")["C3"] = "=1+1"  # openpyxl stores no result
    book.save(demo)
    with pytest.raises(WorkbookError, match=r"My notes!C3.*Open the workbook in Excel"):
        share_file(demo, tmp_path / "finance.xlsx")
    assert not (tmp_path / "finance.xlsx").exists()


def test_share_never_overwrites_the_workbook_itself(demo):
    with pytest.raises(OutputError, match="must be a new file"):
        share_file(demo, demo)


def test_cli_share(demo, tmp_path):
    result = runner.invoke(app, ["share", str(demo), "-o", str(tmp_path / "f.xlsx"), "--no-inputs"])
    assert result.exit_code == 0, result.output
    assert "Finance copy written" in result.output and formulas(tmp_path / "f.xlsx") == []


def _write(kind: str, tmp_path, small_tables, shared) -> "Path":
    """A workbook of each kind the product writes."""
    from addin.report import write_report
    from addin.workbook import refresh_file

    t = small_tables
    if kind == "template":
        return build_template(tmp_path / "template.xlsx")
    if kind == "refreshed template":
        path = build_template(tmp_path / "refreshed.xlsx", tables=t)
        refresh_file(path)
        return path
    if kind == "report":
        data = calc.prepare(t["Spend"], t["Leads"], t["Deals"])
    elif kind == "report without Spend":  # the consultation cost formulas' stored result is empty text
        data = calc.prepare(leads=t["Leads"], deals=t["Deals"])
    elif kind == "report of an ad platform export":
        import pandas as pd
        data = calc.prepare(spend=pd.read_csv(shared("facebook_ads", "KAG_conversion_data.csv")))
    return write_report(data, tmp_path / "report.xlsx")


@pytest.mark.parametrize("kind", ["template", "refreshed template", "report", "report without Spend",
                                  "report of an ad platform export"])
def test_every_workbook_the_product_writes_can_be_shared(kind, tmp_path, small_tables, shared):
    source = _write(kind, tmp_path, small_tables, shared)
    result = runner.invoke(app, ["share", str(source), "-o", str(tmp_path / "finance.xlsx")])
    assert result.exit_code == 0, result.output
    assert formulas(tmp_path / "finance.xlsx") == []


def test_a_shared_report_without_spend_keeps_an_empty_consultation_cost(tmp_path, small_tables):
    from addin.report import write_report

    source = write_report(calc.prepare(leads=small_tables["Leads"], deals=small_tables["Deals"]), tmp_path / "r.xlsx")
    copy, _ = share_file(source, tmp_path / "f.xlsx")
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(copy)["Dashboard"].iter_rows()]
    header = next(i for i, r in enumerate(rows) if r[0] == "channel")  # the table by channel
    column = rows[header].index("Consultation cost")
    # no Spend: every row's cost is "not computable", written as an empty cell, never 0 or an error
    below = [r[column] for r in rows[header + 1:header + 4]]
    assert below and all(v in (None, "") for v in below)
