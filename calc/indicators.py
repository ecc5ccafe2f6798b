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

from typing import Any

import numpy as np
import pandas as pd

from .dataset import Dataset
from .query import Query, Selection, make_query, select

KPI_COLUMNS = ("consultations", "spend", "consult_cost", "deals", "conversion_rate", "revenue",
               "gross_profit", "mean_days_to_close", "median_days_to_close")


def _divide(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator ÷ denominator with NaN (shown as an empty cell), never inf, where the denominator is 0."""
    denominator = denominator.astype("float64")
    return numerator.astype("float64") / denominator.where(denominator > 0)


def _group(frame: pd.DataFrame, by: tuple[str, ...]):
    return frame.groupby(list(by), observed=True, sort=False) if by else frame.groupby(np.zeros(len(frame)))


def _lead_figures(sel: Selection, data: Dataset, horizon: int | None) -> pd.DataFrame:
    leads, by = sel.leads, sel.by
    out = _group(leads, by).size().to_frame("consultations")
    if data.deals is None:
        return out
    deals = sel.deals
    if horizon is not None:
        deals = deals.loc[deals["days_to_close"] <= horizon]
        first = leads["days_to_close"].where(leads["days_to_close"] <= horizon)
        mature = (leads["date"] <= data.as_of - pd.Timedelta(days=horizon)) if data.as_of is not None else \
            pd.Series(False, index=leads.index)
        frame = pd.DataFrame({"converted": first.notna() & mature, "mature": mature, "first": first})
        for dim in by:
            frame[dim] = leads[dim]
        g = _group(frame, by)
        out["converted"] = g["converted"].sum()
        out["base"] = g["mature"].sum()
        days = _group(frame, by)["first"]
    else:
        g = _group(leads, by)
        out["converted"] = g["won_date"].count()
        out["base"] = out["consultations"]
        days = g["days_to_close"]
    out["mean_days_to_close"] = days.mean()
    out["median_days_to_close"] = days.median()
    gd = _group(deals, by)
    out["deals"] = gd.size()
    out["revenue"] = gd["revenue"].sum(min_count=1)
    out["gross_profit"] = gd["gross_profit"].sum(min_count=1)
    out["deals"] = out["deals"].fillna(0)
    return out


def _platform_figures(spend: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    g = _group(spend, by)
    out = pd.DataFrame(index=g.size().index)
    for source, target in (("consultations", "consultations"), ("deals", "deals"), ("deals", "converted"),
                           ("consultations", "base"), ("revenue", "revenue"), ("gross_profit", "gross_profit")):
        if source in spend.columns:
            out[target] = g[source].sum(min_count=1)
    return out


def _compute(data: Dataset, query: Query) -> pd.DataFrame:
    sel = select(data, query)
    notes = list(data.notes) + list(sel.notes)
    by = sel.by
    if sel.leads is not None:
        figures = _lead_figures(sel, data, query.horizon_days)
        if query.horizon_days is not None and data.deals is not None:
            young = int((figures["consultations"] - figures["base"]).sum())
            if young:
                notes.append(f"{young} consultations are younger than {query.horizon_days} days at the as-of "
                             f"date and are left out of the {query.horizon_days}-day conversion rate")
    elif sel.spend is not None and "consultations" in sel.spend.columns:
        figures = _platform_figures(sel.spend, by)
        notes.append("No Leads table: consultations and deals are the ad platform's own counts in Spend")
    elif sel.deals is not None:
        g = _group(sel.deals, by)
        figures = pd.DataFrame({"deals": g.size(), "revenue": g["revenue"].sum(min_count=1),
                                "gross_profit": g["gross_profit"].sum(min_count=1)})
        notes.append("No Leads table: deals are counted by won date and conversion cannot be computed")
    else:
        figures = pd.DataFrame(index=_group(sel.spend if sel.spend is not None else data.spend, by).size().index)
    if sel.spend is not None:
        spent = _group(sel.spend, by)["cost"].sum()
        figures = figures.join(spent.rename("spend"), how="outer") if len(figures.columns) else \
            spent.to_frame("spend")
    figures = figures.reindex(columns=sorted(set(figures.columns) | set(KPI_COLUMNS) | {"converted", "base"}))
    if sel.leads is not None:
        figures["consultations"] = figures["consultations"].fillna(0)
    if sel.spend is not None:
        figures["spend"] = figures["spend"].fillna(0.0)
    figures["consult_cost"] = _divide(figures["spend"], figures["consultations"])
    figures["conversion_rate"] = _divide(figures["converted"], figures["base"])
    result = figures.reset_index()
    if by:
        result = result.rename(columns={f"level_{i}": b for i, b in enumerate(by)})
        labels = [b for b in by if not pd.api.types.is_datetime64_any_dtype(result[b].dtype)]
        result[labels] = result[labels].astype(str)
        result = result.sort_values(list(by), kind="stable").reset_index(drop=True)
        result = result[[*by, *KPI_COLUMNS]]
    else:
        result = result[list(KPI_COLUMNS)].iloc[:1] if len(result) else \
            pd.DataFrame([{c: (0 if c == "consultations" and sel.leads is not None else np.nan) for c in KPI_COLUMNS}])
        if sel.spend is not None and result["spend"].isna().all():
            result["spend"] = 0.0
    if sel.leads is None and not ("consultations" in (sel.spend.columns if sel.spend is not None else [])):
        result["consultations"] = np.nan
    result["consultations"] = result["consultations"].astype("float64")
    result["deals"] = result["deals"].astype("float64")
    result.attrs["notes"] = list(dict.fromkeys(notes))
    result.attrs["exclusions"] = [str(e) for e in data.exclusions]
    return result


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
