"""The shortcuts taken for speed give exactly what the general code gives.

Each fast path (ids in a dense range or in order, day numbers instead of datetimes, first deals
flagged once, figures counted over deals instead of leads) is checked against the slow, obvious
computation on inputs chosen to hit both the shortcut and its fallback.
"""
import numpy as np
import pandas as pd
import pytest

import calc
from calc.dataset import DAY, FIRST_DEAL, LEAD_DAY, NO_DAY, _categorical, _positions, _repeated, day_numbers
from calc.query import period_days, period_start
from calc.synthetic import generate


@pytest.mark.parametrize("kind", ["dense", "dense shuffled", "sparse sorted", "sparse shuffled", "text"])
def test_deal_positions_match_a_hash_lookup(kind):
    rng = np.random.default_rng(7)
    ids = np.arange(1, 5001)
    if kind.startswith("sparse"):
        ids = ids * 1_000_003
    if kind.endswith("shuffled"):
        ids = rng.permutation(ids)
    wanted = np.concatenate([rng.choice(ids, 800), [0, -5, ids.max() + 1, 10**15]])  # some not in Leads
    leads, deals = pd.Series(ids), pd.Series(wanted)
    if kind == "text":
        leads, deals = leads.astype(str), deals.astype(str)
    expected = pd.Index(leads).get_indexer(deals)
    assert (_positions(leads, deals) == expected).all()
    assert (expected < 0).sum() == 4


@pytest.mark.parametrize("ids", [[1, 2, 3, 4], [1, 3, 2, 3], [5, 5, 6], ["a", "b", "a"], [2, 1]])
def test_repeated_ids_match_duplicated(ids):
    series = pd.Series(ids)
    assert (_repeated(series) == series.duplicated().to_numpy()).all()


def test_day_numbers_and_periods_match_calendar_dates():
    dates = pd.Series(pd.date_range("2023-12-25", "2024-03-10", freq="D"))
    days = day_numbers(dates)
    assert (days == (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy()).all()
    for period in ("day", "week", "month", "quarter", "year"):
        for week_start in ("monday", "sunday"):
            expected = day_numbers(period_start(dates, period, week_start=week_start))
            assert (period_days(days, period, week_start=week_start) == expected).all(), (period, week_start)
    with_gap = np.array([19000, NO_DAY, 19040], dtype=np.int32)
    assert period_days(with_gap, "month").tolist() == [18993, NO_DAY, 19024]


def test_first_deal_flag_is_each_leads_earliest_deal_first_listed_on_ties():
    leads = pd.DataFrame({"lead_id": [10, 11, 12], "date": ["2024-01-01", "2024-01-02", "2024-01-03"]})
    deals = pd.DataFrame({"lead_id": [11, 10, 11, 10, 11], "revenue": [1, 2, 3, 4, 5],
                          "date": ["2024-02-01", "2024-01-20", "2024-01-05", "2024-01-20", "2024-01-05"]})
    data = calc.prepare(leads=leads, deals=deals)
    flagged = data.deals.loc[data.deals[FIRST_DEAL], ["lead_id", "revenue"]].to_numpy().tolist()
    assert sorted(flagged) == [[10, 2], [11, 3]]  # lead 10: the first of two same-day deals; lead 11: 5 Jan, row 3
    assert (data.deals[LEAD_DAY] == day_numbers(data.deals["lead_date"])).all()
    assert (data.deals[DAY] - data.deals[LEAD_DAY] == data.deals["days_to_close"]).all()


def test_prepared_categories_are_reused_untouched():
    data = calc.prepare(leads=pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-01"] * 2, "channel": ["b", " a"]}))
    column = data.leads["channel"]
    assert list(column.cat.categories) == ["(blank)", "a", "b"]
    assert _categorical(column) is column
    shuffled = column.cat.reorder_categories(["b", "a", "(blank)"])
    recoded = _categorical(shuffled)
    assert list(recoded.categories) == ["(blank)", "a", "b"] and list(recoded) == ["b", "a"]


def test_indicators_counted_over_deals_equal_a_per_lead_count():
    """kpi_table counts conversion and days to close over the deals; the definition is per lead."""
    business = generate(seed=11, start="2025-06-01", daily_spend=600.0)
    data = calc.prepare(business.spend, business.leads, business.deals)
    for horizon in (None, 30):
        table = calc.kpi_table(data, by="channel", horizon_days=horizon).set_index("channel")
        leads = data.leads
        days = leads["days_to_close"]
        within = days if horizon is None else days.where(days <= horizon)
        mature = np.ones(len(leads), bool) if horizon is None else \
            (leads["date"] <= data.as_of - pd.Timedelta(days=horizon)).to_numpy()
        by = leads["channel"].astype(str)
        converted = (within.notna() & mature).groupby(by).sum()
        base = pd.Series(mature).groupby(by.to_numpy()).sum()
        assert np.allclose(table["conversion_rate"], (converted / base).reindex(table.index))
        assert np.allclose(table["median_days_to_close"], within.groupby(by).median().reindex(table.index))
        assert np.allclose(table["mean_days_to_close"], within.groupby(by).mean().reindex(table.index))


@pytest.mark.parametrize("span", [50, 5_000])  # a groups × days histogram, then one sort of packed integers
def test_group_medians_match_pandas(span):
    from calc.grouping import Groups, KeySpace

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": pd.Categorical(rng.choice([f"s{i}" for i in range(900)], 20_000))})
    values = rng.integers(0, span, len(frame)).astype(float)
    values[rng.random(len(frame)) < 0.2] = np.nan
    space = KeySpace([frame], ("g",))
    groups = Groups(space, [])
    got = groups.median(space.codes(frame), values)
    expected = pd.Series(values).groupby(frame["g"].astype(str).to_numpy()).median()
    labels = groups.label_frame(np.arange(groups.size))["g"]
    assert np.allclose(got, expected.reindex(labels).to_numpy(), equal_nan=True)


def test_tasks_run_together_return_in_order_and_raise_the_first_error():
    from calc.parallel import run_together

    assert run_together([lambda i=i: i * i for i in range(5)], rows=10**6) == [0, 1, 4, 9, 16]

    def fail(message):
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        run_together([lambda: 1, lambda: fail("first"), lambda: fail("second")], rows=10**6)

    # a task that itself runs tasks together (the waiting threads may all be busy, or it runs on one of them)
    # must not wait for a thread that is waiting for it
    nested = [lambda i=i: run_together([lambda j=j: i * 10 + j for j in range(3)], rows=10**6) for i in range(4)]
    assert run_together(nested, rows=10**6) == [[i * 10 + j for j in range(3)] for i in range(4)]


def test_a_dataset_is_freed_as_soon_as_it_is_dropped():
    """No reference cycle through the per-dataset memo: a million-row dataset must not wait for the
    cyclic garbage collector (which made the next analysis pay for the collection and fresh memory)."""
    import gc
    import weakref

    business = generate(seed=2, start="2025-09-01", daily_spend=400.0)
    data = calc.prepare(business.spend, business.leads, business.deals)
    calc.kpi_table(data, by="month,channel")
    calc.cohort_development(data, by="channel")
    calc.segment_table(data, by="province")
    calc.portfolio(data)
    calc.stability(data, measure="cost", period="week")
    alive = weakref.ref(data)
    gc.collect()
    gc.disable()
    try:
        del data
        assert alive() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("with_leads", [True, False])
def test_halving_a_big_spend_table_changes_no_figure(monkeypatch, with_leads):
    """kpi_table counts a Spend of 200k rows or more in two halves on two cores; every figure must be what
    one pass gives: sums, spend rows costing 0, and a platform's counts with blanks (NaN only where a
    group has no known value in either half)."""
    import calc.indicators as indicators

    rng = np.random.default_rng(4)
    n = 250_000
    spend = pd.DataFrame({"date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
                          "cost": np.where(rng.random(n) < 0.1, 0.0, rng.gamma(2.0, 30.0, n).round(2)),
                          "channel": rng.choice(["Search", "Feed", "Video"], n),
                          "province": rng.choice([f"P{i}" for i in range(30)], n)})
    spend.loc[spend["province"] == "P29", "cost"] = 0.0  # a segment whose spend rows all cost 0
    if with_leads:
        leads = pd.DataFrame({"lead_id": range(5000), "channel": rng.choice(["Search", "Feed"], 5000),
                              "province": rng.choice([f"P{i}" for i in range(30)], 5000),
                              "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, 5000), "D")})
        data = calc.prepare(spend, leads)
    else:
        consultations = rng.poisson(3.0, n).astype(float)
        consultations[rng.random(n) < 0.3] = np.nan
        consultations[(spend["province"] == "P28").to_numpy()] = np.nan  # never known for one segment
        data = calc.prepare(spend.assign(consultations=consultations))
    for by in ("day", "month,province", "channel,province"):
        halves = calc.kpi_table(data, by=by)
        data.memo.clear()
        monkeypatch.setattr(indicators, "MIN_ROWS", 10**12)
        whole = calc.kpi_table(data, by=by)
        monkeypatch.undo()
        data.memo.clear()
        pd.testing.assert_frame_equal(halves, whole, check_exact=False, rtol=1e-12)


def _period_answers(data) -> dict:
    answers = {(by, horizon): calc.kpi_table(data, by=by, horizon_days=horizon)
               for by in (None, "day", "week", "month", "quarter") for horizon in (None, 30)}
    answers["volume chart"] = calc.stability(data, measure="volume", period="week")
    answers["cost chart"] = calc.stability(data, measure="cost", period="day")
    answers["triangle"] = calc.cohort_development(data, period="month", horizon_periods=12)
    answers["weekly triangle"] = calc.cohort_development(data, period="week", projected=False)
    return answers


def test_day_totals_answer_period_questions_as_the_rows_do(monkeypatch):
    """Whole-table questions by period alone are summed from the day totals (calc.daily) that prepare
    keeps; with that shortcut switched off every table, chart and triangle is the same."""
    import importlib

    from calc.memo import DAY_TOTALS

    business = generate(seed=5, start="2025-03-01", daily_spend=500.0)
    spend = business.spend.copy()
    spend.loc[spend.index[::7], "cost"] = 0.0  # rows costing 0: a period has spend rows without spend
    data = calc.prepare(spend, business.leads, business.deals)
    assert ("kept", DAY_TOTALS, "spend", "cost") in data.memo  # made by prepare, not by the first question
    from_days = _period_answers(data)
    for name in ("cohorts", "indicators", "stability"):  # calc.stability the module, not the function
        monkeypatch.setattr(importlib.import_module(f"calc.{name}"), "all_dated", lambda *_: False)
    from_rows = _period_answers(calc.prepare(spend, business.leads, business.deals))
    for key, expected in from_rows.items():
        pd.testing.assert_frame_equal(from_days[key], expected, check_exact=False, rtol=1e-12, obj=str(key))


def test_day_totals_kept_by_prepare_are_those_of_the_final_tables():
    from calc.daily import day_totals

    leads = pd.DataFrame({"lead_id": range(152), "date": ["2024-01-01"] * 100 + ["2024-01-03"] * 50 + ["2042-01-05",
                                                                                                      "2024-01-02"]})
    spend = pd.DataFrame({"date": ["2024-01-01", "2024-01-03", "2024-01-03"], "cost": [10.0, 5.0, 2.5]})
    data = calc.prepare(spend, leads)  # the 2042 typo is dropped after the rows were counted
    assert day_totals(data, "leads")[1].tolist() == [100.0, 1.0, 50.0]
    assert day_totals(data, "spend", "cost")[1].tolist() == [10.0, 0.0, 7.5]
    late = calc.prepare(spend, leads.iloc[:150], settings={"as_of": "2024-01-02"})  # rows after as-of left out
    assert day_totals(late, "leads")[1].tolist() == [100.0]
    assert day_totals(late, "spend", "cost")[1].tolist() == [10.0]


@pytest.mark.parametrize("ids", [[1, 2, 3, 4], [3, 1, 3, 3], ["a", "b", "a", "a"], [1.0, 2.0, 1.0, 1.0]])
def test_repeated_deals_match_duplicated(ids):
    from calc.dataset import _repeated_deals

    deals = pd.DataFrame({"lead_id": ids, "date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-05", "2024-01-09"]),
                          "revenue": [100.0, 100.0, 100.0, 100.0], "gross_profit": [np.nan, 1.0, np.nan, np.nan]})
    expected = deals.duplicated(subset=["lead_id", "date", "revenue", "gross_profit"]).to_numpy()
    assert (_repeated_deals(deals) == expected).all()


def test_values_kept_together_are_made_once_read_only_and_shared_with_kept():
    from calc.memo import kept, kept_all

    memo, calls = {}, []

    def maker(value):
        return lambda: calls.append(value) or np.full(3, value)

    first = kept_all(memo, {("a",): maker(1), ("b",): maker(2)}, rows=10**6)  # made side by side
    again = kept_all(memo, {("a",): maker(9), ("c",): maker(3)}, rows=10)
    assert sorted(calls) == [1, 2, 3]  # 'a' was not made again
    assert again[("a",)] is first[("a",)] and kept(memo, ("b",), maker(9)) is first[("b",)]
    assert not first[("a",)].flags.writeable


@pytest.mark.parametrize("shape", ["spend only", "leads only", "leads and deals", "as-of before the last rows",
                                   "spend without dates"])
def test_day_totals_hold_for_every_shape_of_data(monkeypatch, shape):
    """The same comparison as above for the kpi tables, on data with tables missing, rows after an as-of
    setting (the kept counts are then not those of the final tables) and a Spend export without dates."""
    import importlib

    business = generate(seed=8, start="2025-09-01", daily_spend=300.0)
    spend, leads, deals, settings = business.spend, business.leads, business.deals, None
    if shape == "spend only":
        leads = deals = None
    elif shape == "leads only":
        spend = deals = None
    elif shape == "leads and deals":
        spend = None
    elif shape == "as-of before the last rows":
        settings = {"as_of": "2026-03-31"}
    else:
        spend = spend.drop(columns="date").groupby("channel", as_index=False)["cost"].sum()

    def answers() -> dict:
        data = calc.prepare(spend, leads, deals, settings=settings)
        return {(by, horizon): calc.kpi_table(data, by=by, horizon_days=horizon)
                for by in (None, "day", "month") for horizon in ((None, 30) if deals is not None else (None,))}

    from_days = answers()
    for name in ("cohorts", "indicators", "stability"):
        monkeypatch.setattr(importlib.import_module(f"calc.{name}"), "all_dated", lambda *_: False)
    for key, expected in answers().items():
        pd.testing.assert_frame_equal(from_days[key], expected, check_exact=False, rtol=1e-12, obj=str(key))


@pytest.mark.parametrize("settings", [None, {"as_of": "2026-01-31"}])
def test_deals_and_roll_up_are_those_of_the_final_tables(settings):
    """prepare counts days and codes categories before it drops rows dated after the as-of date (or far
    ahead); deals are linked after, so the deals and the per-lead roll-up are those of the final tables."""
    business = generate(seed=12, start="2025-06-01", daily_spend=300.0)
    leads = business.leads.copy()
    leads.loc[leads.index[-1], "date"] = pd.Timestamp("2041-06-01")  # a typed-wrong year: dropped as far ahead
    data = calc.prepare(business.spend, leads, business.deals, settings=settings)
    assert data.deals["lead_id"].isin(data.leads["lead_id"]).all()
    assert int(data.leads["n_deals"].sum()) == len(data.deals)
    per_lead = data.deals.groupby("lead_id")["revenue"].sum(min_count=1)
    rolled = data.leads.set_index("lead_id")["revenue"].dropna()
    assert np.allclose(rolled.sort_index(), per_lead.reindex(rolled.index).sort_index())
    assert (data.deals["lead_date"] <= data.as_of).all() and (data.deals["date"] <= data.as_of).all()
