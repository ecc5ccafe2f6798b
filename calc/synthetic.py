"""A fixed-seed synthetic business with known truth, for tests, the demo and the bundled sample.

It plays a made-to-order seller that buys search, marketplace and info-feed ads across Chinese
provinces: daily spend per campaign × province; consultations arrive as Poisson(spend ÷ true
consultation cost); each consultation becomes a deal with a known probability (channel ×
province × industry × price tier effects) after a lognormal lag (median ``lag_median_days``,
some beyond 180 days); deals carry revenue and gross profit by price tier and category.
Deals won after ``as_of`` are held back in ``deals_all`` (the future), so projections can be
checked against what really happened.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CHANNELS = {"Search": (160.0, 1.25), "Marketplace": (110.0, 1.0), "Feed": (70.0, 0.55)}  # cost per consultation, conversion effect
PROVINCES = {"Guangdong": (0.30, 1.15), "Zhejiang": (0.22, 1.1), "Jiangsu": (0.18, 1.0), "Shandong": (0.13, 0.9),
             "Sichuan": (0.10, 0.8), "Henan": (0.06, 0.75), "Ningxia": (0.01, 1.6)}  # spend share, conversion effect
INDUSTRIES = {"Manufacturing": (0.35, 1.2), "Medical": (0.15, 1.3), "Education": (0.15, 0.7),
              "Retail": (0.25, 0.9), "Construction": (0.10, 1.0)}  # lead share, conversion effect
SEGMENTS = {"SMB": 0.6, "Mid-market": 0.3, "Enterprise": 0.1}
TIERS = {"Low": (0.45, 1.3, 3_000.0), "Mid": (0.4, 1.0, 12_000.0), "High": (0.15, 0.6, 45_000.0)}  # share, conversion effect, mean revenue
CATEGORIES = {"Custom furniture": 0.32, "Industrial equipment": 0.38, "Signage": 0.45, "Packaging": 0.28}  # gross margin
CAMPAIGNS = [  # name, channel, category, store, weight
    ("Search-Furniture", "Search", "Custom furniture", "Tmall flagship", 1.2),
    ("Search-Equipment", "Search", "Industrial equipment", "1688 store", 1.0),
    ("Market-Signage", "Marketplace", "Signage", "1688 store", 0.9),
    ("Market-Packaging", "Marketplace", "Packaging", "JD store", 0.8),
    ("Feed-Furniture", "Feed", "Custom furniture", "Tmall flagship", 0.9),
    ("Feed-Signage", "Feed", "Signage", "JD store", 0.6),
]


@dataclass(frozen=True)
class Truth:
    """What the generator used, so estimators can be checked against it."""

    base_conversion: float
    lag_median_days: float
    lag_sigma: float
    channel_conversion: dict[str, float]
    province_conversion: dict[str, float]
    channel_consult_cost: dict[str, float]
    leads: pd.DataFrame = field(repr=False)  # every lead with its true probability and (uncensored) fate


@dataclass(frozen=True)
class Synthetic:
    spend: pd.DataFrame
    leads: pd.DataFrame
    deals: pd.DataFrame       # deals known at the as-of date
    deals_all: pd.DataFrame   # including deals won after the as-of date
    as_of: pd.Timestamp
    truth: Truth
    #: with ``lost_share`` > 0: Deals with a status column — won rows and the lost outcomes known at the
    #: as-of date (``outcomes``) and all of them (``outcomes_all``, the future included); else None
    outcomes: pd.DataFrame | None = None
    outcomes_all: pd.DataFrame | None = None


def generate(*, seed: int = 7, start: str = "2025-01-01", as_of: str = "2026-06-30", daily_spend: float = 2_000.0,
             base_conversion: float = 0.10, lag_median_days: float = 35.0, lag_sigma: float = 0.9,
             revenue_scale: float = 1.0, lost_share: float = 0.0, lost_lag_median_days: float = 20.0) -> Synthetic:
    """Generate a business; same arguments, same tables.

    ``revenue_scale`` multiplies every deal's revenue (and so gross profit and ROI) without
    touching the random draws, so one business can be made more or less profitable.

    ``lost_share`` > 0 makes it a CRM with closed-lost outcomes: each consultation that never converts
    is marked lost with that probability after a lognormal lag (median ``lost_lag_median_days``, the
    same spread as wins); the rest stay open for ever. ``outcomes`` then holds Deals with a status
    column (Won rows and the Lost rows dated by the as-of date). Its draws come after every other, so
    the other tables are those of the same seed without it.

    >>> s = generate(daily_spend=300.0, lost_share=0.5)
    >>> sorted(s.outcomes["status"].unique()), bool(s.outcomes["date"].max() <= s.as_of)
    (['Lost', 'Won'], True)

    >>> s = generate(daily_spend=300.0)
    >>> sorted(s.leads.columns)
    ['campaign', 'category', 'channel', 'date', 'industry', 'lead_id', 'market_segment', 'price_tier', 'province', 'store']
    >>> bool(s.deals["date"].max() <= s.as_of) and len(s.deals_all) >= len(s.deals)
    True
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, as_of, freq="D")
    n_days = len(days)
    t = np.arange(n_days)
    # weekday dip, a yearly season and slow growth: real accounts are never flat
    day_effect = np.where(days.day_of_week >= 5, 0.75, 1.05) * (1 + 0.2 * np.sin(2 * np.pi * (t - 60) / 365.25)) * (1 + 0.0003 * t)

    camp = pd.DataFrame(CAMPAIGNS, columns=["campaign", "channel", "category", "store", "weight"])
    prov_names = list(PROVINCES)
    prov_share = np.array([PROVINCES[p][0] for p in prov_names])
    d_i, c_i, p_i = (a.ravel() for a in np.meshgrid(t, np.arange(len(camp)), np.arange(len(prov_names)), indexing="ij"))
    weight = camp["weight"].to_numpy() / camp["weight"].sum()
    cost = daily_spend * day_effect[d_i] * weight[c_i] * prov_share[p_i] * rng.lognormal(0, 0.25, d_i.size)
    spend = pd.DataFrame({
        "date": days[d_i], "channel": camp["channel"].to_numpy()[c_i], "campaign": camp["campaign"].to_numpy()[c_i],
        "province": np.array(prov_names)[p_i], "category": camp["category"].to_numpy()[c_i],
        "store": camp["store"].to_numpy()[c_i], "cost": np.round(cost, 2)})

    cpl = np.array([CHANNELS[ch][0] for ch in spend["channel"]])
    n_leads = rng.poisson(spend["cost"].to_numpy() / cpl)
    rows = np.repeat(np.arange(len(spend)), n_leads)
    leads = spend.iloc[rows].drop(columns="cost").reset_index(drop=True)
    n = len(leads)
    pick = lambda table, share: rng.choice(list(table), n, p=np.array(share) / np.sum(share))  # noqa: E731
    leads["industry"] = pick(INDUSTRIES, [v[0] for v in INDUSTRIES.values()])
    leads["market_segment"] = pick(SEGMENTS, list(SEGMENTS.values()))
    leads["price_tier"] = pick(TIERS, [v[0] for v in TIERS.values()])
    leads.insert(0, "lead_id", [f"L{seed:02d}-{i:06d}" for i in range(n)])

    effect = (leads["channel"].map({k: v[1] for k, v in CHANNELS.items()}).to_numpy()
              * leads["province"].map({k: v[1] for k, v in PROVINCES.items()}).to_numpy()
              * leads["industry"].map({k: v[1] for k, v in INDUSTRIES.items()}).to_numpy()
              * leads["price_tier"].map({k: v[1] for k, v in TIERS.items()}).to_numpy())
    probability = np.clip(base_conversion * effect, 0, 0.95)
    converts = rng.random(n) < probability
    lag = np.minimum(np.floor(rng.lognormal(np.log(lag_median_days), lag_sigma, n)), 540).astype(int)
    won = leads["date"] + pd.to_timedelta(lag, unit="D")
    mean_rev = revenue_scale * leads["price_tier"].map({k: v[2] for k, v in TIERS.items()}).to_numpy()
    revenue = np.round(mean_rev * rng.lognormal(-0.08, 0.4, n), 2)
    margin = leads["category"].map(CATEGORIES).to_numpy()

    truth_leads = leads.assign(probability=probability, converts=converts, lag_days=np.where(converts, lag, -1),
                               won_date=won.where(converts))
    deals_all = pd.DataFrame({"lead_id": leads["lead_id"], "date": won, "revenue": revenue,
                              "gross_profit": np.round(revenue * margin, 2)}).loc[converts].reset_index(drop=True)
    cutoff = pd.Timestamp(as_of)
    deals = deals_all.loc[deals_all["date"] <= cutoff].reset_index(drop=True)

    def true_rate(column: str) -> dict[str, float]:
        return truth_leads.groupby(column)["probability"].mean().to_dict()

    truth = Truth(base_conversion=base_conversion, lag_median_days=lag_median_days, lag_sigma=lag_sigma,
                  channel_conversion=true_rate("channel"), province_conversion=true_rate("province"),
                  channel_consult_cost={k: v[0] for k, v in CHANNELS.items()}, leads=truth_leads)
    outcomes = outcomes_all = None
    if lost_share > 0:
        loses = ~converts & (rng.random(n) < lost_share)
        lost_lag = np.minimum(np.floor(rng.lognormal(np.log(lost_lag_median_days), lag_sigma, n)), 540).astype(int)
        lost_all = pd.DataFrame({"lead_id": leads["lead_id"], "date": leads["date"] + pd.to_timedelta(lost_lag, unit="D"),
                                 "status": "Lost"}).loc[loses]
        outcomes_all = pd.concat([deals_all.assign(status="Won"), lost_all], ignore_index=True)
        outcomes = outcomes_all.loc[outcomes_all["date"] <= cutoff].reset_index(drop=True)
    return Synthetic(spend=spend, leads=leads, deals=deals, deals_all=deals_all, as_of=cutoff, truth=truth,
                     outcomes=outcomes, outcomes_all=outcomes_all)
