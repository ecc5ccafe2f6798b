"""Where to put the next yuan: a bounded budget shift between segments, with its expected effect.

Rule (``docs/methods.md``, "Budget shift"): move budget step by step from the segments with the
lowest full-cycle ROI to those whose ROI is highest *even at the lower end of its band*, keeping the
total budget fixed.

* Per segment (from :func:`calc.segments.segment_figures`): consultation cost c = spend ÷
  consultations and gross profit per consultation g = full-cycle conversion × gross profit per deal
  (``g_low`` / ``g_high`` with the ends of the conversion band); ROI = g/c − 1, ROI_low = g_low/c − 1.
* Receivers: segments with ROI_low ≥ the target ROI (good even on the cautious reading).
  Donors: segments with ROI below the target. Segments with fewer than
  ``Settings.min_consultations`` consultations, or no spend, are neither.
* One step moves at most ``Settings.budget_max_shift`` (default 20 %) of a donor's spend, and adds
  at most that share to a receiver's spend; the worst donor gives to the best receiver first.
* Expected change, **assuming constant returns within the step** (each segment keeps its current
  consultation cost and conversion for the extra or lost spend): consultations
  ``amount/c_to − amount/c_from``; gross profit ``amount/c_to·g_to − amount/c_from·g_from``; the
  conservative gross profit uses g_low for the receiver and g_high for the donor. Real returns
  usually diminish, so re-measure after each step before taking the next.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import InputError
from .messages import Message
from .query import make_query
from .segments import segment_figures
from .settings import Settings

SHIFT_COLUMNS = ("from_segment", "to_segment", "amount", "share_of_from_spend", "share_of_to_spend",
                 "consultations_change", "gross_profit_change", "gross_profit_change_conservative",
                 "from_cycle_roi", "to_cycle_roi", "to_cycle_roi_low")


def _labels(frame: pd.DataFrame, dims: list[str]) -> pd.Series:
    return frame[dims].astype(str).agg(" / ".join, axis=1)


def budget_shift(data: Dataset, *, by: Any, start: Any = None, end: Any = None, filter: Any = None,
                 max_shift: Any = None, target_roi: Any = None) -> pd.DataFrame:
    """Suggested moves of budget between segments of ``by``: one row per move, total budget unchanged.

    Columns: ``from_segment``, ``to_segment`` (dimension values joined by " / "), ``amount`` (currency),
    ``share_of_from_spend`` / ``share_of_to_spend`` (0–1, each ≤ ``max_shift``),
    ``consultations_change``, ``gross_profit_change`` (point estimate),
    ``gross_profit_change_conservative``, ``from_cycle_roi``, ``to_cycle_roi``, ``to_cycle_roi_low``.
    ``max_shift`` defaults to ``Settings.budget_max_shift``, ``target_roi`` to ``Settings.target_roi``.
    No row when no segment is clearly below the target or none clearly above it;
    ``attrs["summary"]`` says what the moves add up to, and under which assumption.
    """
    query = make_query(by=by, start=start, end=end, filter=filter)
    if not query.by:
        raise InputError("options", "by", Message("error.budget_no_by"), fix=Message("error.give_by"))
    settings = data.settings
    bound = settings.budget_max_shift if max_shift in (None, "") else \
        Settings.parse({"budget_max_shift": max_shift}).budget_max_shift
    target = settings.target_roi if target_roi in (None, "") else Settings.parse({"target_roi": target_roi}).target_roi
    figures = segment_figures(data, by=list(query.by), start=start, end=end, filter=filter)
    dims = figures.attrs["dims"]
    notes = list(figures.attrs["notes"])
    if data.spend is None or figures["spend"].isna().all():
        lacking = ", ".join(d for d in dims if d not in data.spend_dims) or "spend"
        raise InputError("Spend", lacking if data.spend is not None else None, Message("error.budget_needs_spend"),
                         fix=Message("error.budget_needs_spend.fix_column", column=lacking) if data.spend is not None
                         else Message("error.add_spend"))
    cost = figures["consult_cost"].to_numpy(dtype="float64")
    per_deal = figures["gross_profit_per_deal"].to_numpy(dtype="float64")
    gain = figures["full_cycle_conversion"].to_numpy(dtype="float64") * per_deal
    gain_low = figures["full_cycle_conversion_low"].to_numpy(dtype="float64") * per_deal
    gain_high = figures["full_cycle_conversion_high"].to_numpy(dtype="float64") * per_deal
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(cost > 0, gain / cost - 1, np.nan)
        roi_low = np.where(cost > 0, gain_low / cost - 1, np.nan)
    spend = figures["spend"].fillna(0).to_numpy(dtype="float64")
    eligible = (figures["consultations"].to_numpy() >= settings.min_consultations) & (spend > 0) & np.isfinite(roi)
    skipped = int(((spend > 0) & ~eligible).sum())
    if skipped:
        notes.append(Message("note.budget_skipped", count=skipped, minimum=settings.min_consultations))
    labels = _labels(figures, dims).to_numpy()
    receivers = [i for i in np.argsort(-np.nan_to_num(roi_low, nan=-np.inf), kind="stable")
                 if eligible[i] and roi_low[i] >= target]
    donors = [i for i in np.argsort(np.nan_to_num(roi, nan=np.inf), kind="stable") if eligible[i] and roi[i] < target]
    give = {i: bound * spend[i] for i in donors}
    take = {i: bound * spend[i] for i in receivers}
    moves = []
    for d in donors:
        for r in receivers:
            amount = min(give[d], take[r])
            if amount <= 0:
                continue
            give[d] -= amount
            take[r] -= amount
            moves.append({
                "from_segment": labels[d], "to_segment": labels[r], "amount": amount,
                "share_of_from_spend": amount / spend[d], "share_of_to_spend": amount / spend[r],
                "consultations_change": amount / cost[r] - amount / cost[d],
                "gross_profit_change": amount / cost[r] * gain[r] - amount / cost[d] * gain[d],
                "gross_profit_change_conservative": amount / cost[r] * gain_low[r] - amount / cost[d] * gain_high[d],
                "from_cycle_roi": roi[d], "to_cycle_roi": roi[r], "to_cycle_roi_low": roi_low[r]})
    out = pd.DataFrame(moves, columns=list(SHIFT_COLUMNS))
    currency = settings.currency
    if not len(out):
        why = Message("budget.no_donor" if not donors else "budget.no_receiver")
        summary = Message("budget.no_shift", why=why, target=target)
    else:
        summary = Message("budget.summary", amount=out["amount"].sum(), currency=currency, bound=bound,
                          donors=out["from_segment"].nunique(), count=out["to_segment"].nunique(),
                          consultations=out["consultations_change"].sum(), profit=out["gross_profit_change"].sum(),
                          cautious=out["gross_profit_change_conservative"].sum())
    out.attrs.update(notes=list(dict.fromkeys(notes)), exclusions=figures.attrs["exclusions"], summary=summary,
                     max_shift=bound, target_roi=target)
    return out
