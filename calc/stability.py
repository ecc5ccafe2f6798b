"""Is it stable? XmR charts with run rules for volume and cost, a Laney p′ chart for conversion, and a verdict.

Method (``docs/methods.md``, "Stability"):

* **XmR (individuals) chart.** Moving range MR_i = |x_i − x_{i−1}|; centre X̄; natural process limits
  X̄ ± 2.66·MR̄ (2.66 = 3 / 1.128, so σ̂ = MR̄ / 1.128); the MR chart's upper limit is 3.267·MR̄.
  *Outlier moving ranges do not inflate the limits:* with ``method="nelson"`` (default) every MR above
  3.5·MR̄ is dropped and MR̄ recomputed from the rest (Nelson 1982, one pass); with ``method="median"``
  the limits are X̄ ± 3.14·median(MR) (σ̂ = median MR / 0.954). Likewise points beyond median ± 3σ̂
  are left out of the centre X̄, so one spike cannot drag the centre line either.
* **Western Electric run rules**, each flagged on the point that completes the pattern, with its date:
  ``beyond_3_sigma`` (one point outside the limits), ``2_of_3_beyond_2_sigma`` and
  ``4_of_5_beyond_1_sigma`` (same side, the flagged point among them), ``8_on_one_side`` (8 in a row
  on one side of the centre). On a stable normal series rule 1 alone fires on 0.27 % of points and
  the four rules together about once in 92 points (in-control average run length 91.75, Champ &
  Woodall 1987); with limits estimated from the same 100 points we measure ≈1.5 % of points
  (``tests/test_stability.py``, 600 simulated normal series).
* **Conversion with varying daily volume: Laney p′ chart.** z_i = (p_i − p̄)/√(p̄(1−p̄)/n_i),
  σ_z = MR̄(z)/1.128 (same outlier rule), limits p̄ ± 3·σ_z·√(p̄(1−p̄)/n_i). σ_z absorbs the
  between-period variation that a plain p chart would call signal when volumes are large; the run
  rules are applied to z/σ_z. Only consultations old enough to have had ``horizon_days`` to close
  enter (deals within that many days), so young cohorts do not look like a fall in conversion.
* **Rolling coefficient of variation** s/x̄ over the last 28 days (daily) or 8 weeks (weekly).

Series: ``volume`` = consultations per day or week (days without any count as 0); ``cost`` = spend ÷
consultations of the same period (a period with no consultations has no cost and is left out);
``conversion`` = share of the period's mature consultations that closed within ``horizon_days``.
Weeks start on ``Settings.week_start``; weeks cut off by the start, end or as-of date are left out
(a 3-day week is not a low week).

**Verdict** (about now: the last 28 days or 8 weeks). Run rules on a stable series still fire now and
then (≈1.5 % of points), so one signal is not a verdict. ``unstable`` needs a *sustained* signal in the
recent window: at least 3 flagged points within 10 consecutive periods, which must survive putting
any single period back on the centre line. So a one-day surge or dead day does not make a stable
series unstable, and resetting one day of a real shift does not make it look stable; the outlier rule
above keeps that day from moving the limits as well (only the two moving ranges it drops change σ̂
slightly: in simulation 1 of 200 stable years with a 5× spike flipped). Measured on Poisson(40) days:
stable 90- and 365-day series were called unstable 0 times in 200; a +1.9σ shift over the last 30
days was called unstable 94 % (90 days) and 100 % (365 days) of the time, a +1.25σ shift over 15
days 27–39 % (the price of not crying wolf). Isolated recent signals are reported with their dates,
signals before the window as a count with the latest date.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd

from .daily import all_dated, covered_days, totals_by
from .dataset import DAY, Dataset, day_numbers, weights_of
from .errors import InputError
from .messages import Message
from .parsing import parse_dates, parse_numbers
from .memo import kept, remembered
from .query import make_query, period_days, period_start, periods_of, select

#: Western Electric rules: name -> (window, points needed in the window, distance from centre in σ).
RUN_RULES: dict[str, tuple[int, int, float]] = {
    "beyond_3_sigma": (1, 1, 3.0),
    "2_of_3_beyond_2_sigma": (3, 2, 2.0),
    "4_of_5_beyond_1_sigma": (5, 4, 1.0),
    "8_on_one_side": (8, 8, 0.0),
}
#: The rules as a sentence says them (the codes stay in the chart's ``signals`` column).
#: The run rules' words for people are the catalogue's ``code.signals.<rule>``.
D2 = 1.128  # bias constant of a moving range of 2: E[MR] = 1.128 σ
NELSON_MR_CUTOFF = 3.5
MEDIAN_MR_FACTOR = 3.14  # limits X̄ ± 3.14·median MR, i.e. σ̂ = median MR / 0.954
MEASURES = ("volume", "cost", "conversion")
PERIODS = ("day", "week")
CHART_COLUMNS = ("date", "value", "n", "centre", "lcl", "ucl", "sigma", "moving_range", "mr_ucl",
                 "rolling_cv", "signals")


@dataclass(frozen=True)
class Limits:
    """XmR limits: centre, σ̂ (from the moving ranges), MR̄ used, and how many moving ranges were dropped."""

    centre: float
    sigma: float
    mr_bar: float
    dropped: int

    @property
    def lcl(self) -> float:
        return self.centre - 3 * self.sigma

    @property
    def ucl(self) -> float:
        return self.centre + 3 * self.sigma

    @property
    def mr_ucl(self) -> float:
        return 3.267 * self.mr_bar


def robust_sigma(values: np.ndarray, *, method: Literal["nelson", "median"] = "nelson") -> tuple[float, float, int]:
    """σ̂ from moving ranges, shielded from outlier ranges: (σ̂, MR̄ used, moving ranges dropped).

    Hand check: 10, 12, 11, 13, 12, 11, 12, 60, 12 → MR = 2, 1, 2, 1, 1, 1, 48, 48, MR̄ = 104/8 = 13;
    both 48s exceed 3.5·13 = 45.5 and are dropped, so MR̄ = 8/6 = 1.333 and σ̂ = 1.333/1.128 = 1.182
    (without the drop σ̂ would be 11.5 and the spike at 60 would sit inside its own limits). The
    median method: median MR 1.5 → σ̂ = 3.14·1.5/3 = 1.57.

    >>> [round(v, 3) for v in robust_sigma(np.array([10, 12, 11, 13, 12, 11, 12, 60, 12.]))]
    [1.182, 1.333, 2]
    >>> round(robust_sigma(np.array([10, 12, 11, 13, 12, 11, 12, 60, 12.]), method="median")[0], 2)
    1.57
    """
    ranges = np.abs(np.diff(values))
    ranges = ranges[np.isfinite(ranges)]
    if not len(ranges):
        return np.nan, np.nan, 0
    if method == "median":
        median = float(np.median(ranges))
        return MEDIAN_MR_FACTOR * median / 3, median, 0
    mr_bar = float(ranges.mean())
    keep = ranges <= NELSON_MR_CUTOFF * mr_bar
    return float(ranges[keep].mean()) / D2, float(ranges[keep].mean()), int((~keep).sum())


def xmr_limits(values, *, method: Literal["nelson", "median"] = "nelson") -> Limits:
    """Centre and natural process limits of an individuals chart (X̄ ± 2.66·MR̄ with outlier MRs dropped).

    Hand check: 10, 12, 11, 13, 12, 14 → X̄ = 12, MR = 2, 1, 2, 1, 2, MR̄ = 1.6; limits 12 ± 2.66·1.6
    ≈ 7.744 and 16.256 (exactly 12 ± 3·1.6/1.128 = 7.745 and 16.255, 2.66 being 3/1.128 rounded);
    MR chart limit 3.267·1.6 = 5.227.

    >>> lim = xmr_limits([10, 12, 11, 13, 12, 14])
    >>> round(lim.centre, 3), round(lim.lcl, 3), round(lim.ucl, 3), round(lim.mr_ucl, 3)
    (12.0, 7.745, 16.255, 5.227)
    """
    x = np.asarray(values, dtype="float64")
    sigma, mr_bar, dropped = robust_sigma(x, method=method)
    if not np.isfinite(x).any():
        return Limits(np.nan, sigma, mr_bar, dropped)
    # a lone spike would also drag the mean (and with it 8-on-one-side over everything else):
    # points beyond median ± 3σ̂ are left out of the centre, as their moving ranges are left out of σ̂
    median = float(np.nanmedian(x))
    typical = x[np.abs(x - median) <= 3 * sigma] if np.isfinite(sigma) and sigma > 0 else x
    return Limits(float(np.nanmean(typical if len(typical) else x)), sigma, mr_bar, dropped)


def run_rule_signals(scores) -> list[list[str]]:
    """Western Electric rule names firing at each point, from scores z = (x − centre) / σ̂.

    Each rule is checked on both sides separately and flagged on the point that completes it;
    the flagged point must itself be beyond the rule's distance on that side.

    >>> run_rule_signals([0.5, 3.2, -0.1])
    [[], ['beyond_3_sigma'], []]
    >>> run_rule_signals([2.5, 0.1, 2.2])[-1]
    ['2_of_3_beyond_2_sigma']
    >>> run_rule_signals([0.3] * 8)[-1], run_rule_signals([0.3] * 7)[-1]
    (['8_on_one_side'], [])
    """
    fired = _rule_matrix(np.asarray(scores, dtype="float64"))
    names = list(RUN_RULES)
    out: list[list[str]] = [[] for _ in range(len(fired))]
    for row, rule in zip(*np.nonzero(fired)):  # only the points that fire (few), in rule order within a point
        out[row].append(names[rule])
    return out


def _rule_matrix(z: np.ndarray) -> np.ndarray:
    """Boolean points × rules matrix (columns in RUN_RULES order); NaN scores never count."""
    return _rule_matrix_rows(np.asarray(z, dtype="float64")[None, :])[0]


# ---------------------------------------------------------------- series


def _periods(first: pd.Timestamp, last: pd.Timestamp, period: str, week_start: str) -> tuple[pd.DatetimeIndex, int]:
    """Every period from first to last; weeks not wholly inside [first, last] are left out (returned count)."""
    if period == "day":
        return pd.date_range(first, last, freq="D"), 0
    starts = period_start(pd.Series(pd.date_range(first, last, freq="D")), "week", week_start=week_start).drop_duplicates()
    whole = (starts >= first) & (starts + pd.Timedelta(days=6) <= last)
    return pd.DatetimeIndex(starts[whole]), int((~whole).sum())


def _data_end(data: Dataset, measure: str, last: pd.Timestamp, notes: list[str]) -> pd.Timestamp:
    """The series ends where its tables end (:mod:`calc.coverage`): a week after the last lead is no data, not
    a week of zero consultations; cost also stops where Spend stops. The as-of date stays the analysis's."""
    from .coverage import table_coverage

    cover = table_coverage(data)
    ends = {"Leads": cover.leads[1] if cover.leads else None}
    if measure == "cost":
        ends["Spend"] = cover.spend[1] if cover.spend else None
    known = {name: end for name, end in ends.items() if end is not None and end < last}
    if not known:
        return last
    name, end = min(known.items(), key=lambda item: item[1])
    notes.append(Message("note.series_stops", table=name, end=f"{end:%Y-%m-%d}", as_of=f"{data.as_of:%Y-%m-%d}"))
    return end


def _dataset_series(data: Dataset, measure: str, period: str, query, horizon: int, notes: list[str]) -> pd.DataFrame:
    sel = select(data, query)
    notes.extend(sel.notes)
    week_start = data.settings.week_start
    if sel.leads is None:
        raise InputError("Leads", None, Message(f"error.chart_needs_leads.{measure}"), fix=Message("error.add_leads"))
    if measure == "conversion" and data.deals is None:
        raise InputError("Deals", None, Message("error.chart_needs_deals"), fix=Message("error.add_deals"))
    if measure == "cost":
        if sel.spend is None:
            raise InputError("Spend", None, Message("error.chart_needs_spend"), fix=Message("error.chart_needs_spend.fix"))
        if not data.spend_dated:
            raise InputError("Spend", "date", Message("error.spend_no_timeline"), fix=Message("error.spend_no_timeline.fix"))
    leads = sel.leads
    first = pd.Timestamp(query.start) if query.start else (
        pd.Timestamp(np.datetime64(int(leads[DAY].min()), "D")) if len(leads) else pd.NaT)
    last = pd.Timestamp(query.end) if query.end else data.as_of
    last = _data_end(data, measure, last, notes)
    if pd.isna(first) or pd.isna(last):
        raise InputError("Leads", "date", Message("error.no_consultations_in_range"),
                         fix=Message("error.no_consultations_in_range.fix"))
    if measure == "conversion":
        last = min(last, data.as_of - pd.Timedelta(days=horizon))
        notes.append(Message("note.conversion_horizon", horizon=horizon, as_of=data.as_of))
    index, cut = _periods(first, last, period, week_start)
    if cut:
        notes.append(Message("note.incomplete_weeks", count=cut))
    if not len(index):
        raise InputError("Leads", "date", Message(f"error.no_complete_period.{period}"),
                         fix=Message("error.widen_range_or_horizon" if measure == "conversion" else "error.widen_range"))
    # rows per period by counting day numbers: no hashing of a million dates
    wanted = day_numbers(pd.Series(index))
    volume = _per_period(data, "leads", leads, period, wanted)
    if measure == "volume":
        return pd.DataFrame({"date": index, "value": volume, "n": volume})
    if measure == "cost":
        spent = _per_period(data, "spend", sel.spend, period, wanted, "cost")
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(volume > 0, spent / np.where(volume > 0, volume, 1.0), np.nan)
        empty = int(np.isnan(value).sum())
        if empty:
            notes.append(Message(f"note.periods_without_consultations.{period}", count=empty))
        out = pd.DataFrame({"date": index, "value": value, "n": volume})
        return out.loc[out["value"].notna()].reset_index(drop=True)
    closed = _per_period(data, "leads", leads, period, wanted, "closed", horizon=horizon)
    out = pd.DataFrame({"date": index, "n": volume, "x": closed})
    out = out.loc[out["n"] > 0].reset_index(drop=True)
    out["value"] = out["x"] / out["n"]
    return out


def _per_period(data: Dataset, table: str, frame: pd.DataFrame, period: str, wanted: np.ndarray,
                what: str = "rows", *, horizon: int | None = None) -> np.ndarray:
    """Rows, spend (``"cost"``) or consultations closed within ``horizon`` days (``"closed"``) per
    wanted period (day numbers of period starts) of ``frame``, one of ``data``'s tables or a selection
    of its rows. Totals per period of a whole table are made once per dataset."""
    whole = frame is getattr(data, table)

    def totals() -> tuple[int, np.ndarray]:
        if whole and what != "closed" and all_dated(data, table):  # from the day totals: no pass over the rows
            key = period_days(covered_days(data, table), period, week_start=data.settings.week_start)
            low = int(key[0])  # periods only grow with days
            counts = totals_by(data, table, key - low, int(key[-1]) - low + 1, "cost" if what == "cost" else None)
            counts.flags.writeable = False
            return low, counts
        key = periods_of(data, table, frame, period)
        if not len(key):
            return 0, np.zeros(1)
        rows = weights_of(frame)  # consultations per aggregate row; None for rows
        low = int(key.min())
        if what == "closed" and rows is None:  # one each: count only the closed leads (whole numbers either way)
            closed = frame["days_to_close"].to_numpy(dtype="float64") <= horizon
            counts = np.bincount(key[closed] - low, minlength=int(key.max()) - low + 1).astype("float64")
            counts.flags.writeable = False
            return low, counts
        if what == "cost":
            weights = frame["cost"].to_numpy(dtype="float64")
        elif what == "closed":
            weights = (frame["days_to_close"] <= horizon).to_numpy(dtype="float64")
            weights = weights if rows is None else weights * rows
        else:
            weights = rows
        # count over the keys' own range (no masking of a million rows), then read off the wanted periods
        counts = np.bincount(key - low, weights=weights).astype("float64")
        counts.flags.writeable = False
        return low, counts

    low, counts = kept(data.memo, ("per period", table, period, what, horizon), totals) if whole else totals()
    position = wanted.astype(np.int64) - low
    inside = (position >= 0) & (position < len(counts))
    return np.where(inside, counts[np.clip(position, 0, len(counts) - 1)], 0.0)


def _table_series(table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """A pasted series: columns ``date`` and ``value`` (and ``n`` for rates with their counts)."""
    columns = {str(c).strip().casefold(): c for c in table.columns}
    for needed in ("date", "value"):
        if needed not in columns:
            raise InputError("series", needed, Message("error.column_not_found", have=", ".join(map(str, table.columns))),
                             fix=Message("error.series_columns.fix"))
    dates, note = parse_dates(table[columns["date"]].reset_index(drop=True), table="series", column="date")
    if note:
        notes.append(note)
    values = parse_numbers(table[columns["value"]].reset_index(drop=True), table="series", column="value")
    out = pd.DataFrame({"date": dates, "value": values})
    if "n" in columns:
        out["n"] = parse_numbers(table[columns["n"]].reset_index(drop=True), table="series", column="n")
        bad = np.flatnonzero(((out["n"] < 0) | (out["value"] < 0) | (out["value"] > 1)).to_numpy())
        if len(bad):
            raise InputError("series", "value", Message("error.series_rates"), rows=[int(b) + 2 for b in bad[:5]],
                             fix=Message("error.series_rates.fix"))
        out["x"] = out["value"] * out["n"]
    missing = out["date"].isna() | out["value"].isna()
    if missing.any():
        notes.append(Message("note.series_rows_missing", count=int(missing.sum())))
    out = out.loc[~missing].sort_values("date", kind="stable").reset_index(drop=True)
    if "n" not in out.columns:
        out["n"] = np.nan
    return out


# ---------------------------------------------------------------- charts


def _chart(series: pd.DataFrame, *, rate: bool, method: str, window: int, floor_zero: bool) -> tuple[pd.DataFrame, Limits]:
    x = series["value"].to_numpy(dtype="float64")
    if rate:
        n = series["n"].to_numpy(dtype="float64")
        p_bar = float(series["x"].sum() / series["n"].sum())
        binomial_sd = np.sqrt(p_bar * (1 - p_bar) / n)
        z = (x - p_bar) / np.where(binomial_sd > 0, binomial_sd, np.nan)
        sigma_z, mr_bar, dropped = robust_sigma(z, method=method)
        sigma = sigma_z * binomial_sd
        # for p′ the Limits record carries σ_z (per-point σ is σ_z·√(p̄(1−p̄)/n_i), in ``sigma``)
        limits = Limits(p_bar, float(sigma_z), mr_bar, dropped)
        centre = np.full(len(x), p_bar)
        scores = z / sigma_z if sigma_z > 0 else np.full(len(x), np.nan)
        moving_range = np.r_[np.nan, np.abs(np.diff(z))]
        mr_ucl = np.full(len(x), 3.267 * mr_bar)
    else:
        limits = xmr_limits(x, method=method)
        centre = np.full(len(x), limits.centre)
        sigma = np.full(len(x), limits.sigma)
        scores = (x - limits.centre) / limits.sigma if limits.sigma > 0 else np.full(len(x), np.nan)
        moving_range = np.r_[np.nan, np.abs(np.diff(x))]
        mr_ucl = np.full(len(x), limits.mr_ucl)
    lcl, ucl = centre - 3 * sigma, centre + 3 * sigma
    if floor_zero:
        lcl = np.maximum(lcl, 0.0)
    if rate:
        ucl = np.minimum(ucl, 1.0)
    values = pd.Series(x)
    rolling = values.rolling(window, min_periods=window)
    mean = rolling.mean()
    cv = rolling.std() / mean.where(mean > 0)
    chart = pd.DataFrame({"date": series["date"].to_numpy(), "value": x, "n": series["n"].to_numpy(dtype="float64"),
                          "centre": centre, "lcl": lcl, "ucl": ucl, "sigma": sigma, "moving_range": moving_range,
                          "mr_ucl": mr_ucl, "rolling_cv": cv.to_numpy(),
                          "signals": [", ".join(s) for s in run_rule_signals(scores)]})
    return chart, limits


def stability(data: Dataset | pd.DataFrame, *, measure: str = "volume", period: str = "day",
              start: Any = None, end: Any = None, filter: Any = None, horizon_days: Any = 30,
              method: str = "nelson") -> pd.DataFrame:
    """Control chart of a series: one row per period with ``date``, ``value``, ``n`` (consultations, or
    mature consultations for conversion), ``centre``, ``lcl``, ``ucl``, ``sigma``, ``moving_range``,
    ``mr_ucl``, ``rolling_cv`` and ``signals`` (the run rules firing at that point, comma-separated,
    empty when none).

    ``data`` is the prepared Dataset (``measure`` volume, cost or conversion; ``period`` day or
    week), or a series table with ``date`` and ``value`` columns charted as given (with an ``n``
    column the values are rates with their counts and get the p′ chart). ``attrs`` holds
    ``notes``, ``measure``, ``period``, ``method`` and ``dropped_moving_ranges``.

    Hand check: 10, 12, 11, 13, 12, 11, 12, 13, 11, 30 → MR = 2, 1, 2, 1, 1, 1, 1, 2, 19; MR̄ = 30/9 = 3.33
    and 19 > 3.5·3.33 is dropped, so MR̄ = 11/8 = 1.375, σ̂ = 1.219; 30 is beyond median 12 + 3σ̂, so
    the centre is the mean of the other nine, 105/9 = 11.667, and UCL = 11.667 + 3·1.219 = 15.32.

    >>> series = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=10),
    ...                        "value": [10, 12, 11, 13, 12, 11, 12, 13, 11, 30]})
    >>> stability(series)[["value", "centre", "ucl", "signals"]].tail(2).round(2)
       value  centre    ucl         signals
    8   11.0   11.67  15.32
    9   30.0   11.67  15.32  beyond_3_sigma
    """
    # a report charts the same measure for several sheets: once per dataset
    return _once_per_dataset(_dataset_chart, _chart_of, data, measure=measure, period=period, start=start, end=end,
                             filter=filter, horizon_days=horizon_days, method=method)


def _chart_of(data: Dataset | pd.DataFrame, *, measure: str, period: str, start: Any, end: Any, filter: Any,
              horizon_days: Any, method: str) -> pd.DataFrame:
    measure, period, method = (str(v).strip().lower() if v is not None else d for v, d in
                               ((measure, "volume"), (period, "day"), (method, "nelson")))
    for name, value, allowed in (("measure", measure, MEASURES), ("period", period, PERIODS),
                                 ("method", method, ("nelson", "median"))):
        if value not in allowed:
            raise InputError("options", name, Message("error.not_one_of", value=value, allowed=", ".join(allowed)),
                             fix=Message("error.use_one_of", allowed=" / ".join(allowed)))
    notes: list[str] = []
    if isinstance(data, Dataset):
        query = make_query(start=start, end=end, filter=filter, horizon_days=horizon_days)
        horizon = query.horizon_days or 30
        series = _dataset_series(data, measure, period, query, horizon, notes)
        notes = list(data.notes) + notes
        rate = measure == "conversion"
    elif isinstance(data, pd.DataFrame):
        series = _table_series(data, notes)
        rate = bool(series["n"].notna().all()) and "x" in series.columns
        measure = "conversion" if rate else measure
        notes.append(Message("note.series_as_given"))
    else:
        raise InputError(None, None, Message("error.not_prepared_or_series", got=type(data).__name__),
                         fix=Message("error.not_prepared_or_series.fix"))
    if len(series) < 2:
        raise InputError("series", "value", Message("error.too_few_periods", count=len(series)),
                         fix=Message("error.too_few_periods.fix"))
    window = 28 if period == "day" else 8
    # counts, costs and rates cannot go below 0, so neither can their lower limit; a pasted series may
    chart, limits = _chart(series, rate=rate, method=method, window=window,
                           floor_zero=bool((series["value"] >= 0).all()))
    if len(series) < 20:
        notes.append(Message("note.provisional_limits", count=len(series)))
    if limits.dropped:
        notes.append(Message("note.moving_ranges_dropped", count=limits.dropped, cutoff=NELSON_MR_CUTOFF))
    chart.attrs.update(notes=list(dict.fromkeys(notes)), measure=measure, period=period, method=method,
                       dropped_moving_ranges=limits.dropped)
    return chart


_dataset_chart = remembered(_chart_of)


def _once_per_dataset(remembered_form: Callable[..., Any], plain: Callable[..., Any], data: Dataset | pd.DataFrame,
                      **options: Any) -> Any:
    """A Dataset's answer made once and kept on it (``remembered``); a series or table passed in, each time.

    Told by type, not by a ``memo`` attribute: a table may have a column called "memo"."""
    return (remembered_form if isinstance(data, Dataset) else plain)(data, **options)


# ---------------------------------------------------------------- verdict


#: A sustained signal: at least CLUSTER_POINTS flagged points within CLUSTER_SPAN consecutive periods.
CLUSTER_POINTS, CLUSTER_SPAN = 3, 10


@dataclass(frozen=True)
class Assessment:
    """The verdict on one chart over its recent window (the last ``window`` periods).

    ``sustained``: rule → dates of the signals behind an "unstable" verdict; ``isolated``: rule →
    dates of recent signals too sparse (or resting on a single period) to be a change; ``earlier``:
    rule → dates of signals before the recent window; ``latest_cv``: the last rolling CV.
    """

    stable: bool
    sustained: dict[str, list[pd.Timestamp]]
    isolated: dict[str, list[pd.Timestamp]]
    earlier: dict[str, list[pd.Timestamp]]
    latest_cv: float
    periods: int
    window: int


def _clustered(flags: np.ndarray, first: int) -> bool:
    """≥ CLUSTER_POINTS flagged points within CLUSTER_SPAN consecutive periods, ending at or after ``first``."""
    return bool(_clustered_rows(np.asarray(flags)[None, :], first)[0])


def _sustained(scores: np.ndarray, first: int) -> bool:
    """A cluster of signals in the recent window that survives putting any single period on the centre line."""
    if not _clustered(_rule_matrix(scores).any(axis=1), first):
        return False
    for i in range(max(first - CLUSTER_SPAN, 0), len(scores)):
        neutral = scores.copy()
        neutral[i] = 0.0
        if not _clustered(_rule_matrix(neutral).any(axis=1), first):
            return False  # the signal rests on one period: a single-day swing, not a change
    return True


def _rule_matrix_rows(z: np.ndarray) -> np.ndarray:
    """Western Electric rules for many series at once: series × points × rules (rows of ``z`` are series;
    columns in RUN_RULES order). Each rule and side is a running count over its window; NaN never counts."""
    n_series, n = z.shape
    out = np.zeros((n_series, n, len(RUN_RULES)), dtype=bool)
    valid = np.isfinite(z)
    filled = np.where(valid, z, 0.0)
    for j, (window, needed, distance) in enumerate(RUN_RULES.values()):
        if n < window:
            continue
        for side in (1.0, -1.0):
            beyond = valid & (side * filled > distance)
            totals = _running(beyond)
            count = np.full((n_series, n), -1)
            count[:, window - 1:] = totals[:, window:] - totals[:, :-window]
            out[:, :, j] |= (count >= needed) & beyond
    return out


def _running(flags: np.ndarray) -> np.ndarray:
    """Per row, the count of flags before each point (a leading 0, then the running total): window counts are
    differences of it. (np.pad does the same zero column at ~10 times the cost, which adds up in assess_rows' loop.)"""
    totals = np.zeros((flags.shape[0], flags.shape[1] + 1), dtype=np.int64)
    np.cumsum(flags, axis=1, dtype=np.int64, out=totals[:, 1:])
    return totals


def _clustered_rows(flags: np.ndarray, first: int) -> np.ndarray:
    """Per row of a series × points matrix of flags: ≥ CLUSTER_POINTS flagged points within CLUSTER_SPAN
    consecutive periods, ending at or after ``first``."""
    totals = _running(flags)
    ends = np.arange(flags.shape[1])
    count = totals[:, ends + 1] - totals[:, np.maximum(ends + 1 - CLUSTER_SPAN, 0)]
    return ((count >= CLUSTER_POINTS) & (ends >= first)).any(axis=1)


def assess_rows(values: np.ndarray, *, window: int) -> tuple[np.ndarray, list[str | None], np.ndarray]:
    """:func:`assess` of the XmR chart (Nelson's moving-range drop) of every row of ``values`` at once.

    ``values`` is series × periods of whole counts (a portfolio's units × weeks). Returns, per
    series, whether it is stable, and for unstable ones the rule and period position of the latest
    signal behind the verdict (None and -1 for stable ones) — what :func:`assess` and
    :func:`xmr_limits` give one series at a time (``tests/calc/test_stability.py`` checks both agree).
    """
    x = np.asarray(values, dtype="float64")
    n_series, n = x.shape
    ranges = np.abs(np.diff(x, axis=1))
    mr_bar = ranges.mean(axis=1)
    keep = ranges <= NELSON_MR_CUTOFF * mr_bar[:, None]
    sigma = (ranges * keep).sum(axis=1) / np.maximum(keep.sum(axis=1), 1) / D2
    usable = np.isfinite(sigma) & (sigma > 0)
    # the centre leaves out points beyond median ± 3σ̂, as xmr_limits does
    typical = np.where(usable[:, None], np.abs(x - np.median(x, axis=1)[:, None]) <= 3 * sigma[:, None], True)
    count = typical.sum(axis=1)
    centre = np.where(count > 0, (x * typical).sum(axis=1) / np.maximum(count, 1), x.mean(axis=1))
    z = np.where(usable[:, None], (x - centre[:, None]) / np.where(usable, sigma, 1.0)[:, None], np.nan)
    first = max(n - window, 0)
    fired = _rule_matrix_rows(z)
    sustained = _clustered_rows(fired.any(axis=2), first)
    for i in range(max(first - CLUSTER_SPAN, 0), n):  # must survive putting any one period on the centre line
        rows = np.flatnonzero(sustained)
        if not len(rows):
            break
        neutral = z[rows].copy()
        neutral[:, i] = 0.0
        sustained[rows[~_clustered_rows(_rule_matrix_rows(neutral).any(axis=2), first)]] = False
    names = list(RUN_RULES)
    rules: list[str | None] = [None] * n_series
    where = np.full(n_series, -1)
    for row in np.flatnonzero(sustained):
        flagged = fired[row].any(axis=1)
        start = first if flagged[first:].any() else max(first - CLUSTER_SPAN, 0)
        hits = np.flatnonzero(flagged[start:]) + start
        if len(hits):
            where[row] = hits[-1]
            rules[row] = max(names[j] for j in np.flatnonzero(fired[row, hits[-1]]))
    return ~sustained, rules, where


def _by_rule(chart: pd.DataFrame, rows: np.ndarray) -> dict[str, list[pd.Timestamp]]:
    found: dict[str, list[pd.Timestamp]] = {}
    for date, signals in zip(chart["date"].to_numpy()[rows], chart["signals"].to_numpy()[rows]):
        for rule in filter(None, signals.split(", ")):
            found.setdefault(rule, []).append(pd.Timestamp(date))
    return found


def assess(chart: pd.DataFrame, *, window: int | None = None) -> Assessment:
    """Stable unless the recent window (default 28 periods for days, 8 for weeks) holds a sustained signal:
    ≥ 3 flagged points within 10 consecutive periods that does not vanish when any one period is put
    back on the centre line. Over 90 stable Poisson days this calls "unstable" about 1 time in 20
    while any single rule fires in most such series (tests/test_stability.py measures both).

    >>> dates = pd.date_range("2024-01-01", periods=6)
    >>> chart = pd.DataFrame({"date": dates, "value": [1, 9, 1, 1, 1, 1], "centre": 1.0, "sigma": 1.0,
    ...                       "rolling_cv": np.nan, "signals": ["", "beyond_3_sigma", "", "", "", ""]})
    >>> verdict = assess(chart)
    >>> verdict.stable, {rule: [str(d.date()) for d in days] for rule, days in verdict.isolated.items()}
    (True, {'beyond_3_sigma': ['2024-01-02']})
    """
    n = len(chart)
    if window is None:
        window = 28 if chart.attrs.get("period", "day") == "day" else 8
    first = max(n - window, 0)
    sigma = chart["sigma"].to_numpy(dtype="float64")
    scores = (chart["value"].to_numpy(dtype="float64") - chart["centre"].to_numpy(dtype="float64")) / \
        np.where(sigma > 0, sigma, np.nan)
    recent, before = np.arange(first, n), np.arange(0, first)
    flagged_recent = _by_rule(chart, recent)
    stable = not _sustained(scores, first)
    cv = chart["rolling_cv"].dropna()
    # a cluster may begin a few periods before the recent window: name its signals from there
    sustained = {} if stable else (flagged_recent or _by_rule(chart, np.arange(max(first - CLUSTER_SPAN, 0), n)))
    return Assessment(stable, sustained, flagged_recent if stable else {},
                      _by_rule(chart, before), float(cv.iloc[-1]) if len(cv) else np.nan, n, min(window, n))


def _evidence(found: dict[str, list[pd.Timestamp]]) -> tuple[list[Message], int, pd.Timestamp]:
    """Which rules fired (in words), how many signals, and the latest date: the evidence, not the list."""
    days = [d for dates in found.values() for d in dates]
    return [Message(f"code.signals.{rule}") for rule in found], len(days), max(days)


def _cost_check(data: Dataset, start: Any, end: Any, filter: Any) -> Message:
    """Whether the typical consultation cost is affordable: :func:`calc.roi.cost_affordability`, the one
    definition every output shares (the chart's centre line is an average of weekly ratios, not it)."""
    from . import roi  # the full-cycle figures live in roi; imported here so stability works without them

    check = roi.cost_affordability(data, start=start, end=end, filter=filter)
    typical, ceiling, conservative = check["typical"], check["ceiling"], check["conservative"]
    if check["verdict"] == "unknown":
        return Message("stability.cost_unknown")
    answer = {"within": "yes", "within_not_conservative": "only_just", "above": "no"}[check["verdict"]]
    key = "stability.cost_check_conservative" if pd.notna(conservative) else "stability.cost_check"
    return Message(key, answer=Message(f"stability.cost_{answer}"), typical=typical, ceiling=ceiling,
                   conservative=conservative, currency=data.settings.currency)


def stability_verdict(data: Dataset | pd.DataFrame, *, measure: str = "volume", period: str = "day",
                      start: Any = None, end: Any = None, filter: Any = None, horizon_days: Any = 30,
                      method: str = "nelson") -> Message:
    """One sentence of conclusion (stable or not, over which window), then the evidence: the rules that
    fired, how many signals, the latest date; the rolling CV and, for cost, whether the typical
    consultation cost is within the maximum affordable consultation cost. Every flagged period is listed
    in the chart's ``signals`` column, not in the sentence.

    >>> series = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=30),
    ...                        "value": [10, 12, 11, 13, 12, 11] * 5})
    >>> str(stability_verdict(series))
    'Value (daily) is stable over the last 28 days. No run-rule signal. Rolling 28-day CV 8.3%.'
    """
    # the Dashboard and the Stability sheet both say it: once per dataset
    return _once_per_dataset(_dataset_verdict, _verdict_of, data, measure=measure, period=period, start=start,
                             end=end, filter=filter, horizon_days=horizon_days, method=method)


def _verdict_of(data: Dataset | pd.DataFrame, *, measure: str, period: str, start: Any, end: Any, filter: Any,
                horizon_days: Any, method: str) -> Message:
    chart = stability(data, measure=measure, period=period, start=start, end=end, filter=filter,
                      horizon_days=horizon_days, method=method)
    verdict = assess(chart)
    measure = chart.attrs["measure"]
    label = Message(f"stability.measure.{measure}" if isinstance(data, Dataset)
                    else "stability.measure.conversion" if measure == "conversion" else "stability.measure.value")
    daily = chart.attrs["period"] == "day"
    cadence = Message("stability.daily" if daily else "stability.weekly")
    unit = Message("stability.days" if daily else "stability.weeks", count=verdict.window)
    common = dict(measure=label, cadence=cadence, window=verdict.window, unit=unit)
    parts: list[Message] = []
    if verdict.stable:
        parts.append(Message("stability.verdict_stable", **common))
        if verdict.isolated:
            rules, count, latest = _evidence(verdict.isolated)
            parts.append(Message("stability.evidence_isolated", rules=rules, count=count, latest=latest))
        else:
            parts.append(Message("stability.evidence_none"))
    else:
        parts.append(Message("stability.verdict_unstable", **common))
        rules, count, latest = _evidence(verdict.sustained)
        parts.append(Message("stability.evidence_sustained", rules=rules, count=count, latest=latest))
    if verdict.earlier:
        flagged = sorted({d for dates in verdict.earlier.values() for d in dates})
        parts.append(Message("stability.evidence_earlier", count=len(flagged), latest=flagged[-1]))
    window = Message("stability.cv_window_day" if daily else "stability.cv_window_week")
    parts.append(Message("stability.cv", window=window, cv=verdict.latest_cv) if pd.notna(verdict.latest_cv)
                 else Message("stability.cv_unknown", window=window))
    if measure == "cost" and isinstance(data, Dataset):
        parts.append(_cost_check(data, start, end, filter))
    return Message("stability.verdict", parts=parts)


_dataset_verdict = remembered(_verdict_of)
