"""Inquiry cohorts at the cohort × age grain: who inquired in a period, and what they bought as they aged.

Definitions (``docs/methods.md``, "Cohort development and projection"):

* a **cohort** is the set of consultations whose inquiry date falls in one calendar month or week
  (weeks start on ``Settings.week_start``); it is named by the first day of its period;
* the **age** of a deal is the number of calendar periods between the inquiry and the won date:
  0 = the same month (week), 1 = the next one, and so on. Deals are always attributed back to the
  consultation's own cohort, never to the period they closed in;
* the **cohort spend** is the spend dated in the cohort's period, with the same filters;
* a cell (cohort c, age k) is **observed** when the as-of date has reached period c + k, and
  **complete** when that period has fully elapsed by the as-of date. Cells the as-of date has not
  reached are NaN, never 0 — an empty cell means "not known yet", a 0 means "known to be none".

:func:`build_development` aggregates the raw rows once into dense arrays (segments × cohorts × ages)
from which triangles, projections and ROI are read; :func:`period_number` and
:func:`period_first_day` do the calendar arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .chainladder import SegmentProjections, project_development
from .competing import project_outcomes
from .coverage import Coverage, table_coverage, truncated_cohorts
from .daily import all_dated, covered_days, totals_by
from .settings import Settings
from .dataset import DAY, FIRST_DEAL, LEAD_DAY, NO_DAY, Dataset, weights_of
from .grouping import KeySpace
from .memo import kept
from .parallel import run_together
from .errors import InputError, validation_problem
from .messages import Message
from .query import Query, Selection, make_query, select

Period = Literal["month", "week"]
#: Measures a cohort triangle can show; the first four are additive and developed by chain ladder.
AMOUNTS = ("deals", "converted", "revenue", "gross_profit")
MEASURES = ("deals", "converted", "revenue", "gross_profit", "conversion", "roas", "roi")
# Monday 1970-01-05 and Sunday 1970-01-04 anchor week numbers, so week n starts anchor + 7n days.
_WEEK_ANCHOR = {"monday": pd.Timestamp("1970-01-05"), "sunday": pd.Timestamp("1970-01-04")}


class CycleOptions(BaseModel):
    """Options shared by the cycle analyses, validated once at the public entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: Period = "month"
    measure: Literal["deals", "converted", "revenue", "gross_profit", "conversion", "roas", "roi"] = "conversion"
    horizon_periods: int | None = Field(None, ge=0, le=520)
    projected: bool = True


def make_cycle_options(**values: Any) -> CycleOptions:
    """Validate period / measure / horizon / projected, or raise one InputError naming the option.

    >>> make_cycle_options(period="Week", horizon_periods=6.0).period
    'week'
    >>> make_cycle_options(period="year")
    Traceback (most recent call last):
    ...
    calc.errors.InputError: option 'period': 'year' is not allowed. Fix: use month or week.
    """
    clean = {}
    for name, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str) and name in ("period", "measure"):
            value = value.strip().lower()
        if isinstance(value, float) and value.is_integer() and name == "horizon_periods":
            value = int(value)
        clean[name] = value
    try:
        return CycleOptions(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "options"
        fixes = {"period": Message("error.use_month_or_week"),
                 "measure": Message("error.use_one_of", allowed=" / ".join(MEASURES)),
                 "horizon_periods": Message("error.horizon_periods.fix"), "projected": Message("error.setting.bool")}
        problem = (Message("error.not_allowed", value=str(first.get("input"))) if first["type"] == "literal_error"
                   else Message("error.option_value", problem=validation_problem(first), got=repr(first.get("input"))))
        raise InputError("options", name, problem, fix=fixes.get(name, Message("error.correct_value"))) from None


def period_number(dates: pd.Series, period: Period, week_start: str = "monday") -> np.ndarray:
    """Integer number of each date's calendar period (months since year 0, or weeks since 1970).

    >>> period_number(pd.Series(pd.to_datetime(["2018-01-31", "2018-02-01"])), "month").tolist()
    [24216, 24217]
    >>> period_number(pd.Series(pd.to_datetime(["2024-03-03", "2024-03-04"])), "week").tolist()  # Sun, Mon
    [2825, 2826]
    """
    ns = pd.Series(dates).to_numpy(dtype="datetime64[ns]").view("int64")
    missing = ns == np.iinfo(np.int64).min
    day = np.where(missing, NO_DAY, ns // 86_400_000_000_000)  # whole days (a floor: times of day do not matter)
    out = period_number_of_days(day, period, week_start)
    return np.where(missing, ns, out) if missing.any() else out  # NaT stays NaT-like (the smallest integer)


def period_number_of_days(days: np.ndarray, period: Period, week_start: str = "monday") -> np.ndarray:
    """:func:`period_number` for day numbers (days since 1970, the ``_day`` columns of prepared data).

    >>> period_number_of_days(np.array([17562, 17563]), "month").tolist()  # 2018-01-31, 2018-02-01
    [24216, 24217]
    """
    days = np.asarray(days)
    missing = days == NO_DAY
    if missing.any():  # rare (dateless Spend): number the dated rows, keep the marker on the others
        out = np.full(len(days), NO_DAY, dtype=np.int64)
        out[~missing] = period_number_of_days(days[~missing], period, week_start)
        return out
    if period == "month":
        if not len(days):
            return days.astype(np.int64)
        # calendar arithmetic on the distinct days only, then one gather (a million dates, a few hundred days)
        low, high = int(days.min()), int(days.max())
        return _month_numbers(low, high)[days - low]
    return np.floor_divide(days.astype(np.int64) - (_WEEK_ANCHOR[week_start] - pd.Timestamp("1970-01-01")).days, 7)


def _month_numbers(low: int, high: int) -> np.ndarray:
    """Month number (months since year 0) of each day from ``low`` to ``high`` (day numbers)."""
    return np.arange(low, high + 1).astype("datetime64[D]").astype("datetime64[M]").astype("int64") + 1970 * 12


def _cells(days: np.ndarray, codes: np.ndarray | None, period: Period, week_start: str, first: int,
           n_cohorts: int) -> np.ndarray:
    """Flat index (segment × cohort) of each row: one gather through a day → cohort table, then one add."""
    if not len(days):
        return np.zeros(0, dtype=np.int64)
    low, high = int(days.min()), int(days.max())
    cohort = period_number_of_days(np.arange(low, high + 1), period, week_start) - first
    flat = cohort[days - low]
    if n_cohorts and codes is not None and codes.any():
        flat += codes * n_cohorts
    return flat


def period_first_day(numbers: np.ndarray, period: Period, week_start: str = "monday") -> pd.DatetimeIndex:
    """First day of each period number (the inverse of :func:`period_number`).

    >>> [str(d.date()) for d in period_first_day(np.array([24216, 24217]), "month")]
    ['2018-01-01', '2018-02-01']
    >>> str(period_first_day(np.array([2826]), "week", "sunday")[0].date())  # the Sunday before Monday 03-04
    '2024-03-03'
    """
    numbers = np.asarray(numbers, dtype="int64")
    if period == "month":  # months since year 0 -> numpy's months since 1970, in the unit to_datetime gave
        return pd.DatetimeIndex((numbers - 1970 * 12).astype("datetime64[M]").astype("datetime64[us]"))
    return pd.DatetimeIndex(_WEEK_ANCHOR[week_start] + pd.to_timedelta(7 * numbers, unit="D"))


def _tally(shape: tuple[int, ...], index: tuple[np.ndarray, ...], weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of weights (or counts) landing on each cell of an array of ``shape``: np.add.at, by bincount."""
    flat = np.ravel_multi_index(index, shape)
    return np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).reshape(shape).astype(np.float64)


@dataclass(frozen=True)
class Development:
    """Dense cohort development of one selection: S segments × C cohorts × A ages.

    ``incremental[m][s, c, k]`` is measure m (deals, converted = first deals, revenue, gross profit)
    won at age k by segment s's cohort c (0 where nothing was won, NaN for money never recorded);
    ``consultations`` and ``spend`` are S × C (spend NaN when it cannot be attributed);
    ``observed`` / ``complete`` are C × A. Segments are rows of ``segments`` (the ``by`` columns).
    ``truncated`` (C bool) marks cohorts that began before the Deals export did (:mod:`calc.coverage`).
    """

    segments: pd.DataFrame
    cohorts: pd.DatetimeIndex
    consultations: np.ndarray
    spend: np.ndarray
    incremental: dict[str, np.ndarray]
    observed: np.ndarray
    complete: np.ndarray
    period: str
    as_of: pd.Timestamp | None
    notes: tuple[str, ...]
    truncated: np.ndarray | None = None

    @property
    def truncated_cohorts(self) -> np.ndarray:
        """C bool: the cohort's early deals fall before the Deals export began (all False when unknown)."""
        return self.truncated if self.truncated is not None else np.zeros(len(self.cohorts), dtype=bool)

    def cumulative(self, measure: str) -> np.ndarray:
        """S × C × A cumulative values, NaN in cells the as-of date has not reached."""
        values = np.cumsum(self.incremental[measure], axis=2)
        return np.where(self.observed[None, :, :], values, np.nan)


def _segment_codes(by: tuple[str, ...], frames: list[pd.DataFrame | None]) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Segments (the union of ``by`` value combinations in the frames, as text, sorted) and each frame's row codes."""
    if not by:
        return pd.DataFrame(index=[0]), [np.zeros(len(f), dtype="int64") if f is not None else None for f in frames]
    space = KeySpace([f for f in frames if f is not None], by)
    codes = run_together([lambda f=f: space.codes(f) if f is not None else None for f in frames],
                         rows=sum(len(f) for f in frames if f is not None))
    if space.dense:  # the codes that occur, by counting (no sort of a million codes)
        seen = np.zeros(space.size, dtype=bool)
        for c in codes:
            if c is not None:
                seen[c] = True
        used = np.flatnonzero(seen)
    else:
        used = np.unique(np.concatenate([c for c in codes if c is not None]))
    union = space.labels(used)
    for name in by:  # periods as their first day's ISO text, like every other segment label
        if pd.api.types.is_datetime64_any_dtype(union[name].dtype):
            union[name] = union[name].dt.strftime("%Y-%m-%d")
    if space.dense and len(used) == space.size:  # every combination occurs: the codes are the segment numbers
        return union, codes
    if space.dense:  # each code's segment number through a lookup table, not a binary search per row
        number = np.zeros(space.size, dtype=np.int64)
        number[used] = np.arange(len(used))
        for c in codes:  # into the codes' own arrays (made here): no second million-row array per table;
            if c is not None:  # every code is inside the table, and "clip" is the mode that takes out= unbuffered
                np.take(number, c, out=c, mode="clip")
        return union, codes
    return union, [np.searchsorted(used, c) if c is not None else None for c in codes]


def build_development(sel: Selection, *, period: Period, week_start: str, as_of: pd.Timestamp | None,
                      has_revenue: bool, has_gross_profit: bool, horizon_periods: int | None = None,
                      deals_until: pd.Timestamp | None = None, whole_of: Dataset | None = None) -> Development:
    """Aggregate the selection's leads, deals and spend once to segment × cohort × age.

    ``deals_until`` (default ``as_of``) ignores deals won later, which is how a backtest freezes
    the data at an earlier date. ``whole_of`` is the dataset when the selection is its whole tables:
    cohort sizes and spend without segments are then summed from its day totals (calc.daily).
    Internal: the selection was validated by ``make_query``/``select``.
    """
    notes: list[str] = []
    leads, deals, spend = sel.leads, sel.deals, sel.spend
    if spend is not None and len(spend) and (spend[DAY].to_numpy() == NO_DAY).all():
        notes.append(Message("note.spend_undated_cohorts"))
        spend = None
    with_leads = deals if (deals is not None and leads is not None) else None
    # deals carry their lead's inquiry date and segments, so they are coded directly (no join on lead ids)
    if sel.by:
        segments, (lead_code, spend_code, deal_code) = _segment_codes(sel.by, [leads, spend, with_leads])
    else:  # one segment: no codes to make for a million rows
        segments, lead_code, spend_code = pd.DataFrame(index=[0]), None, None
        deal_code = np.zeros(len(with_leads), dtype=np.int64) if with_leads is not None else None
    # the cohorts run from the first to the last period with leads or spend; periods only grow with days
    lows, highs = [], []
    for table, frame in (("leads", leads), ("spend", spend)):
        if frame is None or not len(frame):
            continue
        if whole_of is not None and all_dated(whole_of, table):  # first and last day from the day totals
            covered = covered_days(whole_of, table)
            lows.append(int(covered[0])), highs.append(int(covered[-1]))
            continue
        days = frame[DAY].to_numpy()
        days = days[days != NO_DAY] if (days == NO_DAY).any() else days
        if len(days):
            lows.append(int(days.min())), highs.append(int(days.max()))
    as_of_period = int(period_number(pd.Series([as_of]), period, week_start)[0]) if as_of is not None else None
    if not lows or as_of_period is None:
        first = last = as_of_period if as_of_period is not None else 0
        n_cohorts = 0
    else:
        first, last = (int(v) for v in period_number_of_days(np.array([min(lows), max(highs)]), period, week_start))
        n_cohorts = last - first + 1
    latest_age = (as_of_period - (first + np.arange(n_cohorts))) if n_cohorts else np.array([], "int64")
    n_ages = max(int(latest_age.max()) + 1 if n_cohorts else 1, (horizon_periods or 0) + 1)
    ages = np.arange(n_ages)
    observed = ages[None, :] <= latest_age[:, None]
    # the as-of date closes its own period only on the period's last day
    next_start = period_first_day(np.array([as_of_period + 1]), period, week_start)[0] if as_of is not None else None
    as_of_closes = as_of is not None and as_of.normalize() >= next_start - pd.Timedelta(days=1)
    complete = (ages[None, :] < latest_age[:, None]) | (observed & as_of_closes)

    n_seg = len(segments)
    cells = n_seg * n_cohorts

    def by_day(table: str, column: str | None = None) -> np.ndarray | None:
        """Cohort totals of a whole table without segments, from its day totals; None when they do not apply."""
        if whole_of is None or sel.by or not all_dated(whole_of, table):
            return None
        cohort_of_day = _cells(covered_days(whole_of, table), None, period, week_start, first, n_cohorts)
        return totals_by(whole_of, table, cohort_of_day, cells, column).reshape(n_seg, n_cohorts)

    def consultations_by_cell() -> np.ndarray:
        if leads is None or not len(leads) or not n_cohorts:
            return np.zeros((n_seg, n_cohorts))
        summed = by_day("leads")
        if summed is not None:
            return summed
        flat = _cells(leads[DAY].to_numpy(), lead_code, period, week_start, first, n_cohorts)
        return np.bincount(flat, weights=weights_of(leads), minlength=cells).reshape(n_seg, n_cohorts).astype(np.float64)

    def spend_by_cell(rows: slice) -> np.ndarray:
        if spend is None:
            return np.full((n_seg, n_cohorts), np.nan)
        if not len(spend) or not n_cohorts:
            return np.zeros((n_seg, n_cohorts))
        codes = spend_code[rows] if spend_code is not None else None
        flat = _cells(spend[DAY].to_numpy()[rows], codes, period, week_start, first, n_cohorts)
        return np.bincount(flat, weights=spend["cost"].to_numpy(dtype="float64")[rows],
                           minlength=cells).reshape(n_seg, n_cohorts).astype(np.float64)

    spent = by_day("spend", "cost") if spend is not None and len(spend) and n_cohorts else None
    if spent is not None:
        consultations = consultations_by_cell()
    else:  # Spend in two halves (summed after), so two cores finish together: its rows outweigh the leads'
        half = len(spend) // 2 if spend is not None else 0
        consultations, *spent_parts = run_together(
            [consultations_by_cell, lambda: spend_by_cell(slice(0, half)), lambda: spend_by_cell(slice(half, None))],
            rows=sum(len(f) for f in (leads, spend) if f is not None))
        spent = spent_parts[0] + spent_parts[1]

    incremental = {m: np.zeros((n_seg, n_cohorts, n_ages)) for m in AMOUNTS}
    if deals is not None and leads is not None and len(deals):
        until = deals_until if deals_until is not None else as_of
        in_time = (deals["date"] <= until).to_numpy() if until is not None else np.ones(len(deals), dtype=bool)
        won, won_code = deals.loc[in_time], deal_code[in_time]
        # a consultation converts once: its first deal (repeat orders still count as deals)
        # a lead's first deal is its earliest, so it is in time whenever any of the lead's deals is
        first_deal = won[FIRST_DEAL].to_numpy()
        won_lead_period = period_number_of_days(won[LEAD_DAY].to_numpy(), period, week_start)
        cohort = won_lead_period - first
        age = period_number_of_days(won[DAY].to_numpy(), period, week_start) - won_lead_period
        shape = incremental["deals"].shape
        cell = np.ravel_multi_index((won_code, cohort, age), shape)  # each deal's cell, found once for all four
        tally = lambda weights: np.bincount(  # noqa: E731  (what _tally gives, without finding the cells again)
            cell, weights=weights, minlength=int(np.prod(shape))).reshape(shape).astype(np.float64)
        counted = weights_of(won)  # deals per aggregate row; None for deal rows
        incremental["deals"] += tally(counted)
        incremental["converted"] += tally(first_deal.astype("float64") if counted is None else first_deal * counted)
        for money in ("revenue", "gross_profit"):
            # an amount left blank on one deal counts as 0, like kpi_table's sums; a column never filled is NaN below
            incremental[money] += tally(won[money].fillna(0.0).to_numpy(dtype="float64"))
    elif deals is None:
        for m in AMOUNTS:
            incremental[m][:] = np.nan
        notes.append(Message("note.no_deals_cohorts"))
    if leads is not None and "days_to_lose" in leads.columns:  # lost outcomes (a status column): by the same cells
        until = deals_until if deals_until is not None else as_of
        incremental["lost"] = _lost_by_cell(leads, lead_code, incremental["deals"].shape, period, week_start, first,
                                            until)
    for money, present in (("revenue", has_revenue), ("gross_profit", has_gross_profit)):
        if not present:
            incremental[money][:] = np.nan
    return Development(segments=segments, cohorts=period_first_day(first + np.arange(n_cohorts), period, week_start),
                       consultations=consultations, spend=spent, incremental=incremental, observed=observed,
                       complete=complete, period=period, as_of=as_of, notes=tuple(notes))


def _lost_by_cell(leads: pd.DataFrame, lead_code: np.ndarray | None, shape: tuple[int, int, int], period: Period,
                  week_start: str, first: int, until: pd.Timestamp | None) -> np.ndarray:
    """Consultations lost at each segment × cohort × age (calc.competing projects the open rest)."""
    days_to_lose = leads["days_to_lose"].to_numpy(dtype="float64")
    lost = ~np.isnan(days_to_lose)
    lead_day = leads[DAY].to_numpy()
    lost_day = lead_day[lost].astype(np.int64) + days_to_lose[lost].astype(np.int64)
    if until is not None:  # a backtest frozen earlier: a later loss is still open then
        in_time = lost_day <= int((until.normalize() - pd.Timestamp("1970-01-01")).days)
    else:
        in_time = np.ones(len(lost_day), dtype=bool)
    lead_period = period_number_of_days(lead_day[lost][in_time], period, week_start)
    age = period_number_of_days(lost_day[in_time], period, week_start) - lead_period
    code = lead_code[lost][in_time] if lead_code is not None else np.zeros(int(in_time.sum()), dtype=np.int64)
    inside = age < shape[2]
    return _tally(shape, (code[inside], (lead_period - first)[inside], age[inside]))


@dataclass(frozen=True)
class CycleAnalysis:
    """A development and its chain-ladder projections to ``horizon``, with the notes to show beside them.

    It carries the dataset's settings, not the dataset: analyses are remembered on the dataset, and a
    reference back would make a cycle that only the garbage collector could free (a million-row
    dataset then outlives its last use).
    """

    settings: Settings
    development: Development
    horizon: int
    projections: dict[str, SegmentProjections]
    notes: tuple[str, ...]


def analyse_cycle(data: Dataset, query: Query, *, period: Period, horizon_periods: int | None,
                  measures: tuple[str, ...] = AMOUNTS, as_of: pd.Timestamp | None = None) -> CycleAnalysis:
    """Select, aggregate once to segment × cohort × age, and project each measure (internal entry).

    ``as_of`` earlier than the data's own as-of date freezes the data there (leads, spend and deals
    dated later are ignored), which is what a backtest needs. A report asks the same question of
    one dataset many times (ROI, payback, maximum cost, diagnosis …): the development is made once
    per dataset, and each measure's projection once, when a caller first asks for it; all are
    handed out read-only.
    """
    key = ("analyse_cycle", query, period, horizon_periods, as_of)
    base = kept(data.memo, key, lambda: _developed(data, query, period=period, horizon_periods=horizon_periods,
                                                   as_of=as_of))
    projections = {m: kept(data.memo, (*key, m), lambda m=m: _projected(base, m, data.settings)) for m in measures}
    dev, notes = base.development, list(base.notes)
    pooled = [i for i in range(len(dev.segments))
              if any(p.pooled_ages[i].any() for p in projections.values()) and len(dev.segments) > 1]
    if pooled:
        names = ", ".join("/".join(map(str, dev.segments.iloc[i].tolist())) for i in pooled[:5])
        notes.append(Message("note.pooled_factors_more", segments=names, more=len(pooled) - 5) if len(pooled) > 5
                     else Message("note.pooled_factors", segments=names))
    return CycleAnalysis(settings=data.settings, development=dev, horizon=base.horizon, projections=projections,
                         notes=tuple(dict.fromkeys(notes)))


@dataclass(frozen=True)
class _Developed:
    """What every measure's projection of one analysis shares: the development, the horizon, the cohorts
    that estimate factors (None = all), the notes before the pooled-factor one and, when won, lost and
    open are known, every measure's projection (calc.competing makes them together)."""

    development: Development
    horizon: int
    estimate_from: np.ndarray | None
    notes: tuple
    outcome: dict[str, SegmentProjections] | None


def _frozen(part: Any) -> Any:
    """Every array of a shared development or projection made read-only, so no caller can change what the
    next one reads."""
    for value in vars(part).values():
        arrays = value.values() if isinstance(value, dict) else [value]
        for array in arrays:
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
    return part


def _projected(base: _Developed, measure: str, settings: Settings) -> SegmentProjections:
    if base.outcome is not None:
        return base.outcome[measure]
    return _frozen(project_development(base.development, measure, horizon=base.horizon,
                                       tail_factor=settings.tail_factor, min_deals=settings.min_deals_per_factor,
                                       min_consultations=settings.min_consultations,
                                       young_share=settings.bornhuetter_ferguson_below,
                                       estimate_from=base.estimate_from))


def _developed(data: Dataset, query: Query, *, period: Period, horizon_periods: int | None,
               as_of: pd.Timestamp | None) -> _Developed:
    sel = select(data, query)
    if sel.leads is None:
        raise InputError("Leads", None, Message("error.cohorts_need_leads"), fix=Message("error.add_leads_and_deals"))
    notes = [*data.notes, *sel.notes]
    if as_of is None:
        as_of = data.as_of
    else:
        spend = sel.spend
        if spend is not None:
            spend = spend.loc[~(spend["date"] > as_of)]
        sel = Selection(leads=sel.leads.loc[sel.leads["date"] <= as_of], deals=sel.deals, spend=spend,
                        by=sel.by, notes=sel.notes)
    settings = data.settings
    coverage = table_coverage(data)
    # cells after the Deals export ends are unknown: the development is observed up to its end
    cells_until = min(as_of, coverage.deals_end) if as_of is not None and coverage.deals_end is not None else as_of
    dev = build_development(sel, period=period, week_start=settings.week_start, as_of=cells_until,
                            has_revenue=data.has_revenue, has_gross_profit=data.has_gross_profit,
                            horizon_periods=horizon_periods, deals_until=cells_until,
                            whole_of=data if sel.whole and cells_until == data.as_of else None)
    dev, estimate_from, truncation_notes = _flag_truncated(dev, coverage, settings)
    notes += [*coverage.notes(data.as_of), *dev.notes, *truncation_notes]
    reached = np.flatnonzero(dev.observed.any(axis=0))
    oldest = int(reached.max()) if len(reached) else 0
    horizon = oldest if horizon_periods is None else int(horizon_periods)
    if horizon > oldest:
        notes.append(Message(f"note.ages_beyond_oldest.{period}", oldest=oldest, first=oldest + 1, horizon=horizon,
                             tail=settings.tail_factor))
    if len(dev.cohorts) and dev.observed.any() and not dev.complete[dev.observed].all() and as_of is not None:
        notes.append(Message(f"note.as_of_inside.{period}", as_of=as_of))
    if sel.deals is not None and not data.has_gross_profit:
        notes.append(Message("note.no_gross_profit"))
    outcome = None
    if "lost" in dev.incremental and sel.deals is not None:
        # won, lost and open are known: project the open part only (calc.competing), never past won + open
        outcome = project_outcomes(dev, dev.incremental["lost"], horizon=horizon,
                                   min_deals=settings.min_deals_per_factor,
                                   min_consultations=settings.min_consultations, estimate_from=estimate_from)
        outcome = {m: _frozen(p) for m, p in outcome.items()}
        notes.append(Message("note.outcomes_projected"))
    return _Developed(development=_frozen(dev), horizon=horizon, estimate_from=estimate_from, notes=tuple(notes),
                      outcome=outcome)


def _flag_truncated(dev: Development, coverage: Coverage, settings: Settings
                    ) -> tuple[Development, np.ndarray | None, list[str]]:
    """The development with its truncated cohorts marked, the cohorts that estimate factors (None = all)
    and the note saying which cohorts are truncated and what is done with them."""
    truncated = truncated_cohorts(dev.cohorts, coverage)
    dev = replace(dev, truncated=truncated)
    if not truncated.any():
        return dev, None, []
    names = [f"{c:%Y-%m-%d}" for c in dev.cohorts[truncated]]
    span = names[0] if len(names) == 1 else f"{names[0]} – {names[-1]}"
    if settings.include_truncated_cohorts:
        return dev, None, [Message("note.truncated_included", count=len(names), span=span)]
    return dev, ~truncated, [Message("note.truncated_excluded", count=len(names), span=span)]


def _ratios(amounts: dict[str, np.ndarray], consultations: np.ndarray, spend: np.ndarray) -> dict[str, np.ndarray]:
    """Conversion, ROAS and ROI from cumulative amounts (… × C × A) and cohort totals (… × C)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(consultations > 0, consultations, np.nan)[..., None]
        cost = np.where(spend > 0, spend, np.nan)[..., None]
        return {"conversion": amounts["converted"] / n, "roas": amounts["revenue"] / cost,
                "roi": (amounts["gross_profit"] - spend[..., None]) / cost}


def cohort_development(data: Dataset, *, by: Any = None, start: Any = None, end: Any = None, filter: Any = None,
                       period: Any = "month", horizon_periods: Any = None, projected: Any = True) -> pd.DataFrame:
    """Cohort × age development in long form: one row per segment, cohort and age 0..horizon.

    Columns: the ``by`` dimensions, ``cohort`` (first day of the inquiry period), ``age`` (periods
    since inquiry), ``consultations`` and ``spend`` of the cohort, then cumulative ``deals``,
    ``converted`` (consultations with a deal), ``revenue``, ``gross_profit``, ``conversion``
    (converted ÷ consultations), ``roas`` (revenue ÷ spend), ``roi`` ((gross profit − spend) ÷
    spend), and the flags ``observed`` (the as-of date has reached the cell), ``complete`` (its
    period is over), ``projected`` (the value is a chain-ladder projection, not a fact) and
    ``truncated`` (the cohort began before the Deals export did, :mod:`calc.coverage`). With
    ``projected=False`` unreached cells stay empty (NaN).

    Hand check: two January leads, one closing in January and one in March; as of 2024-02-15
    the January cohort is observed at ages 0–1 (1 deal each), age 2 is not reached yet.

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-03", "2024-01-09"]})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-03-05"]})
    >>> out = cohort_development(prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-15"}),
    ...                          horizon_periods=2, projected=False)
    >>> out[["age", "deals", "observed", "complete", "projected"]]
       age  deals  observed  complete  projected
    0    0    1.0      True      True      False
    1    1    1.0      True     False      False
    2    2    NaN     False     False      False
    """
    query = make_query(by=by, start=start, end=end, filter=filter)
    options = make_cycle_options(period=period, horizon_periods=horizon_periods, projected=projected)
    analysis = analyse_cycle(data, query, period=options.period, horizon_periods=options.horizon_periods)
    out = _long(analysis, options.projected)
    out.attrs["notes"] = list(analysis.notes)
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    out.attrs["horizon_periods"] = analysis.horizon
    return out


def _long(analysis: CycleAnalysis, projected: bool) -> pd.DataFrame:
    dev, width = analysis.development, analysis.horizon + 1
    n_seg, n_cohorts = dev.consultations.shape
    mask = analysis.projections["deals"].projected
    amounts = {}
    for m in AMOUNTS:
        values = analysis.projections[m].values
        amounts[m] = values if projected else np.where(mask, np.nan, values)
    amounts.update(_ratios(amounts, dev.consultations, dev.spend))
    seg_i, coh_i, age_i = (a.ravel() for a in np.meshgrid(np.arange(n_seg), np.arange(n_cohorts), np.arange(width),
                                                           indexing="ij"))
    columns = {"cohort": dev.cohorts[coh_i] if n_cohorts else pd.Series([], dtype="datetime64[ns]"),
               "age": age_i.astype("int64"), "consultations": dev.consultations[seg_i, coh_i],
               "spend": dev.spend[seg_i, coh_i]}
    for m in (*AMOUNTS, "conversion", "roas", "roi"):
        columns[m] = amounts[m].reshape(-1) if amounts[m].size else np.zeros(0)
    observed = np.zeros((n_cohorts, width), bool)
    complete = np.zeros((n_cohorts, width), bool)
    k = min(width, dev.observed.shape[1])
    observed[:, :k], complete[:, :k] = dev.observed[:, :k], dev.complete[:, :k]
    columns["observed"] = observed[coh_i, age_i]
    columns["complete"] = complete[coh_i, age_i]
    columns["projected"] = mask.reshape(-1) & projected if mask.size else np.zeros(0, bool)
    columns["truncated"] = dev.truncated_cohorts[coh_i]
    # the columns made as one frame and joined to the segments once (a column at a time re-blocks the frame)
    figures = pd.DataFrame(columns)
    if not len(dev.segments.columns):
        return figures
    return pd.concat([dev.segments.iloc[seg_i].reset_index(drop=True), figures], axis=1)


def cohort_triangle(data: Dataset, *, measure: Any = "conversion", period: Any = "month", start: Any = None,
                    end: Any = None, filter: Any = None, projected: Any = True,
                    horizon_periods: Any = None) -> pd.DataFrame:
    """The cohort development triangle of one measure: cohorts as rows, ages 0..horizon as columns.

    ``measure`` is one of deals, converted, revenue, gross_profit (cumulative), conversion,
    roas or roi. Columns: ``cohort`` (first day of the period), ``consultations``, ``spend``, then
    one column per age (0, 1, 2, …), then ``projected_from_age``. Cells the as-of date has not
    reached are NaN, or — with ``projected=True`` — chain-ladder projections, marked True in
    ``attrs["projected"]`` (a frame of the same shape) so a report can show them differently; the
    ``projected_from_age`` column says the same per row (every age from it on is projected; empty
    when nothing in the row is).

    Hand check (the Olist reference in ``docs/methods.md`` uses the same arithmetic): January
    cohort 2 deals at age 0 and 3 by age 1; February cohort 4 at age 0 → f₀ = 3/2, so February's
    age 1 is projected as 4 × 1.5 = 6 (chain ladder alone; by default Bornhuetter–Ferguson leans
    young cohorts on what older ones earned per consultation).

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": range(1, 11), "date": ["2024-01-05"] * 5 + ["2024-02-05"] * 5})
    >>> deals = pd.DataFrame({"lead_id": [1, 2, 3, 6, 7, 8, 9],
    ...                       "date": ["2024-01-10", "2024-01-11", "2024-02-01"] + ["2024-02-10"] * 4})
    >>> chain_ladder_only = {"as_of": "2024-02-29", "bornhuetter_ferguson_below": 0}
    >>> tri = cohort_triangle(prepare(leads=leads, deals=deals, settings=chain_ladder_only), measure="deals")
    >>> tri
          cohort  consultations  spend    0    1  projected_from_age  truncated
    0 2024-01-01            5.0    NaN  2.0  3.0                 NaN      False
    1 2024-02-01            5.0    NaN  4.0  6.0                 1.0      False
    >>> tri.attrs["projected"][1].tolist()
    [False, True]
    """
    query = make_query(start=start, end=end, filter=filter)
    options = make_cycle_options(measure=measure, period=period, projected=projected, horizon_periods=horizon_periods)
    analysis = analyse_cycle(data, query, period=options.period, horizon_periods=options.horizon_periods)
    long = _long(analysis, options.projected)
    width = analysis.horizon + 1
    n_cohorts = len(analysis.development.cohorts)
    cells = long[options.measure].to_numpy().reshape(n_cohorts, width)
    flags = long["projected"].to_numpy().reshape(n_cohorts, width)
    out = pd.DataFrame({"cohort": analysis.development.cohorts,
                        "consultations": analysis.development.consultations[0],
                        "spend": analysis.development.spend[0]})
    # all ages joined at once: one column at a time takes seconds on a triangle decades wide
    mask = pd.concat([pd.DataFrame(False, index=out.index, columns=list(out.columns)),
                      pd.DataFrame(flags, index=out.index, columns=list(range(width))),
                      pd.DataFrame({"projected_from_age": False}, index=out.index)], axis=1)
    out = pd.concat([out, pd.DataFrame(cells, index=out.index, columns=list(range(width)))], axis=1)
    # the same marking as one number per row, for where attrs cannot travel (Excel spills, CSV)
    out["projected_from_age"] = np.where(flags.any(axis=1), flags.argmax(axis=1), np.nan) if flags.size else np.nan
    # True: the cohort began before the Deals export did, its early deals are missing (calc.coverage)
    out["truncated"] = analysis.development.truncated_cohorts
    mask["truncated"] = False
    out.attrs["projected"] = mask
    out.attrs["measure"] = options.measure
    out.attrs["notes"] = list(analysis.notes)
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    out.attrs["horizon_periods"] = analysis.horizon
    return out
