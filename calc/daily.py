"""Whole-table totals per day, made once per dataset.

Many questions are asked by period alone, of whole tables: consultations and spend per day (the
daily key indicators), per week (the volume chart), per month (the cohort sizes and cohort spend).
Each is a sum over a million rows — or over a thousand days, once the rows have been summed by
day. The day totals are one pass over a table, kept on the dataset; every period question after
that reads ~1,000 numbers instead of 1,000,000 rows ("aggregate raw rows once, to the grain each
output needs").

Counts are summed as float64, which is exact for whole numbers below 2**53. Money summed per day
first and then per period is added in another order than row by row, so the two can differ by
rounding (within 1e-12 of the total in the tests, which compare both ways), far below a cent.
"""
from __future__ import annotations

import numpy as np

from .dataset import DAY, NO_DAY, Dataset, weights_of
from .memo import DAY_TOTALS, kept


def all_dated(data: Dataset, table: str) -> bool:
    """Every row of ``data``'s table has a date (Leads and Deals always; Spend unless exported without one)."""
    frame = getattr(data, table)
    if frame is None:
        return False
    return kept(data.memo, ("all dated", table), lambda: bool(len(frame)) and int(frame[DAY].min()) != NO_DAY)


def day_totals(data: Dataset, table: str, column: str | None = None) -> tuple[int, np.ndarray]:
    """(first day number, totals per day from that day on) over the whole table: rows, or the sum of ``column``.

    Only for tables where :func:`all_dated` holds. The totals are read-only and shared.

    >>> import pandas as pd
    >>> from calc import prepare
    >>> data = prepare(leads=pd.DataFrame({"lead_id": [1, 2, 3], "date": ["2024-03-01", "2024-03-01", "2024-03-03"]}))
    >>> first, counts = day_totals(data, "leads")
    >>> str(np.datetime64(first, "D")), counts.tolist()
    ('2024-03-01', [2.0, 0.0, 1.0])
    """
    frame = getattr(data, table)

    def made() -> tuple[int, np.ndarray]:
        days = frame[DAY].to_numpy()
        first = int(days.min())
        weights = frame[column].to_numpy(dtype=np.float64) if column else weights_of(frame)
        # intp offsets: bincount's own index type, so it makes no copy of its own
        totals = np.bincount(np.subtract(days, first, dtype=np.intp), weights=weights).astype(np.float64)
        totals.flags.writeable = False
        return first, totals

    return kept(data.memo, (DAY_TOTALS, table, column), made)


def covered_days(data: Dataset, table: str) -> np.ndarray:
    """The day numbers :func:`day_totals` covers, first to last, one per total."""
    first, totals = day_totals(data, table)
    return np.arange(first, first + len(totals), dtype=np.int32)


def totals_by(data: Dataset, table: str, codes: np.ndarray, size: int, column: str | None = None,
              *, until: int | None = None) -> np.ndarray:
    """Rows (or the sum of ``column``) of the whole table per group: ``codes`` gives the group (0 … size − 1)
    of each of :func:`covered_days`, and the day totals are summed by group. ``until`` (a day number)
    leaves out the days after it.

    >>> import pandas as pd
    >>> from calc import prepare
    >>> data = prepare(leads=pd.DataFrame({"lead_id": [1, 2, 3], "date": ["2024-03-01", "2024-03-02", "2024-04-09"]}))
    >>> months = covered_days(data, "leads").astype("datetime64[D]").astype("datetime64[M]").astype(int) - 650
    >>> totals_by(data, "leads", months, 2).tolist(), totals_by(data, "leads", months, 2, until=19784).tolist()
    ([2.0, 1.0], [2.0, 0.0])
    """
    first, totals = day_totals(data, table, column)
    if until is not None:
        kept_days = min(max(until - first + 1, 0), len(totals))
        codes, totals = codes[:kept_days], totals[:kept_days]
    return np.bincount(codes, weights=totals, minlength=size)
