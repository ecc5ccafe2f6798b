"""Filter text such as ``province=Guangdong;industry=Medical|Education`` and dimension names.

Grammar: conditions joined by ``;`` (all must hold); each is ``column=value|value`` (any of the
values) or ``column!=value|value`` (none of them). Column names and values match case-, space-
and width-insensitively; ``(blank)`` matches empty cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .messages import Message
from .schema import fold

BLANK = "(blank)"


@dataclass(frozen=True)
class Condition:
    column: str
    values: tuple[str, ...]
    negate: bool = False


def parse_filter(text: str | None) -> tuple[Condition, ...]:
    """Parse filter text.

    >>> parse_filter("province=Guangdong; industry != Medical|Education")
    (Condition(column='province', values=('Guangdong',), negate=False), Condition(column='industry', values=('Medical', 'Education'), negate=True))
    """
    if text is None or not str(text).strip():
        return ()
    conditions = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        negate = "!=" in part
        column, sep, values = part.partition("!=" if negate else "=")
        options = tuple(v.strip() for v in values.split("|") if v.strip())
        if not sep or not column.strip() or not options:
            raise InputError("filter", None, Message("error.filter_syntax", part=part.strip()),
                             fix=Message("error.filter_syntax.fix"))
        conditions.append(Condition(column.strip(), options, negate))
    return tuple(conditions)


def match_column(name: str, available: list[str], *, what: str, table: str) -> str:
    """The real column behind a user-typed dimension name, or an InputError listing the choices."""
    for column in available:
        if fold(column) == fold(name):
            return column
    have = ", ".join(available) if available else Message("error.no_dimension_columns")
    raise InputError(table, name, Message(f"error.not_a_dimension.{what}", have=have),
                     fix=Message("error.not_a_dimension.fix", name=name, table=table))


def condition_mask(frame: pd.DataFrame, conditions: tuple[Condition, ...]) -> np.ndarray:
    """Rows meeting every (already resolved) condition; values absent from this frame simply match nothing."""
    mask = np.ones(len(frame), dtype=bool)
    for cond in conditions:
        hit = frame[cond.column].isin(cond.values).to_numpy()
        mask &= ~hit if cond.negate else hit
    return mask
