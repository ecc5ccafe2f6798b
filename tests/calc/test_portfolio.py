"""Replication portfolio (calc/portfolio.py): verdicts on constructed units and the synthetic business."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calc
from calc.errors import InputError
from calc.portfolio import portfolio
from calc.synthetic import TIERS, generate


def _business() -> calc.Dataset:
    """26 weeks (Mon 1 Jan – Sun 30 Jun 2024) of four stores; gross profit 1,000 per deal."""
    rng = np.random.default_rng(42)
    weeks = pd.date_range("2024-01-01", periods=26, freq="7D")
    plan = {  # store: (weekly consultations, share converted, consultation cost)
        "Stable": (rng.poisson(20, 26), 0.15, 30.0),                               # ROI 150/30 − 1 = 400 %
        "Shifted": (np.r_[rng.poisson(20, 18), rng.poisson(40, 8)], 0.15, 30.0),   # volume doubles in the last 8 weeks
        "Losing": (rng.poisson(20, 26), 0.02, 30.0),                               # ROI 20/30 − 1 = −33 %
        "Tiny": (np.r_[1, np.zeros(25, dtype=int)] * 6, 0.5, 30.0),                # 6 consultations in all
    }
    leads, deals, spend = [], [], []
    for store, (counts, share, cost) in plan.items():
        dates = np.repeat(weeks.to_numpy(), counts) + pd.to_timedelta(np.arange(counts.sum()) % 7, unit="D").to_numpy()
        ids = [f"{store}-{i}" for i in range(len(dates))]
        leads.append(pd.DataFrame({"lead_id": ids, "date": dates, "store": store}))
        won = np.arange(round(share * len(ids)))  # the first share of the leads close
        deals.append(pd.DataFrame({"lead_id": [ids[i] for i in won], "date": pd.to_datetime(dates[won]) + pd.Timedelta(days=5),
                                   "gross_profit": 1000.0}))
        spend.append(pd.DataFrame({"date": ["2024-01-15"], "store": [store], "cost": [len(ids) * cost]}))
    return calc.prepare(pd.concat(spend), pd.concat(leads), pd.concat(deals), settings={"as_of": "2024-12-31"})


def test_verdicts_on_constructed_units():
    table = portfolio(_business(), dims="store", end="2024-06-30").set_index("store")
    assert table.loc["Stable", "verdict"] == "replicate"
    assert table.loc["Shifted", "verdict"] == "watch" and table.loc["Shifted", "stable"] == 0.0
    assert "unstable weekly volume" in table.loc["Shifted", "reason"]
    assert table.loc["Losing", "verdict"] == "fix or stop"
    assert table.loc["Tiny", "verdict"] == "too little data"
    assert "6 consultations < 30: not judged" == table.loc["Tiny", "reason"]
    # ROI by hand: every deal is in long before the as-of date, so full cycle = observed
    stable = table.loc["Stable"]
    converted = round(stable["conversion_rate"] * stable["consultations"])
    assert stable["cycle_roi"] == pytest.approx((converted * 1000 - stable["consultations"] * 30) /
                                                (stable["consultations"] * 30))
    assert stable["cycle_roi"] == pytest.approx(4.0, abs=0.05)
    assert table.loc["Losing", "cycle_roi"] == pytest.approx(20 / 30 - 1, abs=0.02)
    # replicate first, too little data last
    assert list(table.index) == ["Stable", "Shifted", "Losing", "Tiny"]


def test_synthetic_price_tiers_rank_like_the_truth():
    # truth (calc/synthetic.py): per consultation a High-tier lead is worth 0.6 × 45,000 = 27,000 × margin × base
    # rate, Mid 1.0 × 12,000 = 12,000, Low 1.3 × 3,000 = 3,900: ROI must fall from High to Low in every store
    synthetic = generate(seed=1)
    data = calc.prepare(synthetic.spend, synthetic.leads, synthetic.deals, settings={"target_roi": 2.5})
    table = portfolio(data)
    assert table.attrs["dims"] == ["category", "store", "price_tier"]
    assert (table["cost_allocated"] == 1.0).all()
    assert any("shared out by consultations" in n for n in table.attrs["notes"])
    worth = {tier: effect * revenue for tier, (_, effect, revenue) in TIERS.items()}
    assert worth["High"] > worth["Mid"] > worth["Low"]
    for _, unit in table.groupby(["category", "store"]):
        roi = unit.set_index("price_tier")["cycle_roi"]
        assert roi["High"] > roi["Mid"] > roi["Low"]
    # spend allocated by consultations adds back up to the real spend of each category × store
    spent = synthetic.spend.groupby(["category", "store"])["cost"].sum()
    allocated = table.groupby(["category", "store"])["spend"].sum()
    assert allocated.to_numpy() == pytest.approx(spent.loc[allocated.index].to_numpy())
    assert set(table["verdict"]) <= {"replicate", "watch", "fix or stop"}
    assert (table.loc[table["verdict"] == "fix or stop", "cycle_roi"] < 2.5).all()


def test_no_unit_is_judged_on_too_little_data():
    synthetic = generate(seed=2, daily_spend=300.0)
    data = calc.prepare(synthetic.spend, synthetic.leads, synthetic.deals)
    table = portfolio(data, dims="campaign,province", start="2026-01-01")
    small = table["consultations"] < 30
    assert small.any() and (~small).any()
    assert (table.loc[small, "verdict"] == "too little data").all()
    assert (table.loc[~small, "verdict"] != "too little data").all()


def test_dims_are_required_when_no_default_exists():
    data = calc.prepare(leads=pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-01"] * 2, "channel": ["a", "b"]}))
    with pytest.raises(InputError, match="dims"):
        portfolio(data)
