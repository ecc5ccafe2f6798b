"""The replication portfolio: which units (category × store × price tier, or any dimensions) to copy, fix or stop.

Per unit (one combination of ``dims``):

* consultations, spend, consultation cost, observed conversion with its Wilson interval, the shrunk
  conversion, full-cycle conversion and cycle ROI with a band (from :func:`calc.segments.segment_figures`);
* when Spend cannot be split by every dimension (ad spend has no price tier: it is a property of the
  lead, not of the ad), spend is **allocated by consultations** within the finest split Spend does
  have, i.e. consultations in one store × category cost the same whatever their price tier;
  ``cost_allocated`` = 1.0 marks those units and ``attrs["notes"]`` says so;
* stability: the unit's weekly consultation volume on an XmR chart with the run rules, judged over
  its last 8 weeks as in :func:`calc.stability.assess` (``stable`` 1.0 / 0.0);
* ``verdict``: ``too little data`` below ``Settings.min_consultations`` consultations (never judged);
  ``replicate`` when stable and cycle ROI ≥ ``Settings.target_roi``; ``watch`` when at or above
  target but unstable; ``fix or stop`` below target; ``ROI unknown`` without spend or gross profit.
  ``reason`` gives the numbers, and says when the ROI band reaches across the target.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pandas as pd

from .dataset import Dataset, day_numbers, weights_of
from .errors import InputError
from .messages import Message
from .query import make_query, periods_of, select
from .segments import segment_figures
from .grouping import Groups, KeySpace
from .indicators import kpi_table
from .stability import _periods, assess_rows

DEFAULT_DIMS = ("category", "store", "price_tier")
PORTFOLIO_COLUMNS = ("consultations", "spend", "consult_cost", "cost_allocated", "conversion_rate", "conversion_low",
                     "conversion_high", "shrunk_conversion", "full_cycle_conversion", "cycle_roi", "cycle_roi_low",
                     "cycle_roi_high", "stable", "stability", "verdict", "reason")


def _allocate_spend(data: Dataset, figures: pd.DataFrame, dims: list[str], start: Any, end: Any,
                    filter: Any, notes: list[str]) -> pd.DataFrame:
    """Spend and cost per unit, allocated by consultations within the dimensions Spend has."""
    figures["cost_allocated"] = 0.0
    if data.spend is None or figures["spend"].notna().any():
        return figures
    shared = [d for d in dims if d in data.spend_dims]
    # consultation cost per split Spend has: the key indicators, which is where segment_figures takes it
    # from (its full-cycle figures, a chain ladder per segment, are not needed here)
    coarse = kpi_table(data, by=shared or None, start=start, end=end, filter=filter)
    if coarse["consult_cost"].isna().all():
        return figures
    if shared:
        cost = figures[shared].merge(coarse[[*shared, "consult_cost"]], on=shared, how="left")["consult_cost"]
    else:
        cost = pd.Series(float(coarse["consult_cost"].iloc[0]), index=figures.index)
    figures["consult_cost"] = cost.to_numpy()
    figures["spend"] = figures["consult_cost"] * figures["consultations"]
    figures["cost_allocated"] = 1.0
    # the "spend stays empty" note no longer holds
    notes[:] = [n for n in notes if getattr(n, "key", None) != "note.spend_lacks_dims"]
    lacking = [d for d in dims if d not in data.spend_dims]
    notes.append(Message("note.spend_shared_out", columns=lacking, within=" × ".join(shared)) if shared
                 else Message("note.spend_shared_out_whole", columns=lacking))
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = figures["full_cycle_conversion"] * figures["gross_profit_per_deal"]
        figures["cycle_roi"] = gain / figures["consult_cost"].where(figures["consult_cost"] > 0) - 1
    return figures


def _stability(data: Dataset, dims: list[str], units: pd.DataFrame, query) -> tuple[list[float], list[str]]:
    """Weekly volume chart per unit, judged over the last 8 weeks (all units' charts at once)."""
    sel = select(data, query)
    leads = sel.leads
    first = pd.Timestamp(query.start) if query.start else leads["date"].min()
    last = pd.Timestamp(query.end) if query.end else data.as_of
    weeks, _ = _periods(first, last, "week", data.settings.week_start)
    if len(weeks) < 2:
        return [np.nan] * len(units), ["fewer than 2 whole weeks"] * len(units)
    # one units × weeks table of counts by integer codes (no text keys for a million rows)
    space = KeySpace([leads], tuple(dims))
    codes = space.codes(leads)
    week = (periods_of(data, "leads", leads, "week") - int(day_numbers(pd.Series(weeks[:1]))[0])) // 7
    counts = Groups(space, [codes])
    weights = weights_of(leads)
    # one count over every row: a column for the rows before the first whole week and one for those after
    # the last, so no row is filtered out first, and the rows of each unit are known from the same pass
    width = len(weeks) + 2
    cell = counts.index(codes) * width
    cell += np.clip(week + 1, 0, width - 1)
    table = np.bincount(cell, weights=weights, minlength=counts.size * width).reshape(counts.size, width)
    grid = table[:, 1:-1]
    present = np.flatnonzero(table.sum(axis=1) > 0 if weights is None else counts.count(codes) > 0)
    labels = counts.label_frame(present).astype(str).assign(_row=present)
    rows = units[dims].astype(str).merge(labels, on=list(dims), how="left")["_row"]
    series = np.zeros((len(units), len(weeks)))
    known = rows.notna().to_numpy()
    series[known] = grid[rows[known].astype(np.int64).to_numpy()]
    stable, rules, where = assess_rows(series, window=8)
    said = {"stable": Message("portfolio.stable"), "unstable": Message("portfolio.unstable")}  # one each, shared
    text = [said["stable"] if ok else
            Message("portfolio.unstable_at", rule=Message(f"code.signals.{rule}"), day=weeks[at]) if rule
            else said["unstable"] for ok, rule, at in zip(stable, rules, where)]
    return [1.0 if ok else 0.0 for ok in stable], text


_Unit = namedtuple("_Unit", "consultations cycle_roi cycle_roi_low cycle_roi_high stable stability")


def _numbers(row: Any, target: float) -> Message:
    """A judged unit's figures (made only for the units that are judged: formatting five numbers is not free)."""
    return Message("portfolio.numbers", count=row.consultations, roi=row.cycle_roi, low=row.cycle_roi_low,
                   high=row.cycle_roi_high, target=target)


def portfolio(data: Dataset, *, dims: Any = None, start: Any = None, end: Any = None, filter: Any = None
              ) -> pd.DataFrame:
    """Units of ``dims`` (default: category × store × price tier, those present) with a replicate / fix verdict.

    Columns: the dimensions, ``consultations``, ``spend``, ``consult_cost``, ``cost_allocated``,
    ``conversion_rate``, ``conversion_low``, ``conversion_high``, ``shrunk_conversion``,
    ``full_cycle_conversion``, ``cycle_roi``, ``cycle_roi_low``, ``cycle_roi_high``, ``stable``,
    ``stability``, ``verdict`` and ``reason``; rows ordered replicate, watch, fix or stop, ROI
    unknown, too little data, then by cycle ROI.
    """
    if dims is None or (isinstance(dims, str) and not dims.strip()):
        available = data.lead_dims if data.leads is not None else data.spend_dims
        dims = [d for d in DEFAULT_DIMS if d in available]
        if not dims:
            raise InputError("options", "dims", Message("error.portfolio_no_dims"),
                             fix=Message("error.portfolio_no_dims.fix", example=", ".join(available[:2]) or "channel"))
    query = make_query(by=dims, start=start, end=end, filter=filter)
    if data.leads is None:
        raise InputError("Leads", None, Message("error.portfolio_needs_leads"), fix=Message("error.add_leads_deals"))
    settings = data.settings
    figures = segment_figures(data, by=list(query.by), start=start, end=end, filter=filter)
    dims = figures.attrs["dims"]
    notes = list(figures.attrs["notes"])
    figures = _allocate_spend(data, figures, dims, start, end, filter, notes)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = figures["consult_cost"].where(figures["consult_cost"] > 0)
        figures["cycle_roi_low"] = figures["full_cycle_conversion_low"] * figures["gross_profit_per_deal"] / cost - 1
        figures["cycle_roi_high"] = figures["full_cycle_conversion_high"] * figures["gross_profit_per_deal"] / cost - 1
    figures["stable"], stability = _stability(data, dims, figures, query)
    # object columns keep the Messages (pandas 3 would turn them into plain strings)
    figures["stability"] = pd.Series(stability, index=figures.index, dtype=object)
    target = settings.target_roi
    verdicts, reasons = [], []
    said = {key: Message(f"portfolio.{key}") for key in ("replicate_cautiously", "fix_before_stopping")}  # shared
    # the few columns the verdict reads, as Python values (itertuples builds a class for all ~40 columns)
    for row in map(_Unit._make, zip(*(figures[c].tolist() for c in _Unit._fields))):
        if row.consultations < settings.min_consultations:
            verdicts.append("too little data")
            reasons.append(Message("portfolio.not_judged", count=row.consultations,
                                   minimum=settings.min_consultations))
        elif pd.isna(row.cycle_roi):
            verdicts.append("ROI unknown")
            reasons.append(Message("portfolio.roi_unknown", count=row.consultations))
        elif row.cycle_roi >= target:
            across = row.cycle_roi_low < target
            verdicts.append("replicate" if row.stable == 1.0 else "watch")
            caution = [said["replicate_cautiously"]] if across else []
            parts = [_numbers(row, target), *caution, row.stability]
            reasons.append(Message("diagnosis.clauses", parts=parts))
        else:
            verdicts.append("fix or stop")
            across = row.cycle_roi_high >= target
            caution = [said["fix_before_stopping"]] if across else []
            parts = [_numbers(row, target), *caution, row.stability]
            reasons.append(Message("diagnosis.clauses", parts=parts))
    figures["verdict"] = verdicts
    figures["reason"] = pd.Series(reasons, index=figures.index, dtype=object)
    order = {"replicate": 0, "watch": 1, "fix or stop": 2, "ROI unknown": 3, "too little data": 4}
    figures = figures.assign(_order=figures["verdict"].map(order)).sort_values(
        ["_order", "cycle_roi"], ascending=[True, False], kind="stable", na_position="last")
    out = figures[[*dims, *PORTFOLIO_COLUMNS]].reset_index(drop=True)
    out.attrs.update(notes=list(dict.fromkeys(notes)), exclusions=figures.attrs.get("exclusions", []), dims=dims,
                     target_roi=target)
    return out
