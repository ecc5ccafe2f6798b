"""The live-Excel implementation of the workbook port (xlwings).

Used by the ribbon actions: ``XlwingsPort(xw.Book.caller())``. Values are written in one block
per sheet (one COM call, not one per cell); styles are applied per run of equal-styled cells in a
column; charts and colour scales use Excel's object model (``.api``), which exists on Windows
Excel — where it does not (macOS), the sheet still gets its values and formats. The status bar
shows progress on long refreshes and is handed back to Excel at the end.
"""
from __future__ import annotations

from itertools import groupby
from typing import Any

from addin.report.layout import MARGINS, ChartPlan, SheetPlan, xl_cell
from addin.report.xlsx import STYLE
from addin.outputs import SHEET_MARK
from calc.messages import Message
from addin.safety import safe_cell_text

# Excel constants (XlChartType, XlAxisGroup) so no win32 type library is needed
CHART_TYPES = {"column": 51, "bar": 57, "line": 4, "scatter": 74}
XL_LINE, XL_SECONDARY = 4, 2


def _rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class XlwingsPort:
    """A workbook open in Excel, seen through the port."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def owned_sheets(self) -> dict[str, str]:
        owned = {}
        for sheet in self.book.sheets:
            if sheet.tables:  # a table on it was put there by the user: not ours
                continue
            for name in sheet.names:  # sheet-scoped names come back as "Sheet!name"
                if name.name.rsplit("!", 1)[-1] == SHEET_MARK:
                    owned[sheet.name] = name.refers_to.strip('="')
        return owned

    def read_table(self, name: str) -> list[list[Any]] | None:
        for sheet in self.book.sheets:
            for table in sheet.tables:
                if table.name.casefold() == name.casefold():
                    return table.range.options(ndim=2).value
        return None

    def set_status(self, text: str | None) -> None:
        self.book.app.status_bar = text

    def activate(self, sheet: str) -> None:
        self.book.sheets[sheet].activate()

    def write_table(self, name: str, frame: Any) -> None:
        for sheet in self.book.sheets:
            for table in sheet.tables:
                if table.name.casefold() == name.casefold():
                    # imported text such as "=..." must arrive as text, not run as a formula
                    safe = frame.apply(lambda col: col.map(safe_cell_text) if col.dtype == object else col)
                    table.update(safe, index=False)  # resizes the Excel Table to the new rows
                    return
        raise KeyError(f"this workbook has no table named {name}")

    def write_sheet(self, plan: SheetPlan, *, values_only: bool = False, replaces: set[str] | None = None) -> None:
        names = {plan.name} | set(replaces or ())
        old = [sheet for sheet in self.book.sheets if sheet.name in names]
        foreign = [sheet.name for sheet in old if sheet.name not in self.owned_sheets()]
        if foreign:  # the last line of defence: a report never replaces a sheet it did not write
            raise ValueError(Message("workbook.foreign_sheet", sheet=repr(foreign[0])))
        if old:
            sheet = self.book.sheets.add(before=old[0])
            for stale in old:
                stale.delete()
        else:
            sheet = self.book.sheets.add(after=self.book.sheets[0])
        sheet.name = plan.name
        sheet.names.add(SHEET_MARK, f'="{plan.key}"')  # a refresh finds report sheets by this, not their name
        if not plan.cells:
            return
        height = max(c.row for c in plan.cells) + 1
        width = max(c.col for c in plan.cells) + 1
        grid: list[list[Any]] = [[None] * width for _ in range(height)]
        dynamic = []
        for cell in plan.cells:
            if cell.formula and cell.dynamic and not values_only:
                dynamic.append(cell)
            elif cell.formula and not values_only:
                grid[cell.row][cell.col] = cell.formula
            else:  # Excel runs text such as "=..." or "+1" set through .value: write it as text
                grid[cell.row][cell.col] = safe_cell_text(cell.value)
        sheet.range((1, 1)).value = grid  # one call for the whole sheet
        for cell in dynamic:
            sheet.range((cell.row + 1, cell.col + 1)).formula2 = cell.formula
        self._styles(sheet, plan)
        for cell in plan.cells:
            if cell.merge_to is not None:
                rng = sheet.range((cell.row + 1, cell.col + 1), (cell.row + 1, cell.merge_to + 1))
                rng.merge()
                rng.wrap_text = True
        for row, height in plan.heights.items():
            sheet.range((row + 1, 1)).row_height = height
        for col, w in plan.widths.items():
            sheet.range((1, col + 1)).column_width = w
        for spec in plan.charts:
            self._chart(sheet, plan, spec)
        for cf in plan.cond_formats:
            self._color_scale(sheet, cf)
        self._page_setup(sheet, plan)

    def _page_setup(self, sheet: Any, plan: SheetPlan) -> None:
        """Print/PDF as the file writers set it: A4 landscape at the plan's scale, its page breaks (no chart cut
        in two) and print area, through Excel's PageSetup (names as in Excel's type library)."""
        app = self.book.app.api
        app.PrintCommunication = False  # each PageSetup property otherwise talks to the printer driver (slow)
        try:
            setup = sheet.api.PageSetup
            setup.Orientation = 2   # xlLandscape
            setup.PaperSize = 9     # xlPaperA4
            setup.Zoom = plan.print_scale  # a number, not False: "fit to" pages would ignore the manual breaks
            for side in ("left", "right", "top", "bottom", "header", "footer"):
                setattr(setup, f"{side.capitalize()}Margin", MARGINS[side] * 72)  # inches to points
            setup.PrintArea = f"A1:{xl_cell(*plan.print_area)}"  # as the openpyxl writer sets it
        finally:
            app.PrintCommunication = True
        sheet.api.ResetAllPageBreaks()
        for row in plan.row_breaks:  # a break before 0-based row ``row``: above sheet row ``row + 1``
            sheet.api.HPageBreaks.Add(Before=sheet.api.Range(f"A{row + 1}"))

    @staticmethod
    def _styles(sheet: Any, plan: SheetPlan) -> None:
        by_column = sorted(plan.cells, key=lambda c: (c.col, c.row))
        for (col, style), run in groupby(by_column, key=lambda c: (c.col, c.style)):
            run = list(run)
            # split into contiguous row runs so one range call covers many cells
            start = prev = run[0].row
            for cell in run[1:] + [None]:
                if cell is not None and cell.row == prev + 1:
                    prev = cell.row
                    continue
                rng = sheet.range((start + 1, col + 1), (prev + 1, col + 1))
                props = STYLE[style]
                if "num_format" in props:
                    rng.number_format = props["num_format"]
                if props.get("bold"):
                    rng.font.bold = True
                if props.get("italic"):
                    rng.font.italic = True
                if "font_size" in props:
                    rng.font.size = props["font_size"]
                if "font_color" in props:
                    rng.font.color = _rgb(props["font_color"])
                if "bg_color" in props:
                    rng.color = _rgb(props["bg_color"])
                if cell is not None:
                    start = prev = cell.row

    @staticmethod
    def _chart(sheet: Any, plan: SheetPlan, spec: ChartPlan) -> None:
        anchor = sheet.range((spec.row + 1, spec.col + 1))
        chart = sheet.charts.add(left=anchor.left, top=anchor.top, width=560, height=300)
        first = spec.series[0].values
        chart.set_source_data(sheet.range((first.first_row + 1, first.col + 1), (first.last_row + 1, first.col + 1)))
        chart.chart_type = {"column": "column_clustered", "bar": "bar_clustered", "line": "line",
                            "scatter": "xy_scatter_lines_no_markers"}[spec.kind]
        api = getattr(chart, "api", None)
        try:  # Windows Excel: name the series and add the others with their categories
            excel_chart = api[1]
            excel_chart.HasTitle = True
            excel_chart.ChartTitle.Text = spec.title
            collection = excel_chart.SeriesCollection()
            categories = sheet.range(f"{xl_cell(spec.categories.first_row, spec.categories.col)}:"
                                     f"{xl_cell(spec.categories.last_row, spec.categories.col)}").api
            for i, s in enumerate(spec.series):
                series = collection.Item(1) if i == 0 else collection.NewSeries()
                series.Name = s.name
                series.Values = sheet.range(f"{xl_cell(s.values.first_row, s.values.col)}:"
                                            f"{xl_cell(s.values.last_row, s.values.col)}").api
                series.XValues = categories
                if s.secondary:
                    series.ChartType = XL_LINE
                    series.AxisGroup = XL_SECONDARY
        except (AttributeError, TypeError, IndexError):
            pass  # macOS Excel: the chart keeps its first series; values and formats are all there

    @staticmethod
    def _color_scale(sheet: Any, cf: Any) -> None:
        if cf.kind != "scale":
            return
        last_col = cf.ref.col if cf.last_col is None else cf.last_col
        rng = sheet.range(f"{xl_cell(cf.ref.first_row, cf.ref.col)}:{xl_cell(cf.ref.last_row, last_col)}")
        try:
            rng.api.FormatConditions.AddColorScale(3)
        except AttributeError:
            pass
