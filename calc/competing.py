"""Winning and losing as competing outcomes: Aalen–Johansen, and projections that respect what is decided.

An opportunity ends in one of two ways — won or lost — or is still open (censored at the as-of date).
Kaplan–Meier (:mod:`calc.survival`) treats a lost opportunity as "still open, watched so far", so its
1 − Ŝ is the share that *would* win if nobody ever lost: it overstates conversion whenever losses are
recorded. The Aalen–Johansen estimator gives each outcome's cumulative incidence with the other as a
competing risk (``docs/methods.md``, "Competing outcomes: won, lost, open"; Aalen & Johansen 1978,
*Scand. J. Statist.* 5; Putter, Fiocco & Geskus 2007, *Stat. Med.* 26, eq. 3):

* at each distinct duration t_i: n_i still open and watched, d_i^won, d_i^lost outcomes on that day;
* overall still-open share Ŝ(t) = ∏_{t_i ≤ t} (1 − (d_i^won + d_i^lost) / n_i)  (Kaplan–Meier on either outcome);
* cumulative incidence of winning F_won(t) = Σ_{t_i ≤ t} Ŝ(t_{i−1}) · d_i^won / n_i, of losing likewise;
  F_won + F_lost + Ŝ = 1 at every t. Ties are kept as ties (lifelines jitters them away instead;
  on durations without ties the two agree, ``tests/calc/test_competing.py``).

Projection of a cohort (the same idea by inquiry-period ages, :func:`project_outcomes`):

* w_k, l_k = the share of opportunities still open at the end of age k − 1 that won (lost) in age k,
  from the cohorts whose age k is complete (age −1 = "just came in": everyone open);
* the chance that an opportunity open at the end of age a wins by age K:
  G(a, K) = Σ_{a<j≤K} w_j ∏_{a<i<j} (1 − w_i − l_i);
* a cohort with W won, L lost and O = N − W − L open at its latest age, last complete age a:
  projected converted at age K = W + O · G(a, K). Only the open part is projected, so the projection
  lies between the won share and the (won + open) share whatever the data; deals, revenue and gross
  profit add the projected new wins × what a won consultation brought (the segment's own, else pooled);
* segments use their own w, l at an age with at least ``min_deals`` wins there and
  ``min_consultations`` consultations in all, else the pooled ones; ages no cohort has completed add
  nothing (open opportunities past the oldest age are not assumed to win); the band is the binomial
  process variance O · G(1 − G) per cohort.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .chainladder import SegmentProjections
from .dataset import DAY, Dataset
from .errors import InputError
from .messages import Message
from .query import make_query, select
from .survival import MIN_AT_RISK, _days, _min_at_risk, kaplan_meier

#: Outcome codes of :func:`aalen_johansen` (those of calc.outcomes: 0 still open = censored).
OPEN, WON, LOST = 0, 1, 2


def aalen_johansen(durations: Any, outcomes: Any) -> pd.DataFrame:
    """Cumulative incidence of winning and of losing, one row per distinct duration.

    Columns ``day`` (the duration), ``at_risk``, ``won``, ``lost``, ``censored`` (outcomes on that day),
    ``won_share`` (F_won), ``lost_share`` (F_lost), ``open_share`` (Ŝ). ``outcomes``: 0 still open
    (censored), 1 won, 2 lost.

    Hand check: durations 2 (won), 3 (lost), 3 (open), 5 (won): day 2: 1 of 4 wins → F_won = 1/4, Ŝ = 3/4;
    day 3: 1 of 3 loses → F_lost = 3/4 · 1/3 = 1/4, Ŝ = 1/2; day 5: 1 of 1 wins → F_won = 1/4 + 1/2 = 3/4.

    >>> aalen_johansen([2, 3, 3, 5], [1, 2, 0, 1])[["day", "at_risk", "won_share", "lost_share", "open_share"]]
       day  at_risk  won_share  lost_share  open_share
    0  2.0        4       0.25        0.00        0.75
    1  3.0        3       0.25        0.25        0.50
    2  5.0        1       0.75        0.25        0.00
    """
    try:
        days = np.asarray(durations, dtype="float64")
        codes = np.asarray(outcomes)
        codes = codes.astype("int64") if codes.dtype.kind in "biuf" else np.array([-1])
    except (TypeError, ValueError):
        days, codes = np.array([np.nan]), np.array([-1])
    if (days.shape != codes.shape or np.isnan(days).any() or (days < 0).any()
            or not np.isin(codes, (OPEN, WON, LOST)).all()):
        raise InputError("durations", None, Message("error.durations_outcomes"),
                         fix=Message("error.durations_outcomes.fix"))
    times, index = np.unique(days, return_inverse=True)
    count = lambda mask: np.bincount(index[mask], minlength=len(times))  # noqa: E731
    won, lost, censored = count(codes == WON), count(codes == LOST), count(codes == OPEN)
    leaving = won + lost + censored
    at_risk = len(days) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - (won + lost) / at_risk)
        before = np.concatenate([[1.0], survival[:-1]])  # Ŝ(t_{i−1})
        won_share = np.cumsum(before * won / at_risk)
        lost_share = np.cumsum(before * lost / at_risk)
    return pd.DataFrame({"day": times, "at_risk": at_risk, "won": won, "lost": lost, "censored": censored,
                         "won_share": won_share, "lost_share": lost_share, "open_share": survival})


def _step(curve: pd.DataFrame, column: str, days: np.ndarray) -> np.ndarray:
    if not len(curve):
        return np.zeros(len(days))
    position = np.searchsorted(curve["day"].to_numpy(), days, side="right") - 1
    return np.where(position >= 0, curve[column].to_numpy()[np.maximum(position, 0)], 0.0)


def _median(curve: pd.DataFrame, column: str, tau: float, total: float) -> float:
    """First day by which half of those that end this way (up to τ) have done so."""
    if not total > 0:
        return np.nan
    inside = curve.loc[curve["day"] <= tau]
    reached = inside.loc[inside[column] >= 0.5 * total, "day"]
    return float(reached.min()) if len(reached) else np.nan


def lead_outcomes(data: Dataset, leads: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(duration in days, outcome code) of each consultation: days to its win, its loss, or watched so far."""
    watched = (data.as_of_day - leads[DAY].to_numpy()).astype("float64") if data.as_of is not None \
        else np.zeros(len(leads))
    won = leads["days_to_close"].notna().to_numpy() if "days_to_close" in leads.columns else np.zeros(len(leads), bool)
    lost_days = leads["days_to_lose"].to_numpy(dtype="float64") if "days_to_lose" in leads.columns \
        else np.full(len(leads), np.nan)
    lost = ~won & ~np.isnan(lost_days)
    duration = np.where(won, leads["days_to_close"].to_numpy(dtype="float64") if won.any() else 0.0,
                        np.where(lost, lost_days, watched))
    outcome = np.where(won, WON, np.where(lost, LOST, OPEN))
    return duration, outcome


OUTCOME_COLUMNS = ("days", "won_share", "lost_share", "open_share", "km_converted_share", "at_risk",
                   "win_rate", "loss_rate", "median_days_to_win", "median_days_to_lose")


def time_to_outcome(data: Dataset, *, by: Any = None, start: Any = None, end: Any = None, filter: Any = None,
                    days: Any = (7, 30, 90, 180), min_at_risk: Any = MIN_AT_RISK) -> pd.DataFrame:
    """Won and lost shares by day t with the other outcome competing, beside Kaplan–Meier.

    One row per segment and day: the ``by`` dimensions, ``days``, ``won_share`` / ``lost_share``
    (Aalen–Johansen cumulative incidence, 0–1), ``open_share`` (still open), ``km_converted_share``
    (1 − Kaplan–Meier with losses treated as still open: what :func:`calc.time_to_close` reports, an
    overstatement once losses are recorded), ``at_risk`` (still open and watched that long), then per
    segment ``win_rate`` / ``loss_rate`` (F_won, F_lost at τ, the longest day at least ``min_at_risk``
    are still watched) and ``median_days_to_win`` / ``median_days_to_lose`` (first day by which half of
    the segment's wins, losses up to τ, had happened). Days past τ are empty.

    Hand check: 4 leads on 2024-01-01, as of 2024-01-31: won after 2 days, lost after 3, won after 10,
    one open: by day 7 F_won = 1/4, F_lost = 3/4 · 1/3 = 1/4; by day 30 F_won = 1/4 + 1/2 · 1/2 = 1/2,
    while Kaplan–Meier (the loss as still open) says 1 − 3/4 · 1/2 = 5/8.

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-01"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2, 3], "date": ["2024-01-03", "2024-01-04", "2024-01-11"],
    ...                       "status": ["Won", "Lost", "Won"]})
    >>> data = prepare(leads=leads, deals=deals, settings={"as_of": "2024-01-31"})
    >>> time_to_outcome(data, days=[7, 30], min_at_risk=1)[["days", "won_share", "lost_share", "km_converted_share"]]
       days  won_share  lost_share  km_converted_share
    0     7       0.25        0.25               0.250
    1    30       0.50        0.25               0.625
    """
    query = make_query(by=by, start=start, end=end, filter=filter)
    wanted = _days(days)
    min_at_risk = _min_at_risk(min_at_risk)
    sel = select(data, query)
    if sel.leads is None or sel.deals is None:
        raise InputError("Leads" if sel.leads is None else "Deals", None, Message("error.outcomes_need_tables"),
                         fix=Message("error.outcomes_need_tables.fix"))
    leads = sel.leads
    duration, outcome = lead_outcomes(data, leads)
    groups = leads.groupby(list(sel.by), observed=True, sort=True).indices if sel.by else {(): np.arange(len(leads))}
    rows = []
    for key, index in groups.items():  # segments: a few dozen at most
        key = key if isinstance(key, tuple) else (key,)
        curve = aalen_johansen(duration[index], outcome[index])
        km = kaplan_meier(duration[index], outcome[index] == WON)
        watched = curve.loc[curve["at_risk"] >= min_at_risk, "day"]
        enough = len(index) >= min_at_risk and len(watched) > 0
        tau = float(watched.max()) if enough else -1.0
        win_rate, loss_rate = (float(_step(curve, c, np.array([tau]))[0]) if enough else np.nan
                               for c in ("won_share", "lost_share"))
        medians = (_median(curve, "won_share", tau, win_rate), _median(curve, "lost_share", tau, loss_rate)) \
            if enough else (np.nan, np.nan)
        valid = enough & (wanted <= tau)
        columns = [np.where(valid, _step(curve, c, wanted), np.nan) for c in ("won_share", "lost_share", "open_share")]
        columns.append(np.where(valid, _step(km, "converted", wanted.astype("float64")), np.nan))
        at_risk = [int((duration[index] >= d).sum()) for d in wanted]
        for j, day in enumerate(wanted):
            rows.append((*key, int(day), *(c[j] for c in columns), at_risk[j], win_rate, loss_rate, *medians))
    out = pd.DataFrame(rows, columns=[*sel.by, *OUTCOME_COLUMNS])
    for b in sel.by:
        out[b] = out[b].astype(str)
    notes = [*data.notes, *sel.notes]
    if not data.has_outcomes:
        notes.append(Message("note.no_status"))
    if out["won_share"].isna().any():
        notes.append(Message("note.outcome_days_empty", watched=min_at_risk))
    out.attrs["notes"] = list(dict.fromkeys(notes))
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    return out


def _hazards(won: np.ndarray, lost: np.ndarray, consultations: np.ndarray, usable: np.ndarray, width: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(w, l, wins, exposure) per age 0..width−1 from cumulative won/lost (… × C × A) of cohorts complete at that age.

    Exposure at age k = open at the end of age k − 1 (everyone at age 0), summed over cohorts whose
    age k is complete; wins (losses) = the change in cumulative won (lost) over those cohorts.
    """
    lead_axes = won.shape[:-2]
    n_ages = won.shape[-1]
    k = min(width, n_ages)
    w_cum, l_cum = np.nan_to_num(won[..., :k]), np.nan_to_num(lost[..., :k])
    open_before = np.concatenate([consultations[..., None],
                                  (consultations[..., None] - w_cum - l_cum)[..., :-1]], axis=-1)
    new_won = np.diff(w_cum, axis=-1, prepend=0.0)
    new_lost = np.diff(l_cum, axis=-1, prepend=0.0)
    use = usable[:, :k]
    exposure = np.where(use, open_before, 0.0).sum(axis=-2)
    wins = np.where(use, new_won, 0.0).sum(axis=-2)
    losses = np.where(use, new_lost, 0.0).sum(axis=-2)
    shape = lead_axes + (width,)
    w, l, wins_out, exposure_out = (np.zeros(shape) for _ in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        w[..., :k] = np.where(exposure > 0, wins / np.where(exposure > 0, exposure, 1.0), 0.0)
        l[..., :k] = np.where(exposure > 0, losses / np.where(exposure > 0, exposure, 1.0), 0.0)
    wins_out[..., :k], exposure_out[..., :k] = wins, exposure
    return w, l, wins_out, exposure_out


def project_outcomes(dev, lost_incremental: np.ndarray, *, horizon: int, min_deals: int,
                     min_consultations: int, estimate_from: np.ndarray | None = None) -> dict[str, SegmentProjections]:
    """Projections of converted, deals, revenue and gross profit that project the open part only.

    ``dev`` is a :class:`calc.cohorts.Development`; ``lost_incremental`` (S × C × A) the consultations
    lost at each age; ``estimate_from`` (C bool, default all) the cohorts whose cells estimate the
    shares w, l (truncated cohorts are left out, as for the chain ladder's factors; they are still
    projected). Returns {measure: SegmentProjections} with the chain ladder's shapes.
    """
    width = horizon + 1
    n_seg, n_cohorts = dev.consultations.shape
    ages = np.arange(width)

    def fit(array: np.ndarray, fill: Any) -> np.ndarray:
        if array.shape[-1] >= width:
            return array[..., :width]
        pad = np.full(array.shape[:-1] + (width - array.shape[-1],), fill, dtype=np.result_type(array, type(fill)))
        return np.concatenate([array, pad], axis=-1)

    observed, usable = fit(dev.observed, False), fit(dev.complete, False)
    won = fit(dev.cumulative("converted"), np.nan)
    lost = fit(np.where(dev.observed[None], np.cumsum(lost_incremental, axis=2), np.nan), np.nan)
    n = dev.consultations
    fitted = usable if estimate_from is None else usable & np.asarray(estimate_from, bool)[:, None]
    w, l, wins, exposure = _hazards(won, lost, n, fitted, width)
    pw, pl, pwins, _ = _hazards(np.nansum(won, axis=0), np.nansum(lost, axis=0), n.sum(axis=0), fitted, width)
    own = (wins >= min_deals) & (n.sum(axis=1) >= min_consultations)[:, None]
    if n_seg == 1:
        own[:] = True
    w, l = np.where(own, w, pw[None]), np.where(own, l, pl[None])

    last_observed = np.where(observed.any(axis=1), np.where(observed, ages, -1).max(axis=1), -1)
    last_complete = np.where(usable.any(axis=1), np.where(usable, ages, -1).max(axis=1), -1)
    rows = np.arange(n_cohorts)
    at = np.maximum(last_observed, 0)
    won_now = np.nan_to_num(won[:, rows, at]) if n_cohorts else np.zeros((n_seg, 0))
    lost_now = np.nan_to_num(lost[:, rows, at]) if n_cohorts else np.zeros((n_seg, 0))
    open_now = np.maximum(n - won_now - lost_now, 0.0)
    # G(a, K) for every segment, anchor a (−1..H) and age K: still-open chance times the next age's win share
    chance = np.zeros((n_seg, width + 1, width))  # [s, a + 1, K]
    for a in range(-1, width - 1):  # a few dozen ages at most
        still = np.ones(n_seg)
        total = np.zeros(n_seg)
        for k in range(a + 1, width):
            total = total + still * w[:, k]
            still = still * (1 - w[:, k] - l[:, k])
            chance[:, a + 1, k] = total
    gain = chance[:, last_complete + 1, :]  # S × C × width
    projected = np.broadcast_to(ages[None, :] > last_observed[:, None], (n_seg, n_cohorts, width))
    path = won_now[:, :, None] + open_now[:, :, None] * gain
    converted = np.where(projected, np.maximum(path, won_now[:, :, None]), won)
    final_gain = gain[:, :, -1] if width else np.zeros((n_seg, n_cohorts))
    extra = open_now * final_gain
    mse = open_now * final_gain * (1 - final_gain)
    out = {"converted": SegmentProjections(
        values=converted, projected=np.array(projected), latest=won_now, ultimate=won_now + extra, mse=mse,
        total_mse=mse.sum(axis=1), pooled_ages=(~own[:, 1:width]) & (ages[1:] > last_complete.min())[None, :])}
    extra_path = np.where(projected, converted - won_now[:, :, None], 0.0)
    for measure in ("deals", "revenue", "gross_profit"):
        values = fit(dev.cumulative(measure), np.nan)
        if np.isnan(dev.incremental[measure]).all():
            nan = np.full((n_seg, n_cohorts), np.nan)
            out[measure] = SegmentProjections(values=np.where(projected, np.nan, values), projected=np.array(projected),
                                              latest=nan, ultimate=nan, mse=nan, total_mse=np.full(n_seg, np.nan),
                                              pooled_ages=out["converted"].pooled_ages)
            continue
        latest = np.nan_to_num(values[:, rows, at]) if n_cohorts else np.zeros((n_seg, 0))
        # what one won consultation brought: the segment's own figure, the pooled one where it has no win yet
        own_won, own_value = won_now.sum(axis=1), latest.sum(axis=1)
        pooled = own_value.sum() / own_won.sum() if own_won.sum() > 0 else 0.0
        per_won = np.where(own_won > 0, own_value / np.where(own_won > 0, own_won, 1.0), pooled)
        path_m = latest[:, :, None] + extra_path * per_won[:, None, None]
        ultimate = latest + extra * per_won[:, None]
        out[measure] = SegmentProjections(
            values=np.where(projected, path_m, values), projected=np.array(projected), latest=latest,
            ultimate=ultimate, mse=mse * per_won[:, None] ** 2, total_mse=(mse * per_won[:, None] ** 2).sum(axis=1),
            pooled_ages=out["converted"].pooled_ages)
    return out


SEGMENT_OUTCOME_COLUMNS = ("consultations", "won", "lost", "open", "win_rate", "loss_rate", "loss_rate_ratio",
                           "median_days_to_win", "median_days_to_lose", "lose_days_ratio", "loses_fast_and_often")


def outcome_segments(data: Dataset, *, by: Any, start: Any = None, end: Any = None, filter: Any = None,
                     min_at_risk: Any = MIN_AT_RISK) -> pd.DataFrame:
    """Per segment of ``by``: won, lost and open counts, win and loss rates (Aalen–Johansen at τ), the median
    days to win and to lose, and whether it loses fast and often — evidence for the "sales and service" link.

    ``loss_rate_ratio`` = the segment's loss rate ÷ the whole business's, ``lose_days_ratio`` = its median
    days to lose ÷ the business's; ``loses_fast_and_often`` is True when the first is ≥
    ``Settings.diagnosis_high_loss_ratio`` (1.2) and the second ≤ ``Settings.diagnosis_fast_loss_ratio`` (1.0)
    (segments with fewer than ``Settings.min_consultations`` consultations are not judged). The first row is the whole
    business (segment columns "(all)"); ``attrs["fast_losers"]`` names the flagged segments.

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": range(8), "date": ["2024-01-01"] * 8, "agent": ["A"] * 4 + ["B"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [0, 1, 2, 4, 5, 6, 7], "status": ["Won", "Won", "Lost"] + ["Lost"] * 3 + ["Won"],
    ...                       "date": ["2024-01-20", "2024-01-25", "2024-01-30", "2024-01-03", "2024-01-04",
    ...                                "2024-01-05", "2024-01-28"]})
    >>> data = prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-29", "min_consultations": 1})
    >>> # B lost 3 of 4 (rate 0.75 = 1.5 × the business's 0.5) on days 2, 3, 4: half of them by day 3, the
    >>> # business's median time to lose (days 2, 3, 4, 29 → 2 of 8 by day 3 = half of 0.5)
    >>> outcome_segments(data, by="agent", min_at_risk=1)[["agent", "won", "lost", "loss_rate", "median_days_to_lose",
    ...                                                    "loses_fast_and_often"]]
       agent  won  lost  loss_rate  median_days_to_lose  loses_fast_and_often
    0  (all)    3     4       0.50                  3.0                 False
    1      A    2     1       0.25                 29.0                 False
    2      B    1     3       0.75                  3.0                  True
    """
    if not make_query(by=by).by:
        raise InputError("options", "by", Message("error.outcome_segments_no_by"),
                         fix=Message("error.outcome_segments_no_by.fix"))
    whole = time_to_outcome(data, start=start, end=end, filter=filter, days=[0], min_at_risk=min_at_risk)
    parts = time_to_outcome(data, by=by, start=start, end=end, filter=filter, days=[0], min_at_risk=min_at_risk)
    dims = [c for c in parts.columns if c not in OUTCOME_COLUMNS]
    sel = select(data, make_query(by=by, start=start, end=end, filter=filter))
    duration, outcome = lead_outcomes(data, sel.leads)
    flags = pd.DataFrame({"won": outcome == WON, "lost": outcome == LOST, "open": outcome == OPEN})
    for d in sel.by:  # grouped by the coded columns; labels as text afterwards, like time_to_outcome's
        flags[d] = sel.leads[d].to_numpy()
    counts = flags.groupby(list(sel.by), observed=True).sum().reset_index()
    for d in sel.by:
        counts[d] = counts[d].astype(str)
    counted = parts[dims].merge(counts, on=dims, how="left")[["won", "lost", "open"]].fillna(0).astype(int)
    top = pd.DataFrame({d: ["(all)"] for d in dims})
    totals = pd.DataFrame({"won": [int((outcome == WON).sum())], "lost": [int((outcome == LOST).sum())],
                           "open": [int((outcome == OPEN).sum())]})
    rows = pd.concat([pd.concat([top, totals, whole.drop(columns="days").reset_index(drop=True)], axis=1),
                      pd.concat([parts[dims].reset_index(drop=True), counted, parts.drop(columns=[*dims, "days"])
                                 .reset_index(drop=True)], axis=1)], ignore_index=True)
    rows["consultations"] = rows[["won", "lost", "open"]].sum(axis=1)
    overall_rate, overall_days = float(rows.loc[0, "loss_rate"]), float(rows.loc[0, "median_days_to_lose"])
    settings = data.settings
    rows["loss_rate_ratio"] = rows["loss_rate"] / overall_rate if overall_rate > 0 else np.nan
    rows["lose_days_ratio"] = rows["median_days_to_lose"] / overall_days if overall_days > 0 else np.nan
    judged = rows["consultations"] >= settings.min_consultations
    rows["loses_fast_and_often"] = (judged & (rows["loss_rate_ratio"] >= settings.diagnosis_high_loss_ratio)
                                    & (rows["lose_days_ratio"] <= settings.diagnosis_fast_loss_ratio)).to_numpy()
    rows.loc[0, "loses_fast_and_often"] = False
    out = rows[[*dims, *SEGMENT_OUTCOME_COLUMNS]].copy()
    out["loses_fast_and_often"] = out["loses_fast_and_often"].astype(bool)
    flagged = ["/".join(map(str, r)) for r in out.loc[out["loses_fast_and_often"], dims].itertuples(index=False)]
    notes = list(parts.attrs.get("notes", []))
    if flagged:
        notes.append(Message("note.fast_losers", ratio=settings.diagnosis_high_loss_ratio,
                             days=settings.diagnosis_fast_loss_ratio * overall_days, segments=", ".join(flagged)))
    out.attrs["notes"] = list(dict.fromkeys(notes))
    out.attrs["exclusions"] = parts.attrs.get("exclusions", [])
    out.attrs["fast_losers"] = flagged
    out.attrs["dims"] = dims
    return out
