"""Backtest of the cohort projection: freeze the data at an earlier date, project, compare with what happened.

How far to trust a projection depends on the business, so the user can measure it on their own
data: take an earlier as-of date D, use only what was known at D (consultations, spend and deals
dated up to D), project every cohort to age H with the chain ladder (:mod:`calc.chainladder`), and
compare with the full data at age H.

Per cohort: ``cohort`` (first day of the period), ``age_at_as_of`` (periods between the cohort and
D), ``observed_deals`` (known at D), ``projected_deals`` (projected at D for age H),
``actual_deals`` (full data at age H; NaN if the full data has not completed age H),
``projected_gross_profit``, ``actual_gross_profit``, ``immature`` (younger than H at D, the
cohorts a projection is for) and ``truncated`` (began before the Deals export did, :mod:`calc.coverage`).

H defaults to the oldest age a compared cohort has reached at D. ``attrs["summary"]`` over the
immature cohorts with an actual value, truncated ones left out (unless the setting
``include_truncated_cohorts`` is on):

* ``deals_error`` = (Σ projected − Σ actual) ÷ Σ actual: the bias of the total (0.05 = 5 % too high);
* ``deals_abs_error`` = Σ |projected − actual| ÷ Σ actual: the typical size of a cohort's error;
* ``observed_deals_error`` = (Σ observed − Σ actual) ÷ Σ actual: what reading the immature cohorts as
  final would have got wrong (the error the projection is there to remove);
* ``gross_profit_error`` and ``gross_profit_abs_error`` likewise for gross profit (NaN without it);
* ``cohorts`` compared, ``horizon_periods`` H, ``as_of`` D.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .cohorts import analyse_cycle, make_cycle_options
from .dataset import Dataset
from .errors import InputError
from .messages import Message
from .query import _to_date, make_query

BACKTEST_COLUMNS = ("cohort", "age_at_as_of", "observed_deals", "projected_deals", "actual_deals",
                    "projected_gross_profit", "actual_gross_profit", "immature", "truncated")


def _compared_cohorts(dev, settings) -> np.ndarray:
    """Cohorts a backtest may score: all but the truncated ones, unless include_truncated_cohorts is on."""
    truncated = dev.truncated_cohorts
    return np.ones(len(truncated), bool) if settings.include_truncated_cohorts else ~truncated


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 and np.isfinite(numerator) else float("nan")


def backtest(data: Dataset, *, as_of: Any, period: Any = "month", horizon_periods: Any = None, start: Any = None,
             end: Any = None, filter: Any = None) -> pd.DataFrame:
    """Project each cohort as if it were ``as_of`` and compare with the full data at age H (see module docstring).

    Hand check: January's 2 deals at age 0 became 3 by age 1; February had 4 at age 0. Frozen at
    2024-02-29, February is projected to 4 × 3/2 = 6 at age 1; it really reached 5 by March:
    deals error (6 − 5)/5 = 0.2, while reading February as final would have said (4 − 5)/5 = −0.2.
    (Chain ladder alone, for the arithmetic; by default young cohorts lean on Bornhuetter–Ferguson.)

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": range(1, 11), "date": ["2024-01-05"] * 5 + ["2024-02-05"] * 5})
    >>> deals = pd.DataFrame({"lead_id": [1, 2, 3, 6, 7, 8, 9, 10],
    ...                       "date": ["2024-01-10", "2024-01-11", "2024-02-01"] + ["2024-02-10"] * 4 + ["2024-03-03"]})
    >>> chain_ladder_only = {"as_of": "2024-03-31", "bornhuetter_ferguson_below": 0}
    >>> result = backtest(prepare(leads=leads, deals=deals, settings=chain_ladder_only), as_of="2024-02-29")
    >>> result[["age_at_as_of", "observed_deals", "projected_deals", "actual_deals"]]
       age_at_as_of  observed_deals  projected_deals  actual_deals
    0             1             3.0              3.0           3.0
    1             0             4.0              6.0           5.0
    >>> {k: round(result.attrs["summary"][k], 3) for k in ("deals_error", "observed_deals_error")}
    {'deals_error': 0.2, 'observed_deals_error': -0.2}
    """
    frozen_at = _to_date(as_of, "as_of")
    if frozen_at is None:
        raise InputError("options", "as_of", Message("error.backtest_as_of"), fix=Message("error.backtest_as_of.fix"))
    frozen_at = pd.Timestamp(frozen_at)
    if data.as_of is None or frozen_at >= data.as_of.normalize():
        raise InputError("options", "as_of", Message("error.backtest_not_before", frozen=frozen_at, latest=data.as_of),
                         fix=Message("error.backtest_not_before.fix"))
    query = make_query(start=start, end=end, filter=filter)
    options = make_cycle_options(period=period, horizon_periods=horizon_periods)
    # everything dated on the as-of day itself is known at it
    cutoff = frozen_at + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    past = analyse_cycle(data, query, period=options.period, horizon_periods=options.horizon_periods,
                         measures=("deals", "gross_profit"), as_of=cutoff)
    if not len(past.development.cohorts):  # an empty table would read as an answer
        raise InputError("options", "as_of", Message("error.backtest_before_data", frozen=frozen_at),
                         fix=Message("error.backtest_before_data.fix"))
    horizon = past.horizon
    compare = _compared_cohorts(past.development, data.settings)
    if options.horizon_periods is None and not compare.all() and compare.any():
        # by default the oldest age a compared cohort reaches: truncated cohorts' ages say nothing
        horizon = int(past.development.observed[compare].sum(axis=1).max()) - 1
        past = analyse_cycle(data, query, period=options.period, horizon_periods=horizon,
                             measures=("deals", "gross_profit"), as_of=cutoff)
    full = analyse_cycle(data, query, period=options.period, horizon_periods=horizon,
                         measures=("deals", "gross_profit"))
    dev, fdev = past.development, full.development
    n = len(dev.cohorts)
    position = pd.Index(fdev.cohorts).get_indexer(dev.cohorts)
    age_at = (dev.observed.sum(axis=1) - 1).astype("int64") if n else np.zeros(0, "int64")

    def actual(measure: str) -> np.ndarray:
        values = np.where(fdev.complete, fdev.cumulative(measure)[0], np.nan)
        if values.shape[1] <= horizon:
            return np.full(n, np.nan)
        return np.where(position >= 0, values[np.maximum(position, 0), horizon], np.nan)

    out = pd.DataFrame({
        "cohort": dev.cohorts, "age_at_as_of": age_at,
        "observed_deals": past.projections["deals"].latest[0],
        "projected_deals": past.projections["deals"].values[0][:, horizon] if n else np.zeros(0),
        "actual_deals": actual("deals"),
        "projected_gross_profit": past.projections["gross_profit"].values[0][:, horizon] if n else np.zeros(0),
        "actual_gross_profit": actual("gross_profit"),
        "immature": age_at < horizon,
        "truncated": dev.truncated_cohorts})
    compared = out.loc[out["immature"] & out["actual_deals"].notna() & _compared_cohorts(dev, data.settings)]
    actual_deals = float(compared["actual_deals"].sum())
    with_gp = compared.loc[compared["actual_gross_profit"].notna()]
    actual_gp = float(with_gp["actual_gross_profit"].sum())
    out.attrs["summary"] = {
        "as_of": f"{frozen_at:%Y-%m-%d}", "horizon_periods": int(horizon), "period": options.period,
        "cohorts": int(len(compared)),
        "deals_error": _ratio(float(compared["projected_deals"].sum()) - actual_deals, actual_deals),
        "deals_abs_error": _ratio(float((compared["projected_deals"] - compared["actual_deals"]).abs().sum()),
                                  actual_deals),
        "observed_deals_error": _ratio(float(compared["observed_deals"].sum()) - actual_deals, actual_deals),
        "gross_profit_error": _ratio(float(with_gp["projected_gross_profit"].sum()) - actual_gp, actual_gp),
        "gross_profit_abs_error": _ratio(float((with_gp["projected_gross_profit"]
                                                - with_gp["actual_gross_profit"]).abs().sum()), actual_gp),
    }
    notes = list(past.notes)
    missing = int((out["immature"] & out["actual_deals"].isna()).sum())
    if missing:
        notes.append(Message("note.backtest_unreached", count=missing, horizon=horizon))
    out.attrs["notes"] = list(dict.fromkeys(notes))
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    return out
