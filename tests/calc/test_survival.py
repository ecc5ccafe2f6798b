"""Kaplan–Meier time to close: hand cases, the Olist reference, and the synthetic lag."""
import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.survival import kaplan_meier, time_to_close
from calc.synthetic import generate


def test_kaplan_meier_by_hand_with_greenwood_band():
    curve = kaplan_meier([2, 3, 3, 5, 8], [True, True, False, False, True])
    # day 2: 1/5 → S = 0.8; day 3: 1 of 4 closes, 1 censored → S = 0.8·3/4 = 0.6; day 5: censored only;
    # day 8: 1 of 1 → S = 0
    assert curve["converted"].tolist() == pytest.approx([0.2, 0.4, 0.4, 1.0])
    assert curve["at_risk"].tolist() == [5, 4, 2, 1]
    # Greenwood at day 3: Σ d/(n(n−d)) = 1/20 + 1/12 = 0.1333; log(−log S) band stays inside 0–1
    assert (curve["low"] <= curve["converted"]).all() and (curve["high"] >= curve["converted"]).all()
    assert curve.loc[1, "low"] > 0 and curve.loc[1, "high"] < 1


def test_open_consultations_are_censored_not_lost():
    # 10 leads on 1 January; 2 closed on day 5; 8 still open, watched only 10 days (young cohort)
    leads = pd.DataFrame({"lead_id": range(10), "date": ["2024-01-01"] * 10})
    deals = pd.DataFrame({"lead_id": [0, 1], "date": ["2024-01-06"] * 2})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-01-11"})
    out = time_to_close(data, days=[5, 10, 30], min_at_risk=5)
    assert out["converted_share"].tolist()[:2] == pytest.approx([0.2, 0.2])
    # day 30 is beyond what anyone has been watched: empty, not "20 % within 30 days"
    assert np.isnan(out["converted_share"].iloc[2])
    assert out["median_days_to_close"].iloc[0] == 5


def test_olist_time_to_close(olist_frames):
    """docs/methods.md reference: among closed deals, median 14 days; 33.7 / 65.9 / 82.2 / 92.0 % within 7/30/90/180.

    Those figures ignore censoring (deals known so far, as of 2018-11-14). Kaplan–Meier over all
    8,000 consultations measures: converted share 3.54 / 6.92 / 8.64 / 9.68 % by day 7/30/90/180;
    among eventual closers 30.4 / 59.5 / 74.2 / 83.2 % and a median of 17 days — the naive figures
    over-state speed because young consultations have not yet had time to close late.
    """
    leads, deals = olist_frames
    data = calc.prepare(leads=leads, deals=deals)
    closed = data.deals["days_to_close"]
    assert closed.median() == 14.0
    assert [round((closed <= d).mean() * 100, 1) for d in (7, 30, 90, 180)] == [33.7, 65.9, 82.2, 92.0]
    out = time_to_close(data).set_index("days")
    assert out["converted_share"].round(4).tolist() == [0.0354, 0.0692, 0.0864, 0.0968]
    assert out["share_of_closers"].round(3).tolist() == [0.304, 0.595, 0.742, 0.832]
    assert out["median_days_to_close"].iloc[0] == 17.0
    by_origin = time_to_close(data, by="origin", days=[30])
    assert set(by_origin["origin"]) >= {"paid_search", "(blank)"}


def test_synthetic_lag_and_conversion_recovered():
    """Truth: lag lognormal with median 35 days (floored to whole days: 34–35), conversion 10.04 % of leads.

    Measured for seed 7: median days to close 35 (KM among closers), converted share by day 365
    10.05 % (band 9.47–10.67 %).
    """
    s = generate()
    out = time_to_close(calc.prepare(s.spend, s.leads, s.deals), days=[365]).iloc[0]
    assert out["median_days_to_close"] == pytest.approx(s.truth.lag_median_days, abs=4)
    assert out["converted_share"] == pytest.approx(s.truth.leads["converts"].mean(), rel=0.05)
    assert out["low"] <= s.truth.leads["converts"].mean() <= out["high"]


def test_bad_days_are_an_input_error():
    leads = pd.DataFrame({"lead_id": [1], "date": ["2024-01-01"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-01-02"]})
    with pytest.raises(InputError, match="days"):
        time_to_close(calc.prepare(leads=leads, deals=deals), days=["soon"])
    with pytest.raises(InputError, match="Deals"):
        time_to_close(calc.prepare(leads=leads))
