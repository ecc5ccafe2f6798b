"""The aggregated form (calc.aggregates) answers every analysis as the rows do.

Each dataset is prepared from rows, turned into aggregates (``aggregate``) and back into a dataset
(``from_aggregates``); every analysis, asked the same questions of both, must give the same
table to 1e-9 (relative), the same notes and exclusions, or the same refusal. The expected values
are the row route's own results: the claim under test is that the aggregates lose nothing.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.aggregates import Aggregates, aggregate, from_aggregates
from calc.synthetic import generate

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


def _questions(data: calc.Dataset, dims: tuple[str, ...], as_of: pd.Timestamp) -> dict:
    """Every analysis, with the options that take different paths through it."""
    one, two = dims[0], ",".join(dims[:2])
    values = data.leads[one].cat.categories
    keep = f"{one}={values[-1]}"
    start = (as_of - pd.Timedelta(days=300)).date().isoformat()
    end = (as_of - pd.Timedelta(days=40)).date().isoformat()
    back = (as_of - pd.Timedelta(days=120)).date().isoformat()
    return {
        "kpi total": lambda d: calc.kpi_table(d),
        "kpi by segment": lambda d: calc.kpi_table(d, by=one),
        "kpi by two segments and month": lambda d: calc.kpi_table(d, by=f"{two},month"),
        "kpi by week in a range, filtered": lambda d: calc.kpi_table(d, by="week", start=start, end=end, filter=keep),
        "kpi by day, 30-day horizon": lambda d: calc.kpi_table(d, by="day", horizon_days=30),
        "kpi by segment, 60-day horizon": lambda d: calc.kpi_table(d, by=one, horizon_days=60),
        "consultations": lambda d: calc.consult_volume(d, start=start),
        "consultation cost": lambda d: calc.consult_cost(d, filter=keep),
        "conversion": lambda d: calc.inquiry_conversion(d, horizon_days=45),
        "cohorts by month": lambda d: calc.cohort_development(d),
        "cohorts by week and segment": lambda d: calc.cohort_development(d, by=one, period="week", horizon_periods=8),
        "triangle of conversion": lambda d: calc.cohort_triangle(d, measure="conversion"),
        "triangle of gross profit, filtered": lambda d: calc.cohort_triangle(d, measure="gross_profit", filter=keep),
        "chain ladder cycle ROI": lambda d: calc.cycle_roi(d),
        "segment cycle ROI": lambda d: calc.segment_cycle_roi(d, by=one),
        "cohort ROI": lambda d: calc.cohort_roi(d),
        "short-term ROI": lambda d: calc.short_term_roi(d, start=start, end=end),
        "payback days": lambda d: calc.payback_days(d),
        "affordable consultation cost": lambda d: calc.max_consult_cost(d),
        "Kaplan-Meier time to close": lambda d: calc.time_to_close(d),
        "time to close by segment": lambda d: calc.time_to_close(d, by=one, days=(7, 30, 90)),
        "stability of volume by day": lambda d: calc.stability(d),
        "stability of volume by week": lambda d: calc.stability(d, period="week", filter=keep),
        "stability of cost by week": lambda d: calc.stability(d, measure="cost", period="week"),
        "stability of conversion by week": lambda d: calc.stability(d, measure="conversion", period="week"),
        "stability verdict": lambda d: calc.stability_verdict(d, period="week"),
        "segments": lambda d: calc.segment_table(d, by=one),
        "segments of two dimensions": lambda d: calc.segment_table(d, by=two),
        "diagnosis": lambda d: calc.funnel_diagnosis(d, by=one),
        "budget": lambda d: calc.budget_shift(d, by=one),
        "portfolio": lambda d: calc.portfolio(d, dims=two),
        "backtest": lambda d: calc.backtest(d, as_of=back),
    }


def _answer(question, data):
    try:
        return question(data)
    except InputError as error:
        return ("refused", str(error))


def _same(row, agg, name: str) -> None:
    if isinstance(row, pd.DataFrame):
        assert isinstance(agg, pd.DataFrame), name
        assert list(agg.columns) == list(row.columns), name
        assert len(agg) == len(row), name
        for column in row.columns:
            a, b = row[column], agg[column]
            if pd.api.types.is_numeric_dtype(a.dtype) and not pd.api.types.is_bool_dtype(a.dtype):
                np.testing.assert_allclose(b.to_numpy(dtype=float), a.to_numpy(dtype=float), rtol=1e-9, atol=1e-9,
                                           equal_nan=True, err_msg=f"{name}: {column}")
            else:
                assert b.astype(str).tolist() == a.astype(str).tolist(), f"{name}: {column}"
        for key in ("notes", "exclusions"):
            assert agg.attrs.get(key) == row.attrs.get(key), f"{name}: {key}"
    elif isinstance(row, float) and not isinstance(agg, tuple):
        assert agg is not None and (math.isclose(agg, row, rel_tol=1e-9, abs_tol=1e-9)
                                    or (math.isnan(agg) and math.isnan(row))), name
    elif hasattr(row, "__dataclass_fields__"):  # a verdict: compared field by field
        for field in row.__dataclass_fields__:
            _same(getattr(row, field), getattr(agg, field), f"{name}.{field}")
    else:
        assert agg == row, name


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
