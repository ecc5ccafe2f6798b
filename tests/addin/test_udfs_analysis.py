"""Excel functions for stability, diagnosis, segments, budget shift and portfolio, called with what Excel hands them."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from addin import udfs
from calc.diagnosis import FINDING_COLUMNS
from calc.budget import SHIFT_COLUMNS
from calc.stability import CHART_COLUMNS
from calc.synthetic import generate

NAMES = {"STABILITY", "STABILITY_VERDICT", "FUNNEL_DIAGNOSIS", "SEGMENT_TABLE", "BUDGET_SHIFT", "PORTFOLIO"}


def _rows(frame: pd.DataFrame) -> list[list]:
    """A DataFrame as Excel hands a table over: header row, datetimes, None for blanks."""
    body = [[v.to_pydatetime() if isinstance(v, pd.Timestamp) else (None if pd.isna(v) else v) for v in row]
            for row in frame.itertuples(index=False)]
    return [list(frame.columns), *body]


@pytest.fixture(scope="module")
def tables():
    synthetic = generate(seed=1, daily_spend=300.0)
    return _rows(synthetic.spend), _rows(synthetic.leads), _rows(synthetic.deals)



def excel_safe(value):
    if isinstance(value, list):
        return all(excel_safe(v) for v in value)
    return type(value) in (str, int, float, bool, dt.datetime) and not (isinstance(value, float) and np.isnan(value))




def test_stability_of_a_pasted_series_spills_chart_and_signals():
    # calc/stability.py hand check: 10, 12, 11, 13, 12, 11, 12, 13, 11, 30 → centre 11.667, UCL 15.32, the 30 beyond
    values = [10, 12, 11, 13, 12, 11, 12, 13, 11, 30]
    series = [["Date", "Value"], *[[dt.datetime(2024, 1, 1 + i), float(v)] for i, v in enumerate(values)]]
    table = udfs.STABILITY(series)
    assert table[0] == list(CHART_COLUMNS)
    assert excel_safe(table)
    last = dict(zip(table[0], table[-1]))
    assert last["value"] == 30.0 and last["signals"] == "beyond_3_sigma"
    assert last["centre"] == pytest.approx(105 / 9) and last["ucl"] == pytest.approx(105 / 9 + 3 * 1.375 / 1.128)
    assert all(dict(zip(table[0], row))["signals"] == "" for row in table[1:-1])
    verdict = udfs.STABILITY_VERDICT(series)
    assert verdict.startswith("Value (daily) is stable over the last 10 days") and "a point beyond the limits" in verdict


def test_stability_from_the_leads_and_spend_tables(tables):
    spend, leads, deals = tables
    weekly = udfs.STABILITY(leads=leads, measure="volume", period="week")
    assert weekly[0] == list(CHART_COLUMNS) and excel_safe(weekly)
    # 1 Jan 2025 (Wed) to 30 Jun 2026 (Tue): whole Monday weeks from 6 Jan 2025 to 22 Jun 2026 =
    # 52 weeks to 5 Jan 2026 + 25 more = 77
    assert len(weekly) - 1 == 77
    assert sum(row[1] for row in weekly[1:]) == sum(1 for row in leads[1:] if dt.datetime(2025, 1, 6) <= row[1] <= dt.datetime(2026, 6, 28))
    cost = udfs.STABILITY(spend, leads, measure="cost", period="week")
    assert excel_safe(cost) and len(cost) == len(weekly)
    verdict = udfs.STABILITY_VERDICT(spend, leads, deals, measure="cost", period="week")
    assert verdict.startswith("Consultation cost (weekly) is") and "Cost acceptable?" in verdict


def test_segment_table_diagnosis_budget_and_portfolio_spill(tables):
    spend, leads, deals = tables
    segments = udfs.SEGMENT_TABLE(spend, leads, deals, by="province")
    header = segments[0]
    assert header[0] == "province" and {"conversion_low", "shrunk_conversion", "cycle_roi", "rank"} <= set(header)
    assert [dict(zip(header, r))["rank"] for r in segments[1:]] == list(range(1, 8))
    assert excel_safe(segments)
    findings = udfs.FUNNEL_DIAGNOSIS(spend, leads, deals, by="channel")
    assert findings[0] == list(FINDING_COLUMNS) and findings[1][0] == "All" and excel_safe(findings)
    shift = udfs.BUDGET_SHIFT(spend, leads, deals, by="province", max_shift=0.1)
    assert shift[0] == list(SHIFT_COLUMNS) and excel_safe(shift)
    assert all(dict(zip(shift[0], r))["share_of_from_spend"] <= 0.1 + 1e-9 for r in shift[1:])
    units = udfs.PORTFOLIO(spend, leads, deals, dims=[["category"], ["store"]])  # dims as a range of names
    assert units[0][:2] == ["category", "store"] and "verdict" in units[0] and excel_safe(units)


def test_bad_input_reaches_the_cell_as_text(tables):
    spend, leads, deals = tables
    assert udfs.STABILITY(leads=leads, measure="revenue").startswith("#INPUT! option 'measure'")
    assert udfs.SEGMENT_TABLE(spend, leads, deals).startswith("#INPUT! option 'by'")
    assert udfs.BUDGET_SHIFT(spend, leads, deals, by="industry").startswith("#INPUT! Spend: column 'industry'")
    assert udfs.STABILITY([["date", "value"], [dt.datetime(2024, 1, 1), 3.0]]).startswith("#INPUT! series")
