"""The three key indicators: hand-computed, recovered from synthetic truth, and on real data."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

import calc
from calc import InputError
from calc.synthetic import generate


@pytest.fixture(scope="module")
def small():
    spend = pd.DataFrame({"date": ["2024-03-01", "2024-03-01", "2024-03-02", "2024-04-01"],
                          "cost": [200.0, 100.0, 100.0, 50.0],
                          "channel": ["Search", "Feed", "Search", "Search"]})
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
                          "date": ["2024-03-01", "2024-03-01", "2024-03-02", "2024-03-02", "2024-03-02", "2024-04-01"],
                          "channel": ["Search", "Search", "Search", "Feed", "Feed", "Search"],
                          "province": ["Guangdong", "Zhejiang", "Guangdong", "Guangdong", None, "Guangdong"]})
    deals = pd.DataFrame({"lead_id": ["L1", "L3", "L4"], "date": ["2024-03-11", "2024-04-01", "2024-03-04"],
                          "revenue": [1000.0, 3000.0, 500.0], "gross_profit": [400.0, 900.0, 100.0]})
    return calc.prepare(spend, leads, deals)


def test_hand_computed_march_by_channel(small):
    # March, by hand: Search spend 200+100=300 for L1,L2,L3 -> cost 100; L1 and L3 won -> 2/3;
    # days to close L1 10, L3 30 -> mean 20, median 20. Feed spend 100 for L4,L5 -> 50; L4 won in 2 days.
    table = calc.kpi_table(small, by="channel", start="2024-03-01", end="2024-03-31").set_index("channel")
    assert table.loc["Search", ["consultations", "spend", "consult_cost", "deals", "conversion_rate"]].tolist() == \
        pytest.approx([3, 300.0, 100.0, 2, 2 / 3])
    assert table.loc["Search", ["revenue", "gross_profit", "mean_days_to_close", "median_days_to_close"]].tolist() == \
        [4000.0, 1300.0, 20.0, 20.0]
    assert table.loc["Feed", ["consultations", "consult_cost", "conversion_rate", "median_days_to_close"]].tolist() == \
        [2, 50.0, 0.5, 2.0]


def test_headline_functions_agree_with_table(small):
    # whole period: spend 450, consultations 6 -> 75; deals 3 of 6.
    assert calc.consult_volume(small) == 6
    assert calc.consult_cost(small) == 75.0
    assert calc.inquiry_conversion(small) == 0.5
    assert calc.consult_cost(small, filter="channel=Search") == pytest.approx(350 / 4)


def test_filter_on_dimension_spend_lacks_leaves_cost_empty_with_note(small):
    table = calc.kpi_table(small, by="province")
    assert table["spend"].isna().all() and table["consult_cost"].isna().all()
    assert any("Spend has no province column" in n for n in table.attrs["notes"])
    assert table.set_index("province").loc["(blank)", "consultations"] == 1  # blanks grouped, not dropped


def test_horizon_counts_only_mature_consultations(small):
    # as-of = 2024-04-01 (latest date). 14-day horizon: consultations up to 2024-03-18 are mature (L1..L5);
    # within 14 days: L1 (10 days), L4 (2 days); L3 took 30 -> 2/5.
    assert calc.inquiry_conversion(small, horizon_days=14) == pytest.approx(0.4)
    table = calc.kpi_table(small, horizon_days=14)
    assert table.iloc[0].deals == 2
    assert any("younger than 14 days" in n for n in table.attrs["notes"])


@pytest.mark.parametrize("kwargs, match", [
    ({"start": "2024-05-01", "end": "2024-03-01"}, "after end"),
    ({"start": "yesterday"}, "not a date"),
    ({"filter": "region=South"}, "not a column to filter by"),
    ({"filter": "channel=Radio"}, "has no value 'Radio'"),
    ({"filter": "channel"}, "is not column=value"),
    ({"horizon_days": 0}, "horizon_days"),
    ({"by": "colour"}, "not a column to group by"),
])
def test_bad_options_are_input_errors(small, kwargs, match):
    with pytest.raises(InputError, match=match):
        calc.kpi_table(small, **kwargs)


def test_filter_is_case_insensitive_and_supports_alternatives_and_negation(small):
    assert calc.consult_volume(small, filter="CHANNEL=search") == 4
    assert calc.consult_volume(small, filter="province=guangdong|zhejiang") == 5
    assert calc.consult_volume(small, filter="province!=Guangdong") == 2
    assert calc.consult_volume(small, filter="province=(blank)") == 1


def test_row_order_does_not_change_results(small):
    shuffled = calc.prepare(*(frame.sample(frac=1.0, random_state=3) for frame in
                              (small.spend[["date", "cost", "channel"]], small.leads[["lead_id", "date", "channel", "province"]],
                               small.deals[["lead_id", "date", "revenue", "gross_profit"]])))
    pd.testing.assert_frame_equal(calc.kpi_table(small, by="channel"), calc.kpi_table(shuffled, by="channel"))


@pytest.fixture(scope="module")
def business():
    return generate(seed=11, daily_spend=6000.0)


def test_synthetic_consult_cost_recovers_true_cost_per_channel(business):
    # Consultations are Poisson(cost ÷ true cost per consultation): the estimate is within 3 %.
    table = calc.kpi_table(calc.prepare(business.spend, business.leads, business.deals), by="channel")
    for channel, true_cost in business.truth.channel_consult_cost.items():
        assert table.set_index("channel").loc[channel, "consult_cost"] == pytest.approx(true_cost, rel=0.03)


def test_synthetic_conversion_and_lag_recovered(business):
    # With a 365-day horizon only consultations a year old count; the true share converting within
    # 365 days is the mean true probability × P(lag ≤ 365) of the lognormal lag. Tolerance: 3 binomial SE.
    data = calc.prepare(business.spend, business.leads, business.deals)
    table = calc.kpi_table(data, by="channel", horizon_days=365).set_index("channel")
    truth = business.truth.leads
    mature = truth.loc[truth["date"] <= business.as_of - pd.Timedelta(days=365)]
    from scipy.stats import lognorm
    within = lognorm(s=business.truth.lag_sigma, scale=business.truth.lag_median_days).cdf(365.999)
    for channel, group in mature.groupby("channel"):
        expected = group["probability"].mean() * within
        se = np.sqrt(expected * (1 - expected) / len(group))
        assert abs(table.loc[channel, "conversion_rate"] - expected) < 3 * se, channel
    # median lag of deals that closed within the year ≈ the true median 35 (floor to whole days: 34–35)
    lag = calc.kpi_table(data, horizon_days=365).iloc[0].median_days_to_close
    assert 32 <= lag <= 36


def test_olist_by_origin_matches_methods_reference(olist_frames):
    # docs/methods.md "Olist by origin": paid_search 195/1586, email 15/493, empty origin 14/60.
    leads, deals = olist_frames
    data = calc.prepare(leads=leads, deals=deals)
    table = calc.kpi_table(data, by="origin").set_index("origin")
    assert table.loc["paid_search", ["deals", "consultations"]].tolist() == [195, 1586]
    assert table.loc["email", ["deals", "consultations"]].tolist() == [15, 493]
    assert table.loc["(blank)", ["deals", "consultations"]].tolist() == [14, 60]
    # 842 deals, one won two days before its lead's first contact (data/README.md): 841 counted, 1 reported
    assert calc.kpi_table(data).iloc[0].deals == 841
    assert [(e.count, e.reason) for e in data.exclusions] == [(1, "won before their consultation came in")]
    # methods.md: median time to close is 14 days
    assert calc.kpi_table(data).iloc[0].median_days_to_close == 14


def test_olist_day_first_dates_read_as_day_first(olist_frames):
    leads, _ = olist_frames
    data = calc.prepare(leads=leads)
    # the file's first lead has first_contact_date 01-02-2018 = 1 February 2018
    assert data.leads.iloc[0].date == pd.Timestamp("2018-02-01")
    assert not [n for n in data.notes if "reads either way" in n]


def test_facebook_report_as_aggregated_spend(facebook_frame):
    # no leads table: consultations = Σ Total_Conversion, deals = Σ Approved_Conversion, spend = Σ Spent
    data = calc.prepare(spend=facebook_frame)
    row = calc.kpi_table(data).iloc[0]
    assert row.consultations == facebook_frame["Total_Conversion"].sum() == 3264
    assert row.deals == facebook_frame["Approved_Conversion"].sum() == 1079
    assert row.spend == pytest.approx(facebook_frame["Spent"].sum())
    assert row.consult_cost == pytest.approx(facebook_frame["Spent"].sum() / 3264)
    assert row.conversion_rate == pytest.approx(1079 / 3264)
    by_age = calc.kpi_table(data, by="age")
    assert by_age["consultations"].sum() == 3264 and len(by_age) == 4
    with pytest.raises(InputError, match="cannot be limited to a date range"):
        calc.kpi_table(data, start="2024-01-01")


frames = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", None, 1, 2.5]),
                            st.one_of(st.none(), st.dates().map(str), st.integers(-5, 80000), st.text(max_size=4)),
                            st.sampled_from(["x", "y", None])), max_size=8)


@hsettings(max_examples=150, deadline=None)
@given(leads=frames, deals=frames)
def test_any_table_gives_a_result_or_input_error(leads, deals):
    try:
        data = calc.prepare(leads=pd.DataFrame(leads, columns=["lead_id", "date", "channel"]),
                            deals=pd.DataFrame(deals, columns=["lead_id", "date", "channel"]))
        table = calc.kpi_table(data, by="channel")
    except InputError:
        return
    assert not np.isinf(table.select_dtypes("number").to_numpy()).any()
    assert ((table["conversion_rate"].dropna() >= 0) & (table["conversion_rate"].dropna() <= 1)).all()


def test_time_grains_group_by_period_of_inquiry(small):
    # March: L1..L5, spend 200+100+100 = 400 -> 80; April: L6, spend 50. L3 (inquiry 2 Mar, won 1 Apr)
    # counts in March: deals belong to their inquiry's period.
    table = calc.kpi_table(small, by="month")
    assert table["month"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-01", "2024-04-01"]
    assert table[["consultations", "spend", "consult_cost", "deals"]].values.tolist() == [[5, 400, 80, 3], [1, 50, 50, 0]]
    weekly = calc.kpi_table(small, by="week,channel")
    # 2024-03-01 is a Friday: its Monday-start week begins 2024-02-26
    assert weekly["week"].min() == pd.Timestamp("2024-02-26")
    sunday = calc.kpi_table(calc.prepare(small.spend[["date", "cost", "channel"]],
                                         small.leads[["lead_id", "date", "channel"]],
                                         settings={"week_start": "sunday"}), by="week")
    assert sunday["week"].min() == pd.Timestamp("2024-02-25")


def test_deals_without_leads_cannot_be_split_by_segment_but_spend_can():
    # Deals carry no segments of their own (those live in Leads): split by channel, spend is known
    # and deals stay empty with a note, rather than a wrong number or a crash.
    data = calc.prepare(spend=pd.DataFrame({"date": ["2024-01-01"], "cost": [10], "channel": ["a"]}),
                        deals=pd.DataFrame({"lead_id": [1], "date": ["2024-01-05"]}))
    split = calc.kpi_table(data, by="channel")
    assert split[["channel", "spend"]].values.tolist() == [["a", 10.0]] and np.isnan(split.loc[0, "deals"])
    assert any("Deals without Leads" in n for n in split.attrs["notes"])
    assert calc.kpi_table(data).loc[0, "deals"] == 1
