"""Group-by on integer codes: one key space shared by every table of a query, sums by ``np.bincount``.

Why not ``DataFrame.groupby``: the report asks many small questions (day, month × province,
category × store × tier …) of the same million rows. Turning each key into a dense integer code
and counting with ``np.bincount`` costs one pass per figure with no hashing or sorting, and
because Spend, Leads and Deals share the key space, their figures line up without a join.

Keys are categorical dimensions (codes over the union of the tables' categories), datetime
columns, or integer columns of day numbers (days since 1970, as ``query.select`` makes for
periods); dates are coded as days since the earliest date. When the product of key sizes is too large for a dense
array, the codes are compressed with ``np.unique`` first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_DAY_NS = 86_400_000_000_000
_DENSE_LIMIT = 20_000_000


@dataclass
class _Key:
    name: str
    kind: str                     # "category" or "date"
    labels: np.ndarray            # category labels, or None for dates
    origin: int = 0               # first day (days since 1970) for dates
    size: int = 1


def _as_category(column: pd.Series) -> pd.Series:
    return column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype(str).astype("category")


def _categories(column: pd.Series) -> np.ndarray:
    return np.asarray(_as_category(column).cat.categories, dtype=object).astype(str)


def _is_day_key(column: pd.Series) -> bool:
    """Dates, or whole day numbers: after ``prepare`` every dimension is categorical, so an integer key is days."""
    return pd.api.types.is_datetime64_any_dtype(column.dtype) or (
        pd.api.types.is_integer_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype))


class KeySpace:
    """Dense codes for the ``by`` keys over several tables (None tables are skipped).

    >>> a = pd.DataFrame({"ch": pd.Categorical(["x", "y", "x"])})
    >>> b = pd.DataFrame({"ch": pd.Categorical(["z", "x"])})
    >>> space = KeySpace([a, b], ("ch",))
    >>> space.codes(a).tolist(), space.codes(b).tolist(), space.size
    ([0, 1, 0], [2, 0], 3)
    """

    def __init__(self, tables: list[pd.DataFrame | None], by: tuple[str, ...]) -> None:
        tables = [t for t in tables if t is not None and all(b in t.columns for b in by)]
        self.by = by
        self.keys: list[_Key] = []
        for name in by:
            columns = [t[name] for t in tables if name in t.columns]
            if _is_day_key(columns[0]):
                days = [self._days(c) for c in columns if len(c)]
                low = min((int(d.min()) for d in days), default=0)
                high = max((int(d.max()) for d in days), default=0)
                self.keys.append(_Key(name, "date", None, low, high - low + 1))
            else:
                labels = np.unique(np.concatenate([_categories(c) for c in columns]))
                self.keys.append(_Key(name, "category", labels, 0, max(len(labels), 1)))
        self.size = int(np.prod([k.size for k in self.keys], dtype=np.float64)) if self.keys else 1
        self.dense = self.size <= _DENSE_LIMIT

    @staticmethod
    def _days(column: pd.Series) -> np.ndarray:
        if pd.api.types.is_integer_dtype(column.dtype):  # day numbers already
            return column.to_numpy()
        return column.to_numpy(dtype="datetime64[ns]").view("int64") // _DAY_NS

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """One int64 code per row; rows of one group share a code across all tables of the space."""
        code, offset = None, 0
        for key in self.keys:
            column = frame[key.name]
            if key.kind == "date":
                part, shift = self._days(column), -key.origin
            else:
                column = _as_category(column)
                categories = _categories(column)
                part, shift = column.cat.codes.to_numpy(), 0
                if not np.array_equal(categories, key.labels):  # this table knows other values: map its codes
                    lookup = np.searchsorted(key.labels, categories)
                    part = lookup[part] if len(lookup) else np.zeros(len(frame), np.int64)
            # in place on one array: a million-row code costs one pass per key, not three new arrays;
            # the first key's shift rides on its widening to int64, later shifts are added once at the end
            if code is None:
                code = np.add(part, shift, dtype=np.int64)
            else:
                code *= key.size
                code += part
                offset = offset * key.size + shift
        if code is None:
            return np.zeros(len(frame), dtype=np.int64)
        if offset:
            code += offset
        return code

    def labels(self, codes: np.ndarray) -> pd.DataFrame:
        """The key values of each code, as columns named like the keys (dates as Timestamps)."""
        out = {}
        rest = np.asarray(codes, dtype=np.int64)
        for key in reversed(self.keys):
            part = rest % key.size
            rest = rest // key.size
            if key.kind == "date":  # day numbers to datetime64[ns] by casting: no parsing
                out[key.name] = (part + key.origin).astype("datetime64[D]").astype("datetime64[ns]")
            else:
                out[key.name] = key.labels[part]
        return pd.DataFrame({name: out[name] for name in self.by})


class Groups:
    """Sums, counts, means and medians per group for rows coded by a :class:`KeySpace`."""

    def __init__(self, space: KeySpace, all_codes: list[np.ndarray]) -> None:
        self.space = space
        if space.dense:
            self.present = None
            self.size = space.size
        else:  # compress a sparse key space to the codes that occur
            self.present = np.unique(np.concatenate(all_codes)) if all_codes else np.zeros(0, np.int64)
            self.size = len(self.present)

    def index(self, codes: np.ndarray) -> np.ndarray:
        return codes if self.present is None else np.searchsorted(self.present, codes)

    def count(self, codes: np.ndarray, where: np.ndarray | None = None, weights: np.ndarray | None = None
              ) -> np.ndarray:
        """Rows per group (where ``where`` holds); ``weights`` are the rows each aggregate row stands for."""
        idx = self.index(codes)
        if where is None and weights is None:
            return np.bincount(idx, minlength=self.size).astype(np.float64)
        if where is None:
            return np.bincount(idx, weights=weights, minlength=self.size).astype(np.float64)
        where = where.astype(np.float64)
        return np.bincount(idx, weights=where if weights is None else where * weights, minlength=self.size)

    def total(self, codes: np.ndarray, values: np.ndarray, *, min_count: int = 0, complete: bool = False
              ) -> np.ndarray:
        """Sum of values per group, ignoring NaN; NaN where fewer than ``min_count`` values are known.
        ``complete`` says the caller knows no value is NaN (no pass to look for them)."""
        values = np.asarray(values, dtype=np.float64)
        idx = self.index(codes)
        missing = None if complete else np.isnan(values)
        if missing is None or not missing.any():  # the usual case (cost, gross profit): no mask to apply
            sums = np.bincount(idx, weights=values, minlength=self.size).astype(np.float64)
            known = self.count(codes) if min_count else None
        else:
            sums = np.bincount(idx, weights=np.where(missing, 0.0, values), minlength=self.size).astype(np.float64)
            known = self.count(codes, ~missing) if min_count else None
        if min_count:
            sums[known < min_count] = np.nan
        return sums

    def mean(self, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        known = ~np.isnan(values)
        n = self.count(codes, known)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.total(codes, values) / np.maximum(n, 1), np.nan)

    def median(self, codes: np.ndarray, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Median per group of the known values; ``weights`` (whole numbers) repeat each value that often.

        Whole numbers (days to close) are counted into a groups × values histogram when it is small
        and the middle is read off its running sum, or sorted as one packed integer (group, value);
        anything else is sorted by group then value.
        """
        values = np.asarray(values, dtype=np.float64)
        known = ~np.isnan(values)
        idx, vals = self.index(codes)[known], values[known]
        whole = bool(len(vals)) and bool((vals == np.floor(vals)).all())
        low, span = (int(vals.min()), int(vals.max() - vals.min()) + 1) if whole else (0, 0)
        # a groups × values histogram costs a few passes over its cells, a sort n·log n over the
        # values: the histogram only pays when it has few cells for the values it holds
        if whole and self.size * span <= 8 * len(vals):
            counted = None if weights is None else np.asarray(weights, dtype=np.float64)[known]
            return self._median_by_histogram(idx, (vals - low).astype(np.int64), span, counted) + low
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)[known]
            if whole and self.size * span < 2**62:  # one sort of the packed integer, not a two-key lexsort
                order = np.argsort(idx.astype(np.int64) * span + (vals - low).astype(np.int64), kind="stable")
            else:
                order = np.lexsort((vals, idx))
            return self._weighted_median(idx[order], vals[order], weights[order])
        if whole and self.size * span < 2**62:  # group and value packed in one integer: one plain sort
            packed = np.sort(idx.astype(np.int64) * span + (vals - low).astype(np.int64))
            idx, vals = packed // span, (packed % span + low).astype(np.float64)
        else:
            order = np.lexsort((vals, idx))
            idx, vals = idx[order], vals[order]
        out = np.full(self.size, np.nan)
        if not len(idx):
            return out
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        ends = np.r_[starts[1:], len(idx)]
        low, high = vals[starts + (ends - starts - 1) // 2], vals[starts + (ends - starts) // 2]
        out[idx[starts]] = (low + high) / 2
        return out

    def _weighted_median(self, idx: np.ndarray, vals: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The median of each group's values, each repeated ``weights`` times (aggregate rows), as
        :meth:`median` gives for the rows themselves: the mean of the two middle values. ``idx`` and
        ``vals`` come sorted by group, then value."""
        out = np.full(self.size, np.nan)
        present = weights > 0
        idx, vals, weights = idx[present], vals[present], weights[present]
        if not len(idx):
            return out
        running = np.cumsum(weights)
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        before = np.where(starts > 0, running[starts - 1], 0.0)
        n = np.r_[running[starts[1:] - 1], running[-1]] - before
        # the (n-1)//2-th and n//2-th repeated values (0-based): the first rows whose running total passes them
        low = vals[np.searchsorted(running, before + (n - 1) // 2, side="right")]
        high = vals[np.searchsorted(running, before + n // 2, side="right")]
        out[idx[starts]] = (low + high) / 2
        return out

    def _median_by_histogram(self, idx: np.ndarray, offsets: np.ndarray, span: int,
                             weights: np.ndarray | None = None) -> np.ndarray:
        # weights (aggregate rows) are whole numbers, so their running sums are exact in float64
        counts = np.bincount(idx * span + offsets, weights=weights, minlength=self.size * span).reshape(self.size, span)
        running = np.cumsum(counts, axis=1)
        n = running[:, -1]
        # the (n-1)//2-th and n//2-th values (0-based) are the two middles; equal when n is odd
        low = np.argmax(running > ((n - 1) // 2)[:, None], axis=1)
        high = np.argmax(running > (n // 2)[:, None], axis=1)
        return np.where(n > 0, (low + high) / 2, np.nan)

    def label_frame(self, rows: np.ndarray) -> pd.DataFrame:
        """Key columns for the given group positions."""
        codes = rows if self.present is None else self.present[rows]
        return self.space.labels(codes)
