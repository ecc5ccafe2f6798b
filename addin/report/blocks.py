"""Report layout as plain data: the blocks a report sheet is made of.

A section (``sections.py``) turns calc results into a list of blocks; ``layout.py`` places the
blocks on a grid; the writers (xlsxwriter for new files, openpyxl/xlwings through the workbook
port for refreshes) only copy that grid into a workbook. No block holds a number that did not
come from calc: values are taken from calc's frames as they are, and "not computable" stays an
empty cell.

Number formats are named (``FORMATS``) so every writer renders them the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Named number formats shared by every writer (Excel format codes).
FORMATS = {
    "int": "#,##0",
    "money": "#,##0.00",
    "pct": "0.0%",
    "days": "0.0",
    "ratio": "0.00",
    "text": "@",
    "date": "yyyy-mm-dd",
}


@dataclass(frozen=True)
class Title:
    """Sheet heading and a one-line subtitle (period, as-of date, currency)."""

    text: str
    subtitle: str = ""


@dataclass(frozen=True)
class Card:
    """One key indicator: label, value (None = not computable) and format.

    ``formula`` is the live-Excel UDF formula the template puts in the value cell instead.
    """

    key: str
    label: str
    value: Any
    fmt: str = "int"
    formula: str | None = None
    missing: str | None = None  # shown instead of a blank when the value cannot be computed: what it needs


@dataclass(frozen=True)
class Cards:
    """A row of key-value cards."""

    cards: tuple[Card, ...]
    title: str = ""


@dataclass(frozen=True)
class Column:
    """A table column. ``formula`` makes the cells ordinary Excel formulas over other columns of the
    same row (``{key}`` = that column's cell), with calc's value as the cached result, so any
    spreadsheet recalculates it and tests can check the recalculation against calc."""

    key: str    # column name in the frame
    label: str  # header shown
    fmt: str = "text"
    formula: str | None = None


@dataclass(frozen=True)
class Highlight:
    """Conditional format on a table column: ``scale`` = 3-colour heat map (low red → high green;
    ``low_good`` turns it round for costs),
    ``equals`` = fill the cell when it equals ``value`` (``good``/``bad`` colour)."""

    column: str
    kind: str = "scale"            # "scale" | "equals"
    value: Any = None
    tone: str = "good"             # for "equals": "good" | "bad" | "warn"
    low_good: bool = False         # for "scale": low values green (costs, days)
    through: str | None = None     # for "scale": one heat map from ``column`` through this column


@dataclass(frozen=True)
class Table:
    """A table of calc results. ``formula`` (template only) is the spilling UDF formula that
    fills the table in live Excel; the frame then only gives the header."""

    key: str
    title: str
    frame: pd.DataFrame = field(repr=False, compare=False)
    columns: tuple[Column, ...] = ()
    highlights: tuple[Highlight, ...] = ()
    formula: str | None = None
    spill_rows: int = 12
    formula_header: bool = False   # the UDF spills its own header row (its columns vary, e.g. triangle ages)
    projected: pd.DataFrame | None = field(default=None, repr=False, compare=False)  # True = projected cell


    def __post_init__(self) -> None:
        missing = [c.key for c in self.columns if c.key not in self.frame.columns]
        if missing:  # a section asking for a column calc does not return is a programming error
            raise KeyError(f"table {self.key}: columns {missing} not in the calc result {list(self.frame.columns)}")


@dataclass(frozen=True)
class Chart:
    """A native chart over columns of a table in the same sheet.

    kind: "column", "bar", "line", "scatter"; ``secondary`` columns go on a second axis as lines.
    ``limits`` are drawn as lines without markers (control limits).
    """

    table: str
    kind: str
    title: str
    category: str
    series: tuple[str, ...]
    secondary: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()
    y_format: str | None = None


@dataclass(frozen=True)
class Notes:
    """Sentences below a section: data notes, exclusions, method statements, findings."""

    lines: tuple[str, ...]
    title: str = ""
    tone: str = "note"             # "note" | "finding" | "missing"


Block = Title | Cards | Table | Chart | Notes


@dataclass(frozen=True)
class Sheet:
    """One report sheet: its registry key, its (translated) tab name and its blocks."""

    key: str
    name: str
    blocks: tuple[Block, ...]

    def tables(self) -> dict[str, Table]:
        return {b.key: b for b in self.blocks if isinstance(b, Table)}
