"""The options every analysis shares (date range, filter, grouping) and the selection they make.

Options are validated once here (pydantic) so a bad start date or an unknown filter column is one
clear InputError at the public entry; the analyses then work on a :class:`Selection` they trust.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .dataset import DAY, LEAD_DAY, NO_DAY, Dataset, with_columns
from .errors import InputError, validation_problem
from .messages import Message
from .memo import kept, kept_all
from .parallel import run_together
from .filters import Condition, condition_mask, match_column, parse_filter
from .parsing import parse_dates


def _to_date(value: Any, name: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    try:
        parsed, _ = parse_dates(pd.Series([value], dtype=object), table="options", column=name)
    except InputError:
        raise InputError("options", name, Message("error.option_not_a_date", value=str(value)),
                         fix=Message("error.option_not_a_date.fix")) from None
    return parsed.iloc[0].date()


class Query(BaseModel):
    """Date range (inquiry dates, inclusive), filter text, grouping dimensions, horizon in days."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    start: dt.date | None = None
    end: dt.date | None = None
    filter: tuple[Condition, ...] = ()
    by: tuple[str, ...] = ()
    horizon_days: int | None = Field(None, ge=1, le=3660)

    @field_validator("by", mode="before")
    @classmethod
    def _by(cls, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.replace(";", ",").split(",")
        return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def make_query(*, start: Any = None, end: Any = None, filter: Any = None, by: Any = None,
               horizon_days: Any = None) -> Query:
    """Validate shared options into a Query, or raise one InputError naming the option and the fix."""
    start_d, end_d = _to_date(start, "start"), _to_date(end, "end")
    if start_d and end_d and start_d > end_d:
        raise InputError("options", "start", Message("error.start_after_end", start=start_d, end=end_d),
                         fix=Message("error.start_after_end.fix"))
    if isinstance(horizon_days, float) and horizon_days.is_integer():
        horizon_days = int(horizon_days)
    try:
        return Query(start=start_d, end=end_d, filter=parse_filter(filter), by=by, horizon_days=horizon_days)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "options"
        raise InputError("options", name,
                         Message("error.option_value", problem=validation_problem(first), got=repr(first.get("input"))),
                         fix=Message("error.horizon_days.fix") if name == "horizon_days"
                         else Message("error.correct_value")) from None


#: Time grains usable in ``by`` like a dimension: the period in which the inquiry (or the spend) falls,
#: labelled by its first day. Weeks start on Settings.week_start.
PERIODS = ("day", "week", "month", "quarter", "year")


def period_start(dates: pd.Series, period: str, *, week_start: str = "monday") -> pd.Series:
    """First day of the period each date falls in (vectorised; NaT stays NaT).

    >>> period_start(pd.Series(pd.to_datetime(["2024-02-29", "2024-03-03"])), "week").dt.strftime("%Y-%m-%d").tolist()
    ['2024-02-26', '2024-02-26']
    >>> period_start(pd.Series(pd.to_datetime(["2024-05-17"])), "quarter").dt.strftime("%Y-%m-%d").tolist()
    ['2024-04-01']
    """
    ns = dates.to_numpy(dtype="datetime64[ns]").view("int64")
    missing = ns == np.iinfo(np.int64).min
    if missing.all():
        return pd.Series(ns.copy().view("datetime64[ns]"), index=dates.index)
    day = ns // _DAY_NS
    present = day if not missing.any() else day[~missing]
    # calendar arithmetic on the few distinct days only, then one gather for every row
    low, high = int(present.min()), int(present.max())
    firsts = _first_days(np.arange(low, high + 1), period, week_start) * _DAY_NS
    if not missing.any():
        out = firsts[day - low]
    else:
        out = np.full(len(ns), np.iinfo(np.int64).min, dtype=np.int64)
        out[~missing] = firsts[present - low]
    return pd.Series(out.view("datetime64[ns]"), index=dates.index)


_DAY_NS = 86_400_000_000_000


def period_days(days: np.ndarray, period: str, *, week_start: str = "monday") -> np.ndarray:
    """Day number (since 1970, int32) of the first day of each day number's period; ``NO_DAY`` stays.

    The calendar arithmetic runs once per distinct day and one gather serves every row.

    >>> period_days(np.array([19782, 19785], dtype=np.int32), "month").tolist()  # 2024-02-29, 2024-03-03
    [19754, 19783]
    """
    days = np.asarray(days)
    if period == "day":  # a day is its own period (a view: marking it read-only leaves the table's column alone)
        return days.view()
    if not len(days):
        return np.full(0, NO_DAY, dtype=np.int32)
    low, high = int(days.min()), int(days.max())
    if low != NO_DAY:  # every day present (NO_DAY is the smallest int32): no mask, one gather
        firsts = _first_days(np.arange(low, high + 1), period, week_start).astype(np.int32)
        return firsts[days - low]
    missing = days == NO_DAY
    present = days[~missing]
    if not len(present):
        return np.full(len(days), NO_DAY, dtype=np.int32)
    low, high = int(present.min()), int(present.max())
    firsts = _first_days(np.arange(low, high + 1), period, week_start).astype(np.int32)
    out = np.full(len(days), NO_DAY, dtype=np.int32)
    out[~missing] = firsts[present - low]
    return out


def _first_days(days: np.ndarray, period: str, week_start: str) -> np.ndarray:
    """Day numbers (since 1970) of the first day of each day's period."""
    dates = days.astype("datetime64[D]")
    if period == "day":
        out = dates
    elif period == "week":
        # 1970-01-01 was a Thursday: shift so weeks start on Monday (or Sunday)
        offset = 3 if week_start == "monday" else 4
        out = dates - ((days + offset) % 7).astype("timedelta64[D]")
    elif period == "month":
        out = dates.astype("datetime64[M]").astype("datetime64[D]")
    elif period == "quarter":
        months = dates.astype("datetime64[M]").astype("int64")
        out = (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
    elif period == "year":
        out = dates.astype("datetime64[Y]").astype("datetime64[D]")
    else:
        raise ValueError(period)
    return out.astype("int64")


@dataclass(frozen=True)
class Selection:
    """The rows one query selects. ``spend`` is None when spend cannot be attributed to the query's segments."""

    leads: pd.DataFrame | None
    deals: pd.DataFrame | None
    spend: pd.DataFrame | None
    by: tuple[str, ...]
    notes: tuple[str, ...]
    #: no date range or filter narrowed the tables: their whole-table totals (calc.daily) apply
    whole: bool = False


def _resolve(data: Dataset, conditions: tuple[Condition, ...], dims: tuple[str, ...], table: str,
             frame: pd.DataFrame) -> tuple[Condition, ...]:
    """Conditions on real column names; values are checked against every table that has the column."""
    out = []
    for cond in conditions:
        column = match_column(cond.column, list(dims), what="filter", table=table)
        known = set()
        for f in (data.leads, data.spend):
            if f is not None and column in f.columns:
                known.update(map(str, f[column].cat.categories))
        by_fold = {str(v).casefold(): v for v in known}
        values = []
        for value in cond.values:
            real = by_fold.get(value.casefold())
            if real is None:
                shown = ", ".join(sorted(known)[:12]) + (" …" if len(known) > 12 else "")
                raise InputError("filter", column, Message("error.filter_value", value=value, values=shown),
                                 fix=Message("error.filter_value.fix"))
            values.append(real)
        out.append(Condition(column, tuple(values), cond.negate))
    return tuple(out)


def _keep(frame: pd.DataFrame, mask: np.ndarray | None) -> pd.DataFrame:
    """The rows where mask holds; the frame itself when that is every row or there is no mask (no million-row copy)."""
    return frame if mask is None or mask.all() else frame.loc[mask]


def _with_periods(data: Dataset, frames: dict[str, tuple[pd.DataFrame | None, str]], periods: list[str]
                  ) -> dict[str, pd.DataFrame | None]:
    """Each frame (a new one, sharing its columns) with one column per period: the day number of the
    period's first day, from the frame's ``day`` column. ``frames`` is {table: (frame or None, day column)}.

    Grouping reads these integer columns directly (``grouping.KeySpace``) and labels them as dates.
    The columns of the tables are made side by side; for a whole table (no filter or date range)
    they are made once per dataset and reused.
    """
    jobs = {(table, period): _period_job(data, table, frame, period, day)
            for table, (frame, day) in frames.items() if frame is not None for period in periods}
    rows = sum(len(frames[table][0]) for table, _ in jobs)
    shared = kept_all(data.memo, {key: make for key, make in jobs.values() if key is not None}, rows=rows)
    made = {job: shared[key] for job, (key, _) in jobs.items() if key is not None}
    parts = [job for job, (key, _) in jobs.items() if key is None]
    made.update(zip(parts, run_together([jobs[job][1] for job in parts], rows=rows)))
    return {table: None if frame is None else with_columns(frame, {p: made[table, p] for p in periods})
            for table, (frame, _) in frames.items()}


def _period_job(data: Dataset, table: str, frame: pd.DataFrame, period: str, day: str
                ) -> tuple[tuple | None, Callable[[], np.ndarray]]:
    """How :func:`periods_of` is made: the key it is kept under for a whole table (None for a selection
    of rows, made each time) and the function that makes it."""
    def made() -> np.ndarray:
        return period_days(frame[day].to_numpy(), period, week_start=data.settings.week_start)

    return ((table, day, period) if frame is getattr(data, table) else None), made


def periods_of(data: Dataset, table: str, frame: pd.DataFrame, period: str, *, day: str = DAY) -> np.ndarray:
    """Each row's period as the day number of its first day (``period_days`` of the ``day`` column).

    ``frame`` is ``data``'s table named ``table`` or a selection of its rows; for the whole table the
    result is made once per dataset and reused (read-only).
    """
    key, made = _period_job(data, table, frame, period, day)
    return made() if key is None else kept(data.memo, key, made)


def select(data: Dataset, query: Query) -> Selection:
    """Apply the date range and filter to Leads (and their Deals) and to Spend."""
    if not isinstance(data, Dataset):
        raise InputError(None, None, Message("error.not_prepared", got=type(data).__name__),
                         fix=Message("error.not_prepared.fix"))
    notes: list[str] = []
    primary, dims, table = ((data.leads, data.lead_dims, "Leads") if data.leads is not None
                            else (data.spend, data.spend_dims, "Spend"))
    if data.leads is None and data.deals is not None and data.spend is None and (query.by or query.filter):
        raise InputError("Deals", None, Message("error.deals_without_leads"), fix=Message("error.deals_without_leads.fix"))
    periods = [b for b in query.by if b.casefold() in PERIODS and not any(d.casefold() == b.casefold() for d in dims)]
    wanted = [b for b in query.by if b not in periods] + [c.column for c in query.filter]
    by = tuple(b.casefold() if b in periods else match_column(b, list(dims) + list(PERIODS), what="group", table=table)
               for b in query.by)
    conditions = _resolve(data, query.filter, dims, table, primary)
    start = pd.Timestamp(query.start) if query.start else None
    end = pd.Timestamp(query.end) if query.end else None

    def chosen_rows(frame: pd.DataFrame, column: str = "date") -> np.ndarray | None:
        """Rows in the date range and meeting the conditions; None for every row (nothing to narrow by)."""
        if start is None and end is None and not conditions:
            return None
        mask = condition_mask(frame, conditions)
        if start is not None:
            mask &= (frame[column] >= start).to_numpy()
        if end is not None:
            mask &= (frame[column] <= end).to_numpy()
        return mask

    leads = deals = None
    if data.leads is not None:
        leads = _keep(data.leads, chosen_rows(data.leads))
        if data.deals is not None:
            deals = _keep(data.deals, chosen_rows(data.deals, "lead_date"))
    elif data.deals is not None and (wanted or conditions):
        notes.append(Message("note.deals_without_leads"))
    elif data.deals is not None:
        deals = _keep(data.deals, chosen_rows(data.deals))

    spend = None
    if data.spend is not None:
        columns = [match_column(w, list(dims), what="filter", table=table) for w in wanted]
        lacking = [c for c in dict.fromkeys(columns) if c not in data.spend_dims]
        if lacking:
            notes.append(Message("note.spend_lacks_dims", columns=lacking))
        elif (start is not None or end is not None) and not data.spend_dated:
            raise InputError("Spend", "date", Message("error.spend_undated_range"),
                             fix=Message("error.spend_undated_range.fix"))
        else:
            spend = _keep(data.spend, chosen_rows(data.spend) if data.spend_dated
                                          else condition_mask(data.spend, conditions))
    if periods:
        if spend is not None and not data.spend_dated:
            notes.append(Message("note.spend_undated_periods"))
            spend = None
        # deals belong to their inquiry's period
        deal_day = LEAD_DAY if deals is not None and LEAD_DAY in deals.columns else DAY
        marked = _with_periods(data, {"leads": (leads, DAY), "deals": (deals, deal_day), "spend": (spend, DAY)},
                               [p.casefold() for p in periods])
        leads, deals, spend = marked["leads"], marked["deals"], marked["spend"]
    return Selection(leads=leads, deals=deals, spend=spend, by=by, notes=tuple(notes),
                     whole=start is None and end is None and not conditions)
