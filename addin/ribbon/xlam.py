"""Build the Cycle ROI add-in (.xlam) from xlwings' ribbon add-in template, on any OS.

The template (``xlwings/quickstart_addin_ribbon.xlam``, what ``xlwings quickstart NAME --addin
--ribbon`` copies) carries xlwings' VBA (RunPython, UDF import) and a ribbon part
``customUI/customUI.xml`` with its relationship in ``_rels/.rels``. We replace the ribbon part with
ours (generated from the registry). Our VBA callbacks (``CycleROI.bas``) cannot be written into
the binary VBA project without Excel: ``cycle-roi addin install`` imports them on Windows.

Configuration: the template's VBA declares ``PROJECT_NAME = "myaddin"`` and its ``GetConfig`` reads,
first, a sheet named ``myaddin.conf`` in the calling workbook, then one in the add-in itself, then
``myaddin.conf`` files (xlwings docs, "Custom add-ins"). It never reads xlwings' own
``~/.xlwings/xlwings.conf``. The template ships that sheet disabled as ``_myaddin.conf``; we enable
it and write the interpreter and UDF modules into it, so the add-in carries its own configuration
and no user-wide file (nor another xlwings project's keys) is touched.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from calc.messages import Message

from .customui import customui_xml

CUSTOMUI_PART = "customUI/customUI.xml"
#: The PROJECT_NAME constant in the VBA of xlwings' add-in template (tests read it back with olevba).
PROJECT_NAME = "myaddin"
CONF_SHEET = f"{PROJECT_NAME}.conf"
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


def xlwings_template() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent / "quickstart_addin_ribbon.xlam"


def conf_sheet_xml(config: dict[str, object]) -> bytes:
    """The conf sheet: key in column A, value in column B (what the VBA's GetConfigFromSheet reads)."""
    from xml.sax.saxutils import escape

    rows = []
    for r, (key, value) in enumerate(config.items(), start=1):
        if isinstance(value, bool):
            cell = f'<c r="B{r}" t="b"><v>{int(value)}</v></c>'
        else:
            cell = f'<c r="B{r}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'
        rows.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{escape(key)}</t></is></c>{cell}</row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{SHEET_NS}">'
            f'<sheetData>{"".join(rows)}</sheetData></worksheet>').encode("utf-8")


def _conf_sheet_part(workbook_xml: bytes, rels_xml: bytes, sheet_name: str) -> str | None:
    """The zip path of the sheet called ``sheet_name`` (via its relationship), or None."""
    import re

    found = re.search(rb'<sheet name="%s"[^>]*r:id="([^"]+)"' % re.escape(sheet_name.encode()), workbook_xml)
    if not found:
        return None
    target = re.search(rb'Id="%s"[^>]*Target="([^"]+)"' % re.escape(found.group(1)), rels_xml)
    return "xl/" + target.group(1).decode() if target else None


def build_xlam(target: str | os.PathLike, config: dict[str, object] | None = None, *, language: str = "en") -> Path:
    """Write the add-in with our ribbon (its words in ``language``) and its conf sheet to ``target`` (atomic:
    temp file, then replace)."""
    from addin.report.xlsx import atomic_write

    with atomic_write(target) as (tmp, final):
        with zipfile.ZipFile(xlwings_template()) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            names = src.namelist()
            if CUSTOMUI_PART not in names:
                raise RuntimeError(Message("addin.xlwings_unsupported", template=str(xlwings_template()),
                                           part=CUSTOMUI_PART))
            workbook_xml = src.read("xl/workbook.xml")
            sheet_part = _conf_sheet_part(workbook_xml, src.read("xl/_rels/workbook.xml.rels"), f"_{CONF_SHEET}")
            if sheet_part is None:
                raise RuntimeError(Message("addin.xlwings_unsupported", template=str(xlwings_template()),
                                           part=f"_{CONF_SHEET}"))
            replaced = {
                CUSTOMUI_PART: customui_xml(language).encode("utf-8"),
                "xl/workbook.xml": workbook_xml.replace(f'name="_{CONF_SHEET}"'.encode(), f'name="{CONF_SHEET}"'.encode()),
                sheet_part: conf_sheet_xml(config if config is not None else default_config()),
            }
            for item in src.infolist():
                dst.writestr(item, replaced.get(item.filename) or src.read(item))
    return final


def default_config(interpreter: str = "") -> dict[str, object]:
    """The add-in's own settings. No interpreter: the VBA falls back to pythonw on PATH."""
    from addin.install import UDF_MODULES

    return {"Interpreter_Win": interpreter, "UDF Modules": UDF_MODULES, "Use UDF Server": True}


def read_conf_sheet(path: str | os.PathLike) -> dict[str, str] | None:
    """The add-in's conf sheet as {KEY (upper case, as the VBA looks it up): value}; None without one."""
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(path) as book:
        part = _conf_sheet_part(book.read("xl/workbook.xml"), book.read("xl/_rels/workbook.xml.rels"), CONF_SHEET)
        if part is None:
            return None
        root = ET.fromstring(book.read(part))
    out = {}
    for row in root.iter(f"{{{SHEET_NS}}}row"):
        cells = {}
        for cell in row.iter(f"{{{SHEET_NS}}}c"):
            text = "".join(t.text or "" for t in cell.iter(f"{{{SHEET_NS}}}t"))
            value = cell.find(f"{{{SHEET_NS}}}v")
            if cell.get("t") == "b" and value is not None:
                text = "True" if value.text == "1" else "False"
            cells[cell.get("r", "")[:1]] = text
        if cells.get("A"):
            out[cells["A"].upper()] = cells.get("B", "")
    return out
