"""Place report blocks on a sheet grid: every cell, chart, column width and conditional format.

The plan is the single description all writers copy (xlsxwriter for new files, openpyxl or live
Excel through the workbook port for refreshes), so a report looks the same whichever wrote it,
and tests can check positions and values without opening a workbook.

Blocks go top to bottom in column A onwards, one blank row between blocks; a chart takes
``CHART_ROWS`` rows below the table it draws. Values are made Excel-safe here (NaN -> empty cell,
numpy scalars -> Python numbers, timestamps -> naive datetimes).

The plan also says how the sheet prints (:func:`paginate`): A4 landscape at one print scale that fits
the widest row on the page, with a row page break before any chart that would otherwise be cut by the
end of a page, so every chart prints whole on one page.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..convert import excel_value as cell_value
from .blocks import Cards, Chart, Notes, Sheet, Table, Title

CHART_ROWS = 16
CHART_WIDTH_COLS = 8
CARDS_PER_ROW = 5
#: Notes are wrapped in a merged cell this many columns wide, so long sentences neither run off the
#: page nor widen the printed sheet.
NOTE_COLS = 8
DEFAULT_WIDTH = 8.43
LINE_POINTS = 15.0
#: The printed page: A4 landscape, in points, and the margins (inches) every writer sets.
PAGE_POINTS = (842.0, 595.0)
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.6, "header": 0.3, "footer": 0.3}
#: A chart's printed width in points: the wider of the two writers' charts (openpyxl's 24 cm;
#: xlsxwriter's 480 px × 1.6 = 768 px = 576 pt).
CHART_POINTS_WIDE = 24 / 2.54 * 72
#: Points per character of column width. Excel draws 7 px (5.25 pt) per character of Calibri 11 plus
#: 5 px of padding; LibreOffice with Carlito (Calibri's metrics) about 7.4 px: the wider one, so a sheet
#: never spills onto a second page across.
POINTS_PER_CHAR, COLUMN_PADDING = 7.4 * 0.75, 5 * 0.75
#: Share of the page height the pagination fills, for the writers' rounding of row heights.
PAGE_FILL = 0.96


@dataclass(frozen=True)
class CellPlan:
    row: int            # 0-based
    col: int            # 0-based
    value: Any          # Excel-safe value (None = empty)
    style: str          # "title", "subtitle", "section", "card_label", "card:<fmt>", "header", "cell:<fmt>", "note", ...
    formula: str | None = None
    dynamic: bool = False   # a spilling (dynamic-array) formula
    merge_to: int | None = None  # last column of a merged, wrapped text cell (notes)


@dataclass(frozen=True)
class Ref:
    """A one-column range on the same sheet (0-based, inclusive)."""

    first_row: int
    col: int
    last_row: int


@dataclass(frozen=True)
class SeriesPlan:
    name: str
    values: Ref
    secondary: bool = False
    limit: bool = False


@dataclass(frozen=True)
class ChartPlan:
    kind: str
    title: str
    categories: Ref
    series: tuple[SeriesPlan, ...]
    row: int
    col: int
    y_format: str | None = None
    x_format: str | None = None    # "date": the categories are dates, shown as dates on the axis
    categories_count: int = 0      # how many categories (a bar chart is made tall enough to label each)


@dataclass(frozen=True)
class CondFormatPlan:
    ref: Ref
    kind: str           # "scale" | "equals"
    value: Any = None
    tone: str = "good"
    low_good: bool = False
    last_col: int | None = None      # a block of columns ``ref.col..last_col`` (one heat map)


@dataclass
class SheetPlan:
    key: str
    name: str
    cells: list[CellPlan] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    charts: list[ChartPlan] = field(default_factory=list)
    cond_formats: list[CondFormatPlan] = field(default_factory=list)
    tables: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # key -> header row, first col, last row, last col
    heights: dict[int, float] = field(default_factory=dict)  # row -> height in points (wrapped notes)
    print_scale: int = 100             # percent; see paginate()
    row_breaks: list[int] = field(default_factory=list)  # 0-based rows that start a new printed page
    print_area: tuple[int, int] = (0, 0)  # last row and last column printed (0-based)

    def cell(self, row: int, col: int) -> CellPlan | None:
        return next((c for c in self.cells if c.row == row and c.col == col), None)

    def values(self) -> dict[tuple[int, int], Any]:
        return {(c.row, c.col): c.value for c in self.cells}


def excel_value(value: Any) -> Any:
    """A value any spreadsheet writer accepts: None (a blank cell) for missing/NaN/inf, plain Python scalars.

    >>> import numpy as np, pandas as pd
    >>> excel_value(np.float64("nan")), excel_value(np.int64(3)), excel_value(pd.Timestamp("2024-03-01"))
    (None, 3, datetime.datetime(2024, 3, 1, 0, 0))
    """
    kind = type(value)  # the two kinds most cells hold, answered as cell_value answers them
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str:
        return value
    return cell_value(value, missing=None)


def xl_cell(row: int, col: int) -> str:
    """A1 reference of a 0-based cell.

    >>> xl_cell(0, 0), xl_cell(11, 27)
    ('A1', 'AB12')
    """
    name, col = "", col + 1
    while col:
        col, rest = divmod(col - 1, 26)
        name = chr(65 + rest) + name
    return f"{name}{row + 1}"


_WIDE = re.compile("[\u2e81-\U0010ffff]")  # CJK and later: two columns wide


def _width(text: Any) -> float:
    """Column width in characters; CJK characters count double."""
    s = "" if text is None else str(text)
    if s.isascii():  # every character single width (most cells)
        return len(s)
    return len(s) + len(_WIDE.findall(s))  # each character past U+2E80 once more (counted in C, not a Python loop)


def shown(value: Any, fmt: str) -> str:
    """Roughly what Excel shows for a value in a named format (for column widths only).

    >>> shown(5449477.8, "money"), shown(0.0858, "pct"), shown(6657.0, "int")
    ('5,449,477.80', '8.6%', '6,657')
    """
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if fmt == "money":
            return f"{value:,.2f}"
        if fmt == "int":
            return f"{value:,.0f}"
        if fmt == "pct":
            return f"{value:.1%}"
        if fmt in ("days", "ratio"):
            return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return "2024-01-01"
    return str(value)


def chart_rows(chart: ChartPlan) -> int:
    """Rows a chart takes: a bar chart grows with its categories so that every label is shown."""
    if chart.kind == "bar":
        return max(CHART_ROWS, math.ceil(chart.categories_count * 1.3) + 6)
    return CHART_ROWS


def plan_sheet(sheet: Sheet) -> SheetPlan:
    """Place a sheet's blocks; see the module docstring for the rules.

    >>> from addin.report.blocks import Title, Cards, Card
    >>> plan = plan_sheet(Sheet("dashboard", "Dashboard", (Title("Dashboard", "as of 2024-03-31"),
    ...                          Cards((Card("consultations", "Consultations", 4, "int"),)))))
    >>> [(c.row, c.col, c.value, c.style) for c in plan.cells]
    [(0, 0, 'Dashboard', 'title'), (1, 0, 'as of 2024-03-31', 'subtitle'), (3, 0, 'Consultations', 'card_label'), (4, 0, 4, 'card:int')]
    """
    plan = SheetPlan(sheet.key, sheet.name)
    row = 0
    tables: dict[str, tuple[Table, int]] = {}

    def widen(col: int, text: Any, minimum: float = 10, maximum: float = 60) -> None:
        plan.widths[col] = min(maximum, max(plan.widths.get(col, minimum), _width(text) + 2))

    for block in sheet.blocks:
        if isinstance(block, Title):
            plan.cells.append(CellPlan(row, 0, block.text, "title"))
            row += 1
            if block.subtitle:
                plan.cells.append(CellPlan(row, 0, block.subtitle, "subtitle"))
                row += 1
            row -= 1  # every block leaves ``row`` on its last used row
        elif isinstance(block, Cards):
            if block.title:
                plan.cells.append(CellPlan(row, 0, block.title, "section"))
                row += 1
            for i, card in enumerate(block.cards):
                r, c = row + 2 * (i // CARDS_PER_ROW), i % CARDS_PER_ROW
                plan.cells.append(CellPlan(r, c, card.label, "card_label"))
                plan.heights[r] = 2 * LINE_POINTS  # room for a label wrapped on two lines
                value = excel_value(card.value)
                if value is None and card.missing:  # a short line saying what is missing, not a blank tile
                    plan.cells.append(CellPlan(r + 1, c, card.missing, "card_missing"))
                    widen(c, card.missing, minimum=16, maximum=28)
                    continue
                plan.cells.append(CellPlan(r + 1, c, value, f"card:{card.fmt}", formula=card.formula))
                widen(c, card.label, minimum=16, maximum=28)
                # card values are set in a 16-point font, about 1.5 times as wide as body text
                widen(c, "x" * math.ceil(1.5 * _width(shown(value, card.fmt))), minimum=16, maximum=40)
            row += 2 * math.ceil(len(block.cards) / CARDS_PER_ROW) - 1
        elif isinstance(block, Table):
            if block.title:
                plan.cells.append(CellPlan(row, 0, block.title, "section"))
                row += 1
            header = row
            columns = block.columns
            for c, column in enumerate(columns):
                if not (block.formula is not None and block.formula_header):
                    plan.cells.append(CellPlan(header, c, column.label, "header"))
                widen(c, column.label)
            if block.formula is not None and block.formula_header:
                plan.cells.append(CellPlan(header, 0, None, "header", formula=block.formula, dynamic=True))
                last = header + block.spill_rows
            elif block.formula is not None:
                # live Excel: the UDF spills its own rows below the header row we wrote
                plan.cells.append(CellPlan(header + 1, 0, None, "cell:text", formula=block.formula, dynamic=True))
                last = header + block.spill_rows
            else:
                frame = block.frame
                positions = {column.key: c for c, column in enumerate(columns)}
                for c, column in enumerate(columns):
                    values = frame[column.key].tolist()
                    style = f"cell:{column.fmt}"
                    marks = (block.projected[column.key].to_numpy(dtype=bool)
                             if block.projected is not None and column.key in block.projected.columns else None)
                    longest = ""
                    for i, value in enumerate(values):
                        value = excel_value(value)
                        if marks is not None and marks[i]:
                            style = f"proj:{column.fmt}"
                        elif marks is not None:
                            style = f"cell:{column.fmt}"
                        formula = None if column.formula is None else column.formula.format(
                            **{k: xl_cell(header + 1 + i, j) for k, j in positions.items()})
                        plan.cells.append(CellPlan(header + 1 + i, c, value, style, formula=formula))
                        text = shown(value, column.fmt)
                        if len(text) > len(longest):
                            longest = text
                    widen(c, longest, maximum=40)
                last = header + max(len(frame), 1)
            plan.tables[block.key] = (header, 0, last, len(columns) - 1)
            for h in block.highlights:
                col = [c.key for c in columns].index(h.column)
                through = [c.key for c in columns].index(h.through) if h.through is not None else None
                plan.cond_formats.append(CondFormatPlan(Ref(header + 1, col, last), h.kind, h.value, h.tone, h.low_good,
                                                        through))
            tables[block.key] = (block, header)
            row = last
        elif isinstance(block, Chart):
            table, header = tables[block.table]
            first, _, last, _ = plan.tables[block.table]
            keys = [c.key for c in table.columns]
            labels = {c.key: c.label for c in table.columns}

            def ref(key: str) -> Ref:
                return Ref(first + 1, keys.index(key), max(last, first + 1))

            series = tuple([SeriesPlan(labels[k], ref(k)) for k in block.series]
                           + [SeriesPlan(labels[k], ref(k), secondary=True) for k in block.secondary]
                           + [SeriesPlan(labels[k], ref(k), limit=True) for k in block.limits])
            fmts = {c.key: c.fmt for c in table.columns}
            count = max(last - first, 1)
            chart = ChartPlan(block.kind, block.title, ref(block.category), series, row, 0, block.y_format,
                              "date" if fmts.get(block.category) == "date" else None, count)
            plan.charts.append(chart)
            row += chart_rows(chart) - 1
        elif isinstance(block, Notes):
            if block.title:
                plan.cells.append(CellPlan(row, 0, block.title, "section"))
                row += 1
            for line in block.lines:
                plan.cells.append(CellPlan(row, 0, line, block.tone, merge_to=NOTE_COLS - 1))
                row += 1
            row -= 1
        else:  # pragma: no cover - Block is a closed union
            raise TypeError(f"unknown block {type(block).__name__}")
        row += 2
    span = sum(plan.widths.get(c, DEFAULT_WIDTH) for c in range(NOTE_COLS))
    for cell in plan.cells:
        if cell.merge_to is not None:
            lines = max(1, math.ceil(_width(cell.value) * 1.1 / span))  # 10 % slack for proportional fonts
            plan.heights[cell.row] = LINE_POINTS * lines
    paginate(plan)
    return plan


def _column_points(width: float) -> float:
    return width * POINTS_PER_CHAR + COLUMN_PADDING


def paginate(plan: SheetPlan) -> SheetPlan:
    """Set how ``plan`` prints: the print area, one print scale and the row page breaks.

    The scale fits the widest row on an A4 landscape page — the columns, text running on past its
    column, a chart — and the tallest chart on one page's height. Rows then fill pages top to bottom;
    a chart that would cross the end of a page starts the next one instead, and a heading (title,
    section, tile label) stays with the row below it. Every break is written as a manual break, so
    the spreadsheet cuts the pages where this plan does; a fixed scale rather than "fit to one page
    wide", because Excel's "fit to" scaling ignores manual page breaks.

    >>> from addin.report.blocks import Title
    >>> plan = plan_sheet(Sheet("t", "T", (Title("T"),)))
    >>> plan.print_scale, plan.row_breaks, plan.print_area
    (100, [], (0, 0))
    """
    width = lambda col: plan.widths.get(col, DEFAULT_WIDTH)  # noqa: E731
    last_col = max([c.col if c.merge_to is None else c.merge_to for c in plan.cells] + list(plan.widths) + [0])
    for cell in plan.cells:  # a text wider than its column runs on over the next ones, and is printed there
        if isinstance(cell.value, str) and cell.merge_to is None:
            need, col = _width(cell.value) * 1.1 + 1, cell.col
            while need > width(col):
                need, col = need - width(col), col + 1
            last_col = max(last_col, col)
    wide = sum(_column_points(width(c)) for c in range(last_col + 1))
    if plan.charts:
        wide = max(wide, CHART_POINTS_WIDE + 2)
        while sum(_column_points(width(c)) for c in range(last_col + 1)) < CHART_POINTS_WIDE:
            last_col += 1  # the print area covers the whole chart
    usable_wide = PAGE_POINTS[0] - 72 * (MARGINS["left"] + MARGINS["right"])
    usable_tall = PAGE_POINTS[1] - 72 * (MARGINS["top"] + MARGINS["bottom"])
    last_row = max([c.row for c in plan.cells] + [ch.row + chart_rows(ch) - 1 for ch in plan.charts] + [0])
    heights = [plan.heights.get(r, LINE_POINTS) for r in range(last_row + 1)]
    tallest = max([sum(heights[ch.row:ch.row + chart_rows(ch)]) for ch in plan.charts] + [1.0])
    scale = math.floor(min(100, 100 * usable_wide / wide, 100 * usable_tall * PAGE_FILL / tallest))
    page = usable_tall * PAGE_FILL * 100 / scale  # sheet points one page holds
    breakable = [True] * (last_row + 1)
    for chart in plan.charts:
        # a page starts at the blank row above a chart, never at its top edge: a spreadsheet prints an
        # object that touches a page's edge on that page too (clipped away, but there)
        for r in range(max(chart.row, 1), min(chart.row + chart_rows(chart), last_row + 1)):
            breakable[r] = False
    for cell in plan.cells:
        if cell.style in ("title", "subtitle", "section", "card_label") and cell.row < last_row:
            breakable[cell.row + 1] = False
    breaks, start, filled = [], 0, 0.0
    for r, height in enumerate(heights):
        if filled + height > page and r > start:
            at = next((b for b in range(r, start, -1) if breakable[b]), r)
            breaks.append(at)
            start, filled = at, sum(heights[at:r])
        filled += height
    plan.print_scale, plan.row_breaks, plan.print_area = max(10, scale), breaks, (last_row, last_col)
    return plan
