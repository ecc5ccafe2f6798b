"""The aggregated form (calc.aggregates) answers every analysis as the rows do.

Each dataset is prepared from rows, turned into aggregates (``aggregate``) and back into a dataset
(``from_aggregates``); every analysis, asked the same questions of both, must give the same
table to 1e-9 (relative), the same notes and exclusions, or the same refusal. The expected values
are the row route's own results: the claim under test is that the aggregates lose nothing.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.aggregates import Aggregates, aggregate, from_aggregates
from calc.synthetic import generate

# the comparison shared with the engine tests (tests/addin/test_sources.py); loaded by path, as the
# suite imports test modules without putting tests/ on the import path (--import-mode=importlib)
_spec = importlib.util.spec_from_file_location("equal_answers", Path(__file__).parents[1] / "equal_answers.py")
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
_answer, _questions, _same = _helpers.answer, _helpers.questions, _helpers.same

SYNTHETIC_DIMS = ("channel", "province")


def _synthetic(dims: tuple[str, ...] | None = None) -> calc.Dataset:
    s = generate()
    spend, leads = s.spend, s.leads
    if dims is not None:  # fewer segment columns: many consultations share a day and segment
        spend = spend[["date", "cost", *[d for d in dims if d in spend.columns]]]
        leads = leads[["lead_id", "date", *dims]]
    return calc.prepare(spend, leads, s.deals, settings={"as_of": str(s.as_of.date())})


def _olist(shared) -> calc.Dataset:
    leads = pd.read_csv(shared("olist", "olist_marketing_qualified_leads_dataset.csv"), dtype=str)
    deals = pd.read_csv(shared("olist", "olist_closed_deals_dataset.csv"), dtype=str)
    deals = deals[["mql_id", "won_date", "declared_monthly_revenue"]].rename(
        columns={"declared_monthly_revenue": "revenue"})
    return calc.prepare(leads=leads[["mql_id", "first_contact_date", "origin"]], deals=deals,
                        settings={"gross_margin": 0.3})


def _maven(shared) -> calc.Dataset:
    pipeline = pd.read_csv(shared("maven_crm", "sales_pipeline.csv"), dtype=str)
    accounts = pd.read_csv(shared("maven_crm", "accounts.csv"), dtype=str)
    pipeline = pipeline.merge(accounts[["account", "sector"]], on="account", how="left")
    leads = pipeline[["opportunity_id", "engage_date", "product", "sector"]].rename(
        columns={"opportunity_id": "lead_id", "engage_date": "date"})
    won = pipeline.loc[pipeline["deal_stage"] == "Won"]
    deals = won[["opportunity_id", "close_date", "close_value"]].rename(
        columns={"opportunity_id": "lead_id", "close_date": "date", "close_value": "revenue"})
    return calc.prepare(leads=leads, deals=deals, settings={"ambiguous_dates": "month_first", "gross_margin": 0.6})


def _check_every_analysis(data: calc.Dataset, dims: tuple[str, ...]) -> dict:
    agg = aggregate(data)
    assert isinstance(agg, Aggregates)
    again = from_aggregates(agg, settings=data.settings)
    assert again.exclusions == data.exclusions and again.notes == data.notes
    answers = {}
    for name, question in _questions(data, dims, data.as_of).items():
        row, aggregated = _answer(question, data), _answer(question, again)
        _same(row, aggregated, name)
        answers[name] = row
    return answers


def test_synthetic_business_from_aggregates_equals_rows():
    by_channel = _synthetic(("channel",))
    agg = aggregate(by_channel)
    # the point of the form: fewer rows than consultations once they share a day and segment
    # (~20 consultations a day over 3 channels here; a warehouse's millions share far more)
    assert len(agg.leads) < 0.3 * len(by_channel.leads)
    assert agg.leads["_n"].sum() == len(by_channel.leads) and agg.deals["_n"].sum() == len(by_channel.deals)
    data = _synthetic(SYNTHETIC_DIMS)
    answers = _check_every_analysis(data, SYNTHETIC_DIMS)
    refused = [name for name, a in answers.items() if isinstance(a, tuple)]
    assert not refused, refused  # the synthetic business has every table: every analysis answers


def test_synthetic_business_with_every_segment_column():
    data = _synthetic()
    _check_every_analysis(data, ("channel", "price_tier", "province"))


def test_olist_from_aggregates_equals_rows(shared):
    data = _olist(shared)
    # the deal won before its consultation and the 60 blank origins reach the aggregated route unchanged
    assert any("before their consultation" in str(e) for e in data.exclusions)
    answers = _check_every_analysis(data, ("origin",))
    assert answers["kpi total"]["deals"].iloc[0] == 841


def test_maven_crm_from_aggregates_equals_rows(shared):
    data = _maven(shared)
    assert any("no inquiry date" in str(e) for e in data.exclusions)  # the 500 Prospecting rows
    answers = _check_every_analysis(data, ("product", "sector"))
    # no Spend: the budget needs it, and both routes refuse it the same way
    assert isinstance(answers["budget"], tuple)


def test_an_aggregate_of_aggregates_is_the_same():
    data = _synthetic(SYNTHETIC_DIMS)
    once = aggregate(data)
    twice = aggregate(from_aggregates(once, settings=data.settings))
    for table in ("spend", "leads", "deals"):
        pd.testing.assert_frame_equal(getattr(twice, table), getattr(once, table), check_dtype=False,
                                      check_categorical=False)


def test_kaplan_meier_weights_are_repeated_durations():
    # hand check from kaplan_meier's docstring: durations 2, 3, 3, 5, the second 3 still open
    weighted = calc.kaplan_meier([2, 3, 3, 5], [True, True, False, True], weights=[1, 1, 1, 1])
    as_rows = calc.kaplan_meier([2, 3, 3, 5], [True, True, False, True])
    np.testing.assert_allclose(weighted["converted"], as_rows["converted"])
    doubled = calc.kaplan_meier([2, 3, 5], [True, True, True], weights=[2, 2, 2])
    np.testing.assert_allclose(doubled["converted"], [1 / 3, 2 / 3, 1.0])  # 2 of 6, then 2 of 4, then 2 of 2


def test_bad_aggregates_are_refused_with_the_column():
    data = _synthetic(SYNTHETIC_DIMS)
    agg = aggregate(data)
    broken = Aggregates(**{**agg.__dict__, "leads": agg.leads.drop(columns="days_to_close")})
    with pytest.raises(InputError, match="days_to_close"):
        from_aggregates(broken)
    negative = agg.leads.assign(_n=agg.leads["_n"] * -1)
    with pytest.raises(InputError, match="_n"):
        from_aggregates(Aggregates(**{**agg.__dict__, "leads": negative}))


def test_facebook_ad_platform_report_from_aggregates(facebook_frame):
    # Spend alone, without dates, with the platform's own consultation and deal counts (1,143 ads)
    data = calc.prepare(spend=facebook_frame)
    agg = aggregate(data)
    assert agg.spend["_n"].sum() == 1143 and agg.spend["date"].isna().all()
    again = from_aggregates(agg, settings=data.settings)
    for by in (None, "age", "age,gender"):
        _same(calc.kpi_table(data, by=by), calc.kpi_table(again, by=by), f"kpi by {by}")
    _same(_answer(lambda d: calc.kpi_table(d, start="2024-01-01"), data),
          _answer(lambda d: calc.kpi_table(d, start="2024-01-01"), again), "a date range on dateless spend")


def test_deals_without_leads_from_aggregates():
    s = generate()
    data = calc.prepare(s.spend, deals=s.deals, settings={"as_of": str(s.as_of.date())})
    again = from_aggregates(aggregate(data), settings=data.settings)
    for by in (None, "month", "channel"):
        _same(_answer(lambda d: calc.kpi_table(d, by=by), data), _answer(lambda d: calc.kpi_table(d, by=by), again),
              f"kpi by {by}")
    _same(calc.short_term_roi(data), calc.short_term_roi(again), "short-term ROI")


def test_leads_without_deals_from_aggregates():
    s = generate()
    data = calc.prepare(s.spend, s.leads, settings={"as_of": str(s.as_of.date())})
    again = from_aggregates(aggregate(data), settings=data.settings)
    for name, question in (("kpi by month", lambda d: calc.kpi_table(d, by="month,channel")),
                           ("volume chart", lambda d: calc.stability(d, period="week")),
                           ("cohorts", lambda d: calc.cohort_development(d)),
                           ("time to close", lambda d: calc.time_to_close(d))):
        _same(_answer(question, data), _answer(question, again), name)
