"""The validated data model: Spend, Leads and Deals read into canonical frames, once.

``prepare`` is calc's public entry for data. It checks everything the analyses rely on and
records every row it leaves out (:class:`~calc.errors.Exclusion`), so the analyses trust their
input and the report can say how many rows were excluded and why.

Canonical frames (dimension columns are string categoricals, blanks as ``(blank)``):

* ``spend``: ``date`` (datetime64, NaT for dateless exports), ``cost`` and, where given,
  ``consultations``, ``deals``, ``revenue``, ``clicks``, ``impressions`` as floats;
* ``leads``: ``lead_id`` (whole numbers where every id in Leads and Deals is one, else text), ``date``; then per lead from Deals: ``won_date`` (first deal),
  ``days_to_close`` (whole days, first deal), ``n_deals``, ``revenue``, ``gross_profit``;
* ``deals``: ``lead_id``, ``date`` (won), ``revenue``, ``gross_profit``, ``lead_date``,
  ``days_to_close`` and the lead's dimensions.

Every frame also carries ``_day`` (its date as an int32 day number since 1970) and Deals carry
``_lead_day`` and ``_first_deal`` (the deal that converts its lead): made once here so the analyses
group, filter and count with integer arrays instead of a million datetimes per question.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .errors import Exclusion, InputError, describe_rows, rows_message, sheet_rows
from .messages import Message
from .filters import BLANK
from .memo import DAY_TOTALS, kept
from .parallel import run_together
from .parsing import (EXCEL_ERRORS, FIRST_PLAUSIBLE, LAST_PLAUSIBLE, number_column_marks, parse_dates,
                      parse_numbers)
from .outcomes import LOST, OPEN, WON, classify_status
from .pipeline import same_table, split_pipeline
from .schema import TABLES, fold, missing_required, resolve_columns
from .settings import Settings

NUMBER_COLUMNS = {c.name for cols in TABLES.values() for c in cols if c.kind == "number"}
#: On Deals while they are read: each row's outcome (calc.outcomes WON / LOST / OPEN).
OUTCOME = "_outcome"

#: Each row's date as a whole day number (days since 1970-01-01, int32), made once here so that periods,
#: key codes and date checks are integer gathers instead of million-row calendar arithmetic on datetimes.
DAY = "_day"
#: On Deals: the day number of the deal's consultation (its inquiry date).
LEAD_DAY = "_lead_day"
#: On Deals: True for each consultation's first deal (the one that converts it; repeat orders are False).
FIRST_DEAL = "_first_deal"
#: On the aggregated form (calc.aggregates): how many rows of the table one aggregate row stands for.
#: Row tables have no such column (every row stands for itself): :func:`weights_of` gives None for them,
#: and every count below is ``np.bincount(..., weights=weights_of(frame))`` either way, one code path.
WEIGHT = "_n"
#: The day number of a missing date (dateless Spend exports).
NO_DAY = np.iinfo(np.int32).min
_DAY_NS = 86_400_000_000_000


def with_columns(frame: pd.DataFrame, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A new frame: ``frame`` with ``columns`` replaced or added (at the end), the other columns shared.

    Unlike ``assign`` (a full copy in pandas 2) or ``frame[c] = array`` (which copies the array in
    pandas 3), nothing of a million rows is copied; the frame passed in is left as it was.

    >>> base = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    >>> with_columns(base, {"b": [5, 6], "c": [7, 8]}).to_dict("list"), list(base.columns)
    ({'a': [1, 2], 'b': [5, 6], 'c': [7, 8]}, ['a', 'b'])
    """
    merged = {c: columns[c] if c in columns else frame[c] for c in frame.columns}
    merged.update({c: v for c, v in columns.items() if c not in merged})
    return pd.DataFrame(merged, index=frame.index, copy=False)


def weights_of(frame: pd.DataFrame) -> np.ndarray | None:
    """The rows each row of ``frame`` stands for (float64), or None for a table of rows (each counts once)."""
    return frame[WEIGHT].to_numpy(dtype=np.float64) if WEIGHT in frame.columns else None


def rows_in(frame: pd.DataFrame) -> float:
    """How many rows ``frame`` stands for: its length, or the sum of its weights when aggregated."""
    weights = weights_of(frame)
    return float(len(frame)) if weights is None else float(weights.sum())


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int32 (floor, so a time of day does not matter); NaT as ``NO_DAY``.

    >>> day_numbers(pd.Series(pd.to_datetime(["1970-01-02 13:00", None]))).tolist()
    [1, -2147483648]
    """
    ns = dates.to_numpy(dtype="datetime64[ns]").view("int64")
    days = (ns // _DAY_NS).astype(np.int32)
    missing = ns == np.iinfo(np.int64).min
    if missing.any():
        days[missing] = NO_DAY
    return days


@dataclass(frozen=True)
class Dataset:
    """Validated input tables plus settings; build it with :func:`prepare`."""

    spend: pd.DataFrame | None
    leads: pd.DataFrame | None
    deals: pd.DataFrame | None
    settings: Settings
    as_of: pd.Timestamp | None
    spend_dims: tuple[str, ...] = ()
    lead_dims: tuple[str, ...] = ()
    has_revenue: bool = False
    has_gross_profit: bool = False
    #: Deals carried a status column: leads have ``lost_date`` / ``days_to_lose`` (calc.outcomes)
    has_outcomes: bool = False
    exclusions: tuple[Exclusion, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: results already computed from this data (calc.memo); not part of the data itself
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property  # asked by every query; a frozen dataclass still lets cached_property fill __dict__
    def spend_dated(self) -> bool:
        return self.spend is not None and bool((self.spend[DAY].to_numpy() != NO_DAY).any())

    @cached_property
    def spend_all_positive(self) -> bool:
        """Every Spend row has a cost above zero, so a segment has spend rows exactly where its spend is > 0."""
        return self.spend is not None and bool((self.spend["cost"].to_numpy() > 0).all())

    @cached_property
    def as_of_day(self) -> int | None:
        """The as-of date as a day number (days since 1970), like the ``_day`` columns."""
        return None if self.as_of is None else int(day_numbers(pd.Series([self.as_of]))[0])

    def messages(self, language: str = "en") -> list[str]:
        """Notes and exclusions as plain sentences in ``language``, for a report footer or stderr."""
        from .messages import render

        return [render(m, language) for m in (*self.notes, *self.exclusions)]


def _frame(table: str, value: Any) -> pd.DataFrame | None:
    if value is None:
        return None
    if not isinstance(value, pd.DataFrame):
        raise InputError(table, None, Message("error.not_a_table", got=type(value).__name__),
                         fix=Message("error.not_a_table.fix"))
    if value.shape[1] == 0:
        raise InputError(table, None, Message("error.no_columns"), fix=Message("error.no_columns.fix", table=table))
    frame = value.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _rename(table: str, frame: pd.DataFrame, mapping: Mapping[str, str] | None) -> pd.DataFrame:
    renames = resolve_columns(table, list(frame.columns), mapping)
    # relabelled in place, not ``frame.rename`` (a second copy of every column, ~0.1 s at 1M rows): ``frame``
    # is already prepare's own copy (``_frame``, or a table split from one), never the caller's
    frame.columns = [renames.get(c, c) for c in frame.columns]
    missing = missing_required(table, set(frame.columns))
    if missing:
        _header_below(table, frame)
        col = missing[0]
        raise InputError(table, col.name, Message("error.column_not_found", have=", ".join(map(str, renames))),
                         fix=Message("error.column_not_found.fix", meaning=Message(f"meaning.{table}.{col.name}"),
                                     column=col.name, mapping=f"{table.lower()}.{col.name}"))
    return frame


#: Names calc gives its own columns (per-lead roll-ups, the figures of every result table): a segment
#: column called so would be overwritten by them, or overwrite them in a result.
RESERVED_NAMES = frozenset({c.name for cols in TABLES.values() for c in cols} | {
    "won_date", "days_to_close", "n_deals", "lead_date", "spend", "consult_cost", "conversion_rate", "converted",
    "deals_observed", "deals_projected", "cycle_roi", "full_cycle_conversion", "mean_days_to_close",
    "median_days_to_close", "gross_profit_observed", "gross_profit_projected", "segment", "period", "cohort",
    "shrunk_conversion", "conversion_low", "conversion_high", "cost_allocated", "rank", "verdict"})


def _keep_segments_apart(table: str, frame: pd.DataFrame, log: "_Collector") -> pd.DataFrame:
    """A segment column named like one of calc's own columns ('revenue' in Leads, 'deals' as a
    segment) is kept under '<name> (segment)', with a note, instead of clobbering or being clobbered."""
    canonical = {c.name for c in TABLES[table]}
    clash = {c: f"{c} (segment)" for c in frame.columns if c not in canonical and
             (fold(c) in _RESERVED_FOLDED or str(c).startswith("_"))}
    if not clash:
        return frame
    log.notes.append(Message("note.segment_renamed", table=table, count=len(clash),
                             columns=", ".join(repr(c) for c in clash), renamed=", ".join(repr(v) for v in clash.values())))
    return frame.rename(columns=clash)


_RESERVED_FOLDED = frozenset(fold(n) for n in RESERVED_NAMES)


def _header_below(table: str, frame: pd.DataFrame) -> None:
    """A title or merged cells above the header push the column names into the data: say where they are."""
    for position in range(min(len(frame), 5)):
        cells = [str(v).strip() for v in frame.iloc[position].tolist() if isinstance(v, str) and v.strip()]
        try:
            targets = set(resolve_columns(table, cells).values())
        except InputError:
            continue
        if cells and not missing_required(table, targets):
            row = sheet_rows([frame.index[position]])
            raise InputError(table, None, Message("error.header_below", row=str(row[0])), rows=row,
                             fix=Message("error.header_below.fix"))


#: Labels of the totals rows exports put at the bottom ("Total: Account", "Grand total", 合计, 합계, Jumlah).
_TOTAL_LABEL = re.compile(r"^\s*(grand\s*|sub\s*)?totals?\b|^\s*(合计|总计|總計|合計|小计|小計|합계|총계|소계|"
                          r"jumlah|summe|sum)\b", re.IGNORECASE)


def _is_totals_row(row: pd.Series, keys: list[str]) -> bool:
    """A row with a totals label in its date or id cell, or anywhere when those cells are blank."""
    def label(value: Any) -> bool:
        return isinstance(value, str) and bool(_TOTAL_LABEL.match(unicodedata.normalize("NFKC", value)))

    if not any(label(v) for v in row.tolist()):
        return False
    if any(label(row[k]) for k in keys):
        return True
    return all(pd.isna(row[k]) or (isinstance(row[k], str) and not row[k].strip()) for k in keys)


def _drop_totals(frame: pd.DataFrame, table: str, log: "_Collector") -> pd.DataFrame:
    """Totals rows pasted at the bottom would count every amount twice: exclude them, counted.

    Only the last few rows are looked at, and a row with a real date or id is never a totals row,
    so a campaign called "Total Fitness" in the middle of the table stays.
    """
    keys = [c for c in ("date", "lead_id") if c in frame.columns]
    mask = np.zeros(len(frame), dtype=bool)
    for position in range(len(frame) - 1, max(len(frame) - 6, -1), -1):
        if not _is_totals_row(frame.iloc[position], keys):
            break
        mask[position] = True
    return log.exclude(frame, mask, table, "totals")


def _drop_empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with nothing in any cell (the blank tail of a pasted range) carry no data; drop them.

    Numeric and date columns go first: they rule out almost every row cheaply, so text columns are
    only looked at for the few rows still in question.
    """
    candidates = None  # every row, until the first column rules most of them out
    order = sorted(frame.columns, key=lambda c: pd.api.types.is_object_dtype(frame[c].dtype)
                   or pd.api.types.is_string_dtype(frame[c].dtype))
    for column in order:
        values = frame[column] if candidates is None else frame[column].iloc[candidates]
        blank = values.isna().to_numpy()
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            blank = blank | values.astype(object).map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(bool)
        candidates = np.flatnonzero(blank) if candidates is None else candidates[blank]
        if not len(candidates):
            return frame
    return frame.drop(index=frame.index[candidates])


def _text_uniques(uniques: Any) -> np.ndarray:
    """Distinct values as stripped text; integral floats (123.0 from Excel) as '123'. Vectorised by type."""
    values = pd.Index(uniques)
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(str).to_numpy(dtype=object)
    if pd.api.types.is_float_dtype(values.dtype):
        array = values.to_numpy(dtype="float64")
        integral = np.isfinite(array) & (array == np.round(array))
        out = values.astype(str).to_numpy(dtype=object)
        out[integral] = array[integral].astype(np.int64).astype(str)
        return out
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.strftime("%Y-%m-%d").to_numpy(dtype=object)
    if pd.api.types.is_string_dtype(values.dtype) and all(isinstance(v, str) for v in values[:1000]):
        text = values.astype(str)
        if len(text) and all(isinstance(v, str) for v in values):
            return text.str.strip().to_numpy(dtype=object)
    out = []
    for u in values:  # mixed types (a range with numbers and text): few distinct values in practice
        if isinstance(u, (float, np.floating)) and float(u).is_integer():
            u = int(u)
        out.append(str(u).strip())
    return np.array(out, dtype=object)


#: Characters that show as nothing (zero-width spaces and joiners, the byte-order mark): pasted from web
#: pages and chat, they make two equal-looking ids differ.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
#: Whole numbers beyond this are not stored exactly as Excel numbers (15 significant digits).
_EXACT_FLOAT = 2**53


def _clean_id_text(ids: np.ndarray) -> np.ndarray:
    """Harmless differences in how an id is written removed: full-width digits and letters, non-breaking
    and zero-width spaces, surrounding spaces, and the '.0' a spreadsheet adds to a whole number."""
    out = np.empty(len(ids), dtype=object)
    for j, text in enumerate(ids):  # distinct ids only
        if text.isascii():
            cleaned = text.strip()
        else:
            cleaned = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).strip()
        if cleaned.endswith(".0") and _WHOLE_WITH_ZEROS.match(cleaned):
            cleaned = cleaned.split(".", 1)[0]
        out[j] = cleaned
    return out


_WHOLE_WITH_ZEROS = re.compile(r"^\d+\.0+$")


def _ids(values: pd.Series, table: str = "Leads") -> pd.Series:
    """Ids as text; 123.0 from a spreadsheet becomes '123', blanks stay missing.

    Numeric ids stay numbers here (a million of them compare far faster than text);
    :func:`_same_id_type` settles the final type once both tables are known.
    """
    if values.dtype == np.uint64 and len(values) and values.max() > np.iinfo(np.int64).max:
        values = values.astype(str)  # beyond int64 they would wrap around and collide: compare them as text
    elif pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_extension_array_dtype(values.dtype):
        return values.astype("int64")
    if pd.api.types.is_float_dtype(values.dtype) and not pd.api.types.is_extension_array_dtype(values.dtype):
        array = values.to_numpy()
        present = ~np.isnan(array)
        inexact = np.flatnonzero(present & ~(np.abs(array) < _EXACT_FLOAT))
        if len(inexact):
            raise InputError(table, "lead_id", Message("error.id_too_long", example=f"{array[inexact[0]]:.0f}"),
                             rows=sheet_rows(inexact[:5]), fix=Message("error.id_too_long.fix"))
        if (array[present] == np.round(array[present])).all():
            return values
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.append(_clean_id_text(_text_uniques(uniques)), None)
    lookup[lookup == ""] = None
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def _same_id_type(*frames: pd.DataFrame | None) -> list[pd.DataFrame | None]:
    """Whole-number ids in every table become int64; if any table has text ids, all become text."""
    present = [f for f in frames if f is not None]
    numeric = all(pd.api.types.is_numeric_dtype(f["lead_id"].dtype) for f in present)
    out = []
    for frame in frames:
        if frame is not None:
            ids = frame["lead_id"]
            if numeric and ids.dtype == np.int64:
                out.append(frame)  # already final: no copy of a million-row frame
                continue
            if numeric:
                ids = ids.astype("int64")
            elif pd.api.types.is_numeric_dtype(ids.dtype):
                codes, uniques = pd.factorize(ids)
                ids = pd.Series(_text_uniques(uniques)[codes], index=ids.index, dtype=object)
            frame = frame.copy(deep=False)
            frame["lead_id"] = ids
        out.append(frame)
    return out


def _check_id_errors(frame: pd.DataFrame, table: str) -> None:
    """'#N/A' from a failed lookup is no id: as text it would join every other '#N/A' as one lead."""
    ids = frame["lead_id"]
    if ids.dtype != object:
        return
    errors = np.flatnonzero(ids.isin(list(EXCEL_ERRORS)).to_numpy())
    if len(errors):
        found = ", ".join(sorted(set(ids.iloc[errors])))
        raise InputError(table, "lead_id", Message("error.excel_errors", found=found),
                         rows=sheet_rows(frame.index.to_numpy()[errors[:5]]), fix=Message("error.excel_errors_id.fix"))


def _categorical(values: pd.Series) -> pd.Categorical | pd.Series:
    """A dimension as sorted categories of text, blanks (empty, spaces, missing) as ``(blank)``."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # already coded (Parquet, a previous prepare): reuse
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = _text_uniques(uniques)
    labels[labels == ""] = BLANK
    categories, remap = np.unique(np.append(labels, BLANK).astype(str), return_inverse=True)
    dtype = pd.CategoricalDtype(categories)
    if (isinstance(values.dtype, pd.CategoricalDtype) and len(uniques) == len(categories)
            and np.array_equal(np.asarray(uniques, dtype=object).astype(str), categories) and not (codes < 0).any()):
        return values  # clean, sorted and complete already (a previous prepare): nothing to recode
    # equal labels after cleaning (' Search' and 'Search') share one category; the remap is made as small
    # as the codes (int8 for a few categories), so the one gather over a million rows is all it costs
    size = len(categories)
    remap = remap.reshape(-1).astype(np.int8 if size < 2**7 else np.int16 if size < 2**15 else np.int32)
    if codes.dtype == np.int8 and size < 2**7:
        # one byte per code: a byte-to-byte table (bytes.translate) recodes a million rows in under a
        # millisecond, 5 × faster than fancy indexing, which first widens every code to 64 bits
        table = np.zeros(256, dtype=np.int8)
        table[:len(remap) - 1], table[255] = remap[:-1], remap[-1]  # code -1 (missing) is byte 255
        # into a bytearray: the result is writable without a third copy of the column
        recoded = np.frombuffer(bytearray(np.ascontiguousarray(codes)).translate(table.tobytes()), dtype=np.int8)
        return pd.Categorical.from_codes(recoded, dtype=dtype, validate=False)
    return pd.Categorical.from_codes(remap[codes], dtype=dtype, validate=False)


def _dims(frame: pd.DataFrame, canonical: set[str]) -> tuple[str, ...]:
    """The segment columns: every column that is not one of the table's own."""
    canonical = canonical | {DAY, LEAD_DAY, FIRST_DEAL, WEIGHT}
    return tuple(c for c in frame.columns if c not in canonical)


class _Collector:
    def __init__(self) -> None:
        self.exclusions: list[Exclusion] = []
        self.notes: list[str] = []

    def exclude(self, frame: pd.DataFrame, mask: np.ndarray, table: str, reason: Any, fix: Any = None,
                **params: Any) -> pd.DataFrame:
        """Drop rows where mask is True, recording them with their sheet rows. ``reason`` and ``fix`` are
        Messages, or (``fix`` left out) ``reason`` is a catalogue id: ``exclusion.<id>`` and ``exclusion.<id>.fix``."""
        if not mask.any():
            return frame
        if fix is None:
            reason, fix = Message(f"exclusion.{reason}", **params), Message(f"exclusion.{reason}.fix", **params)
        positions = frame.index.to_numpy()[mask]
        self.exclusions.append(Exclusion(table, reason, int(mask.sum()), sheet_rows(positions[:5]), fix))
        return frame.loc[~mask]


def _read_dates(frame: pd.DataFrame, table: str, settings: Settings, log: _Collector) -> pd.DataFrame:
    column = frame["date"]
    if pd.api.types.is_datetime64_dtype(column.dtype):  # already dates (Parquet, a datetime column): one pass
        try:
            (dates, days), note = _midnight(column), None
        except _OutOfRange:  # parse_dates says which dates, in which rows, as for a date typed as text
            parse_dates(column, table=table, column="date", ambiguous=settings.ambiguous_dates)
            raise
    else:
        dates, note = parse_dates(column, table=table, column="date", ambiguous=settings.ambiguous_dates)
        days = day_numbers(dates)
    if note:
        log.notes.append(note)
    return with_columns(frame, {"date": dates, DAY: days})


#: The days a date may fall on: the window parse_dates accepts (a year outside it is a typo).
_FIRST_DAY, _LAST_DAY = (int(d.astype("datetime64[D]").astype(np.int64)) for d in (FIRST_PLAUSIBLE, LAST_PLAUSIBLE))


class _OutOfRange(ValueError):
    """A date outside FIRST_PLAUSIBLE … LAST_PLAUSIBLE."""


def _midnight(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Timezone-naive datetimes as (midnight datetime64[ns], day numbers), from one floor division.

    >>> dates, days = _midnight(pd.Series(pd.to_datetime(["2024-03-01 17:45", None])))
    >>> [str(d)[:19] for d in dates], days.tolist()
    (['2024-03-01T00:00:00', 'NaT'], [19783, -2147483648])
    """
    values = dates.to_numpy()
    unit, _ = np.datetime_data(values.dtype)  # Parquet dates arrive in ms: divide in their own unit, no ns copy
    per_day = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": _DAY_NS}.get(unit)
    if per_day is None:
        values, per_day = values.astype("datetime64[ns]"), _DAY_NS
    ticks = values.view("int64")
    days = ticks // per_day
    # the usual case, every date present and plausible, is told by the extremes alone: no masks
    if len(days) and _FIRST_DAY <= days.min() and days.max() <= _LAST_DAY:
        return np.multiply(days, _DAY_NS).view("datetime64[ns]"), days.astype(np.int32)
    missing = ticks == np.iinfo(np.int64).min
    outside = ~missing & ((days < _FIRST_DAY) | (days > _LAST_DAY))
    if outside.any():
        raise _OutOfRange("dates out of range")
    midnight = days * _DAY_NS
    if missing.any():
        midnight[missing] = np.iinfo(np.int64).min
        days[missing] = NO_DAY
    return midnight.view("datetime64[ns]"), days.astype(np.int32)


#: Notes on the tables, said alike for rows and for a warehouse's aggregates.
NO_DEALS_NOTE = Message("note.no_deals")
NO_SPEND_NOTE = Message("note.no_spend")
UNDATED_SPEND_NOTE = Message("note.spend_no_date_column")

#: Why rows are left out, and the fix, by (table, cause): one wording for rows and for a warehouse's counts
#: (addin.sources counts the same causes where the data lives); the words are the catalogue's.
_EXCLUDED_IDS = {("Spend", "no date"): "spend_no_date", ("Spend", "blank cost"): "blank_cost",
                 ("Spend", "negative cost"): "negative_cost", ("Leads", "no id"): "leads_no_id",
                 ("Leads", "no date"): "leads_no_date", ("Leads", "repeated id"): "leads_repeated",
                 ("Deals", "no id"): "deals_no_id", ("Deals", "no date"): "deals_no_date",
                 ("Deals", "repeated deal"): "deals_repeated", ("Deals", "unknown lead"): "unknown_lead",
                 ("Deals", "before inquiry"): "won_before_inquiry"}
EXCLUDED: dict[tuple[str, str], tuple[str, Message, Message]] = {
    key: (key[0], Message(f"exclusion.{name}"), Message(f"exclusion.{name}.fix")) for key, name in _EXCLUDED_IDS.items()}


def _prepare_spend(raw: pd.DataFrame, mapping, settings: Settings, log: _Collector) -> pd.DataFrame:
    frame = _drop_totals(_drop_empty_rows(_keep_segments_apart("Spend", _rename("Spend", raw, mapping), log)),
                         "Spend", log)
    _read_numbers(frame, "Spend", [c for c in frame.columns if c in NUMBER_COLUMNS], settings)
    if "date" in frame.columns:
        frame = _read_dates(frame, "Spend", settings, log)
        frame = log.exclude(frame, frame["date"].isna().to_numpy(), *EXCLUDED["Spend", "no date"])
    else:
        frame["date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        frame[DAY] = np.full(len(frame), NO_DAY, dtype=np.int32)
        log.notes.append(UNDATED_SPEND_NOTE)
    frame = log.exclude(frame, frame["cost"].isna().to_numpy(), *EXCLUDED["Spend", "blank cost"])
    frame = log.exclude(frame, (frame["cost"] < 0).to_numpy(), *EXCLUDED["Spend", "negative cost"])
    for column in ("consultations", "deals", "revenue", "clicks", "impressions"):
        if column in frame.columns:
            negative = np.flatnonzero((frame[column] < 0).to_numpy())
            if len(negative):
                raise InputError("Spend", column, Message("error.negative"), rows=sheet_rows(frame.index[negative[:5]]),
                                 fix=Message("error.negative.fix"))
    return frame


#: Columns that count things: 1.500 there can only be one thousand five hundred.
COUNT_COLUMNS = ("consultations", "deals", "clicks", "impressions")


def _read_numbers(frame: pd.DataFrame, table: str, columns: list[str], settings: Settings) -> None:
    """Number columns in place, each with one decimal mark: its own values', else its table's, else the setting's."""
    read, table_mark = number_column_marks(frame, columns, table=table)
    fallback = table_mark or (None if settings.decimal_mark == "auto" else settings.decimal_mark)
    for column in columns:
        frame[column] = parse_numbers(frame[column], table=table, column=column, percent=False,
                                      decimal_mark=fallback, whole=column in COUNT_COLUMNS, read=read.get(column))


def _read_id_table(table: str, raw: pd.DataFrame, mapping, settings: Settings, log: _Collector) -> pd.DataFrame:
    """What Leads and Deals share: headers, blank and totals rows, ids, dates."""
    frame = _drop_totals(_drop_empty_rows(_keep_segments_apart(table, _rename(table, raw, mapping), log)), table, log)
    frame["lead_id"] = _ids(frame["lead_id"], table)
    _check_id_errors(frame, table)
    return _read_dates(frame, table, settings, log)


def _prepare_leads(raw: pd.DataFrame, mapping, settings: Settings, log: _Collector) -> pd.DataFrame:
    frame = _read_id_table("Leads", raw, mapping, settings, log)
    frame = log.exclude(frame, frame["lead_id"].isna().to_numpy(), *EXCLUDED["Leads", "no id"])
    frame = log.exclude(frame, frame["date"].isna().to_numpy(), *EXCLUDED["Leads", "no date"])
    frame = log.exclude(frame, _repeated(frame["lead_id"]), *EXCLUDED["Leads", "repeated id"])
    return frame


def _repeated(ids: pd.Series) -> np.ndarray:
    """True for each id already seen higher up. Ids listed in increasing order (as most CRMs export them)
    are checked with one comparison of neighbours instead of a hash of a million ids."""
    values = ids.to_numpy()
    if values.dtype.kind in "iu" and len(values) > 1 and (values[1:] > values[:-1]).all():
        return np.zeros(len(values), dtype=bool)
    return ids.duplicated().to_numpy()


def _prepare_deals(raw: pd.DataFrame, mapping, settings: Settings, log: _Collector) -> pd.DataFrame:
    frame = _read_id_table("Deals", raw, mapping, settings, log)
    _read_numbers(frame, "Deals", [c for c in ("revenue", "gross_profit") if c in frame.columns], settings)
    frame = log.exclude(frame, frame["lead_id"].isna().to_numpy(), *EXCLUDED["Deals", "no id"])
    if "status" in frame.columns:  # a CRM export: won rows are deals, lost rows outcomes, open rows neither
        outcome = classify_status(frame["status"], table="Deals", won=settings.won_status,
                                  lost=settings.lost_status, open=settings.open_status)
        frame = with_columns(frame.drop(columns="status"), {OUTCOME: outcome}).loc[outcome != OPEN]
        frame = log.exclude(frame, frame["date"].isna().to_numpy(), "Deals", "outcome_no_date")
        won = frame[OUTCOME].to_numpy() == WON
        repeated = np.zeros(len(frame), dtype=bool)
        repeated[won] = _repeated_deals(frame.loc[won])
    else:
        frame = log.exclude(frame, frame["date"].isna().to_numpy(), *EXCLUDED["Deals", "no date"])
        repeated = _repeated_deals(frame)
    frame = log.exclude(frame, repeated, *EXCLUDED["Deals", "repeated deal"])
    return frame


def _repeated_deals(frame: pd.DataFrame) -> np.ndarray:
    """True for each deal already listed higher up with the same lead, date and amounts.

    Only deals whose lead_id occurs more than once can repeat: those few are compared in full, instead
    of hashing four columns of every deal (14 ms for 100k deals; one sort of whole-number ids, 0.6 ms,
    usually shows there are none).
    """
    key = [c for c in ("lead_id", "date", "revenue", "gross_profit") if c in frame.columns]
    ids = frame["lead_id"].to_numpy()
    repeated = np.zeros(len(frame), dtype=bool)
    if ids.dtype.kind in "iu":
        ordered = np.sort(ids)
        if not (ordered[1:] == ordered[:-1]).any():
            return repeated
    shared = np.flatnonzero(frame["lead_id"].duplicated(keep=False).to_numpy())
    if len(shared):
        repeated[shared[frame.iloc[shared].duplicated(subset=key).to_numpy()]] = True
    return repeated


def _gross_profit(frame: pd.DataFrame, settings: Settings, log: _Collector) -> tuple[bool, bool]:
    has_revenue = "revenue" in frame.columns and bool(frame["revenue"].notna().any())
    margin = settings.gross_margin
    if "gross_profit" not in frame.columns:
        frame["gross_profit"] = frame["revenue"] * margin if (has_revenue and margin is not None) else np.nan
        if has_revenue and margin is None:
            log.notes.append(Message("note.revenue_without_margin"))
    elif has_revenue and margin is not None:
        frame["gross_profit"] = frame["gross_profit"].fillna(frame["revenue"] * margin)
    if "revenue" not in frame.columns:
        frame["revenue"] = np.nan
    return has_revenue, bool(frame["gross_profit"].notna().any())


def prepare(spend: pd.DataFrame | None = None, leads: pd.DataFrame | None = None,
            deals: pd.DataFrame | None = None, *, pipeline: pd.DataFrame | None = None,
            mapping: Mapping[str, Mapping[str, str]] | None = None,
            settings: Settings | Mapping[str, Any] | None = None) -> Dataset:
    """Validate and normalise the input tables; the one entry every analysis starts from.

    ``mapping`` is {table: {canonical or new name: your header}}, e.g.
    ``{"Leads": {"date": "Eingang"}}``; it wins over the built-in aliases.

    ``pipeline`` is a CRM opportunity export that is Leads and Deals in one (:mod:`calc.pipeline`); the
    same table given as both ``leads`` and ``deals`` is read the same way. Deals (or the pipeline) may
    carry a ``status``: won rows are deals, lost rows are outcomes — each lead gets ``lost_date`` and
    ``days_to_lose`` — and open rows are neither (:mod:`calc.outcomes`).

    >>> leads = pd.DataFrame({"mql_id": ["a", "b", "c"], "first_contact_date": ["01-02-2018", "13-02-2018", "14-02-2018"]})
    >>> deals = pd.DataFrame({"mql_id": ["b"], "won_date": ["20-02-2018 10:00"]})
    >>> data = prepare(leads=leads, deals=deals)
    >>> data.leads[["lead_id", "days_to_close"]].to_dict("list")
    {'lead_id': ['a', 'b', 'c'], 'days_to_close': [nan, 7.0, nan]}
    """
    settings = Settings.parse(settings)
    maps = {t: {} for t in TABLES}
    for table, table_map in (mapping or {}).items():
        name = next((t for t in TABLES if fold(t) == fold(table)), None)
        if name is None:
            raise InputError("mapping", None, Message("error.unknown_table", table=table),
                             fix=Message("error.unknown_table.fix"))
        maps[name] = dict(table_map)
    # the user's Leads mapping names the inquiry date, the Deals mapping the close date (calc.pipeline)
    pipeline_map = {**{("close_date" if k == "date" else k): v for k, v in maps["Deals"].items()},
                    **maps["Leads"], **maps["Pipeline"]}
    if pipeline is None and same_table(leads, deals, pipeline_map):
        pipeline, leads, deals = leads, None, None
    if pipeline is not None and (leads is not None or deals is not None):
        raise InputError("Pipeline", None, Message("error.pipeline_and_tables"),
                         fix=Message("error.pipeline_and_tables.fix"))
    frames = {"Spend": _frame("Spend", spend), "Leads": _frame("Leads", leads), "Deals": _frame("Deals", deals)}
    if pipeline is not None:
        # its own header first (id, inquiry and close dates, status), then Leads and Deals with canonical names;
        # Deals keep the pipeline's row numbers, so a message names the row of the export
        frames["Leads"], frames["Deals"] = split_pipeline(_frame("Pipeline", pipeline), pipeline_map)
        maps["Leads"], maps["Deals"] = {}, {}
    if all(f is None for f in frames.values()):
        raise InputError(None, None, Message("error.no_table"), fix=Message("error.no_table.fix"))
    log = _Collector()
    for name, frame in frames.items():
        if frame is not None and frame.shape[0] == 0:  # counts as zero, which the user should know is why
            log.notes.append(Message("note.table_empty", table=name))
    # the three tables are read side by side, each into its own log, merged in table order
    logs = {name: _Collector() for name in frames}
    readers = {"Spend": _prepare_spend, "Leads": _prepare_leads, "Deals": _prepare_deals}

    rows = sum(len(f) for f in frames.values() if f is not None)
    sp, ld, dl = run_together([lambda name=name: readers[name](frames[name], maps[name], settings, logs[name])
                               if frames[name] is not None else None for name in frames], rows=rows)
    has_outcomes = dl is not None and OUTCOME in dl.columns
    lost = None
    if has_outcomes:  # lost rows are outcomes with a date, never deals
        outcome = dl[OUTCOME].to_numpy()
        lost = dl.loc[outcome == LOST, ["lead_id", "date", DAY]]
        dl = dl.loc[outcome == WON].drop(columns=OUTCOME)
    # then, as many small tasks shared by the cores: segment columns as categories, and rows (and
    # Spend's cost) per day, for the far-future check and then kept as the dataset's day totals
    # (calc.daily) if no row is dropped after
    dims = {name: _dims(frame, {c.name for c in TABLES[name]}) if frame is not None else ()
            for name, frame in (("Spend", sp), ("Leads", ld))}
    columns = [(frame, d) for frame, name in ((sp, "Spend"), (ld, "Leads")) for d in dims[name]]
    sp_days, ld_days, dl_days, *coded = run_together(
        [lambda: _day_counts(sp, "cost") if sp is not None else None,
         lambda: _day_counts(ld) if ld is not None else None,
         lambda: _day_counts(dl) if dl is not None else None,
         *[lambda frame=frame, d=d: _categorical(frame[d]) for frame, d in columns]], rows=rows)
    if sp is not None:
        sp = with_columns(sp, dict(zip(dims["Spend"], coded[:len(dims["Spend"])])))
    if ld is not None:
        ld = with_columns(ld, dict(zip(dims["Leads"], coded[len(dims["Spend"]):])))
    for table_log in logs.values():
        log.exclusions += table_log.exclusions
        log.notes += table_log.notes

    counted_frames = {"spend": (sp, sp_days), "leads": (ld, ld_days)}
    as_of = pd.Timestamp(settings.as_of) if settings.as_of else None
    if as_of is not None:  # a set as-of date settles the top end; a date typed 1950 is still a typo
        sp, ld, dl = _drop_far_future(log, [sp_days, ld_days, dl_days], future=False, Spend=sp, Leads=ld, Deals=dl)
    if as_of is None:
        counted = [sp_days, ld_days, dl_days]
        frames_now = {"Spend": sp, "Leads": ld, "Deals": dl}
        if lost is not None:  # a loss is dated data too: it can be the latest date, or a year typed wrong
            counted.append(_day_counts(lost))
            frames_now["Deals (lost)"] = lost
        kept_frames = _drop_far_future(log, counted, **frames_now)
        # the last dated day of each table: from its day counts, unless rows above a gap were just dropped
        latest = [day_count[0] + len(day_count[1]) - 1 if remaining is frame else int(remaining[DAY].max())
                  for frame, remaining, day_count in zip(frames_now.values(), kept_frames, counted)
                  if day_count is not None and remaining is not None
                  and (remaining is frame or (remaining[DAY] != NO_DAY).any())]
        sp, ld, dl = kept_frames[:3]
        if lost is not None:
            lost = kept_frames[3]
        as_of = pd.Timestamp(np.datetime64(max(latest), "D")) if latest else None
    if as_of is not None:
        # whole days: a row dated on the as-of day counts, whatever its time (dates are midnight here)
        last_day = int(day_numbers(pd.Series([as_of]))[0])
        trimmed = []
        for name, frame in (("Spend", sp), ("Leads", ld), ("Deals", dl)):
            later = (frame[DAY].to_numpy() > last_day) if frame is not None else None
            if later is not None and later.any():
                count = int(later.sum())
                rows = rows_message(sheet_rows(frame.index.to_numpy()[later][:5]), count)
                log.notes.append(Message("note.after_as_of", table=name, count=count, as_of=as_of, rows=rows))
                frame = frame.loc[~later]
            trimmed.append(frame)
        sp, ld, dl = trimmed

    if lost is not None and as_of is not None:  # lost after the as-of date: still open then
        lost = lost.loc[lost[DAY].to_numpy() <= int(day_numbers(pd.Series([as_of]))[0])]
    ld, dl, lost = _same_id_type(ld, dl, lost)
    has_revenue = has_gp = False
    spend_dims, lead_dims = dims["Spend"], dims["Leads"]  # dropping rows since left the columns as they were
    linked = _link_deals(ld, dl, settings, log) if dl is not None else None
    if sp is not None:
        if "revenue" in sp.columns:
            has_revenue = bool(sp["revenue"].notna().any())
            if settings.gross_margin is not None:
                sp["gross_profit"] = sp["revenue"] * settings.gross_margin
    if ld is not None:
        if sp is not None:  # 'Channel' in Spend and 'channel' in Leads are one dimension: use the Leads spelling
            spelling = {fold(d): d for d in lead_dims}
            sp = sp.rename(columns={d: spelling[fold(d)] for d in spend_dims if fold(d) in spelling})
            spend_dims = tuple(spelling.get(fold(d), d) for d in spend_dims)
    if dl is not None:
        dl, position, has_revenue, has_gp, per_lead = linked
        if ld is not None:
            # by codes: the deal keeps the lead's categories, and no million-row text is built
            dl = with_columns(dl, {dim: pd.Categorical.from_codes(ld[dim].cat.codes.to_numpy()[position],
                                                                 dtype=ld[dim].dtype, validate=False)
                                   for dim in lead_dims})
            ld = with_columns(ld, per_lead)
    elif ld is not None:
        log.notes.append(NO_DEALS_NOTE)
    if lost is not None and ld is not None:
        ld = with_columns(ld, _link_lost(ld, lost, log))
    elif lost is not None and len(lost):
        log.notes.append(Message("note.lost_need_leads", count=len(lost)))
    if sp is None:
        log.notes.append(NO_SPEND_NOTE)
    data = Dataset(spend=sp, leads=ld, deals=dl, settings=settings, as_of=as_of, spend_dims=spend_dims,
                   lead_dims=lead_dims, has_revenue=has_revenue, has_gross_profit=has_gp,
                   has_outcomes=has_outcomes and ld is not None,
                   exclusions=tuple(log.exclusions), notes=tuple(log.notes))
    for table, (frame, day_count) in counted_frames.items():
        final = getattr(data, table)
        # the counts hold for the final table when it still has every row counted (none dropped as
        # far-future or after the as-of date; columns added since share the rows) and every row is dated
        if day_count is not None and final is not None and len(final) == len(frame) and day_count[1].sum() == len(final):
            first, counts, sums = day_count
            for column, totals in ((None, counts), ("cost", sums)):
                if totals is not None:
                    totals = totals.astype(np.float64)
                    totals.flags.writeable = False
                    kept(data.memo, (DAY_TOTALS, table, column), lambda first=first, totals=totals: (first, totals))
    return data


#: A gap in the dates longer than this, with almost nothing above it, marks mistyped future dates.
FAR_FUTURE_GAP_DAYS = 365
#: Largest share of dated rows that may lie above such a gap and still be called typos.
FAR_FUTURE_MAX_SHARE = 0.01


def _day_counts(frame: pd.DataFrame, column: str | None = None
                ) -> tuple[int, np.ndarray, np.ndarray | None] | None:
    """(first day, rows per day from it, sum of ``column`` per day or None) of a table's dated rows;
    None when none is dated. The sums are made only when every row is dated."""
    days = frame[DAY].to_numpy()
    undated = bool(len(days)) and days.min() == NO_DAY
    if undated:
        days = days[days != NO_DAY]
    if not len(days):
        return None
    first = int(days.min())
    offsets = np.subtract(days, first, dtype=np.intp)  # intp: bincount's own index type, so it makes no copy
    sums = np.bincount(offsets, weights=frame[column].to_numpy(dtype=np.float64)) \
        if column and column in frame.columns and not undated else None
    return first, np.bincount(offsets), sums


def _drop_far_future(log: _Collector, day_counts: list | None = None, *, future: bool = True,
                     **frames: pd.DataFrame | None) -> list[pd.DataFrame | None]:
    """Without an as_of setting the latest date becomes the as-of date, so one row typed 2042 for
    2024 would make every cohort look young. Rows above a gap of more than a year in the dates,
    fewer than 1 % of all dated rows, are excluded as mistyped (counted, with their rows); so are rows
    below such a gap (a lead typed 1950 among 2024's would stretch every period axis over 75 years, so it
    is checked with an as_of setting too: ``future=False`` checks only that end).
    ``day_counts`` are the tables' :func:`_day_counts`, in the order of ``frames``.

    >>> log = _Collector()
    >>> leads = pd.DataFrame({"date": pd.to_datetime(["2024-01-01"] * 150 + ["2042-01-05"])})
    >>> leads[DAY] = day_numbers(leads["date"])
    >>> len(_drop_far_future(log, Leads=leads)[0]), log.exclusions[0].rows  # day_counts made here when not given
    (150, [152])
    """
    # rows per day by counting (dates lie within 1950-2150, so at most ~73,000 bins): no sort of millions
    if day_counts is None:
        day_counts = [_day_counts(f) if f is not None else None for f in frames.values()]
    per_table = [c[:2] for c in day_counts if c is not None]  # (first day, rows per day)
    if not per_table:
        return list(frames.values())
    low = min(first for first, _ in per_table)
    counts = np.zeros(max(first + len(c) for first, c in per_table) - low, dtype=np.int64)
    for first, table_counts in per_table:
        counts[first - low:first - low + len(table_counts)] += table_counts
    distinct = np.flatnonzero(counts)
    rows_up_to = np.cumsum(counts[distinct])
    total = int(rows_up_to[-1])
    gaps = np.flatnonzero(np.diff(distinct) > FAR_FUTURE_GAP_DAYS)
    cut = None
    for gap in gaps[::-1] if future else ():  # from the top down: the lowest gap leaving only a few rows above it
        if total - rows_up_to[gap] >= FAR_FUTURE_MAX_SHARE * total:
            break
        cut = int(distinct[gap]) + low
    # the same at the bottom: one lead typed 1950 among 2024's would stretch every period axis over 75 years
    floor = None
    for gap in gaps:  # from the bottom up: the highest gap that still leaves only a few rows below it
        if rows_up_to[gap] >= FAR_FUTURE_MAX_SHARE * total:
            break
        floor = int(distinct[gap + 1]) + low
    if cut is None and floor is None:
        return list(frames.values())
    out = list(frames.values())
    if cut is not None:
        limit = pd.Timestamp(np.datetime64(cut, "D"))
        out = [None if f is None else log.exclude(f, f[DAY].to_numpy() > cut, name, "far_future", limit=limit)
               for name, f in zip(frames, out)]
    if floor is not None:
        limit = pd.Timestamp(np.datetime64(floor, "D"))
        out = [None if f is None else log.exclude(
            f, (f[DAY].to_numpy() < floor) & (f[DAY].to_numpy() != NO_DAY), name, "far_past", limit=limit)
            for name, f in zip(frames, out)]
    return out


def _link_deals(leads: pd.DataFrame | None, deals: pd.DataFrame, settings: Settings, log: _Collector
                ) -> tuple[pd.DataFrame, np.ndarray | None, bool, bool, dict]:
    """Deals tied to their leads: (deals with lead_date, _lead_day, days_to_close and _first_deal; each
    deal's row in Leads; has revenue; has gross profit; the per-lead roll-up columns).

    Deals whose lead is unknown or that were won before the inquiry are excluded (counted in ``log``).
    """
    deals = deals[[c for c in ("lead_id", "date", DAY, "revenue", "gross_profit") if c in deals.columns]].copy()
    has_revenue, has_gp = _gross_profit(deals, settings, log)
    if leads is None:
        return deals, None, has_revenue, has_gp, {}
    position = _positions(leads["lead_id"], deals["lead_id"])
    unmatched = position < 0
    if unmatched.any():
        note = _id_overlap_note(leads["lead_id"], deals["lead_id"], unmatched)
        if note:
            log.notes.append(note)
    deals = log.exclude(deals, unmatched, *EXCLUDED["Deals", "unknown lead"])
    position = position[position >= 0]
    lead_day = leads[DAY].to_numpy()[position]
    days_to_close = (deals[DAY].to_numpy() - lead_day).astype("float64")
    early = days_to_close < 0
    deals = with_columns(deals, {"lead_date": leads["date"].to_numpy()[position], LEAD_DAY: lead_day,
                                 "days_to_close": days_to_close})
    deals = log.exclude(deals, early, *EXCLUDED["Deals", "before inquiry"])
    position = position[~early]
    per_lead, first = _roll_up(len(leads), deals, position)
    return with_columns(deals, {FIRST_DEAL: first}), position, has_revenue, has_gp, per_lead


#: Below this share of deals matching a lead, the ids of the two tables are probably written differently.
LOW_ID_OVERLAP = 0.5


def _id_overlap_note(lead_ids: pd.Series, deal_ids: pd.Series, unmatched: np.ndarray) -> str | None:
    """When few deals find their lead, say so with examples of both tables' ids, and name the difference
    when it is only case or leading zeros (reported, never merged: 'ab' and 'AB' may be two leads)."""
    matched = int(len(unmatched) - unmatched.sum())
    if matched >= LOW_ID_OVERLAP * len(unmatched):
        return None
    lead_sample = pd.unique(lead_ids.to_numpy()[:1000])[:3]
    lost = pd.unique(deal_ids.to_numpy()[unmatched])
    text = f"only {matched} of {len(unmatched)} deal ids match a lead; Leads ids look like " + \
        ", ".join(f"'{v}'" for v in lead_sample) + ", Deals ids like " + ", ".join(f"'{v}'" for v in lost[:3])
    leads_text = pd.Series(pd.unique(lead_ids.to_numpy())).astype(str)
    lost_text = pd.Series(lost[:10000]).astype(str)
    for how, key in (("in upper or lower case", lambda t: t.str.casefold()),
                     ("in leading zeros", lambda t: t.str.lstrip("0"))):
        if key(lost_text).isin(set(key(leads_text))).any():
            text += f"; some differ only {how} — correct the ids in one table so they are written alike"
            break
    return "Deals: " + text


def _link_lost(leads: pd.DataFrame, lost: pd.DataFrame, log: _Collector) -> dict[str, np.ndarray]:
    """Per lead: ``lost_date`` and ``days_to_lose`` of its earliest loss (NaT / NaN when not lost).

    A lost row whose lead is unknown or that closed before the inquiry is excluded and reported, as a
    deal would be. A consultation that won is won, whatever else was lost on it (a CRM may keep a lost
    quote beside the signed one): such losses are counted in a note and left out.
    """
    position = _positions(leads["lead_id"], lost["lead_id"])
    lost = log.exclude(lost, position < 0, "Deals", "lost_unknown_lead")
    position = position[position >= 0]
    lead_day = leads[DAY].to_numpy()
    days = (lost[DAY].to_numpy() - lead_day[position]).astype(np.int64)
    early = days < 0
    log.exclude(lost, early, "Deals", "lost_before_inquiry")
    position, days = position[~early], days[~early]
    won = leads["won_date"].notna().to_numpy() if "won_date" in leads.columns else np.zeros(len(leads), bool)
    decided = won[position]
    if decided.any():
        log.notes.append(Message("note.lost_and_won", rows=int(decided.sum())))
    position, days = position[~decided], days[~decided]
    first = np.full(len(leads), np.iinfo(np.int64).max)
    np.minimum.at(first, position, days)  # the earliest loss of each lead (lost rows are few)
    is_lost = first != np.iinfo(np.int64).max
    days_to_lose = np.where(is_lost, first, 0).astype(np.float64)
    lost_day = (lead_day.astype(np.int64) + days_to_lose.astype(np.int64)).astype("datetime64[D]")
    lost_date = np.where(is_lost, lost_day.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))
    days_to_lose[~is_lost] = np.nan
    return {"lost_date": lost_date, "days_to_lose": days_to_lose}


def _positions(lead_ids: pd.Series, deal_ids: pd.Series) -> np.ndarray:
    """Each deal's row in Leads (-1 where its lead_id is not there).

    Consecutive whole-number ids in order (1, 2, 3 …, as most CRMs number them) are their rows;
    whole numbers that fill most of their range are found through a direct lookup table, ids in
    increasing order by binary search, anything else through a hash index.
    """
    ids, wanted = lead_ids.to_numpy(), deal_ids.to_numpy()
    if ids.dtype.kind in "iu" and wanted.dtype.kind in "iu" and len(ids):
        low, high = int(ids.min()), int(ids.max())
        inside = (wanted >= low) & (wanted <= high)
        if high - low == len(ids) - 1 and (ids[1:] > ids[:-1]).all():  # low, low + 1, …: the id is the row
            return np.where(inside, wanted - low, -1).astype(np.int64)
        if high - low < 4 * len(ids) + 1024:  # ids fill most of their range: a direct lookup table
            row_type = np.int32 if len(ids) < 2**31 else np.int64  # half the memory of a million-entry table
            lookup = np.full(high - low + 1, -1, dtype=row_type)
            lookup[ids - low] = np.arange(len(ids), dtype=row_type)
            position = np.full(len(wanted), -1, dtype=np.int64)
            position[inside] = lookup[wanted[inside] - low]
            return position
        if (ids[1:] > ids[:-1]).all():  # in increasing order: binary search, the deals' ids sorted first
            order = np.argsort(wanted, kind="stable")
            found = np.searchsorted(ids, wanted[order])
            position = np.full(len(wanted), -1, dtype=np.int64)
            inside = found < len(ids)
            hit = np.zeros(len(wanted), dtype=bool)
            hit[inside] = ids[found[inside]] == wanted[order][inside]
            position[order[hit]] = found[hit]
            return position
    return pd.Index(lead_ids).get_indexer(deal_ids)


def _roll_up(n: int, deals: pd.DataFrame, position: np.ndarray) -> tuple[dict, np.ndarray]:
    """Per lead: first won date, days to close, number of deals, revenue and gross profit; and per
    deal whether it is its lead's first (earliest; the first listed among same-day deals).

    ``position`` is each deal's row in ``leads``. The deals are sorted once by lead, then days to
    close, then their own row; the first of each lead's run is its first deal and the money is
    summed over the runs, so only the deals (a tenth of the leads or fewer) are worked through.
    """
    n_deals = np.bincount(position, minlength=n)
    close = deals["days_to_close"].to_numpy()
    m = len(close)
    span = int(close.max()) + 1 if m else 1
    if m and int(n_deals.max()) == 1:  # one deal per lead (the usual case): every deal is its lead's first
        order = np.arange(m)
    elif m and (int(position.max()) + 1) * span * m < 2**62:  # lead, days and row packed in one integer: a plain sort
        order = np.sort((position.astype(np.int64) * span + close.astype(np.int64)) * m + np.arange(m)) % m
    else:
        order = np.lexsort((np.arange(m), close, position))
    lead = position[order]
    starts = np.flatnonzero(np.r_[True, lead[1:] != lead[:-1]]) if m else np.zeros(0, dtype=np.int64)
    first, first_lead = order[starts], lead[starts]

    def spread(values: np.ndarray, empty: Any) -> np.ndarray:  # one value per lead with a deal, ``empty`` elsewhere
        out = np.full(n, empty, dtype=values.dtype)
        out[first_lead] = values
        return out

    def money(column: str) -> np.ndarray:
        values = deals[column].to_numpy(dtype=np.float64)[order]
        if not m:
            return np.full(n, np.nan)
        if len(starts) == m:  # one deal per lead (the usual case): its amount is the lead's, NaN and all
            return spread(values, np.nan)
        known = ~np.isnan(values)
        sums = np.add.reduceat(np.where(known, values, 0.0), starts)
        # min_count=1: "no amount known" stays apart from "amounts summing to 0"
        sums[np.add.reduceat(known.astype(np.int64), starts) == 0] = np.nan
        return spread(sums, np.nan)

    # four million-row columns, each a fill and a scatter: side by side
    days, won, revenue, gross_profit = run_together(
        [lambda: spread(close[first].astype(np.float64), np.nan),
         lambda: spread(deals["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)[first], np.iinfo(np.int64).min),
         lambda: money("revenue"), lambda: money("gross_profit")], rows=n)
    added = {"won_date": won.view("datetime64[ns]"), "days_to_close": days, "n_deals": n_deals,
             "revenue": revenue, "gross_profit": gross_profit}
    is_first = np.zeros(m, dtype=bool)
    is_first[first] = True
    return added, is_first
