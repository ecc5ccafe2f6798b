"""Closed-lost outcomes through every route (issue 19): the CLI with a CRM export given as Leads and Deals,
the Excel functions (tables passed, or a Pipeline table in the calling workbook) and the workbook refresh."""
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.table import Table
from typer.testing import CliRunner

from addin import udfs
from addin.cli import app
from addin.udfs.registry import UDFS
from addin.workbook import refresh_file

from .test_udfs import FakeCaller

runner = CliRunner()
D = dt.datetime
# a small CRM export, four times over (ids a1-1 … a5-4): per copy a1 won after 9 days, a2 lost after 3, a3 open,
# a4 lost after 20, a5 won after 30; then one row with no engage date (reported, not guessed)
_ONE = [("a1", "Ann", "Won", D(2024, 1, 1), D(2024, 1, 10), 100.0),
        ("a2", "Ann", "Lost", D(2024, 1, 1), D(2024, 1, 4), 0.0),
        ("a3", "Bo", "Engaging", D(2024, 1, 2), None, None),
        ("a4", "Bo", "Closed Lost", D(2024, 1, 2), D(2024, 1, 22), 0.0),
        ("a5", "Bo", "赢单", D(2024, 1, 2), D(2024, 2, 1), 250.0)]
PIPELINE = [["Opportunity ID", "Sales Agent", "Deal Stage", "Engage Date", "Close Date", "Close Value"],
            *[[f"{row[0]}-{copy}", *row[1:]] for copy in range(1, 5) for row in _ONE],
            ["a6", "Ann", "Prospecting", None, None, None]]


@pytest.fixture(scope="module")
def maven_args(shared):
    path = str(shared("maven_crm", "sales_pipeline.csv"))
    return ["--leads", path, "--deals", path]


def test_cli_cohorts_on_a_crm_export_respect_won_and_open(maven_args, shared):
    result = runner.invoke(app, ["cohorts", *maven_args, "--measure", "conversion", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    frame = pd.read_csv(shared("maven_crm", "sales_pipeline.csv")).dropna(subset=["engage_date"])
    cohort = pd.to_datetime(frame["engage_date"], format="%m/%d/%Y").dt.strftime("%Y-%m-01")
    shares = pd.crosstab(cohort, frame["deal_stage"], normalize="index")
    for row in rows:
        final = row[str(max(int(k) for k in row if k.isdigit()))]
        won, lost = shares.loc[row["cohort"], "Won"], shares.loc[row["cohort"], "Lost"]
        assert won - 1e-9 <= final <= 1 - lost + 1e-9, row["cohort"]
    # the example: 2017-10 (52.6 % won, 7.6 % open) was projected to 91.7 %; now at most 60.2 %
    october = next(r for r in rows if r["cohort"] == "2017-10-01")
    assert 0.526 <= october["14"] <= 0.602
    assert "500 rows excluded, with no inquiry date" in result.stderr


def test_cli_outcomes_by_segment_and_the_curve(maven_args):
    result = runner.invoke(app, ["outcomes", *maven_args, "--by", "sales_agent", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["sales_agent"] == "(all)" and (rows[0]["won"], rows[0]["lost"], rows[0]["open"]) == (4238, 2473, 1589)
    assert len(rows) == 31 and sum(r["consultations"] for r in rows[1:]) == 8300
    curve = runner.invoke(app, ["outcomes", *maven_args, "--days", "90,180", "--json"])
    assert curve.exit_code == 0, curve.output
    by_day = {r["days"]: r for r in json.loads(curve.stdout)}
    assert by_day[180]["km_converted_share"] > by_day[180]["won_share"]  # KM counts the lost as still open


def test_cli_unknown_status_is_a_clear_error_and_the_setting_fixes_it(tmp_path):
    path = tmp_path / "crm.csv"
    rows = [r[:] for r in PIPELINE]
    rows[3][2] = "Parked"
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    result = runner.invoke(app, ["outcomes", "--leads", str(path), "--deals", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'Parked'" in result.stderr and "open_status" in result.stderr
    fixed = runner.invoke(app, ["outcomes", "--leads", str(path), "--deals", str(path), "--setting",
                                "open_status=Parked", "--json"])
    assert fixed.exit_code == 0, fixed.output


def test_excel_functions_with_the_export_passed_as_both_tables():
    for name in ("TIME_TO_OUTCOME", "OUTCOME_SEGMENTS"):
        assert name in UDFS
    rows = udfs.TIME_TO_OUTCOME(PIPELINE, PIPELINE, None, None, None, None, None, 10.0)
    header, row = rows[0], rows[1]
    assert header[:4] == ["days", "won_share", "lost_share", "open_share"]
    # as of 2024-02-01 (the last close): 20 opportunities; by day 10: the four a2 lost on day 3 (4/20), then the
    # four a1 won on day 9 with 16 still open: F_won(10) = 16/20 · 4/16 = 1/5, F_lost(10) = 1/5
    assert row[:3] == [10, pytest.approx(0.2), pytest.approx(0.2)]
    # days as a column range from Excel (2-D): one row per day
    assert [r[0] for r in udfs.TIME_TO_OUTCOME(PIPELINE, PIPELINE, None, None, None, None, None, [[7.0], [10.0]])[1:]] == [7, 10]
    table = udfs.OUTCOME_SEGMENTS(PIPELINE, PIPELINE, None, None, None, None, "Sales Agent")
    assert [r[0] for r in table[1:]] == ["(all)", "Ann", "Bo"]
    assert table[0][1:5] == ["consultations", "won", "lost", "open"]
    assert [r[1:5] for r in table[1:]] == [[20, 8, 8, 4], [8, 4, 4, 0], [12, 4, 4, 4]]


def test_excel_function_reads_a_pipeline_table_of_the_calling_workbook():
    caller = FakeCaller(Pipeline=PIPELINE)
    rows = udfs.TIME_TO_OUTCOME(None, None, None, None, None, None, None, 10.0, caller=caller)
    assert rows[1][:3] == [10, pytest.approx(0.2), pytest.approx(0.2)]
    # the cohort functions see the same: lost ones never convert, so January's conversion stays within won + open
    triangle = udfs.COHORT_TRIANGLE(None, None, None, None, None, "conversion", "month", caller=caller)
    final = [v for v in triangle[1][3:-1] if v != ""][-1]
    assert 8 / 20 <= final <= 12 / 20


def test_refresh_reads_a_pipeline_table(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Pipeline"
    for row in PIPELINE:
        sheet.append(row)
    sheet.add_table(Table(displayName="Pipeline", ref=f"A1:F{len(PIPELINE)}"))
    path = tmp_path / "crm.xlsx"
    book.save(path)
    written, _ = refresh_file(path, tmp_path / "report.xlsx")
    names = openpyxl.load_workbook(written, read_only=True).sheetnames
    assert "Pipeline" in names and len(names) > 2
    kept = openpyxl.load_workbook(written)["Pipeline"]
    assert [c.value for c in kept[1]] == PIPELINE[0]  # the user's table is left as it was


@pytest.mark.parametrize("language, lost_label", [("en", "Lost by then"), ("zh", "届时输单占比")])
def test_report_shows_won_lost_open_and_names_the_fast_loser(maven_args, tmp_path, language, lost_label):
    from python_calamine import CalamineWorkbook

    from addin.report.labels import load

    target = tmp_path / f"report_{language}.xlsx"
    result = runner.invoke(app, ["report", *maven_args, "-o", str(target), "--setting", f"language={language}"])
    assert result.exit_code == 0, result.output
    sheet = load(language)["sheet.cycle_roi"]
    cells = [str(c) for row in CalamineWorkbook.from_path(str(target)).get_sheet_by_name(sheet).to_python()
             for c in row if c != ""]
    assert lost_label in cells and load(language)["outcomes.curve"] in cells
    fast = load(language)["outcomes.fast_losers"].format(names="Lajuana Vencill")
    assert fast in cells  # by sales_agent, the report's main segment column for this export


def test_report_without_a_status_has_no_outcome_blocks(tmp_path):
    from python_calamine import CalamineWorkbook

    from addin.cli.kpi import sample_paths

    target = tmp_path / "demo.xlsx"
    files = [arg for name, path in sample_paths().items() for arg in (f"--{name}", path)]
    result = runner.invoke(app, ["report", *files, "-o", str(target)])  # the bundled sample: Deals without a status
    assert result.exit_code == 0, result.output
    cells = {str(c) for row in CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Cycle ROI").to_python()
             for c in row}
    assert "Lost by then" not in cells


def test_the_data_handle_carries_a_pipeline():
    explicit = udfs.TIME_TO_OUTCOME(PIPELINE, PIPELINE, None, None, None, None, None, 10.0)
    handle = udfs.CYCLE_DATA(None, PIPELINE, PIPELINE, None)
    assert udfs.TIME_TO_OUTCOME(handle, None, None, None, None, None, None, 10.0) == explicit

    class Caller(FakeCaller):  # a CYCLE_DATA cell with its tables left out, in a workbook with a Pipeline table
        address = "$A$1"

        def __init__(self, **tables):
            super().__init__(**tables)
            self.sheet.name = "Start"

    from_workbook = udfs.CYCLE_DATA(caller=Caller(Pipeline=PIPELINE))
    assert udfs.TIME_TO_OUTCOME(from_workbook, None, None, None, None, None, None, 10.0) == explicit
