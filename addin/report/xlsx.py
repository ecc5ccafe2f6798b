"""Dumb xlsxwriter writer: copies sheet plans (``layout.py``) into a new workbook.

It decides nothing: positions, values, formulas and chart ranges all come from the plan. Styles
are looked up by name in ``STYLE`` so the openpyxl/xlwings writers can use the same table.
Files are deterministic (fixed document dates), written to a temp file and moved into place.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import datetime as dt
import os
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from addin.outputs import MARK_PROPERTY, SHEET_MARK, TargetLockedError, check_writable, temp_path
from calc.messages import Message

from .blocks import FORMATS
from .layout import CHART_ROWS, MARGINS, ChartPlan, SheetPlan, chart_rows

#: Fixed creation date so the same inputs give byte-comparable files.
FIXED_DATE = dt.datetime(2024, 1, 1)

GOOD, BAD, WARN = "#C6EFCE", "#FFC7CE", "#FFEB9C"
TONE_FILL = {"good": GOOD, "bad": BAD, "warn": WARN}
FONT = "Calibri"

#: Style name -> xlsxwriter format properties (number formats added from FORMATS).
STYLE: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 18, "font_color": "#1F3864"},
    "subtitle": {"italic": True, "font_color": "#595959"},
    "section": {"bold": True, "font_size": 12, "font_color": "#1F3864", "bottom": 1},
    "card_label": {"font_color": "#595959", "bg_color": "#F2F2F2", "top": 1, "left": 1, "right": 1, "text_wrap": True},
    "header": {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True},
    "note": {"font_color": "#404040", "text_wrap": True, "valign": "top"},
    "finding": {"font_color": "#000000", "bold": True, "text_wrap": True, "valign": "top"},
    "missing": {"font_color": "#9C0006", "bg_color": BAD, "text_wrap": True, "valign": "top"},
    # a tile whose figure needs data the workbook lacks: one short line saying what, in the tile
    "card_missing": {"italic": True, "font_color": "#7F7F7F", "bg_color": "#F2F2F2", "bottom": 1, "left": 1,
                     "right": 1, "text_wrap": True, "valign": "top"},
    "input_header": {"bold": True},
    "label": {"bold": True},
    "plain": {},
}
for _name, _code in FORMATS.items():
    STYLE[f"card:{_name}"] = {"bold": True, "font_size": 16, "num_format": _code, "bg_color": "#F2F2F2",
                              "bottom": 1, "left": 1, "right": 1, "align": "left"}
    STYLE[f"cell:{_name}"] = {"num_format": _code}
    # projected (not yet observed) cells: italic grey on a light hatch colour, never mistaken for final
    STYLE[f"proj:{_name}"] = {"num_format": _code, "italic": True, "font_color": "#7F7F7F", "bg_color": "#EDEDED"}
# text one character in from a right-aligned number on its left ("115" never runs into "a point beyond …")
STYLE["cell:text"]["indent"] = 1


class XlsxReportWriter:
    """Writes plans into an open xlsxwriter Workbook (the template builder adds its own sheets)."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        self._formats: dict[str, Any] = {}

    def fmt(self, style: str):
        if style not in self._formats:
            self._formats[style] = self.workbook.add_format({"font_name": FONT, **STYLE[style]})
        return self._formats[style]

    def write(self, plan: SheetPlan, worksheet=None):
        ws = worksheet or self.workbook.add_worksheet(plan.name)
        # the mark a refresh finds report sheets by (addin.outputs.SHEET_MARK), never their name
        # (xlsxwriter strips the outer quotes and looks the rest up as is: no doubling of inner quotes)
        if self.workbook.define_name(f"'{plan.name}'!{SHEET_MARK}", f'="{plan.key}"') != 0:
            raise ValueError(f"report sheet name {plan.name!r} cannot carry the report mark (a '!' in it?)")
        # print/PDF: A4 landscape at the plan's scale, broken into pages where the plan says (no chart cut)
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(**{k: v for k, v in MARGINS.items() if k not in ("header", "footer")})
        ws.set_header("", {"margin": MARGINS["header"]})
        ws.set_footer("", {"margin": MARGINS["footer"]})
        ws.set_print_scale(plan.print_scale)
        ws.set_h_pagebreaks(plan.row_breaks)
        ws.print_area(0, 0, *plan.print_area)
        ws.hide_gridlines(2)
        for col, width in sorted(plan.widths.items()):
            ws.set_column(col, col, width)
        for row, height in sorted(plan.heights.items()):
            ws.set_row(row, height)
        for cell in plan.cells:
            style = self.fmt(cell.style)
            if cell.merge_to is not None:
                ws.merge_range(cell.row, cell.col, cell.row, cell.merge_to, cell.value, style)
            elif cell.formula and cell.dynamic:
                ws.write_dynamic_array_formula(cell.row, cell.col, cell.row, cell.col, cell.formula, style)
            elif cell.formula:
                ws.write_formula(cell.row, cell.col, cell.formula, style,
                                 "" if cell.value is None else cell.value)
            elif cell.value is None:
                ws.write_blank(cell.row, cell.col, None, style)
            elif isinstance(cell.value, (dt.datetime, dt.date)):
                ws.write_datetime(cell.row, cell.col, cell.value, style)
            else:
                ws.write(cell.row, cell.col, cell.value, style)
        for cf in plan.cond_formats:
            first = xl_rowcol_to_cell(cf.ref.first_row, cf.ref.col)
            last = xl_rowcol_to_cell(cf.ref.last_row, cf.ref.col if cf.last_col is None else cf.last_col)
            if cf.kind == "scale":
                low, high = ("#63BE7B", "#F8696B") if cf.low_good else ("#F8696B", "#63BE7B")
                ws.conditional_format(f"{first}:{last}", {"type": "3_color_scale", "min_color": low,
                                                          "mid_color": "#FFEB84", "max_color": high})
            else:
                value = f'"{cf.value}"' if isinstance(cf.value, str) else cf.value
                ws.conditional_format(f"{first}:{last}", {
                    "type": "cell", "criteria": "==", "value": value,
                    "format": self.workbook.add_format({"bg_color": TONE_FILL[cf.tone]})})
        for chart in plan.charts:
            ws.insert_chart(chart.row, chart.col, self._chart(plan.name, chart),
                            {"x_scale": 1.6, "y_scale": 1.05 * chart_rows(chart) / CHART_ROWS, "object_position": 1})
        return ws

    def _chart(self, sheet: str, spec: ChartPlan):
        kind = {"column": "column", "bar": "bar", "line": "line", "scatter": "scatter"}[spec.kind]
        options = {"type": kind, "subtype": "straight"} if kind == "scatter" else {"type": kind}
        chart = self.workbook.add_chart(options)
        line = None

        def ref(r) -> list:
            return [sheet, r.first_row, r.col, r.last_row, r.col]

        for s in spec.series:
            target = chart
            if s.secondary and kind in ("column", "bar"):
                line = line or self.workbook.add_chart({"type": "line"})
                target = line
            props: dict[str, Any] = {"name": s.name, "categories": ref(spec.categories), "values": ref(s.values)}
            if s.secondary:
                props["y2_axis"] = True
                props["marker"] = {"type": "circle", "size": 5}
            if s.limit:
                props["line"] = {"dash_type": "dash", "width": 1.25}
                props["marker"] = {"type": "none"}
            target.add_series(props)
        if line is not None:
            chart.combine(line)
        chart.set_title({"name": spec.title, "name_font": {"size": 12}})
        chart.set_legend({"position": "bottom"})
        value_axis, category_axis = ((chart.set_x_axis, chart.set_y_axis) if kind == "bar"
                                     else (chart.set_y_axis, chart.set_x_axis))  # a bar chart lies on its side
        if spec.y_format:
            value_axis({"num_format": FORMATS[spec.y_format]})
        # category labels sit below the plot (beside it for bars) even when values go below zero
        if spec.x_format == "date":  # dates on the axis, not serial numbers
            category_axis({"text_axis": True, "num_format": FORMATS["date"], "num_font": {"rotation": -45},
                           "label_position": "low"})
        elif kind != "scatter":  # every category labelled (the chart is sized for them), none skipped
            category_axis({"interval_unit": 1, "label_position": "low", **({"reverse": True} if kind == "bar" else {}),
                           **({"num_font": {"rotation": -45}} if kind != "bar" and spec.categories_count > 8 else {})})
        return chart


def new_workbook(path: str | os.PathLike, *, kind: str = "report") -> xlsxwriter.Workbook:
    """An xlsxwriter workbook with deterministic properties and future functions enabled, marked as
    written by Cycle ROI (``kind``: see ``addin.outputs.KINDS``), so a later run may replace it."""
    # in_memory: the parts are assembled in memory and zipped from there, not written to ~45 temp files first
    # (7 sheets: 0.092 s -> 0.072 s; the same parts, only the zip entries' dates and modes differ)
    workbook = xlsxwriter.Workbook(os.fspath(path), {"use_future_functions": True, "nan_inf_to_errors": False,
                                                     "strings_to_numbers": False, "strings_to_formulas": False,
                                                     "in_memory": True})
    workbook.set_properties({"created": FIXED_DATE, "author": "Cycle ROI", "title": "Cycle ROI report"})
    workbook.set_calc_mode("auto")
    workbook.set_custom_property(MARK_PROPERTY, kind)
    return workbook


def atomic_target(target: str | os.PathLike) -> tuple[Path, Path]:
    """(temp path in the target's folder, final path): write to the first, then ``os.replace``.

    The temp file's name says what it is (``addin.outputs.temp_path``) and is removed by the next
    run if a kill interrupts the save.
    """
    final = Path(target).resolve()
    tmp = temp_path(final)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # private until it is complete
    return tmp, final


@contextmanager
def atomic_write(target: str | os.PathLike) -> Iterator[tuple[Path, Path]]:
    """``with atomic_write(target) as (tmp, final):`` write ``tmp``; on success it replaces ``final``.

    A failure before the replace leaves the original file as it was and no temp file; a kill
    leaves the original and a recognisable temp file that the next run removes.
    """
    tmp, final = atomic_target(target)
    try:
        yield tmp, final
        replace_file(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_report_file(plans: list[SheetPlan], target: str | os.PathLike) -> Path:
    """Write a new report workbook atomically (temp file in the same folder, then replace)."""
    with atomic_write(target) as (tmp, final):
        workbook = new_workbook(tmp)
        writer = XlsxReportWriter(workbook)
        for plan in plans:
            writer.write(plan)
        workbook.close()
    return final


def replace_file(tmp: Path, final: Path) -> None:
    """``os.replace`` with a clear message when the target is open elsewhere or read-only."""
    check_writable(final)
    # mkstemp makes the temp file private (0600); give the result the old file's mode, or the usual default
    if final.exists():
        os.chmod(tmp, final.stat().st_mode & 0o7777)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    try:
        os.replace(tmp, final)
    except PermissionError as exc:
        raise TargetLockedError(Message("output.locked", path=str(final))) from exc
