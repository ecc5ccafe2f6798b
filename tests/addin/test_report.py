"""Report workbooks: sections registry -> blocks -> plans -> xlsxwriter, and ``cycle-roi report``."""
from __future__ import annotations

import math
import zipfile

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import calc
from addin.cli import app
from addin.cli.kpi import sample_paths
from addin.report import SECTIONS, build_plans, write_report
from addin.report.blocks import Chart, Column, Table
from addin.report.labels import Labels
from addin.report.sections import build_sheets

runner = CliRunner()


def tiny() -> calc.Dataset:
    """4 consultations (3 Search, 1 Feed), spend 300 + 100, one deal of 1000 from a Search lead."""
    spend = pd.DataFrame({"date": ["2024-03-01", "2024-03-02"], "cost": [300, 100], "channel": ["Search", "Feed"]})
    leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-03-01"] * 3 + ["2024-03-02"],
                          "channel": ["Search", "Search", "Search", "Feed"]})
    deals = pd.DataFrame({"lead_id": [2], "date": ["2024-03-11"], "revenue": [1000], "gross_profit": [400]})
    return calc.prepare(spend, leads, deals)


@pytest.fixture(scope="module")
def sample() -> calc.Dataset:
    paths = sample_paths()
    from addin.cli.common import load_dataset
    return load_dataset(paths["spend"], paths["leads"], paths["deals"])


def dashboard_cards(plan) -> dict[str, object]:
    """{card label: value} read off a Dashboard plan (label row above value row)."""
    labels = {(c.row, c.col): c.value for c in plan.cells if c.style == "card_label"}
    return {labels[(c.row - 1, c.col)]: c.value for c in plan.cells if c.style.startswith("card")
            and c.style != "card_label"}


def test_dashboard_cards_are_the_hand_computed_indicators():
    cards = dashboard_cards(build_plans(tiny(), sections=["dashboard"])[0])
    # hand: 4 consultations; spend 300 + 100 = 400; 400 / 4 = 100 per consultation; 1 deal; 1 of 4 converted;
    # revenue 1000, gross profit 400; the one deal closed 10 days after its inquiry
    assert cards == {"Consultations": 4, "Spend": 400, "Consultation cost": 100, "Deals": 1,
                     "Inquiry conversion": 0.25, "Revenue": 1000, "Gross profit": 400, "Median days to close": 10,
                     # as-of 2024-03-11 is the last date: no lead is 90 days old, so the 90-day rate is not
                     # computable, and the tile says so instead of staying blank (issue 17)
                     "Conversion within 90 days": "— not computable from this data",
                     # methods.md: p_close × GP per deal ÷ (1 + target ROI) = 1/4 × 400 ÷ 1.3 = 76.92
                     "Max affordable consultation cost": pytest.approx(0.25 * 400 / 1.3, rel=1e-12)}


def test_dashboard_segment_table_and_written_workbook_match_calc(sample, tmp_path):
    from python_calamine import CalamineWorkbook

    target = write_report(sample, tmp_path / "report.xlsx")
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Dashboard").to_python()  # cached values
    expected = calc.kpi_table(sample, by="channel")
    header = next(r for r, row in enumerate(rows) if row[0] == "channel")
    got = {row[0]: (row[1], row[3], row[5]) for row in rows[header + 1: header + 1 + len(expected)]}
    for row in expected.itertuples():
        consultations, cost, rate = got[row.channel]
        assert consultations == row.consultations
        assert cost == pytest.approx(row.consult_cost, rel=1e-12)
        assert rate == pytest.approx(row.conversion_rate, rel=1e-12)
    ws = openpyxl.load_workbook(target)["Dashboard"]
    assert ws[f"D{header + 2}"].value.startswith("=IF(AND(ISNUMBER(C")  # cost is an ordinary formula
    assert len(ws._charts) == 3  # consultations and conversion by channel, monthly trend
    assert ws.conditional_formatting  # heat maps on conversion and cost


def test_every_section_in_the_registry_becomes_a_sheet_with_its_label(sample):
    for language in ("en", "zh"):
        sheets = build_sheets(sample, language=language)
        assert [s.key for s in sheets] == list(SECTIONS)
        assert [s.name for s in sheets] == [Labels(language)(f"sheet.{k}") for k in SECTIONS]


def test_no_cell_holds_nan_inf_or_numpy_values_and_charts_point_into_their_tables(sample):
    for plan in build_plans(sample):
        for cell in plan.cells:
            assert cell.value is None or type(cell.value) in (int, float, str, bool) or hasattr(cell.value, "year")
            if isinstance(cell.value, float):
                assert math.isfinite(cell.value)
        for chart in plan.charts:
            spans = [(h, c0, last, c1) for h, c0, last, c1 in plan.tables.values()]
            for ref in [chart.categories, *(s.values for s in chart.series)]:
                assert any(h < ref.first_row <= ref.last_row <= last and c0 <= ref.col <= c1
                           for h, c0, last, c1 in spans)


def test_charts_reference_only_columns_of_their_own_table():
    for sheet in build_sheets(tiny()):
        tables = sheet.tables()
        for block in sheet.blocks:
            if isinstance(block, Chart):
                keys = {c.key for c in tables[block.table].columns}
                assert {block.category, *block.series, *block.secondary, *block.limits} <= keys


def test_missing_tables_are_said_in_the_workbook_not_raised():
    leads_only = calc.prepare(leads=pd.DataFrame({"lead_id": [1, 2], "date": ["2024-03-01", "2024-03-05"]}))
    plans = build_plans(leads_only)
    texts = [c.value for p in plans for c in p.cells if isinstance(c.value, str)]
    assert any("No Spend table" in t for t in texts)  # calc's own note, shown under the Dashboard
    for key, plan in zip(SECTIONS, plans):
        if SECTIONS[key].needs and set(SECTIONS[key].needs) - {"leads"}:
            assert any(c.style == "missing" for c in plan.cells), key
    cards = dashboard_cards(plans[0])
    # not computable -> never 0: the tile says what it needs (issue 17: no blank tile without a reason)
    assert cards["Consultations"] == 2 and cards["Spend"] == "— needs Spend"


def test_same_inputs_give_byte_identical_files(tmp_path):
    a, b = write_report(tiny(), tmp_path / "a.xlsx"), write_report(tiny(), tmp_path / "b.xlsx")
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert {n: za.read(n) for n in za.namelist()} == {n: zb.read(n) for n in zb.namelist()}


def test_table_block_rejects_a_column_calc_did_not_return():
    with pytest.raises(KeyError, match="roi"):
        Table("t", "T", pd.DataFrame({"a": [1]}), (Column("roi", "ROI"),))


def test_cli_report_builds_the_sample_report_with_a_progress_bar(tmp_path):
    paths = sample_paths()
    target = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["report", "--spend", paths["spend"], "--leads", paths["leads"], "--deals",
                                 paths["deals"], "-o", str(target), "--language", "ko"])
    assert result.exit_code == 0, result.output
    assert "보고서 만드는 중" in result.output and "완료" in result.output  # --language ko: the progress bar too
    assert openpyxl.load_workbook(target).sheetnames[0] == "대시보드"


def test_cli_report_refuses_a_target_open_in_excel(tmp_path):
    paths = sample_paths()
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old")
    (tmp_path / "~$out.xlsx").write_bytes(b"")  # Excel's lock file beside an open workbook
    result = runner.invoke(app, ["report", "--leads", paths["leads"], "-o", str(target)])
    assert result.exit_code == 2
    assert "open in another program" in result.output
    assert target.read_bytes() == b"old"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx", "~$out.xlsx"]  # no temp file left behind


def test_cli_report_rejects_an_unknown_language(tmp_path):
    result = runner.invoke(app, ["report", "--leads", sample_paths()["leads"], "-o", str(tmp_path / "x.xlsx"),
                                 "--language", "fr"])
    assert result.exit_code == 2 and "en, zh, ko, id" in result.output


def test_real_facebook_spend_report_without_dates_or_leads(facebook_frame):
    data = calc.prepare(spend=facebook_frame)
    plans = build_plans(data)
    dashboard = plans[0]
    assert dashboard.cell(1, 0).value.startswith("The data has no dates")
    cards = dashboard_cards(dashboard)
    # the platform's own counts (README: Total_Conversion = enquiries, Approved_Conversion = purchases)
    assert cards["Consultations"] == facebook_frame["Total_Conversion"].sum()
    assert cards["Deals"] == facebook_frame["Approved_Conversion"].sum()
    assert cards["Spend"] == pytest.approx(facebook_frame["Spent"].sum(), rel=1e-12)
    # ad_id has a value per row: the readable segment is xyz_campaign_id (3 campaigns)
    header, _, last, _ = dashboard.tables["by_segment"]
    assert dashboard.cell(header, 0).value == "xyz_campaign_id" and last - header == 3
    for plan in plans[1:]:
        if plan.key == "data":  # the Data sheet holds long tables' rows; it has nothing missing to say
            continue
        assert any(c.style == "missing" and "Leads" in c.value for c in plan.cells), plan.key


def test_real_olist_report_without_spend_builds_every_section(olist_frames):
    leads, deals = olist_frames
    data = calc.prepare(leads=leads, deals=deals)
    sheets = build_sheets(data)
    segments = next(s for s in sheets if s.key == "segments")
    ranked = segments.tables()["segments"].frame
    # docs/methods.md, Olist by origin: paid_search 195/1586
    row = ranked.loc[ranked["origin"] == "paid_search"].iloc[0]
    assert (row["deals"], row["consultations"]) == (195, 1586)
    assert [s.key for s in sheets] == list(SECTIONS)
