"""The Cycle ROI workbook template, built by code (``cycle-roi template -o FILE``) and deterministic.

Sheets: Start (what to paste where), the report sheets from the sections registry with live UDF
formulas (dynamic arrays for tables), Settings (an Excel Table named Settings: setting, value,
description, one row per :class:`calc.Settings` field) and the input sheets Spend, Leads and Deals,
each an Excel Table of the same name with the canonical headers and data validation.

``build_template(path, tables=...)`` can also fill the input tables (the demo workbook), which
``cycle-roi refresh`` then turns into a report with values.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

import calc

from .labels import Labels
from .layout import excel_value, plan_sheet
from .sections import template_sheets
from .xlsx import XlsxReportWriter, atomic_write, new_workbook

#: Canonical headers of the empty template's input tables (segment columns are examples).
INPUT_HEADERS = {
    "Spend": ("date", "cost", "channel", "campaign"),
    "Leads": ("lead_id", "date", "channel", "campaign"),
    "Deals": ("lead_id", "date", "revenue", "gross_profit"),
}
#: The CYCLE_DATA cell on the Start sheet (0-based row) and the workbook name every report formula uses.
DATA_HANDLE_ROW = 12
DATA_HANDLE_NAME = "CycleData"
DATA_HANDLE_FORMULA = "=CYCLE_DATA(Spend[#All],Leads[#All],Deals[#All],Settings[#All])"
#: The handle cell's stored result until Excel calculates it (what a copy without the add-in shows).
#: the data handle's stored result outside Excel (a catalogue id): it means nothing until the add-in computes it
DATA_HANDLE_UNCALCULATED = "start.data_handle.uncalculated"
#: Rows the validation rules cover below an empty table (Excel extends tables as users paste).
VALIDATION_ROWS = 100_000
#: the Start sheet's text column, in characters: it fits an A4 portrait page by itself (LibreOffice does not
#: apply the sheet's fit-to-width there, so a wider column ran off the printed page in zh and ko)
START_COLUMN_CHARS = 84
DATE_COLUMNS = {"date"}
AMOUNT_COLUMNS = {"cost", "revenue", "gross_profit", "consultations", "deals", "clicks", "impressions"}
#: The Start sheet's texts (catalogue ids), one row each from row 3: the Windows add-in's, and the Lite workbook's.
START_TEXTS = ("start.what", "start.spend", "start.leads", "start.deals", "start.settings",
               "start.refresh", "start.share", "start.help")
LITE_START_TEXTS = ("start.what", "start.spend", "start.leads", "start.deals", "start.settings",
                    "start.lite.open", "start.lite.scripts", "start.lite.tables", "start.lite.share")
SETTING_CHOICES = {"language": ("en", "zh", "ko", "id"), "ambiguous_dates": ("day_first", "month_first"),
                   "week_start": ("monday", "sunday"), "decimal_mark": ("auto", "dot", "comma")}


def settings_rows(language: str) -> list[list[Any]]:
    """[setting, value, description] per Settings field; blank value = the default; the description in
    the workbook's language (the catalogue's ``setting.<name>``)."""
    L = Labels(language)
    rows = []
    for name, field in calc.Settings.model_fields.items():
        value = language if name == "language" else field.default
        rows.append([name, excel_value(value), L(f"setting.{name}")])
    return rows


def _input_sheet(workbook, writer: XlsxReportWriter, table: str, frame: pd.DataFrame | None, L: Labels) -> None:
    ws = workbook.add_worksheet(table)
    headers = list(frame.columns) if frame is not None else list(INPUT_HEADERS[table])
    n = len(frame) if frame is not None else 0
    date_fmt, plain = writer.fmt("cell:date"), writer.fmt("plain")
    ws.add_table(0, 0, max(n, 1), len(headers) - 1, {
        "name": table, "style": "Table Style Medium 2",
        "columns": [{"header": str(h), "format": date_fmt if h in DATE_COLUMNS else plain} for h in headers]})
    if frame is not None:
        for j, header in enumerate(headers):
            values = frame[header].tolist()
            for i, value in enumerate(values):
                value = excel_value(value)
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    ws.write_datetime(i + 1, j, value, date_fmt)
                else:
                    ws.write(i + 1, j, value)
    last = max(n, VALIDATION_ROWS)
    for j, header in enumerate(headers):
        ws.set_column(j, j, 14 if header in DATE_COLUMNS else max(12, len(str(header)) + 2))
        if header in DATE_COLUMNS:
            ws.data_validation(1, j, last, j, {
                "validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1),
                "error_title": "Cycle ROI", "error_message": L("template.date_error"), "error_type": "warning"})
        elif header in AMOUNT_COLUMNS:
            ws.data_validation(1, j, last, j, {
                "validate": "decimal", "criteria": ">=", "value": 0,
                "error_title": "Cycle ROI", "error_message": L("template.amount_error"), "error_type": "warning"})
    ws.freeze_panes(1, 0)


def build_template(target: str | os.PathLike, *, language: str = "en",
                   tables: Mapping[str, pd.DataFrame | None] | None = None, lite: bool = False) -> Path:
    """Write the template (or, with ``tables``, a workbook whose input tables hold that data).

    ``lite``: the Start sheet of the xlwings Lite workbook (how to open Lite, trust the workbook, run its
    scripts, pass the tables), with a button per Lite script (``addin.lite.buttons``).
    Atomic: written beside the target, then moved into place.
    """
    L = Labels(language)
    with atomic_write(target) as (tmp, final):
        workbook = new_workbook(tmp, kind="template")
        workbook.set_properties({"created": dt.datetime(2024, 1, 1), "author": "Cycle ROI",
                                 "title": "Cycle ROI workbook"})
        writer = XlsxReportWriter(workbook)

        start = workbook.add_worksheet(L("sheet.start"))
        start.set_column(0, 0, START_COLUMN_CHARS)
        start.hide_gridlines(2)
        start.fit_to_pages(1, 0)
        start.write(0, 0, L("start.title"), writer.fmt("title"))
        wrapped = workbook.add_format({"font_name": "Calibri", "text_wrap": True, "valign": "top"})
        texts = LITE_START_TEXTS if lite else START_TEXTS
        assert 2 + len(texts) <= DATA_HANDLE_ROW - 1, "the Start texts run into the data handle's rows"
        for i, key in enumerate(texts):
            # as many lines as the text needs in the Start column (CJK characters are twice as wide; 30 % for
            # the room lost where a line breaks between words, which Korean and English texts need)
            lines = max(2, math.ceil(sum(2 if ord(ch) > 0x2E80 else 1 for ch in L(key)) * 1.3 / START_COLUMN_CHARS))
            # the Lite texts hold formulas to type: room below the last line, so no underscore is clipped
            start.set_row(2 + i, 15 * lines + (4 if lite else 0))
            start.write(2 + i, 0, L(key), wrapped)
        start.set_portrait()
        start.set_paper(9)
        if lite:
            from addin.lite.buttons import add_start_buttons

            add_start_buttons(start, L("sheet.start"), L)
        # the data handle: the one cell that receives the tables; every report formula reads CycleData
        start.set_row(DATA_HANDLE_ROW - 1, 15 * max(2, math.ceil(sum(2 if ord(ch) > 0x2E80 else 1
                                                                   for ch in L("start.data")) * 1.3 / START_COLUMN_CHARS)))
        start.write(DATA_HANDLE_ROW - 1, 0, L("start.data"), wrapped)
        start.write_formula(DATA_HANDLE_ROW, 0, DATA_HANDLE_FORMULA, None, L(DATA_HANDLE_UNCALCULATED))
        workbook.define_name(DATA_HANDLE_NAME, f"='{L('sheet.start')}'!$A${DATA_HANDLE_ROW + 1}")

        for sheet in template_sheets(language):
            writer.write(plan_sheet(sheet))

        settings = workbook.add_worksheet(L("sheet.settings"))
        rows = settings_rows(language)
        settings.add_table(0, 0, len(rows), 2, {
            "name": "Settings", "style": "Table Style Light 9",
            "columns": [{"header": "setting"}, {"header": "value"}, {"header": "description"}], "data": rows})
        settings.set_column(0, 0, 34)
        settings.set_column(1, 1, 14)
        settings.set_column(2, 2, 100)
        for i, row in enumerate(rows, start=1):
            choices = SETTING_CHOICES.get(row[0])
            if choices:
                settings.data_validation(i, 1, i, 1, {"validate": "list", "source": list(choices)})
            elif row[0] in ("gross_margin", "confidence"):
                settings.data_validation(i, 1, i, 1, {"validate": "decimal", "criteria": "between",
                                                      "minimum": 0, "maximum": 1})
            elif row[0] == "as_of":
                settings.data_validation(i, 1, i, 1, {"validate": "date", "criteria": ">=",
                                                      "value": dt.date(2000, 1, 1)})
                settings.write_blank(i, 1, None, writer.fmt("cell:date"))

        for table in ("Spend", "Leads", "Deals"):
            _input_sheet(workbook, writer, table, (tables or {}).get(table), L)
        workbook.close()
    return final


def sample_tables(*, until: str | None = None) -> dict[str, pd.DataFrame]:
    """The bundled sample business as input tables (dates as dates); ``until`` keeps inquiries and
    spend up to that day and the deals of those inquiries (a smaller demo for tests)."""
    from importlib import resources

    folder = resources.files("addin") / "sample_data"
    tables = {}
    for name in ("Spend", "Leads", "Deals"):
        with (folder / f"{name.lower()}.csv").open("rb") as handle:
            frame = pd.read_csv(handle, dtype={"lead_id": str})
        frame["date"] = pd.to_datetime(frame["date"])
        tables[name] = frame
    if until is not None:
        end = pd.Timestamp(until)
        tables["Spend"] = tables["Spend"].loc[tables["Spend"]["date"] <= end].reset_index(drop=True)
        tables["Leads"] = tables["Leads"].loc[tables["Leads"]["date"] <= end].reset_index(drop=True)
        tables["Deals"] = tables["Deals"].loc[tables["Deals"]["lead_id"].isin(tables["Leads"]["lead_id"])
                                              ].reset_index(drop=True)
    return tables
