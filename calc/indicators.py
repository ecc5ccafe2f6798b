"""The three key indicators (consultation volume, consultation cost, inquiry conversion) and the
money and speed figures beside them, for any date range, filter and grouping.

Definitions (``docs/methods.md``, "Key indicators"):

* consultations: leads whose inquiry date is in the range (cohort view);
* consultation cost = spend dated in the range ÷ consultations, same filters on both sides;
* conversion rate = consultations with at least one deal ÷ consultations (0–1). Deals are always
  attributed to the consultation's own date, never to the date they closed. With ``horizon_days``
  only deals won within that many days count, and only consultations at least that old at the
  as-of date enter the rate, so young consultations do not drag it down;
* deals, revenue, gross profit: every deal from those consultations (repeat orders included);
* days to close: won date (first deal) − inquiry date in whole days.

Without a Leads table, an ad-platform report (Spend with ``consultations``/``deals`` columns)
gives the same indicators from the platform's own counts.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from .dataset import DAY, FIRST_DEAL, LEAD_DAY, Dataset, weights_of
from .messages import Message
from .memo import remembered
from .daily import all_dated, covered_days, totals_by
from .grouping import Groups, KeySpace
from .parallel import MIN_ROWS, run_together
from .query import PERIODS, Query, Selection, make_query, period_days, select

KPI_COLUMNS = ("consultations", "spend", "consult_cost", "deals", "conversion_rate", "revenue",
               "gross_profit", "mean_days_to_close", "median_days_to_close")


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator ÷ denominator with NaN (shown as an empty cell), never inf, where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def _last_mature(data: Dataset, horizon: int) -> int | None:
    """The last inquiry day old enough at the as-of date to be judged on a ``horizon``-day conversion."""
    return data.as_of_day - horizon if data.as_of_day is not None else None


def _lead_counts(count: Callable[[int | None], np.ndarray], data: Dataset, horizon: int | None) -> dict:
    """Consultations by inquiry date and, with a horizon, those old enough to be judged on it.
    ``count(until)`` counts the leads per group: all of them, or those dated up to day ``until``."""
    figures = {"consultations": count(None)}
    if data.deals is not None and horizon is not None:
        last_mature = _last_mature(data, horizon)
        figures["base"] = count(last_mature) if last_mature is not None else np.zeros_like(figures["consultations"])
    elif data.deals is not None:
        figures["base"] = figures["consultations"]
    return figures


def _lead_rows(leads: pd.DataFrame, codes: np.ndarray, groups: Groups) -> Callable[[int | None], np.ndarray]:
    """:func:`_lead_counts`' ``count`` over the lead rows."""
    weights = weights_of(leads)
    return lambda until: groups.count(codes, weights=weights) if until is None else groups.count(
        codes, leads[DAY].to_numpy() <= until, weights)


def _deal_figures(deals: pd.DataFrame, codes: np.ndarray, groups: Groups, data: Dataset, horizon: int | None) -> dict:
    """Cohort view of the deals: each counted in its consultation's segment and period, whenever won.

    Counted over the deals (a tenth of the leads, or fewer): a lead's first deal carries its days to
    close, and deals carry their lead's day and segments.
    """
    days = deals["days_to_close"].to_numpy(dtype=np.float64)
    weights = weights_of(deals)  # None for deal rows; deals per aggregate row otherwise

    def kept(values: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
        return None if values is None else values[mask]

    converting = deals[FIRST_DEAL].to_numpy()
    in_time = None  # every deal counts, whenever won
    if horizon is not None:
        in_time = days <= horizon
        converting = converting & in_time
        last_mature = _last_mature(data, horizon)
        mature = deals[LEAD_DAY].to_numpy() <= last_mature if last_mature is not None else np.zeros(len(deals), bool)
        figures = {"converted": groups.count(codes[converting & mature], weights=kept(weights, converting & mature))}
    converted_codes, converted_days = codes[converting], days[converting]
    converted_weights = kept(weights, converting)
    if horizon is None:
        figures = {"converted": groups.count(converted_codes, weights=converted_weights)}
    # every deal has its days to close (prepare drops deals it cannot tie to a dated lead): no NaN to mask
    day_sums = converted_days if converted_weights is None else converted_days * converted_weights
    figures["mean_days_to_close"] = _divide(groups.total(converted_codes, day_sums), figures["converted"]
                                            if horizon is None else groups.count(converted_codes,
                                                                                 weights=converted_weights))
    figures["median_days_to_close"] = groups.median(converted_codes, converted_days, converted_weights)
    counted = codes if in_time is None else codes[in_time]
    figures["deals"] = groups.count(counted, weights=weights if in_time is None else kept(weights, in_time))
    for money in ("revenue", "gross_profit"):
        values = deals[money].to_numpy(dtype=np.float64)
        figures[money] = groups.total(counted, values if in_time is None else values[in_time], min_count=1)
    return figures


def _deals_by_won_date(deals: pd.DataFrame, codes: np.ndarray, groups: Groups) -> dict:
    """Deals without a Leads table: counted by their own (won) date."""
    figures = {"deals": groups.count(codes, weights=weights_of(deals))}
    for money in ("revenue", "gross_profit"):
        figures[money] = groups.total(codes, deals[money].to_numpy(dtype=np.float64), min_count=1)
    return figures


def _spend_figures(spend: pd.DataFrame, codes: np.ndarray, groups: Groups, data: Dataset, platform: bool) -> dict:
    """Spend per group, whether the group has any spend rows, and (``platform``) an ad platform's own counts."""
    # cost is never blank after prepare (such rows are excluded): summed without a NaN mask
    figures = _spent(groups.total(codes, spend["cost"].to_numpy(dtype=np.float64), complete=True),
                     lambda: groups.count(codes, weights=weights_of(spend)), data)
    if platform:
        for source, targets in (("consultations", ("consultations", "base")), ("deals", ("deals", "converted")),
                                ("revenue", ("revenue",)), ("gross_profit", ("gross_profit",))):
            if source in spend.columns:
                total = groups.total(codes, spend[source].to_numpy(dtype=np.float64), min_count=1)
                figures.update({t: total for t in targets})
    return figures


def _spent(spend: np.ndarray, rows: Callable[[], np.ndarray], data: Dataset) -> dict:
    """Spend per group and whether the group has any spend rows. A group with spend rows is shown even
    when they cost 0; counting them (``rows()``) costs a pass over Spend, needed only when some cost is 0."""
    return {"spend": spend, "has_spend": spend > 0 if data.spend_all_positive else rows() > 0}


def _by_day(sel: Selection, data: Dataset, platform: bool) -> dict[str, pd.DataFrame]:
    """Leads and Spend, when the question is of the whole tables by one period or in total, as one row
    per day (with its period): counted from the day totals (calc.daily), a thousand days instead of a
    million rows."""
    period = sel.by[0] if len(sel.by) == 1 else None
    if not sel.whole or platform or len(sel.by) > 1 or (sel.by and (period not in PERIODS or any(
            d.casefold() == period for d in (*data.lead_dims, *data.spend_dims)))):  # a column 'month' is no period
        return {}

    def days_frame(name: str) -> pd.DataFrame:
        days = covered_days(data, name)
        if period is None:  # in total: every day is the one group
            return pd.DataFrame(index=pd.RangeIndex(len(days)))
        return pd.DataFrame({period: period_days(days, period, week_start=data.settings.week_start)})

    return {name: days_frame(name) for name in ("leads", "spend")
            if getattr(sel, name) is not None and all_dated(data, name)}


def _counted_by_day(name: str, days: pd.DataFrame, groups: Groups, data: Dataset, horizon: int | None) -> dict:
    """:func:`_lead_counts` / :func:`_spend_figures` of a whole table from its day totals."""
    codes = groups.index(groups.space.codes(days))
    if name == "leads":
        return _lead_counts(lambda until: totals_by(data, "leads", codes, groups.size, until=until), data, horizon)
    return _spent(totals_by(data, "spend", codes, groups.size, "cost"),
                  lambda: totals_by(data, "spend", codes, groups.size), data)


def _figures(sel: Selection, data: Dataset, horizon: int | None) -> tuple[Groups, dict, list[str]]:
    """Every figure per group: each table is coded and counted on its own, side by side."""
    platform = sel.leads is None and sel.spend is not None and "consultations" in sel.spend.columns
    by_day = _by_day(sel, data, platform)
    frames = {"leads": sel.leads, "deals": sel.deals, "spend": sel.spend}
    frames = {name: frame for name, frame in frames.items() if frame is not None}
    # the key space spans the same periods whether read off the rows or off the days
    space = KeySpace([by_day.get(name, frame) for name, frame in frames.items()], sel.by)
    notes = []
    if platform:
        notes.append(Message("note.platform_counts"))
    elif sel.leads is None and sel.deals is not None:
        notes.append(Message("note.deals_by_won_date"))

    def counted(name: str, frame: pd.DataFrame, codes: np.ndarray, groups: Groups) -> dict:
        if name == "leads":
            return _lead_counts(_lead_rows(frame, codes, groups), data, horizon)
        if name == "spend":
            return _spend_figures(frame, codes, groups, data, platform)
        if sel.leads is not None:
            return _deal_figures(frame, codes, groups, data, horizon)
        return _deals_by_won_date(frame, codes, groups)

    if space.dense:  # groups are known before any row is coded: code and count each table in one go
        groups = Groups(space, [])
        parts = [_counted_by_day(name, days, groups, data, horizon) for name, days in by_day.items()]
        rows = {name: frame for name, frame in frames.items() if name not in by_day}
        # Spend (sums only) is halved so two cores finish together: its 1.36M rows outweigh the rest
        pieces = [(n, f) for n, f in rows.items() if not (n == "spend" and len(f) >= MIN_ROWS)]
        if "spend" in rows and len(rows["spend"]) >= MIN_ROWS:
            half = len(rows["spend"]) // 2
            pieces += [("spend", rows["spend"].iloc[:half]), ("spend", rows["spend"].iloc[half:])]
        counts = run_together([lambda n=n, f=f: counted(n, f, space.codes(f), groups) for n, f in pieces],
                              rows=sum(len(f) for f in rows.values()))
        if len(pieces) > len(rows):  # the two halves of Spend: sums add up, NaN only where both are NaN
            *counts, first, second = counts
            counts.append({key: (first[key] | second[key]) if key == "has_spend" else
                           np.where(np.isnan(first[key]) & np.isnan(second[key]), np.nan,
                                    np.nan_to_num(first[key]) + np.nan_to_num(second[key]))
                           for key in first})
        parts += counts
    else:  # the groups are the codes that occur: code every table first
        rows = sum(len(f) for f in frames.values())
        codes = run_together([lambda f=f: space.codes(f) for f in frames.values()], rows=rows)
        groups = Groups(space, codes)
        parts = run_together([lambda n=n, f=f, c=c: counted(n, f, c, groups)
                              for (n, f), c in zip(frames.items(), codes)], rows=rows)
    figures: dict = {}
    for part in parts:
        figures.update(part)
    return groups, figures, notes


def _compute(data: Dataset, query: Query) -> pd.DataFrame:
    sel = select(data, query)
    notes = list(data.notes) + list(sel.notes)
    by = sel.by
    groups, figures, figure_notes = _figures(sel, data, query.horizon_days)
    notes += figure_notes
    present = np.zeros(groups.size, dtype=bool)
    for shown in ("consultations" if sel.leads is not None else None, "deals" if sel.leads is None else None,
                  "has_spend"):
        if shown in figures:
            present |= figures[shown] > 0
    if sel.leads is not None and query.horizon_days is not None and data.deals is not None:
        young = int((figures["consultations"] - figures["base"]).sum())
        if young:
            notes.append(Message("note.too_young", count=young, horizon=query.horizon_days))
    rows = np.flatnonzero(present) if by else np.zeros(1, dtype=np.int64)
    empty = np.full(len(rows), np.nan)
    table = {c: (figures[c][rows] if c in figures else empty) for c in (*KPI_COLUMNS, "converted", "base")}
    table["consult_cost"] = _divide(table["spend"], table["consultations"])
    table["conversion_rate"] = _divide(table["converted"], table["base"])
    result = pd.concat([groups.label_frame(rows), pd.DataFrame({c: table[c] for c in KPI_COLUMNS})], axis=1) \
        if by else pd.DataFrame({c: table[c] for c in KPI_COLUMNS})
    result.attrs["notes"] = list(dict.fromkeys(notes))
    result.attrs["exclusions"] = [str(e) for e in data.exclusions]
    return result


@remembered
def kpi_table(data: Dataset, *, by: Any = None, start: Any = None, end: Any = None, filter: Any = None,
              horizon_days: Any = None) -> pd.DataFrame:
    """Key indicators per segment: one row per combination of the ``by`` dimensions (one row if none).

    ``by`` may also name a time grain — ``day``, ``week``, ``month``, ``quarter``, ``year`` — which groups
    by the period of the inquiry date (spend by its own date), labelled by the period's first day.

    Columns: the dimensions, then ``consultations``, ``spend``, ``consult_cost`` (spend ÷
    consultations, in the currency of Spend), ``deals``, ``conversion_rate`` (0–1), ``revenue``,
    ``gross_profit``, ``mean_days_to_close`` and ``median_days_to_close`` (days). Empty cells (NaN)
    where a figure cannot be computed; ``attrs["notes"]`` and ``attrs["exclusions"]`` say why and
    which rows were left out.

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-03-01", "2024-03-02"], "cost": [300, 100], "channel": ["Search", "Feed"]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-03-01"] * 3 + ["2024-03-02"],
    ...                       "channel": ["Search", "Search", "Search", "Feed"]})
    >>> deals = pd.DataFrame({"lead_id": [2], "date": ["2024-03-11"], "revenue": [1000]})
    >>> kpi_table(prepare(spend, leads, deals), by="channel")[["channel", "consultations", "consult_cost", "conversion_rate"]]
      channel  consultations  consult_cost  conversion_rate
    0    Feed            1.0         100.0         0.000000
    1  Search            3.0         100.0         0.333333
    """
    return _compute(data, make_query(by=by, start=start, end=end, filter=filter, horizon_days=horizon_days))


def _headline(data: Dataset, column: str, **options: Any) -> float | None:
    value = _compute(data, make_query(**options))[column].iloc[0]
    return None if pd.isna(value) else float(value)


def consult_volume(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None) -> int | None:
    """Number of consultations whose inquiry date is in [start, end] and that match the filter.

    >>> from calc import prepare
    >>> consult_volume(prepare(leads=pd.DataFrame({"lead_id": [1, 2, 3], "date": ["2024-03-01", "2024-03-05", "2024-04-01"]})),
    ...                start="2024-03-01", end="2024-03-31")
    2
    """
    value = _headline(data, "consultations", start=start, end=end, filter=filter)
    return None if value is None else int(value)


def consult_cost(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None) -> float | None:
    """Spend ÷ consultations for the same dates and filter (currency per consultation); None if no consultations.

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-03-01", "2024-03-02"], "cost": [300, 100]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-03-01"] * 4})
    >>> consult_cost(prepare(spend, leads))
    100.0
    """
    return _headline(data, "consult_cost", start=start, end=end, filter=filter)


def inquiry_conversion(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None,
                       horizon_days: Any = None) -> float | None:
    """Share (0–1) of the range's consultations that became deals (within ``horizon_days`` if given).

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": ["a", "b", "c", "d"], "date": ["2024-01-01"] * 4})
    >>> deals = pd.DataFrame({"lead_id": ["a", "b"], "date": ["2024-01-05", "2024-03-01"]})
    >>> inquiry_conversion(prepare(leads=leads, deals=deals)), inquiry_conversion(prepare(leads=leads, deals=deals), horizon_days=30)
    (0.5, 0.25)
    """
    return _headline(data, "conversion_rate", start=start, end=end, filter=filter, horizon_days=horizon_days)
