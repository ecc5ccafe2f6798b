"""Cohort development triangles: ages, unreached cells, projection flags, spend, and the Olist reference."""
import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.cohorts import cohort_development, cohort_triangle, period_number

# January: 4 consultations (L1–L4), February: 2 (L5, L6), March: none, April: 1 (L7)
LEADS = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4", "L5", "L6", "L7"],
                      "date": ["2024-01-03", "2024-01-15", "2024-01-20", "2024-01-31", "2024-02-10", "2024-02-11",
                               "2024-04-02"],
                      "channel": ["Search", "Search", "Feed", "Feed", "Search", "Feed", "Search"]})
# L1 twice (a repeat order), L2 in February (age 1), L3 in April (age 3), L5 in February (age 0)
DEALS = pd.DataFrame({"lead_id": ["L1", "L1", "L2", "L3", "L5"],
                      "date": ["2024-01-10", "2024-03-01", "2024-02-20", "2024-04-15", "2024-02-25"],
                      "gross_profit": [100.0, 50.0, 200.0, 300.0, 80.0]})
SPEND = pd.DataFrame({"date": ["2024-01-01", "2024-02-01", "2024-03-01"], "cost": [400.0, 0.0, 100.0],
                      "channel": ["Search", "Search", "Search"]})


@pytest.fixture()
def data():
    return calc.prepare(SPEND, LEADS, DEALS, settings={"as_of": "2024-04-30"})


def test_hand_computed_triangle(data):
    tri = cohort_triangle(data, measure="deals", projected=False)
    assert tri["cohort"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert tri["consultations"].tolist() == [4, 2, 0, 1]
    # January: age 0 → L1 (1); age 1 → L2 (2); age 2 → L1's repeat (3); age 3 → L3 (4)
    january = tri.loc[0, [0, 1, 2, 3]].tolist()
    assert january == [1, 2, 3, 4]
    # February reaches age 2 (April) by the as-of date; ages 3+ are not reached: empty, not 0
    assert tri.loc[1, [0, 1, 2]].tolist() == [1, 1, 1] and np.isnan(tri.loc[1, 3])
    assert tri.loc[3, 0] == 0 and np.isnan(tri.loc[3, [1, 2, 3]].astype(float)).all()


def test_conversion_counts_consultations_once_and_gross_profit_accumulates(data):
    conv = cohort_triangle(data, measure="conversion", projected=False)
    # January: L1 converts at age 0 (1/4), L2 at 1 (2/4), L1's repeat adds no consultation (2/4), L3 at 3 (3/4)
    assert conv.loc[0, [0, 1, 2, 3]].tolist() == [0.25, 0.5, 0.5, 0.75]
    gp = cohort_triangle(data, measure="gross_profit", projected=False)
    assert gp.loc[0, [0, 1, 2, 3]].tolist() == [100, 300, 350, 650]


def test_roi_roas_and_empty_or_zero_spend_cohorts(data):
    roi = cohort_triangle(data, measure="roi", projected=False)
    # January spend 400: ROI at age 3 = (650 − 400)/400 = 0.625
    assert roi.loc[0, 3] == pytest.approx(0.625)
    # February spend 0 and April no spend row: ROI not computable → NaN, never inf
    assert np.isnan(roi.loc[1, [0, 1, 2]].astype(float)).all()
    # March: 100 spent and no consultations: an empty cohort, ROI = (0 − 100)/100 = −1 (money lost), conversion NaN
    assert roi.loc[2, 0] == -1.0
    conv = cohort_triangle(data, measure="conversion", projected=False)
    assert np.isnan(conv.loc[2, 0])
    roas = cohort_triangle(data, measure="roas")
    assert np.isnan(roas.loc[0, 0])  # Deals carry no revenue: ROAS empty
    for measure in ("deals", "conversion", "gross_profit", "roi", "roas"):
        numbers = cohort_triangle(data, measure=measure).select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any(), measure


def test_projected_cells_marked_and_immature_cohorts_never_final(data):
    tri = cohort_triangle(data, measure="deals")
    mask = tri.attrs["projected"]
    ages = [c for c in tri.columns if isinstance(c, int)]
    horizon = max(ages)
    assert horizon == 3  # the oldest age observed (January in April)
    for i in tri.index:
        latest = pd.Period("2024-04", "M").ordinal - pd.Period(tri.loc[i, "cohort"], "M").ordinal
        # every cell after the cohort's latest observed age is projected, none before
        assert mask.loc[i, ages].tolist() == [a > latest for a in ages]
        # an immature cohort's value at the horizon is never a plain observed figure
        assert mask.loc[i, horizon] == (latest < horizon)
    assert not mask[["cohort", "consultations", "spend"]].any().any()
    long = cohort_development(data)
    assert (long.loc[long["projected"], "observed"] == False).all()  # noqa: E712


def test_long_form_by_segment_and_spend_attribution(data):
    long = cohort_development(data, by="channel", projected=False)
    jan = long.loc[long["cohort"].eq(pd.Timestamp("2024-01-01")) & long["age"].eq(0)].set_index("channel")
    assert jan.loc["Search", "consultations"] == 2 and jan.loc["Feed", "consultations"] == 2
    assert jan.loc["Search", "spend"] == 400 and jan.loc["Feed", "spend"] == 0
    assert set(long.columns) >= {"channel", "cohort", "age", "consultations", "spend", "deals", "converted",
                                 "revenue", "gross_profit", "conversion", "roas", "roi", "observed", "complete",
                                 "projected"}


def test_weeks_start_on_the_setting():
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-03-03", "2024-03-04"]})  # Sunday, Monday
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-03-05"]})
    monday = cohort_triangle(calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-03-10"}),
                             period="week", measure="deals", projected=False)
    assert monday["cohort"].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-26", "2024-03-04"]
    assert monday.loc[0, 1] == 1  # the Sunday lead closed in the next Monday-week: age 1
    sunday = cohort_triangle(calc.prepare(leads=leads, deals=deals,
                                          settings={"as_of": "2024-03-10", "week_start": "sunday"}),
                             period="week", measure="deals", projected=False)
    assert sunday["cohort"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-03"]
    assert sunday.loc[0, 0] == 1  # same Sunday-week: age 0


def test_olist_reference_factors(olist_frames):
    """docs/methods.md: 2018 monthly cohorts as of 2018-06-30 → 1.466, 1.101, 1.052, 1.027, 1.044."""
    leads, deals = olist_frames
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2018-06-30"})
    tri = cohort_triangle(data, measure="deals", start="2018-01-01", projected=False)
    factors = calc.chainladder.age_to_age_factors(tri[[0, 1, 2, 3, 4, 5]])
    # f0 = (107 + 113 + 128 + 154 + 98) / (64 + 65 + 81 + 129 + 70) = 600/409 = 1.46699, f1 = 1.10159, f2 = 1.05181,
    # f3 = 1.02652, f4 = 143/137 = 1.04380: methods.md's figures to within its last digit
    assert factors.loc[0, "factor"] == pytest.approx(600 / 409) and factors.loc[4, "factor"] == pytest.approx(143 / 137)
    assert factors["factor"].to_numpy() == pytest.approx([1.466, 1.101, 1.052, 1.027, 1.044], abs=1e-3)
    # money is not in the Olist export: ROI stays empty, with a note, while counts work
    roi = cohort_triangle(data, measure="roi", start="2018-01-01")
    assert roi[[0, 1, 2]].isna().all().all()
    assert any("No Spend table" in n for n in roi.attrs["notes"])


def test_bad_options_are_input_errors(data):
    with pytest.raises(InputError, match="period"):
        cohort_triangle(data, period="quarter")
    with pytest.raises(InputError, match="Leads"):
        cohort_triangle(calc.prepare(SPEND))
    assert period_number(pd.Series(pd.to_datetime(["2024-01-31"])), "month").tolist() == [2024 * 12]


def test_projected_conversion_never_exceeds_all_consultations():
    # January: 1 of 3 converted at age 0, 2 by age 1 → f0 = 2; February's single lead converted at age 0:
    # 1 × 2 = 2 converted out of 1 consultation is impossible, so the projection stops at 1 (100 %)
    leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-02-05"]})
    deals = pd.DataFrame({"lead_id": [1, 2, 4], "date": ["2024-01-10", "2024-02-10", "2024-02-07"]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-29", "bornhuetter_ferguson_below": 0})
    conv = cohort_triangle(data, measure="conversion")
    assert conv.loc[1, 1] == 1.0 and conv.attrs["projected"].loc[1, 1]
    # deals are not capped: repeat orders can outnumber consultations
    assert cohort_triangle(data, measure="deals").loc[1, 1] == 2.0
