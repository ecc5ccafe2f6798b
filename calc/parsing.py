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

import numpy as np
import pandas as pd

from .errors import InputError, sheet_rows

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日.]?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$")
_AB_Y = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_NUMBER_TEXT = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


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
DATE_FIX = "type dates between 1950 and 2150 as 2024-03-01 (or an Excel date), and clear text such as totals or notes"


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
            raise InputError(table, column, f"{count} value{'s are' if count > 1 else ' is'} not a date: {shown}",
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
        if re.search(r"[A-Za-z]{3}", text) and text.upper() not in EXCEL_ERRORS:
            texts_with_words.append(i)
        else:
            bad.append(i)

    note = None
    if ab_y:
        a = np.array([t[1] for t in ab_y])
        b = np.array([t[2] for t in ab_y])
        day_first_proof, month_first_proof = np.flatnonzero(a > 12), np.flatnonzero(b > 12)
        if len(day_first_proof) and len(month_first_proof):
            examples = [ab_y[day_first_proof[0]][0], ab_y[month_first_proof[0]][0]]
            raise InputError(table, column, "mixes day-first and month-first dates "
                             f"('{uniques[examples[0]]}' and '{uniques[examples[1]]}')",
                             rows=_positions(codes, examples),
                             fix="use one order in the whole column, best ISO such as 2024-03-01")
        if len(day_first_proof):
            day_first = True
        elif len(month_first_proof):
            day_first = False
        else:
            day_first = ambiguous == "day_first"
            note = (f"{table}.{column}: every date such as '{uniques[ab_y[0][0]]}' reads either way; "
                    f"read as {'day-first (dd-mm-yyyy)' if day_first else 'month-first (mm-dd-yyyy)'} "
                    "by the ambiguous_dates setting")
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
        raise InputError(table, column, f"{count} value{'s are' if count > 1 else ' is'} not a date: {example}",
                         rows=_positions(codes, bad),
                         fix=DATE_FIX)
    if not len(uniques):
        return pd.Series(np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]"), index=index), note
    out = np.where(codes >= 0, parsed[np.maximum(codes, 0)], np.datetime64("NaT"))
    return pd.Series(out.astype("datetime64[ns]"), index=index), note


_CURRENCY = re.compile(r"(?i)(rp\.?|idr|rmb|cny|krw|usd|eur|元|원|円|[¥￥$€₩£])")


def _number_from_text(text: str) -> float | None:
    """'¥1,234.50' -> 1234.5, 'Rp 1.234.567' -> 1234567, '12,5' -> 12.5, '15%' -> 0.15.

    >>> [_number_from_text(t) for t in ["¥1,234.50", "Rp 1.234.567", "12,5", "15%", "(3.00)", "abc"]]
    [1234.5, 1234567.0, 12.5, 0.15, -3.0, None]
    """
    text = unicodedata.normalize("NFKC", text).strip()
    negative = text.startswith("(") and text.endswith(")")
    text = _CURRENCY.sub("", text.strip("()")).replace(" ", "").replace("\u00a0", "").replace("'", "")
    percent = text.endswith("%")
    text = text.rstrip("%")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text) else text.replace(",", ".")
    elif text.count(".") > 1 or re.fullmatch(r"[+-]?\d{1,3}(\.\d{3}){2,}", text):
        text = text.replace(".", "")
    try:
        number = float(text)
    except ValueError:
        return None
    if not np.isfinite(number):
        return None
    number = -number if negative else number
    return number / 100 if percent else number


def parse_numbers(values: pd.Series, *, table: str, column: str, percent: bool = True) -> pd.Series:
    """A column of numbers as float64; blanks become NaN; text and Excel errors raise one InputError.

    ``percent=False`` is for amounts and counts: there '15%' is a share pasted into the wrong
    column, and reading it as 0.15 would be a silently wrong number, so it is an error.

    >>> parse_numbers(pd.Series(["15%"]), table="Spend", column="cost", percent=False)
    Traceback (most recent call last):
    calc.errors.InputError: Spend: column 'cost': holds percentages ('15%'), not amounts or counts (row 2). Fix: put the amount or count itself here (e.g. 1500), not a share.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        raise InputError(table, column, "holds TRUE/FALSE, not numbers", fix="put numbers in this column")
    if pd.api.types.is_numeric_dtype(values.dtype):
        out = values.astype("float64")
        infinite = np.flatnonzero(np.isinf(out.to_numpy()))
        if len(infinite):
            raise InputError(table, column, "holds infinite values", rows=sheet_rows(infinite[:5]),
                             fix="replace them with real amounts")
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    numbers = np.full(len(uniques), np.nan)
    bad, errors, percents = [], [], []
    for i, value in enumerate(uniques):
        if _blank(value):
            continue
        if isinstance(value, (bool, np.bool_)):
            bad.append(i)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            numbers[i] = float(value)
        elif str(value).strip().upper() in EXCEL_ERRORS:
            errors.append(i)
        else:
            number = _number_from_text(str(value))
            if number is None:
                bad.append(i)
            elif not percent and unicodedata.normalize("NFKC", str(value)).strip().strip("()").endswith("%"):
                percents.append(i)
            else:
                numbers[i] = number
    if errors:
        raise InputError(table, column, f"holds Excel error values ({', '.join(sorted({str(uniques[i]) for i in errors}))})",
                         rows=_positions(codes, errors),
                         fix="fix the formulas that give these errors, or clear those cells")
    if percents:
        example = ", ".join(f"'{uniques[i]}'" for i in percents[:3])
        raise InputError(table, column, f"holds percentages ({example}), not amounts or counts",
                         rows=_positions(codes, percents),
                         fix="put the amount or count itself here (e.g. 1500), not a share")
    if bad:
        example = ", ".join(f"'{uniques[i]}'" for i in bad[:3])
        raise InputError(table, column, f"holds text that is not a number: {example}", rows=_positions(codes, bad),
                         fix="put plain numbers here (1234.5); delete totals or notes rows")
    if not len(uniques):
        return pd.Series(np.nan, index=values.index, dtype="float64")
    out = np.where(codes >= 0, numbers[np.maximum(codes, 0)], np.nan)
    return pd.Series(out, index=values.index, dtype="float64")
