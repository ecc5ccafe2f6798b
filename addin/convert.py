"""Excel-shaped values in and out: 2-D lists with a header row <-> DataFrames, Excel-safe results.

Excel hands a table as a list of rows (``Spend[#All]``), blanks as None and dates as datetimes or
serial numbers; it can show only text, numbers, booleans, naive datetimes and empty cells.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from calc import InputError
from calc.messages import Message


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def frame_from_rows(rows: Any, *, table: str) -> pd.DataFrame:
    """A table given as rows (header first) -> DataFrame; blank trailing rows and columns are dropped.

    >>> frame_from_rows([["date", "cost", None], ["2024-03-01", 10.0, None], [None, None, None]], table="Spend")
             date  cost
    0  2024-03-01  10.0
    """
    if isinstance(rows, pd.DataFrame):
        return rows
    if not isinstance(rows, (list, tuple)) or not rows or not isinstance(rows[0], (list, tuple)):
        raise InputError(table, None, Message("cell.needs_range"), fix=Message("cell.needs_range.fix", table=table))
    width = max(len(rows[0]), max((len(r) for r in rows[-5:]), default=0))
    # trim the blank tail of an over-sized range (A:F, or a table with spare rows): cheap, from the end
    last_row = len(rows)
    while last_row > 1 and all(_blank(v) for v in rows[last_row - 1]):
        last_row -= 1
    header = list(rows[0][:width]) + [None] * (width - len(rows[0]))
    body = rows[1:last_row]
    if body and any(len(r) != width for r in body):
        body = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    names = [str(h).strip() if not _blank(h) else f"column{j + 1}" for j, h in enumerate(header)]
    frame = pd.DataFrame(body, columns=names) if body else pd.DataFrame(columns=names)
    # columns with neither a header nor any value are the blank margin; data under no header is an error
    used = [not frame.iloc[:, j].map(_blank).all() if _blank(h) else True for j, h in enumerate(header)]
    unnamed = [j for j, h in enumerate(header) if _blank(h) and used[j]]
    if unnamed:
        raise InputError(table, None, Message("cell.unnamed_column", column=str(unnamed[0] + 1)),
                         fix=Message("cell.unnamed_column.fix"))
    if not any(used):
        raise InputError(table, None, Message("io.empty"), fix=Message("error.no_columns.fix", table=table))
    return frame.iloc[:, [j for j, u in enumerate(used) if u]]


def excel_value(value: Any, *, missing: Any = "") -> Any:
    """One value as Excel can show it: numpy -> Python, naive datetimes, NaN/inf/None -> ``missing``.

    ``missing`` is "" for what a function returns to a cell (an empty cell, not 0) and None for the
    workbook writers (a blank cell).

    >>> [excel_value(v) for v in (np.float64(1.5), float("nan"), np.int64(3), pd.Timestamp("2024-03-01", tz="UTC"), True)]
    [1.5, '', 3, datetime.datetime(2024, 3, 1, 0, 0), True]
    >>> excel_value(np.float64("inf"), missing=None), excel_value(pd.Period("2024-03", freq="M"))
    (None, datetime.datetime(2024, 3, 1, 0, 0))
    """
    if value is None or value is pd.NaT:
        return missing
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return missing if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Period):
        value = value.start_time
    if isinstance(value, pd.Timestamp):
        if value is pd.NaT:
            return missing
        value = value.tz_localize(None) if value.tzinfo else value
        return value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, str)):
        return value
    try:
        if pd.isna(value):
            return missing
    except (TypeError, ValueError):
        pass
    return str(value)


def rows_from_frame(frame: pd.DataFrame) -> list[list[Any]]:
    """A DataFrame as a spilling range: header row, then Excel-safe values."""
    header = [str(c) for c in frame.columns]
    body = [[excel_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return [header, *body] if body else [header]


def text_list(value: Any) -> list[str] | None:
    """'channel, province' or a range of names -> ['channel', 'province']; blank -> None."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        flat = [v for row in value for v in (row if isinstance(row, (list, tuple)) else [row])]
        names = [str(v).strip() for v in flat if not _blank(v)]
        return names or None
    names = [p.strip() for p in str(value).replace(";", ",").split(",") if p.strip()]
    return names or None


def settings_from_rows(rows: Sequence[Sequence[Any]] | None) -> dict[str, Any]:
    """A two-column Settings table (setting, value) -> dict; blank values mean 'use the default'.

    >>> settings_from_rows([["setting", "value"], ["gross_margin", 0.35], ["as_of", None]])
    {'gross_margin': 0.35}
    """
    if not rows:
        return {}
    out = {}
    for row in rows[1:]:
        if len(row) >= 2 and not _blank(row[0]) and not _blank(row[1]):
            value = row[1]
            if isinstance(value, dt.datetime):
                value = value.date()
            out[str(row[0]).strip()] = value
    return out
