"""Turning what spreadsheets and exports hold into dates and numbers, column by column.

Values are parsed once per *distinct* value and mapped back, so a million-row column with a few
thousand distinct dates costs a few thousand parses.

Dates accepted: datetimes (naive or tz-aware), Excel serial numbers (1900 date system, the
phantom 1900-02-29 refused), yyyymmdd integers, ISO-like text (2024-03-01, 2024/3/1,
2024年3月1日, 2024. 3. 1.), day-first or month-first text (01-02-2018, 2/1/2018), with or without
a time, and text with month names. The day/month order of a column is decided from all its
values: a first part above 12 proves day-first, a second part above 12 proves month-first, both
in one column is an error, neither follows ``Settings.ambiguous_dates`` and says so.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, sheet_rows
from .messages import Message

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日.]?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(?:Z|UTC|GMT)?\s*(?:[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_AB_Y = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_NUMBER_TEXT = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_RELATIVE_DAYS = frozenset({"today", "now", "yesterday", "tomorrow", "hari ini", "今天", "오늘"})
#: Excel serials of 1950-01-01 and 1970-01-01: a column of numbers all between them reads as 1950s dates,
#: or as days since 1970 (what databases and some exports write) in 2000-2040.
_SERIAL_1950, _SERIAL_1970 = 18264, 25569


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT or (
        isinstance(value, str) and not value.strip())


def _positions(codes: np.ndarray, bad_uniques: list[int]) -> list[int]:
    return sheet_rows(np.flatnonzero(np.isin(codes, bad_uniques))[:5])


def _serial_to_date(value: float) -> dt.date | None:
    """Excel 1900-system serial -> date; None where it is no date (0, the phantom 29 Feb 1900, huge)."""
    if 19000101 <= value <= 21001231 and float(value).is_integer():
        try:
            return dt.date(int(value) // 10000, int(value) // 100 % 100, int(value) % 100)
        except ValueError:
            return None
    if not 1 <= value < 2958466 or int(value) == 60:
        return None
    days = int(value) + (1 if value < 60 else 0)  # before the phantom day the offset is one more
    return (_EXCEL_EPOCH + np.timedelta64(days, "D")).astype(dt.date)


#: A year outside this window is a typo or a mis-read number, and would overflow day arithmetic.
FIRST_PLAUSIBLE, LAST_PLAUSIBLE = np.datetime64("1950-01-01"), np.datetime64("2150-12-31")
DATE_FIX = Message("error.date.fix")


def parse_dates(values: pd.Series, *, table: str, column: str, ambiguous: str = "day_first"
                ) -> tuple[pd.Series, str | None]:
    """A column of dates as datetime64 (midnight, tz-naive), and a note when the order was assumed.

    Blanks become NaT; anything that is not a date raises one InputError listing the rows.

    >>> s, note = parse_dates(pd.Series(["01-02-2018", "20-10-2017"]), table="Leads", column="date")
    >>> list(s.dt.strftime("%Y-%m-%d")), note
    (['2018-02-01', '2017-10-20'], None)
    >>> s, note = parse_dates(pd.Series([43101, "2018-01-02"]), table="Leads", column="date")
    >>> list(s.dt.strftime("%Y-%m-%d"))
    ['2018-01-01', '2018-01-02']
    """
    index = values.index
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = values
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
        days = out.to_numpy().astype("datetime64[D]")  # in the column's own unit: no overflow before the check
        implausible = np.flatnonzero(~np.isnat(days) & ((days < FIRST_PLAUSIBLE) | (days > LAST_PLAUSIBLE)))
        if len(implausible):
            shown = ", ".join(f"'{v}'" for v in pd.unique(days[implausible].astype(str))[:3])
            count = len(implausible)
            raise InputError(table, column, Message("error.not_a_date", count=count, examples=shown),
                             rows=sheet_rows(values.index.to_numpy()[implausible[:5]]), fix=DATE_FIX)
        return out.dt.normalize().astype("datetime64[ns]"), None

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[ns]")
    bad: list[int] = []
    ab_y: list[tuple[int, int, int, int]] = []  # (unique index, a, b, year)
    texts_with_words: list[int] = []
    for i, value in enumerate(uniques):
        if _blank(value):
            continue
        if isinstance(value, (pd.Timestamp, dt.datetime)):
            ts = pd.Timestamp(value)
            parsed[i] = (ts.tz_localize(None) if ts.tzinfo else ts).normalize().to_datetime64()
            continue
        if isinstance(value, dt.date):
            parsed[i] = np.datetime64(value, "D")
            continue
        if isinstance(value, (bool, np.bool_)):
            bad.append(i)
            continue
        text = None if isinstance(value, (int, float, np.integer, np.floating)) else \
            unicodedata.normalize("NFKC", str(value)).strip()
        if text is None or _NUMBER_TEXT.match(text):  # an Excel serial or yyyymmdd, as a number or as text
            day = _serial_to_date(float(value if text is None else text))
            if day is None:
                bad.append(i)
            else:
                parsed[i] = np.datetime64(day, "D")
            continue
        match = _YMD.match(text)
        if match:
            try:
                parsed[i] = np.datetime64(dt.date(int(match[1]), int(match[2]), int(match[3])), "D")
            except ValueError:
                bad.append(i)
            continue
        match = _AB_Y.match(text)
        if match:
            ab_y.append((i, int(match[1]), int(match[2]), int(match[3])))
            continue
        if text.casefold() in _RELATIVE_DAYS:  # 'today' would become the day the report runs
            bad.append(i)
        elif re.search(r"[A-Za-z]{3}", text) and text.upper() not in EXCEL_ERRORS:
            texts_with_words.append(i)
        else:
            bad.append(i)

    serials = [i for i in range(len(uniques)) if not _blank(uniques[i]) and (
        isinstance(uniques[i], (int, float, np.integer, np.floating)) and not isinstance(uniques[i], (bool, np.bool_))
        or isinstance(uniques[i], str) and _NUMBER_TEXT.match(uniques[i].strip()))]
    if serials and len(serials) == len(uniques) - int(any(_blank(u) for u in uniques)):
        numbers = np.array([float(uniques[i]) for i in serials])
        if ((numbers >= _SERIAL_1950) & (numbers < _SERIAL_1970)).all():
            example = uniques[serials[0]]
            as_excel = _serial_to_date(float(example))
            as_unix = dt.date(1970, 1, 1) + dt.timedelta(days=int(float(example)))
            raise InputError(table, column, Message("error.serial_two_ways", example=str(example),
                                                    as_excel=str(as_excel), as_unix=str(as_unix)),
                             rows=_positions(codes, serials[:1]), fix=Message("error.serial_two_ways.fix"))

    note = None
    if ab_y:
        a = np.array([t[1] for t in ab_y])
        b = np.array([t[2] for t in ab_y])
        day_first_proof, month_first_proof = np.flatnonzero(a > 12), np.flatnonzero(b > 12)
        if len(day_first_proof) and len(month_first_proof):
            examples = [ab_y[day_first_proof[0]][0], ab_y[month_first_proof[0]][0]]
            raise InputError(table, column, Message("error.mixed_date_order", first=str(uniques[examples[0]]),
                                                    second=str(uniques[examples[1]])),
                             rows=_positions(codes, examples), fix=Message("error.mixed_date_order.fix"))
        if len(day_first_proof):
            day_first = True
        elif len(month_first_proof):
            day_first = False
        else:
            day_first = ambiguous == "day_first"
            note = Message("note.ambiguous_dates", table=table, column=column, example=str(uniques[ab_y[0][0]]),
                           order=Message("note.day_first" if day_first else "note.month_first"))
        for i, first, second, year in ab_y:
            day, month = (first, second) if day_first else (second, first)
            try:
                parsed[i] = np.datetime64(dt.date(year, month, day), "D")
            except ValueError:
                bad.append(i)
    if texts_with_words:
        words = pd.to_datetime(pd.Series([uniques[i] for i in texts_with_words], dtype=object),
                               errors="coerce", format="mixed", dayfirst=ambiguous == "day_first")
        for i, value in zip(texts_with_words, words):
            if pd.isna(value):
                bad.append(i)
            else:
                parsed[i] = value.tz_localize(None).normalize().to_datetime64() if value.tzinfo else \
                    value.normalize().to_datetime64()
    implausible = np.flatnonzero((parsed < FIRST_PLAUSIBLE) | (parsed > LAST_PLAUSIBLE))
    bad.extend(int(i) for i in implausible if not np.isnat(parsed[i]))
    if bad:
        example = ", ".join(f"'{uniques[i]}'" for i in bad[:3])
        count = int(np.isin(codes, bad).sum())
        raise InputError(table, column, Message("error.not_a_date", count=count, examples=example),
                         rows=_positions(codes, bad),
                         fix=DATE_FIX)
    if not len(uniques):
        return pd.Series(np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]"), index=index), note
    out = np.where(codes >= 0, parsed[np.maximum(codes, 0)], np.datetime64("NaT"))
    return pd.Series(out.astype("datetime64[ns]"), index=index), note


_CURRENCY = re.compile(r"(?i)(rp\.?|idr|rmb|cny|krw|usd|eur|元|원|円|[¥￥$€₩£])")
_RUPIAH = re.compile(r"(?i)(rp\.?|idr)")
#: Currencies always written with a decimal point (and commas between thousands) where they are used.
_DOT_CURRENCY = re.compile(r"(?i)(rmb|cny|krw|usd|元|원|円|[¥￥$₩£])")
#: A number read with a decimal point (1,234.5) or with a decimal comma (1.234,5). A first group of
#: thousands never starts with 0, so '0,125' can only be a decimal comma and '0.125' a decimal point.
_DOT_READING = re.compile(r"^[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_COMMA_READING = re.compile(r"^[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
#: Larger amounts or counts are no real figure (and sums of a few of them overflow to infinity).
LARGEST_NUMBER = 1e15
#: How the decimal mark of a column was settled (for notes and messages).
DOT, COMMA = "dot", "comma"
def _clean_number_text(text: str) -> tuple[str, bool, bool, str | None]:
    """(digits and separators only, negative in parentheses, ends in %, what its currency says) of one
    cell's text; the currency says 'rupiah' (no cents: 1.500 is 1500) or 'dot' (¥1,000 is 1000)."""
    text = unicodedata.normalize("NFKC", text).strip()
    negative = text.startswith("(") and text.endswith(")")
    rupiah = "rupiah" if _RUPIAH.search(text) else DOT if _DOT_CURRENCY.search(text) else None
    text = _CURRENCY.sub("", text.strip("()"))
    text = re.sub(r"[\s'\u00a0\u202f\u2009]", "", text)
    percent = text.endswith("%")
    return text.rstrip("%"), negative, percent, rupiah


def _readings(text: str, currency: str | None) -> tuple[str, float | None]:
    """('dot' | 'comma' | 'either' | 'plain' | 'bad', value) of cleaned number text.

    'either' is text such as 1.500 or 1,500 that reads as 1.5 or as 1500; its value is the one
    with the separator as thousands (what a rupiah amount, which has no cents, always means).
    """
    if _SCIENTIFIC.match(text):
        return "plain", float(text)
    dot = float(text.replace(",", "")) if _DOT_READING.match(text) else None
    comma = float(text.replace(".", "").replace(",", ".")) if _COMMA_READING.match(text) else None
    if dot is None and comma is None:
        return "bad", None
    if dot is None:
        return COMMA, comma
    if comma is None:
        return DOT, dot
    if dot == comma:
        return "plain", dot
    if currency == DOT:
        return DOT, dot
    thousands = dot if "," in text else comma
    return ("plain" if currency == "rupiah" else "either"), thousands


def _number_from_text(text: str) -> float | None:
    """One cell's text as a number, each value on its own (a column is read by :func:`parse_numbers`).

    >>> [_number_from_text(t) for t in ["¥1,234.50", "Rp 1.234.567", "12,5", "15%", "(3.00)", "abc", "0,125"]]
    [1234.5, 1234567.0, 12.5, 0.15, -3.0, None, 0.125]
    """
    core, negative, percent, rupiah = _clean_number_text(text)
    kind, number = _readings(core, rupiah)
    if number is None or not np.isfinite(number):
        return None
    number = -number if negative else number
    return number / 100 if percent else number


class _TextNumbers:
    """The distinct texts of one number column, each read both ways, with what they prove."""

    def __init__(self, values: pd.Series) -> None:
        self.codes, self.uniques = pd.factorize(values, use_na_sentinel=True)
        n = len(self.uniques)
        self.numbers = np.full(n, np.nan)
        self.kinds = np.full(n, "plain", dtype=object)
        self.bad, self.errors, self.percents, self.booleans = [], [], [], []
        for i, value in enumerate(self.uniques):
            if _blank(value):
                continue
            if isinstance(value, (bool, np.bool_)):
                self.bad.append(i)
            elif isinstance(value, (int, float, np.integer, np.floating)):
                self.numbers[i] = float(value)
            elif str(value).strip().upper() in EXCEL_ERRORS:
                self.errors.append(i)
            else:
                core, negative, percent, rupiah = _clean_number_text(str(value))
                kind, number = _readings(core, rupiah)
                if number is None:
                    self.bad.append(i)
                    continue
                self.kinds[i] = kind
                number = -number if negative else number
                self.numbers[i] = number / 100 if percent else number
                if percent:
                    self.percents.append(i)

    def first(self, kind: str) -> int | None:
        found = np.flatnonzero(self.kinds == kind)
        return int(found[0]) if len(found) else None

    def proof(self, table: str, column: str) -> str | None:
        """'dot' or 'comma' when some value settles the column's decimal mark; an error when values disagree."""
        dot, comma = self.first(DOT), self.first(COMMA)
        if dot is not None and comma is not None:
            raise InputError(table, column, Message("error.decimal_marks_differ", dot=str(self.uniques[dot]),
                                                    comma=str(self.uniques[comma])),
                             rows=_positions(self.codes, [dot, comma]), fix=Message("error.decimal_marks_differ.fix"))
        return DOT if dot is not None else COMMA if comma is not None else None


def number_column_marks(frame: pd.DataFrame, columns: list[str], *, table: str) -> tuple[dict[str, "_TextNumbers"], str | None]:
    """Read the text number columns of one table; the decimal mark their values settle, if they agree.

    A column whose own values read either way (only 1.500-like values) follows the other columns of its
    table, as one export writes every number the same way.
    """
    read = {c: _TextNumbers(frame[c]) for c in columns if not pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_bool_dtype(frame[c].dtype)}
    proofs = {p for c, r in read.items() if (p := r.proof(table, c)) is not None}
    return read, (proofs.pop() if len(proofs) == 1 else None)


def parse_numbers(values: pd.Series, *, table: str, column: str, percent: bool = True,
                  decimal_mark: str | None = None, whole: bool = False,
                  read: "_TextNumbers | None" = None) -> pd.Series:
    """A column of numbers as float64; blanks become NaN; text and Excel errors raise one InputError.

    The decimal mark is settled for the whole column, as the order of dates is: a value such as
    1,234.5 or 0.125 proves a decimal point, 1.234,5 or 0,125 a decimal comma; both in one column is
    an error. Values that read either way (1.500: 1.5 or 1500?) follow the proof, else
    ``decimal_mark`` (the table's other columns, then the setting); with neither they are an error
    naming the choice — except in a column of counts (``whole``), where 1.500 can only be 1500, and
    for rupiah amounts (Rp 1.500), which have no cents.

    ``percent=False`` is for amounts and counts: there '15%' is a share pasted into the wrong
    column, and reading it as 0.15 would be a silently wrong number, so it is an error.

    >>> parse_numbers(pd.Series(["15%"]), table="Spend", column="cost", percent=False)
    Traceback (most recent call last):
    calc.errors.InputError: Spend: column 'cost': holds percentages ('15%'), not amounts or counts (row 2). Fix: put the amount or count itself here (e.g. 1500), not a share.
    >>> parse_numbers(pd.Series(["Rp 1.500", "Rp 2.250.000"]), table="Spend", column="cost").tolist()
    [1500.0, 2250000.0]
    >>> parse_numbers(pd.Series(["0,125", "1.500"]), table="Spend", column="cost").tolist()
    [0.125, 1500.0]
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        raise InputError(table, column, Message("error.booleans"), fix=Message("error.booleans.fix"))
    if pd.api.types.is_numeric_dtype(values.dtype):
        out = values.astype("float64")
        _check_size(out.to_numpy(), values, table, column)
        return out
    read = read or _TextNumbers(values)
    codes, uniques, numbers = read.codes, read.uniques, read.numbers
    if read.errors:
        raise InputError(table, column, Message("error.excel_errors",
                                                found=", ".join(sorted({str(uniques[i]) for i in read.errors}))),
                         rows=_positions(codes, read.errors), fix=Message("error.excel_errors.fix"))
    if read.percents and not percent:
        example = ", ".join(f"'{uniques[i]}'" for i in read.percents[:3])
        raise InputError(table, column, Message("error.percentages", examples=example),
                         rows=_positions(codes, read.percents), fix=Message("error.percentages.fix"))
    if read.bad:
        example = ", ".join(f"'{uniques[i]}'" for i in read.bad[:3])
        raise InputError(table, column, Message("error.not_a_number", examples=example),
                         rows=_positions(codes, read.bad), fix=Message("error.not_a_number.fix"))
    either = np.flatnonzero(read.kinds == "either")
    if len(either) and not whole:
        mark = read.proof(table, column) or decimal_mark
        if mark is None:
            example = uniques[either[0]]
            core = _clean_number_text(str(example))[0]
            as_decimal = float(core.replace(",", "."))  # one separator: 1.500 or 1,500
            # the two readings written as Python writes them: the message is about the marks themselves
            raise InputError(table, column, Message("error.number_two_ways.comma" if "," in core
                                                    else "error.number_two_ways.dot", example=str(example),
                                                    decimal=f"{as_decimal:g}", thousands=f"{numbers[either[0]]:,.0f}"),
                             rows=_positions(codes, [int(either[0])]), fix=Message("error.number_two_ways.fix"))
        for i in either:
            core, negative, percent_sign, _ = _clean_number_text(str(uniques[i]))
            separator = "," if "," in core else "."
            is_decimal = (separator == ",") == (mark == COMMA)
            if is_decimal:
                number = float(core.replace(separator, ".").replace(",", ""))
                number = -number if negative else number
                numbers[i] = number / 100 if percent_sign else number
    _check_size(numbers, None, table, column, codes=codes, uniques=uniques)
    if not len(uniques):
        return pd.Series(np.nan, index=values.index, dtype="float64")
    out = np.where(codes >= 0, numbers[np.maximum(codes, 0)], np.nan)
    return pd.Series(out, index=values.index, dtype="float64")


def _check_size(numbers: np.ndarray, values: pd.Series | None, table: str, column: str, *,
                codes: np.ndarray | None = None, uniques: Any = None) -> None:
    """Infinite or absurdly large numbers (1e308: two of them sum to infinity) are refused with their rows."""
    # the usual column, every number known and plausible, is told by its extremes alone (NaN makes both NaN)
    if len(numbers) and -LARGEST_NUMBER <= numbers.min() and numbers.max() <= LARGEST_NUMBER:
        return
    with np.errstate(invalid="ignore"):
        huge = np.flatnonzero(~(np.abs(numbers) <= LARGEST_NUMBER) & ~np.isnan(numbers))
    if not len(huge):
        return
    if codes is not None:
        rows = _positions(codes, list(huge))
        example = uniques[huge[0]]
    else:
        rows = sheet_rows(huge[:5])
        example = values.iloc[huge[0]]
    raise InputError(table, column, Message("error.number_too_large", example=str(example)),
                     rows=rows, fix=Message("error.number_too_large.fix"))
