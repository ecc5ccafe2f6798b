"""The aggregated form of the data: calc's second input, for data that stays where it lives.

Every question Cycle ROI answers needs only totals: spend per day × segment, consultations per
inquiry day × segment × days to their first deal, and deals per inquiry day × won day × segment
(first deal or repeat order) with their money. A warehouse, DuckDB or Spark computes these and
brings back only them (``addin.sources``); rows in memory become them with :func:`aggregate`.
Either way :func:`from_aggregates` turns them into the :class:`~calc.dataset.Dataset` every
analysis reads, whose tables then carry a weight column (``_n``, the rows each aggregate row stands
for) that the statistics count with — one code path: a table of rows is the same form with every
weight 1, which is why row tables need no such column.

The aggregated tables (one row per distinct combination of their keys):

* ``spend``: ``date`` (NaT when Spend has no dates), the Spend segment columns, ``cost`` and, where
  Spend has them, ``consultations``, ``deals``, ``revenue``, ``gross_profit``, ``clicks``,
  ``impressions`` (sums); ``_n`` Spend rows;
* ``leads``: ``date`` (inquiry day), the Leads segment columns, ``days_to_close`` (whole days to
  the first deal; NaN for consultations without a deal; absent without Deals); ``_n`` consultations;
* ``deals``: ``lead_date`` (the consultation's inquiry day; absent without Leads), ``date`` (won
  day), the Leads segment columns, ``first_deal`` (True for the deal that converts its
  consultation), ``revenue`` and ``gross_profit`` (sums; NaN where no deal of the row has an
  amount); ``_n`` deals.

The counts behind the data notes — rows excluded and why, notes on the tables — travel with
them as :class:`~calc.errors.Exclusion` records and sentences (``exclusions``, ``notes``), so the
report says the same whichever way the data came. Further counts (per-table coverage, lost
outcomes) join as further keys or columns of these tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .dataset import (DAY, FIRST_DEAL, LEAD_DAY, NO_DAY, WEIGHT, Dataset, _categorical, day_numbers, weights_of)
from .errors import Exclusion, InputError
from .messages import Message
from .settings import Settings

#: Money and counts summed over the rows an aggregate row stands for.
SPEND_SUMS = ("cost", "consultations", "deals", "revenue", "gross_profit", "clicks", "impressions")
DEAL_SUMS = ("revenue", "gross_profit")


@dataclass(frozen=True)
class Aggregates:
    """The three aggregated tables (see the module's text), with what is known about the rows behind them."""

    spend: pd.DataFrame | None
    leads: pd.DataFrame | None
    deals: pd.DataFrame | None
    as_of: pd.Timestamp | None
    spend_dims: tuple[str, ...] = ()
    lead_dims: tuple[str, ...] = ()
    has_revenue: bool = False
    has_gross_profit: bool = False
    exclusions: tuple[Exclusion, ...] = ()
    notes: tuple[str, ...] = ()


def _collapse(frame: pd.DataFrame, keys: list[str], sums: list[str]) -> pd.DataFrame:
    """One row per distinct ``keys``: ``sums`` added (NaN where no row had a value), ``_n`` rows."""
    weights = weights_of(frame)
    base = {k: frame[k] for k in keys}
    base.update({c: frame[c] for c in sums})
    base[WEIGHT] = np.ones(len(frame)) if weights is None else weights
    grouped = pd.DataFrame(base).groupby(keys, observed=True, dropna=False, sort=True)
    out = grouped[sums].sum(min_count=1) if sums else None
    counted = grouped[WEIGHT].sum()
    out = counted.to_frame() if out is None else out.assign(**{WEIGHT: counted})
    return out.reset_index()


def aggregate(data: Dataset) -> Aggregates:
    """Rows become aggregates: the prepared tables summed to the grain every analysis needs.

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3], "date": ["2024-03-01"] * 3, "channel": ["a", "a", "b"]})
    >>> aggregate(prepare(leads=leads)).leads[["date", "channel", "_n"]].to_dict("list")["_n"]
    [2.0, 1.0]
    """
    spend = leads = deals = None
    if data.spend is not None:
        sums = [c for c in SPEND_SUMS if c in data.spend.columns]
        spend = _collapse(data.spend, [DAY, *data.spend_dims], sums)
        spend.insert(0, "date", _dates(spend[DAY].to_numpy()))
        spend = spend.drop(columns=DAY)
    if data.leads is not None:
        closing = ["days_to_close"] if "days_to_close" in data.leads.columns else []  # none without Deals
        leads = _collapse(data.leads, [DAY, *data.lead_dims, *closing], [])
        leads.insert(0, "date", _dates(leads[DAY].to_numpy()))
        leads = leads.drop(columns=DAY)
    if data.deals is not None:
        linked = LEAD_DAY in data.deals.columns
        dims = [d for d in data.lead_dims if d in data.deals.columns]
        keys = [LEAD_DAY, DAY, *dims, FIRST_DEAL] if linked else [DAY]
        sums = [c for c in DEAL_SUMS if c in data.deals.columns]
        deals = _collapse(data.deals, keys, sums)
        deals.insert(0, "date", _dates(deals[DAY].to_numpy()))
        if linked:
            deals.insert(0, "lead_date", _dates(deals[LEAD_DAY].to_numpy()))
            deals = deals.rename(columns={FIRST_DEAL: "first_deal"}).drop(columns=LEAD_DAY)
        deals = deals.drop(columns=DAY)
    return Aggregates(spend=spend, leads=leads, deals=deals, as_of=data.as_of, spend_dims=data.spend_dims,
                      lead_dims=data.lead_dims, has_revenue=data.has_revenue, has_gross_profit=data.has_gross_profit,
                      exclusions=data.exclusions, notes=data.notes)


def _dates(days: np.ndarray) -> np.ndarray:
    """Day numbers as midnight datetime64[ns]; ``NO_DAY`` as NaT."""
    days = np.asarray(days, dtype=np.int64)
    out = (days * 86_400_000_000_000)
    out[days == NO_DAY] = np.iinfo(np.int64).min
    return out.view("datetime64[ns]")


def _require(table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(table, missing[0], Message("error.aggregate_column_missing", table=table,
                                                    have=", ".join(map(str, frame.columns))),
                         fix=Message("error.aggregate_column_missing.fix", table=table))


def _day_column(table: str, frame: pd.DataFrame, column: str, *, missing_ok: bool = False) -> np.ndarray:
    values = pd.to_datetime(frame[column])
    if values.isna().any() and not missing_ok:
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputError(table, column, Message("error.aggregate_blank_date", row=str(row + 1)),
                         fix=Message("error.aggregate_blank_date.fix"))
    return day_numbers(values.dt.tz_localize(None) if values.dt.tz is not None else values)


def _counts(table: str, frame: pd.DataFrame) -> np.ndarray:
    counts = pd.to_numeric(frame[WEIGHT], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts)))
    if len(bad):
        raise InputError(table, WEIGHT, Message("error.aggregate_count", value=repr(frame[WEIGHT].iloc[bad[0]]),
                                                row=str(bad[0] + 1)),
                         fix=Message("error.aggregate_count.fix"))
    return counts


def _segments(frame: pd.DataFrame, dims: tuple[str, ...]) -> dict:
    """Segment columns as calc's sorted categories, blanks as ``(blank)``, as prepare makes them."""
    return {d: _categorical(frame[d]) for d in dims}


def from_aggregates(aggregates: Aggregates, *, settings: Any = None) -> Dataset:
    """The :class:`~calc.dataset.Dataset` of aggregated tables: every analysis reads it as it reads rows.

    ``settings`` as for :func:`calc.prepare`; a ``gross_margin`` there gives gross profit where the
    aggregates have revenue but no gross profit (a sum times a margin is the margin of the sum).
    """
    if not isinstance(aggregates, Aggregates):
        raise InputError(None, None, Message("error.not_aggregates", got=type(aggregates).__name__),
                         fix=Message("error.not_aggregates.fix"))
    settings = Settings.parse(settings)
    margin = settings.gross_margin
    spend = leads = deals = None
    has_revenue, has_gp = aggregates.has_revenue, aggregates.has_gross_profit
    if aggregates.spend is not None:
        frame = aggregates.spend
        _require("Spend", frame, ["date", "cost", WEIGHT, *aggregates.spend_dims])
        columns = {"date": pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[ns]"),
                   DAY: _day_column("Spend", frame, "date", missing_ok=True), **_segments(frame, aggregates.spend_dims)}
        columns.update({c: frame[c].to_numpy(dtype=np.float64) for c in SPEND_SUMS if c in frame.columns})
        if margin is not None and "revenue" in columns and "gross_profit" not in frame.columns:
            columns["gross_profit"] = columns["revenue"] * margin
        columns[WEIGHT] = _counts("Spend", frame)
        spend = pd.DataFrame(columns)
    if aggregates.leads is not None:
        frame = aggregates.leads
        _require("Leads", frame, ["date", *(["days_to_close"] if aggregates.deals is not None else []), WEIGHT,
                                  *aggregates.lead_dims])
        days = _day_column("Leads", frame, "date")
        closing = {"days_to_close": frame["days_to_close"].to_numpy(dtype=np.float64)} \
            if "days_to_close" in frame.columns else {}
        leads = pd.DataFrame({"date": _dates(days), DAY: days, **_segments(frame, aggregates.lead_dims), **closing,
                              WEIGHT: _counts("Leads", frame)})
    if aggregates.deals is not None:
        frame = aggregates.deals
        linked = "lead_date" in frame.columns
        _require("Deals", frame, ["date", WEIGHT, *(("first_deal", *aggregates.lead_dims) if linked else ())])
        won = _day_column("Deals", frame, "date")
        columns = {"date": _dates(won), DAY: won}
        if linked:
            lead_day = _day_column("Deals", frame, "lead_date")
            columns.update({"lead_date": _dates(lead_day), LEAD_DAY: lead_day,
                            "days_to_close": (won - lead_day).astype(np.float64),
                            FIRST_DEAL: frame["first_deal"].to_numpy(dtype=bool)})
            if leads is not None:  # a deal's segments are its consultation's: the same categories as Leads
                columns.update({d: pd.Categorical(_categorical(frame[d])).set_categories(leads[d].cat.categories)
                                for d in aggregates.lead_dims})
            else:
                columns.update(_segments(frame, aggregates.lead_dims))
        for money in DEAL_SUMS:
            columns[money] = frame[money].to_numpy(dtype=np.float64) if money in frame.columns \
                else np.full(len(frame), np.nan)
        if margin is not None and "gross_profit" not in frame.columns and "revenue" in frame.columns:
            columns["gross_profit"] = columns["revenue"] * margin
            has_gp = has_gp or bool(has_revenue)
        columns[WEIGHT] = _counts("Deals", frame)
        deals = pd.DataFrame(columns)
    return Dataset(spend=spend, leads=leads, deals=deals, settings=settings, as_of=aggregates.as_of,
                   spend_dims=tuple(aggregates.spend_dims), lead_dims=tuple(aggregates.lead_dims),
                   has_revenue=has_revenue, has_gross_profit=has_gp,
                   exclusions=tuple(aggregates.exclusions), notes=tuple(aggregates.notes))
