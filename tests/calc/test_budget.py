"""Budget shift (calc/budget.py) on a constructed three-channel business."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calc
from calc.budget import budget_shift
from calc.errors import InputError
from calc.shrinkage import wilson_interval

# channel: (consultations, converted, consultation cost); gross profit 1,000 per deal
CHANNELS = {"A": (300, 45, 30.0),   # g = 150 per consultation, ROI 400 %, low end 114/30 − 1 = 280 % → receiver
            "B": (300, 6, 30.0),    # g = 20, ROI −33 % < 30 % → donor
            "C": (300, 30, 60.0)}   # g = 100, ROI 67 % but low end 71/60 − 1 = 19 % < 30 % → neither


def _business(channels=CHANNELS, **settings) -> calc.Dataset:
    leads, deals, spend = [], [], []
    for channel, (n, won, cost) in channels.items():
        ids = [f"{channel}{i}" for i in range(n)]
        dates = pd.date_range("2024-01-01", periods=30)[np.arange(n) % 30]
        leads.append(pd.DataFrame({"lead_id": ids, "date": dates, "channel": channel, "industry": "x"}))
        deals.append(pd.DataFrame({"lead_id": ids[:won], "date": dates[:won] + pd.Timedelta(days=7),
                                   "gross_profit": 1000.0}))
        spend.append(pd.DataFrame({"date": ["2024-01-10"], "channel": [channel], "cost": [n * cost]}))
    return calc.prepare(pd.concat(spend), pd.concat(leads), pd.concat(deals),
                        settings={"as_of": "2024-12-31", **settings})


def test_one_bounded_move_from_donor_to_receiver_by_hand():
    moves = budget_shift(_business(), by="channel")
    assert len(moves) == 1
    move = moves.iloc[0]
    assert (move["from_segment"], move["to_segment"]) == ("B", "A")
    # at most 20 % of B's 9,000 and of A's 9,000
    assert move["amount"] == pytest.approx(1800)
    assert move["share_of_from_spend"] == pytest.approx(0.2) and move["share_of_to_spend"] == pytest.approx(0.2)
    # 1,800 buys 60 consultations on either side (both cost 30): no change in volume
    assert move["consultations_change"] == pytest.approx(0)
    # 60 × 150 − 60 × 20 = 7,800
    assert move["gross_profit_change"] == pytest.approx(7800)
    # cautious: A at the low end of its Wilson interval, B at the high end of its own
    low_a = wilson_interval(45, 300)[0][0]
    high_b = wilson_interval(6, 300)[1][0]
    assert move["gross_profit_change_conservative"] == pytest.approx(60 * low_a * 1000 - 60 * high_b * 1000)
    assert (move["from_cycle_roi"], move["to_cycle_roi"]) == (pytest.approx(20 / 30 - 1), pytest.approx(4.0))
    assert "assuming each segment keeps its consultation cost and conversion" in moves.attrs["summary"]


def test_bound_comes_from_settings_or_argument():
    assert budget_shift(_business(budget_max_shift=0.1), by="channel")["amount"].sum() == pytest.approx(900)
    assert budget_shift(_business(), by="channel", max_shift=0.05)["amount"].sum() == pytest.approx(450)


def test_no_move_without_a_clear_receiver():
    # without A nothing is above target even at the low end of its band
    moves = budget_shift(_business({k: v for k, v in CHANNELS.items() if k != "A"}), by="channel")
    assert moves.empty
    assert moves.attrs["summary"].startswith("No budget shift suggested: no segment's ROI is above the target")


def test_total_budget_is_unchanged_and_bounds_hold_on_synthetic_data():
    from calc.synthetic import generate

    synthetic = generate(seed=1)
    data = calc.prepare(synthetic.spend, synthetic.leads, synthetic.deals, settings={"target_roi": 2.5})
    moves = budget_shift(data, by="province")
    assert len(moves) >= 1
    spent = synthetic.spend.groupby("province")["cost"].sum()
    given = moves.groupby("from_segment")["amount"].sum()
    taken = moves.groupby("to_segment")["amount"].sum()
    assert (given <= 0.2 * spent.loc[given.index] + 1e-6).all()
    assert (taken <= 0.2 * spent.loc[taken.index] + 1e-6).all()
    assert set(given.index).isdisjoint(taken.index)
    assert (moves["from_cycle_roi"] < 2.5).all() and (moves["to_cycle_roi_low"] >= 2.5).all()


def test_spend_must_split_by_the_segments():
    with pytest.raises(InputError, match="Spend: column 'industry'"):
        budget_shift(_business(), by="industry")
    with pytest.raises(InputError, match="by"):
        budget_shift(_business(), by=None)
