"""The committed workbook template: deterministic, structured as documented, formulas that compute.

The template's UDF formulas are evaluated here by a small formula engine (function calls, string
and number literals, empty arguments, ``Table[#All]`` references, INDEX and DROP) whose functions
are the registered Excel functions of ``addin.udfs`` — so a formula that passes the wrong table
or argument, or names a function that does not exist, fails without Excel.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

import calc
from addin.report.template import (DATA_HANDLE_FORMULA, DATA_HANDLE_NAME, INPUT_HEADERS, build_template,
                                   sample_tables)
from addin.udfs import formula_engine
from addin.udfs import UDFS
from addin.workbook import FilePort

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "workbook_templates" / "cycle_roi_template.xlsx"


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()}


def test_committed_template_is_what_the_builder_makes_today(tmp_path):
    fresh = build_template(tmp_path / "t.xlsx")
    assert parts(fresh) == parts(COMMITTED), "regenerate: cycle-roi template -o workbook_templates/cycle_roi_template.xlsx"
    assert parts(build_template(tmp_path / "again.xlsx")) == parts(fresh)


def test_template_has_start_reports_settings_and_input_tables_with_validation():
    book = openpyxl.load_workbook(COMMITTED)
    assert book.sheetnames[0] == "Start" and book.sheetnames[-3:] == ["Spend", "Leads", "Deals"]
    assert "Dashboard" in book.sheetnames and "Settings" in book.sheetnames
    for name, headers in INPUT_HEADERS.items():
        table = book[name].tables[name]
        assert [c.name for c in table.tableColumns] == list(headers)
        rules = {str(v.sqref): v.type for v in book[name].data_validations.dataValidation}
        date_col = "ABCD"[headers.index("date")]
        assert rules[f"{date_col}2:{date_col}100001"] == "date"
    settings = book["Settings"].tables["Settings"]
    rows = [[c.value for c in row] for row in book["Settings"][settings.ref]]
    assert rows[0] == ["setting", "value", "description"]
    assert [r[0] for r in rows[1:]] == list(calc.Settings.model_fields)


def test_dashboard_holds_the_documented_udf_formulas_and_the_table_spills():
    ws = openpyxl.load_workbook(COMMITTED)["Dashboard"]
    formulas = {c.value if isinstance(c.value, str) else c.value.text for row in ws.iter_rows() for c in row
                if (isinstance(c.value, str) and c.value.startswith("=")) or hasattr(c.value, "text")}
    assert {"=CONSULT_VOLUME(CycleData)", "=CONSULT_COST(CycleData)", "=INQUIRY_CONVERSION(CycleData)",
            "=INQUIRY_CONVERSION(CycleData,,,,,,90)"} <= formulas
    assert any('KPI_TABLE(CycleData,,,,,,,"channel")' in f for f in formulas)
    book = parts(COMMITTED)
    assert b"xl/metadata.xml" in book["[Content_Types].xml"].replace(b"/xl/", b"xl/")
    sheet = book["xl/worksheets/sheet2.xml"].decode()
    spill = re.search(r'<c r="A\d+"[^>]*cm="1"[^>]*><f t="array"[^>]*>(.*?)</f>', sheet)
    assert spill and "KPI_TABLE" in spill.group(1)  # a dynamic array (spills in Excel 365), not legacy CSE


# --- the template's formulas through the registered functions (addin/udfs/formula_engine.py) ----------

NAMES = {DATA_HANDLE_NAME: DATA_HANDLE_FORMULA}


def evaluate(formula: str, tables: dict[str, list]) -> object:
    return formula_engine.evaluate(formula, tables, NAMES)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    tables = sample_tables(until="2025-02-28")
    path = build_template(tmp_path_factory.mktemp("t") / "filled.xlsx", tables=tables)
    port = FilePort(path)
    return tables, {name: port.read_table(name) for name in ("Spend", "Leads", "Deals", "Settings")}


def test_engine_reads_calls_and_empty_arguments():
    assert evaluate('=DROP(INDEX(X[#All],2,1),0)', {"X": [["h"], ["abc"]]}) == "abc"


def test_every_report_formula_reads_the_tables_through_the_one_data_handle_cell():
    book = openpyxl.load_workbook(COMMITTED)
    name = book.defined_names[DATA_HANDLE_NAME]
    (sheet, cell), = name.destinations
    assert book[sheet][cell.replace("$", "")].value == DATA_HANDLE_FORMULA
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                value = c.value.text if hasattr(c.value, "text") else c.value
                if isinstance(value, str) and value.startswith("=") and value != DATA_HANDLE_FORMULA:
                    assert "[#All]" not in value and DATA_HANDLE_NAME in value, (ws.title, c.coordinate, value)


def test_template_udf_formulas_evaluate_to_calcs_numbers(filled):
    tables, rows = filled
    expected = calc.kpi_table(calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"]))
    data = calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"])
    ws = openpyxl.load_workbook(COMMITTED)["Dashboard"]
    labels = {}
    results = {}
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value.text if hasattr(cell.value, "text") else cell.value
            if isinstance(value, str) and value.startswith(("=", "_xlfn")):
                results[cell.coordinate] = evaluate(value if value.startswith("=") else "=" + value, rows)
                labels[cell.coordinate] = ws.cell(cell.row - 1, cell.column).value
    by_label = {labels[k]: v for k, v in results.items()}
    total = expected.iloc[0]
    assert by_label["Consultations"] == total["consultations"]
    assert by_label["Spend"] == pytest.approx(total["spend"], rel=1e-12)
    assert by_label["Consultation cost"] == pytest.approx(total["consult_cost"], rel=1e-12)
    assert by_label["Deals"] == total["deals"]
    assert by_label["Inquiry conversion"] == pytest.approx(total["conversion_rate"], rel=1e-12)
    assert by_label["Revenue"] == pytest.approx(total["revenue"], rel=1e-12)
    assert by_label["Gross profit"] == pytest.approx(total["gross_profit"], rel=1e-12)
    assert by_label["Median days to close"] == total["median_days_to_close"]
    assert by_label["Conversion within 90 days"] == (calc.inquiry_conversion(data, horizon_days=90) or "")
    assert by_label["Max affordable consultation cost"] == pytest.approx(calc.max_consult_cost(data), rel=1e-12)
    # the spilling segment table: calc's by-channel rows, without the header (DROP(...,1))
    table = next(v for v in results.values() if isinstance(v, list))
    by_channel = calc.kpi_table(data, by="channel")
    assert [r[0] for r in table] == by_channel["channel"].tolist()
    assert [r[3] for r in table] == pytest.approx(by_channel["consult_cost"].tolist(), rel=1e-12)


def test_every_report_sheet_formula_of_the_template_computes_calcs_result(filled):
    tables, rows = filled
    data = calc.prepare(tables["Spend"], tables["Leads"], tables["Deals"])
    book = openpyxl.load_workbook(COMMITTED)
    results = {}
    for name in ("Cycle ROI", "Stability", "Segments", "Diagnosis", "Portfolio"):
        for row in book[name].iter_rows():
            for cell in row:
                value = cell.value.text if hasattr(cell.value, "text") else cell.value
                if isinstance(value, str) and value.startswith(("=", "_xlfn")):
                    result = evaluate(value if value.startswith("=") else "=" + value, rows)
                    assert not (isinstance(result, str) and result.startswith("#")), (name, value, result)
                    results[value.lstrip("=")] = result
    by_function = {k.split("(")[0]: v for k, v in results.items()}
    assert by_function["CYCLE_ROI"] == pytest.approx(calc.cycle_roi(data), rel=1e-12)
    assert by_function["SHORT_TERM_ROI"] == pytest.approx(calc.short_term_roi(data), rel=1e-12)
    assert by_function["PAYBACK_DAYS"] == (calc.payback_days(data) or "")
    cohorts = calc.cohort_roi(data)  # the short-term vs cycle ROI chart's data
    spilled = by_function["COHORT_ROI"]
    header = spilled[0]
    assert [r[header.index("short_term_roi")] for r in spilled[1:]] == \
        pytest.approx(cohorts["short_term_roi"].tolist(), rel=1e-12)
    assert [r[header.index("cycle_roi")] for r in spilled[1:]] == pytest.approx(cohorts["cycle_roi"].tolist(), rel=1e-12)
    triangle = calc.cohort_triangle(data, measure="conversion", period="month")
    assert len(by_function["COHORT_TRIANGLE"]) == len(triangle) + 1  # header row + one row per cohort
    chart = calc.stability(data, measure="volume", period="week")
    spilled = by_function["STABILITY"]
    assert [r[1] for r in spilled[1:]] == chart["value"].tolist() and spilled[0][:2] == ["date", "value"]
    segments = calc.segment_table(data, by="channel")
    assert [r[0] for r in by_function["SEGMENT_TABLE"][1:]] == segments["channel"].tolist()


def test_one_full_recalculation_hands_each_input_cell_to_python_about_once(filled):
    # issue 13: Excel copies every range argument over COM on every call; the goal is <= 1.1 copies
    _, rows = filled
    recalculation = formula_engine.Recalculation(rows, NAMES)
    book = openpyxl.load_workbook(COMMITTED)
    formulas = [c.value.text if hasattr(c.value, "text") else c.value for ws in book.worksheets
                if ws.title != "Start" for row in ws.iter_rows() for c in row
                if (isinstance(c.value, str) and c.value.startswith("=")) or hasattr(c.value, "text")]
    assert len(formulas) >= 20
    for formula in formulas:
        recalculation.evaluate(formula if formula.startswith("=") else "=" + formula)
    input_cells = sum(formula_engine.cells(r) for r in rows.values())
    # every table once (through CYCLE_DATA); beyond that only single cells: the handle and literal options
    # ("channel", 90, ...), at most a few per call
    assert input_cells <= recalculation.cells_to_python <= input_cells + 4 * recalculation.calls
    assert recalculation.cells_to_python / input_cells <= 1.1


@pytest.mark.parametrize("language", ["zh", "ko", "id"])
def test_the_data_handles_placeholder_speaks_the_workbooks_language(tmp_path, language):
    from python_calamine import CalamineWorkbook

    from addin.report.template import DATA_HANDLE_ROW, DATA_HANDLE_UNCALCULATED
    from calc.messages import text

    path = build_template(tmp_path / f"t_{language}.xlsx", language=language)
    book = CalamineWorkbook.from_path(str(path))
    start = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    shown = start[DATA_HANDLE_ROW][0]
    assert shown == text(DATA_HANDLE_UNCALCULATED, language) != text(DATA_HANDLE_UNCALCULATED, "en")
