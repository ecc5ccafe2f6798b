"""Per-dataset memory of results: a report asks the same question of one dataset several times.

The segment table, the diagnosis, the budget shift and the stability verdict all need the
full-cycle figures per segment; computing them once per (function, options) and handing out
copies keeps every function pure while the report does the work once. The memory lives on the
:class:`~calc.dataset.Dataset` it belongs to (so it goes when the data goes) and is bounded.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

import numpy as np
import pandas as pd

from .parallel import run_together

F = TypeVar("F", bound=Callable[..., Any])
MAX_RESULTS = 64
#: Key of a table's totals per day (calc.daily), which prepare fills in from the counts it makes anyway.
DAY_TOTALS = "day totals"


def _key(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    return value


def remembered(function: F) -> F:
    """Remember ``function(data, **options)`` on ``data.memo``; each caller gets its own copy of a frame.

    Options left out and options given at their default value are one question (the key holds every
    option, defaults filled in): ``kpi_table(data)`` and ``kpi_table(data, by=None)`` are made once.
    """
    defaults = {name: p.default for name, p in inspect.signature(function).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty}

    @functools.wraps(function)
    def wrapper(data: Any, /, **options: Any) -> Any:
        memo = getattr(data, "memo", None)
        try:
            key = (function.__module__, function.__qualname__, _key({**defaults, **options}))
            hash(key)
        except TypeError:  # an unhashable option (e.g. a list of lists): just compute
            memo = None
        if memo is None:
            return function(data, **options)
        result = _stored(memo, key, lambda: function(data, **options))
        return result.copy() if isinstance(result, pd.DataFrame) else result

    return wrapper  # type: ignore[return-value]


def kept(memo: dict, key: tuple, make: Callable[[], Any]) -> Any:
    """A derived value (e.g. the period of every row of a whole table) made once per dataset.

    Arrays are handed out read-only, so no caller can change what the next one gets.
    """
    def read_only() -> Any:
        value = make()
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        return value

    return _stored(memo, ("kept", *key), read_only)


def kept_all(memo: dict, makers: dict[tuple, Callable[[], Any]], *, rows: int) -> dict[tuple, Any]:
    """:func:`kept` for several keys: the values not kept yet are made side by side (``run_together``,
    sized by ``rows``), then stored from the calling thread, so the memo is only ever changed by one thread."""
    missing = [key for key in makers if ("kept", *key) not in memo]
    made = dict(zip(missing, run_together([makers[key] for key in missing], rows=rows)))
    return {key: kept(memo, key, lambda key=key: made[key]) for key in makers}


def _stored(memo: dict, key: tuple, make: Callable[[], Any]) -> Any:
    """``memo[key]``, made by ``make`` the first time; the oldest entry goes once MAX_RESULTS are kept."""
    if key not in memo:
        if len(memo) >= MAX_RESULTS:
            memo.pop(next(iter(memo)))
        memo[key] = make()
    return memo[key]
