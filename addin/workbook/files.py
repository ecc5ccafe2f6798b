"""The file implementation of the workbook port: openpyxl, any OS, atomic save.

Why openpyxl for refreshing a user's own workbook: it is the one library that can *edit* a file
(xlsxwriter only writes new ones), and it carries tables, defined names, charts, conditional
formats and validation through a load/save. What it cannot carry (VBA, a ribbon, pictures,
pivot tables, dynamic-array metadata, 2010+ extensions, chart styles — see
:func:`addin.workbook.port.unkeepable`) is detected in the zip before anything is written: an
in-place refresh then refuses and says what would be lost; writing to a new file (``-o``) is
allowed because the original stays untouched. Report sheets are replaced whole; every other
sheet is left as it was. Saves go to a temp file in the same folder, then ``os.replace``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import openpyxl
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from addin.outputs import MARK_PROPERTY, SHEET_MARK
from calc.messages import Message
from addin.report.blocks import FORMATS
from addin.lite import buttons as lite_buttons
from addin.lite import parts as lite
from addin.safety import check_workbook, set_text_cell
from addin.report.layout import CHART_ROWS, MARGINS, ChartPlan, SheetPlan, chart_rows, xl_cell
from addin.report.xlsx import FONT, STYLE, TONE_FILL, atomic_write


def _color(value: str) -> str:
    return "FF" + value.lstrip("#").upper()


def _style(name: str) -> dict[str, Any]:
    """openpyxl style objects for a named style of ``addin.report.xlsx.STYLE``."""
    props = STYLE[name]
    thin = Side(style="thin")
    out: dict[str, Any] = {"font": Font(name=FONT, bold=props.get("bold", False), italic=props.get("italic", False),
                                        size=props.get("font_size", 11),
                                        color=_color(props["font_color"]) if "font_color" in props else None)}
    if "bg_color" in props:
        out["fill"] = PatternFill("solid", fgColor=_color(props["bg_color"]))
    sides = {s: thin for s in ("top", "bottom", "left", "right") if props.get(s)}
    if sides:
        out["border"] = Border(**sides)
    if props.get("text_wrap") or props.get("align") or props.get("valign") or props.get("indent"):
        out["alignment"] = Alignment(wrap_text=props.get("text_wrap", False),
                                     horizontal=props.get("align") or ("left" if props.get("indent") else None),
                                     vertical=props.get("valign"), indent=props.get("indent", 0))
    if "num_format" in props:
        out["number_format"] = props["num_format"]
    return out


class FilePort:
    """A workbook file opened for reading tables and replacing report sheets."""

    def __init__(self, path: str | os.PathLike, *, status: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        # entity and zip bombs are refused before openpyxl parses anything (addin/safety.py)
        check_workbook(self.path, label=f"workbook {self.path.name}")
        self.book = openpyxl.load_workbook(self.path)
        # openpyxl drops the xlwings Lite code (web-extension parts): kept here, put back by save()
        self.lite_parts = lite.web_parts(self.path)
        # and the Lite workbook's sheet buttons (shapes): kept here too, put back by save()
        self.sheet_buttons = lite_buttons.sheet_buttons(self.path)
        self._status = status
        self._styles: dict[str, dict[str, Any]] = {}

    # -- reading ----------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self.book.sheetnames)

    def owned_sheets(self) -> dict[str, str]:
        owned = {}
        for ws in self.book.worksheets:
            mark = ws.defined_names.get(SHEET_MARK)
            if mark is not None and not ws.tables:  # a table on it was put there by the user: not ours
                owned[ws.title] = (mark.attr_text or "").strip('="')
        return owned

    def find_table(self, name: str):
        for ws in self.book.worksheets:
            for table in ws.tables.values():
                if table.name.casefold() == name.casefold():
                    return ws, table
        return None, None

    def read_table(self, name: str) -> list[list[Any]] | None:
        """The table's cells, header first. Formulas give their saved results (none saved: refused, as a
        blank would be a wrong answer); filled rows right below the table's range are refused as the
        file reader (addin.io) refuses them, so both routes read the same rows."""
        from openpyxl.utils import range_boundaries

        from addin.io import formulas_without_results, rows_below_table

        ws, table = self.find_table(name)
        if table is None:
            return None
        first_col, first_row, last_col, last_row = range_boundaries(table.ref)
        # a ref reaching row 1,048,576 is read only as far as the sheet holds cells
        last_row = min(last_row, max(ws.max_row, first_row))
        rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=first_row, max_row=last_row,
                                                                     min_col=first_col, max_col=last_col)]
        below = 0
        while any(ws.cell(last_row + below + 1, c).value not in (None, "") for c in range(first_col, last_col + 1)):
            below += 1
        if below:
            raise rows_below_table(name, Message("io.sheet_of_file", sheet=ws.title, file=self.path.name),
                                   last_row + 1, below)
        formulas = [(i, j) for i, row in enumerate(rows) for j, v in enumerate(row)
                    if isinstance(v, str) and v.startswith("=") and ws.cell(first_row + i, first_col + j).data_type == "f"]
        if formulas:
            values = self._cached()[ws.title]
            missing = []
            for i, j in formulas:
                rows[i][j] = values.cell(first_row + i, first_col + j).value
                if rows[i][j] is None:
                    missing.append(ws.cell(first_row + i, first_col + j).coordinate)
            if missing:
                raise formulas_without_results(name, ws.title, len(missing), missing[0])
        return rows

    def _cached(self):
        """The workbook's saved formula results (a second, values-only load, made once when needed)."""
        if getattr(self, "_values_book", None) is None:
            self._values_book = openpyxl.load_workbook(self.path, data_only=True)
        return self._values_book

    # -- writing ----------------------------------------------------------------------------
    def set_status(self, text: str | None) -> None:
        if self._status and text:
            self._status(text)

    def activate(self, sheet: str) -> None:
        if sheet in self.book.sheetnames:
            self.book.active = self.book.sheetnames.index(sheet)

    def write_table(self, name: str, frame) -> None:
        """Replace an Excel Table's header and rows; cells of the old table below/right are cleared."""
        import datetime as dt

        from openpyxl.worksheet.table import TableColumn

        from addin.report.layout import excel_value

        ws, table = self.find_table(name)
        if table is None:
            raise KeyError(f"this workbook has no table named {name}")
        old_first, old_last = table.ref.split(":")
        top_left = ws[old_first]
        r0, c0 = top_left.row, top_left.column
        for row in ws[table.ref]:
            for cell in row:
                cell.value = None
        headers = [str(c) for c in frame.columns]
        for j, header in enumerate(headers):
            set_text_cell(ws.cell(r0, c0 + j), header)
        for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            for j, value in enumerate(row):
                value = excel_value(value)
                cell = ws.cell(r0 + i, c0 + j)
                set_text_cell(cell, value)
                if isinstance(value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd"
        last = xl_cell(r0 - 1 + max(len(frame), 1), c0 - 1 + len(headers) - 1)
        table.ref = f"{old_first}:{last}"
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref
        table.tableColumns = [TableColumn(id=j + 1, name=h) for j, h in enumerate(headers)]

    def write_sheet(self, plan: SheetPlan, *, values_only: bool = False, replaces: set[str] | None = None) -> None:
        """Replace the sheet named ``plan.name`` (or any of ``replaces``) with the plan, at the same position."""
        names = {plan.name} | set(replaces or ())
        old = [ws for ws in self.book.worksheets if ws.title in names]
        foreign = [ws.title for ws in old if ws.title not in self.owned_sheets()]
        if foreign:  # the last line of defence: a report never replaces a sheet it did not write
            raise ValueError(Message("workbook.foreign_sheet", sheet=repr(foreign[0])))
        index = self.book.worksheets.index(old[0]) if old else self._report_index()
        for ws in old:
            self.book.remove(ws)
        ws = self.book.create_sheet(plan.name, index)
        ws.defined_names.add(DefinedName(SHEET_MARK, attr_text=f'"{plan.key}"'))  # found by this, not its name
        ws.sheet_view.showGridLines = False
        # print/PDF as the new-file writer does: A4 landscape, the plan's scale and page breaks
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.scale = plan.print_scale
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_margins = PageMargins(**MARGINS)
        for row in plan.row_breaks:
            ws.row_breaks.append(Break(id=row))  # after sheet row ``row`` (1-based): before 0-based ``row``
        ws.print_area = f"A1:{xl_cell(*plan.print_area)}"
        for col, width in plan.widths.items():
            ws.column_dimensions[get_column_letter(col + 1)].width = width
        for row, height in plan.heights.items():
            ws.row_dimensions[row + 1].height = height
        for cell in plan.cells:
            if cell.merge_to is not None:
                ws.merge_cells(start_row=cell.row + 1, start_column=cell.col + 1, end_row=cell.row + 1,
                               end_column=cell.merge_to + 1)
            target = ws.cell(cell.row + 1, cell.col + 1)
            if cell.formula and not values_only and not cell.dynamic:
                target.value = cell.formula
            else:
                set_text_cell(target, cell.value)  # a segment named "=..." stays text, never a formula
            for attr, value in self._style(cell.style).items():
                setattr(target, attr, value)
        for cf in plan.cond_formats:
            last_col = cf.ref.col if cf.last_col is None else cf.last_col
            ref = f"{xl_cell(cf.ref.first_row, cf.ref.col)}:{xl_cell(cf.ref.last_row, last_col)}"
            if cf.kind == "scale":
                low, high = ("63BE7B", "F8696B") if cf.low_good else ("F8696B", "63BE7B")
                ws.conditional_formatting.add(ref, ColorScaleRule(start_type="min", start_color=low, mid_type="percentile",
                                                                  mid_value=50, mid_color="FFEB84", end_type="max",
                                                                  end_color=high))
            else:
                value = f'"{cf.value}"' if isinstance(cf.value, str) else str(cf.value)
                ws.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=[value],
                                                              fill=PatternFill("solid", bgColor=_color(TONE_FILL[cf.tone]))))
        for spec in plan.charts:
            ws.add_chart(self._chart(ws, spec), xl_cell(spec.row, spec.col))

    def _report_index(self) -> int:
        """New report sheets go after the other report sheets and before Settings and the inputs."""
        for i, ws in enumerate(self.book.worksheets):
            if any(t.name in ("Settings", "Spend", "Leads", "Deals") for t in ws.tables.values()):
                return i
        return len(self.book.worksheets)

    def _style(self, name: str) -> dict[str, Any]:
        if name not in self._styles:
            self._styles[name] = _style(name)
        return self._styles[name]

    @staticmethod
    def _chart(ws, spec: ChartPlan):
        def ref(r) -> Reference:
            return Reference(ws, min_col=r.col + 1, min_row=r.first_row + 1, max_row=r.last_row + 1)

        if spec.kind == "scatter":
            chart = ScatterChart()
        elif spec.kind == "line":
            chart = LineChart()
        else:
            chart = BarChart()
            chart.type = "bar" if spec.kind == "bar" else "col"
        chart.title = spec.title
        chart.width, chart.height = 24, 7.5 * chart_rows(spec) / CHART_ROWS
        chart.legend.position = "b"
        second = None
        for s in spec.series:
            if spec.kind == "scatter":
                series = Series(ref(s.values), ref(spec.categories), title=s.name)
                chart.series.append(series)
                continue
            target = chart
            if s.secondary and spec.kind in ("column", "bar"):
                second = second or LineChart()
                target = second
            target.add_data(ref(s.values), titles_from_data=False)
            target.series[-1].tx = SeriesLabel(v=s.name)
            if s.limit:
                target.series[-1].graphicalProperties.line.dashStyle = "dash"
            target.set_categories(ref(spec.categories))
        if spec.y_format:
            chart.y_axis.number_format = FORMATS[spec.y_format]
        if spec.x_format == "date":  # dates on the axis, not serial numbers
            chart.x_axis.number_format = FORMATS["date"]
        elif spec.kind != "scatter":
            chart.x_axis.tickLblSkip = 1  # every category labelled; the chart is sized for them
            if spec.kind == "bar":
                chart.x_axis.scaling.orientation = "maxMin"  # first category on top, as in the table
        if spec.kind != "scatter":
            chart.x_axis.tickLblPos = "low"  # labels below the plot even when values go below zero
        # openpyxl ≥ 3.1 marks axes deleted by default: Excel and LibreOffice then draw no labels
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        if second is not None:
            second.y_axis.axId = 200
            second.y_axis.crosses = "max"
            chart += second
        return chart

    # -- saving -----------------------------------------------------------------------------
    def mark(self, kind: str) -> None:
        """Mark the workbook as written by Cycle ROI (``addin.outputs``), replacing an older mark."""
        from openpyxl.packaging.custom import StringProperty

        props = self.book.custom_doc_props
        props.props = [p for p in props.props if p.name != MARK_PROPERTY] + [StringProperty(name=MARK_PROPERTY,
                                                                                           value=kind)]

    def save(self, target: str | os.PathLike | None = None) -> Path:
        """Save atomically to ``target`` (default: the file itself)."""
        with atomic_write(target or self.path) as (tmp, final):
            self.book.save(tmp)
            if self.lite_parts:
                lite.inject(tmp, parts=self.lite_parts)
            lite_buttons.put_back(tmp, self.sheet_buttons)
        return final
