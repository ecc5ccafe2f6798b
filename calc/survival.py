"""Time to close with censoring: the Kaplan–Meier share of consultations converted by day t.

A consultation that has not closed yet is *censored* at (as-of date − inquiry date): we know it
stayed open that long, not that it never closes. Dropping open consultations (or counting them as
lost) makes young cohorts look worse than they are; Kaplan–Meier uses each consultation for
exactly as long as it was watched (``docs/methods.md``, "Time to close with censoring"):

* Ŝ(t) = ∏_{t_i ≤ t} (1 − d_i / n_i), d_i = consultations closing on day t_i (first deal),
  n_i = consultations still open and watched at least t_i days;
* converted share by day t: F(t) = 1 − Ŝ(t); band: Greenwood's variance on the log(−log Ŝ) scale
  (stays inside 0–1);
* among consultations that close at all, the share closed by day t is F(t) ÷ F(τ), τ the longest
  day with at least ``MIN_AT_RISK`` consultations still watched (Olist reference: median 14 days;
  33.7 %, 65.9 %, 82.2 % and 92.0 % within 7, 30, 90 and 180 days). Past τ too few consultations
  are watched for the curve to mean much, so τ is also where ``time_to_close`` stops.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .dataset import DAY, Dataset, weights_of
from .errors import InputError
from .messages import Message
from .query import make_query, select

#: Fewest consultations still watched for a day of the curve to count as estimated.
MIN_AT_RISK = 10


def kaplan_meier(durations: Any, closed: Any, *, confidence: float = 0.95, weights: Any = None) -> pd.DataFrame:
    """Kaplan–Meier curve, one row per day with an event or a censoring.

    Columns ``day``, ``at_risk``, ``closed``, ``converted`` (F = 1 − Ŝ), ``low``, ``high``.
    Hand check: durations 2, 3, 3, 5 with the one at 3 still open: day 2: 1 of 4 closes → F = 0.25;
    day 3: 1 of 3 closes → Ŝ = 0.75 · 2/3 = 0.5; day 5: 1 of 1 → F = 1.

    >>> kaplan_meier([2, 3, 3, 5], [True, True, False, True])[["day", "at_risk", "closed", "converted"]]
       day  at_risk  closed  converted
    0    2        4       1       0.25
    1    3        3       1       0.50
    2    5        1       1       1.00
    """
    try:
        days = np.asarray(durations, dtype="float64")
        events = np.asarray(closed, dtype=bool)
    except (TypeError, ValueError):
        days, events = np.array([np.nan]), np.array([], dtype=bool)
    if days.shape != events.shape or np.isnan(days).any() or (days < 0).any():
        raise InputError("durations", None, Message("error.durations_closed"),
                         fix=Message("error.durations_closed.fix"))
    # weights: how many consultations each duration stands for (the aggregated form); None: one each
    counts = None if weights is None else np.asarray(weights, dtype="float64")
    whole = np.floor(days).astype("int64")
    horizon = int(whole.max()) + 1 if len(whole) else 0
    closing = np.bincount(whole[events], weights=None if counts is None else counts[events], minlength=horizon)
    leaving = np.bincount(whole, weights=counts, minlength=horizon)  # closed or censored on that day
    total = len(whole) if counts is None else counts.sum()
    at_risk = total - np.concatenate([[0], np.cumsum(leaving)[:-1]]) if horizon else np.zeros(0, "int64")
    keep = leaving > 0
    day, n, d = np.flatnonzero(keep), at_risk[keep], closing[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - d / n)
        greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        log_s = np.log(survival)
        spread = z * np.sqrt(greenwood) / np.abs(np.where(log_s < 0, log_s, np.nan))
        s_low = np.where(survival > 0, survival ** np.exp(spread), 0.0)
        s_high = np.where(survival > 0, survival ** np.exp(-spread), 0.0)
    low = np.where(survival >= 1, 0.0, 1 - np.nan_to_num(s_high, nan=1.0))
    high = np.where(survival >= 1, 0.0, 1 - np.nan_to_num(s_low, nan=0.0))
    return pd.DataFrame({"day": day, "at_risk": n, "closed": d, "converted": 1 - survival,
                         "low": np.minimum(low, 1 - survival), "high": np.maximum(high, 1 - survival)})


def _value_at(curve: pd.DataFrame, column: str, days: np.ndarray) -> np.ndarray:
    """Step-function value of the curve at each day (0 before the first row)."""
    if not len(curve):  # nobody watched: nothing has closed yet
        return np.zeros(len(days))
    position = np.searchsorted(curve["day"].to_numpy(), days, side="right") - 1
    values = curve[column].to_numpy()
    return np.where(position >= 0, values[np.maximum(position, 0)], 0.0)


def time_to_close(data: Dataset, *, by: Any = None, start: Any = None, end: Any = None, filter: Any = None,
                  days: Any = (7, 30, 90, 180), min_at_risk: Any = MIN_AT_RISK) -> pd.DataFrame:
    """Share of consultations converted within each of ``days``, honest for young cohorts.

    One row per segment and day: the ``by`` dimensions, ``days``, ``converted_share`` (Kaplan–Meier
    F(t), 0–1) with ``low`` / ``high`` (band at ``Settings.confidence``), ``share_of_closers``
    (F(t) ÷ F(τ): among consultations that close, the share closed by then), ``at_risk``
    (consultations still watched that long) and ``median_days_to_close`` (first day with
    share_of_closers ≥ 0.5, per segment). Days past τ (fewer than ``min_at_risk`` consultations
    still watched) are NaN. Deals won before the consultation came in were excluded by ``prepare``.

    Hand check: 4 leads on 2024-01-01, as of 2024-01-31: closes after 2 and 10 days, two open (30 days
    watched): F(7) = 1/4, F(30) = 1 − 3/4 · 2/3 = 0.5; among closers half closed by day 7.

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-01"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-03", "2024-01-11"]})
    >>> data = prepare(leads=leads, deals=deals, settings={"as_of": "2024-01-31"})
    >>> time_to_close(data, days=[7, 30], min_at_risk=1)[["days", "converted_share", "share_of_closers"]]
       days  converted_share  share_of_closers
    0     7             0.25               0.5
    1    30             0.50               1.0
    """
    query = make_query(by=by, start=start, end=end, filter=filter)
    wanted = _days(days)
    min_at_risk = _min_at_risk(min_at_risk)
    sel = select(data, query)
    if sel.leads is None or sel.deals is None:
        raise InputError("Leads" if sel.leads is None else "Deals", None, Message("error.time_to_close_needs"),
                         fix=Message("error.add_leads_and_deals"))
    leads = sel.leads
    if data.as_of is None:  # header-only tables: no dates at all, so nobody has been watched
        watched = np.zeros(len(leads))
    else:
        watched = (data.as_of_day - leads[DAY].to_numpy()).astype("float64")  # whole days, from the day numbers
    closed = leads["days_to_close"].notna().to_numpy()
    duration = np.where(closed, leads["days_to_close"].to_numpy(dtype="float64"), watched)
    weights = weights_of(leads)
    counts = np.ones(len(leads)) if weights is None else weights
    groups = leads.groupby(list(sel.by), observed=True, sort=True).indices if sel.by else {(): np.arange(len(leads))}
    rows = []
    for key, index in groups.items():  # segments: a few dozen at most
        key = key if isinstance(key, tuple) else (key,)
        curve = kaplan_meier(duration[index], closed[index], confidence=data.settings.confidence,
                             weights=None if weights is None else weights[index])
        at_risk_by_day = curve["at_risk"].to_numpy()
        tau_rows = curve.loc[at_risk_by_day >= min_at_risk, "day"] if len(curve) else pd.Series([], dtype="int64")
        enough = counts[index].sum() >= min_at_risk and len(tau_rows) > 0
        tau = int(tau_rows.max()) if enough else -1
        f_tau = float(_value_at(curve, "converted", np.array([tau]))[0]) if enough else np.nan
        converted = _value_at(curve, "converted", wanted)
        watched_that_long = np.array([int(counts[index][duration[index] >= d].sum()) for d in wanted])
        share = converted / f_tau if enough and f_tau > 0 else np.full(len(wanted), np.nan)
        if enough and f_tau > 0:
            closers = curve.loc[curve["day"] <= tau]
            reached = closers.loc[closers["converted"] / f_tau >= 0.5, "day"]
            median = float(reached.min()) if len(reached) else np.nan
        else:
            median = np.nan
        valid = (wanted <= tau) & enough
        for j, day in enumerate(wanted):
            rows.append((*key, int(day), converted[j] if valid[j] else np.nan,
                         _value_at(curve, "low", wanted)[j] if valid[j] else np.nan,
                         _value_at(curve, "high", wanted)[j] if valid[j] else np.nan,
                         share[j] if valid[j] else np.nan, watched_that_long[j], median))
    columns = [*sel.by, "days", "converted_share", "low", "high", "share_of_closers", "at_risk",
               "median_days_to_close"]
    out = pd.DataFrame(rows, columns=columns)
    for b in sel.by:
        out[b] = out[b].astype(str)
    notes = [*data.notes, *sel.notes]
    if out["converted_share"].isna().any():
        notes.append(Message("note.few_at_risk", minimum=min_at_risk))
    out.attrs["notes"] = list(dict.fromkeys(notes))
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    return out


def _min_at_risk(value: Any) -> int:
    """The ``min_at_risk`` option as a whole number >= 1 (Excel hands whole numbers as floats), else refused."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise InputError("options", "min_at_risk", Message("error.min_at_risk", value=repr(value)),
                         fix=Message("error.min_at_risk.fix"))
    return value


def _days(days: Any) -> np.ndarray:
    values = [days] if np.isscalar(days) else list(days)
    try:
        out = np.array([float(v) for v in values])
    except (TypeError, ValueError):
        out = np.array([np.nan])
    if not len(out) or np.isnan(out).any() or (out < 0).any() or (out != np.floor(out)).any():
        raise InputError("options", "days", Message("error.days", value=repr(days)), fix=Message("error.days.fix"))
    return out.astype("int64")
