"""The full-cycle Excel functions, called as plain functions with what Excel hands them."""
import datetime as dt

import numpy as np
import pytest

from addin import udfs

D = dt.datetime
SPEND = [["Date", "Cost", "Channel"],
         [D(2024, 1, 2), 500.0, "Search"], [45293.0, 200.0, "Feed"],   # 45293 = Excel serial of 2024-01-02
         [D(2024, 2, 2), 300.0, "Search"], [None, None, None]]          # the blank tail of an over-sized range
# January cohort: S1–S4 (Search), F1–F2 (Feed); February cohort: S5–S8 (Search)
LEADS = [["lead_id", "date", "channel"],
         *[[f"S{i}", D(2024, 1, 5), "Search"] for i in range(1, 5)],
         ["F1", D(2024, 1, 5), "Feed"], ["F2", 45296.0, "Feed"],       # 45296 = 2024-01-05
         *[[f"S{i}", "2024-02-07", "Search"] for i in range(5, 9)]]
# days to close: S1 15, F1 15, S2 36 (age 1), S5 13, S6 22; the last deal sets the as-of date to 29 Feb
DEALS = [["lead_id", "date", "gross_profit"],
         ["S1", D(2024, 1, 20), 600.0], ["F1", D(2024, 1, 20), 200.0], ["S2", D(2024, 2, 10), 400.0],
         ["S5", D(2024, 2, 20), 300.0], ["S6", D(2024, 2, 29), 100.0]]

# The hand computations below are chain ladder's; since issue 15 young cohorts are projected by
# Bornhuetter–Ferguson by default, so these tests pass a Settings table that asks for chain ladder alone.
CHAIN_LADDER = [["setting", "value"], ["bornhuetter_ferguson_below", 0]]


def excel_safe(value):
    if isinstance(value, list):
        return all(excel_safe(v) for v in value)
    return type(value) in (str, int, float, bool, D) and not (isinstance(value, float) and np.isnan(value))




def test_cycle_roi_projected_and_observed():
    # converted: January 2 at age 0 → 3 at age 1, f0 = 1.5; February 2 at age 0 → 3 projected
    # gross profit: January 800 → 1200 (f0 = 1.5); February 400 → 600; spend 1000
    assert udfs.CYCLE_ROI(SPEND, LEADS, DEALS, CHAIN_LADDER) == pytest.approx((1200 + 600 - 1000) / 1000)
    assert udfs.CYCLE_ROI(SPEND, LEADS, DEALS, projected=False) == pytest.approx((1600 - 1000) / 1000)
    # Search only: January 600 → 1000 (f0 = 1000/600), February 400 → 666.67; Search spend 800
    assert udfs.CYCLE_ROI(SPEND, LEADS, DEALS, CHAIN_LADDER, segment_filter="channel=Search") == pytest.approx(
        (1000 + 400 * 1000 / 600 - 800) / 800)


def test_short_term_roi_by_won_date():
    # February: won 400 + 300 + 100 = 800 against February's spend 300; January: 800 won against 700
    assert udfs.SHORT_TERM_ROI(SPEND, DEALS, start_date=D(2024, 2, 1), end_date=D(2024, 2, 29)) == pytest.approx(500 / 300)
    assert udfs.SHORT_TERM_ROI(SPEND, DEALS, start_date="2024-01-01", end_date=45322.0) == pytest.approx(100 / 700)  # 45322 = 31 Jan


def test_max_consult_cost_and_payback():
    # conversion (3 + 3)/10 = 0.6; gross profit per won consultation 1800/6 = 300 → 0.6·300/1.3
    assert udfs.MAX_CONSULT_COST(LEADS, DEALS, CHAIN_LADDER) == pytest.approx(0.6 * 300 / 1.3)
    assert udfs.MAX_CONSULT_COST(LEADS, DEALS, CHAIN_LADDER, target_roi=0.0) == pytest.approx(180.0)
    # consultation cost 100; all 10 watched ≥ 22 days: M(13) = 300/10, M(15) = 30 + 800/10 = 110 ≥ 100
    assert udfs.PAYBACK_DAYS(SPEND, LEADS, DEALS) == 15.0


def test_cohort_triangle_spills_with_header_and_projection_marker():
    rows = udfs.COHORT_TRIANGLE(SPEND, LEADS, DEALS, CHAIN_LADDER, measure="deals")
    assert rows[0] == ["cohort", "consultations", "spend", "0", "1", "projected_from_age", "truncated"]
    assert rows[1] == [D(2024, 1, 1), 6.0, 700.0, 2.0, 3.0, "", False]   # observed to the end: no marker
    assert rows[2] == [D(2024, 2, 1), 4.0, 300.0, 2.0, 3.0, 1.0, False]  # age 1 is projected (2 × 1.5)
    assert excel_safe(rows)
    conversion = udfs.COHORT_TRIANGLE(SPEND, LEADS, DEALS, CHAIN_LADDER)
    assert conversion[2][3:5] == [0.5, 0.75]


def test_bad_input_becomes_cell_text_not_a_traceback():
    assert udfs.COHORT_TRIANGLE(SPEND, LEADS, DEALS, measure="profit").startswith("#INPUT! option 'measure'")
    assert udfs.COHORT_TRIANGLE(SPEND, LEADS, DEALS, measure="deals", period="year").startswith("#INPUT! option 'period'")
    assert udfs.MAX_CONSULT_COST(LEADS, DEALS, target_roi=-3).startswith("#INPUT! setting 'target_roi'")
    # no spend at all: ROI is an empty cell, not 0 or an error
    assert udfs.CYCLE_ROI(None, LEADS, DEALS) == ""


def test_a_bad_date_argument_is_named_as_excel_spells_it():
    text = udfs.CYCLE_ROI(SPEND, LEADS, DEALS, start_date="2024-13-01")
    assert text.startswith("#INPUT! option 'start_date': '2024-13-01' is not a date") and "Fix:" in text


def test_rolling_backtest_summary_spills_by_horizon_in_the_workbooks_language(olist_frames):
    """=ROLLING_BACKTEST_SUMMARY over the Olist export as Excel hands it (header + rows): the calc summary,
    one row per months-ahead and a last 'all' row, the band level stated, sentences in the Settings' language."""
    import calc
    from calc.rolling import BY_HORIZON_COLUMNS

    leads, deals = olist_frames
    as_rows = lambda frame: [list(frame.columns), *frame.astype(object).where(frame.notna(), None).values.tolist()]  # noqa: E731
    spilled = udfs.ROLLING_BACKTEST_SUMMARY(as_rows(leads), as_rows(deals), [["setting", "value"], ["language", "zh"]])
    assert spilled[0] == list(BY_HORIZON_COLUMNS) and excel_safe([v for row in spilled for v in row])
    expected = calc.rolling_backtest_summary(calc.prepare(leads=leads, deals=deals))
    assert [row[0] for row in spilled[1:]] == [1, 2, 3, 4, "全部"]  # months ahead, then all of them
    column = {name: [row[i] for row in spilled[1:]] for i, name in enumerate(spilled[0])}
    assert column["compared"] == [25, 15, 7, 2, 49] == expected["compared"].tolist()
    assert column["mape"] == pytest.approx(expected["mape"].tolist())
    assert set(column["band_level"]) == {0.9}
    # one cohort behind 4 months ahead: no interval, and the finding says too few to tell (in Chinese)
    assert column["mape_vs_plain_low"][3] == "" and "只有一个批次" in column["finding"][3]
    wider = udfs.ROLLING_BACKTEST_SUMMARY(as_rows(leads), as_rows(deals), None, None, None, None, "month", 0.99)
    assert {row[11] for row in wider[1:]} == {0.99}
    refused = udfs.ROLLING_BACKTEST_SUMMARY(as_rows(leads), as_rows(deals), None, None, None, None, "month", 1.5)
    assert refused.startswith("#INPUT! option 'band_level'") and "Fix" in refused
