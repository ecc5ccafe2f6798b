"""The workbook port: the three things ribbon actions and refreshes need from a workbook.

* ``read_table(name)`` -> rows (header first) of the Excel Table called ``name``, or None;
* ``write_sheet(plan)`` -> replace (or add) one report sheet with a laid-out plan (``addin.report.layout``);
* ``set_status(text)`` -> tell the user what is happening (Excel's status bar, or a callback).

Two implementations: :class:`addin.workbook.files.FilePort` (openpyxl, any OS, atomic save) and
:class:`addin.workbook.live.XlwingsPort` (live Excel). Code that works through the port runs
the same headless and in Excel.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

from addin.lite import buttons as lite_buttons
from addin.report.layout import SheetPlan
from calc.messages import Message


class WorkbookPort(Protocol):
    def read_table(self, name: str) -> list[list[Any]] | None: ...

    def sheet_names(self) -> list[str]: ...

    def owned_sheets(self) -> dict[str, str]:
        """{sheet name: report section key} of the sheets that carry the product's report mark
        (``addin.outputs.SHEET_MARK``) and hold no Excel Table (a table there is the user's)."""

    def write_sheet(self, plan: SheetPlan, *, values_only: bool = False, replaces: set[str] | None = None) -> None:
        """Replace the sheet called ``plan.name`` (or any sheet named in ``replaces``) by the plan, and
        mark it as a report sheet. Callers choose ``plan.name`` so that it names no sheet of the user's
        (``addin.workbook.refresh.sheet_names_for``)."""

    def set_status(self, text: str | None) -> None: ...

    def write_table(self, name: str, frame: "pd.DataFrame") -> None:
        """Replace the rows (and header) of the Excel Table ``name`` with ``frame``."""

    def activate(self, sheet: str) -> None:
        """Show this sheet to the user (no-op for files)."""


def has_data(rows: list[list[Any]] | None) -> bool:
    """True if a table has at least one non-blank cell below its header.

    >>> has_data([["date", "cost"], [None, ""]]), has_data([["date", "cost"], ["2024-03-01", 5]])
    (False, True)
    """
    if not rows or len(rows) < 2:
        return False
    return any(v is not None and not (isinstance(v, str) and not v.strip()) for row in rows[1:] for v in row)


# --- what openpyxl would drop ------------------------------------------------------------------

#: (zip part pattern, what it is) for parts openpyxl does not carry through a load/save.
DROPPED_PARTS = (
    (re.compile(r"^customUI/"), "workbook.lost.ribbon"),
    (re.compile(r"vbaProject\.bin$"), "workbook.lost.macros"),
    (re.compile(r"^xl/pivotTables/"), "workbook.lost.pivots"),
    (re.compile(r"^xl/slicers/|^xl/slicerCaches/"), "workbook.lost.slicers"),
    (re.compile(r"^xl/timelines/"), "workbook.lost.timelines"),
    (re.compile(r"^xl/ctrlProps/|^xl/activeX/"), "workbook.lost.controls"),
    (re.compile(r"^xl/media/"), "workbook.lost.pictures"),
    (re.compile(r"^xl/model/|^xl/connections\.xml$|^customXml/.*item\d+\.xml$"), "workbook.lost.connections"),
)
SHEET_FEATURES = (
    (re.compile(rb'<c [^>]*\bcm="'), "workbook.lost.spilling"),
    (re.compile(rb"<x14:conditionalFormatting"), "workbook.lost.conditional_formats"),
    (re.compile(rb"<x14:dataValidation"), "workbook.lost.validation"),
    (re.compile(rb"<x14:sparklineGroup"), "workbook.lost.sparklines"),
)


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """{zip part of a worksheet: sheet name}."""
    workbook = book.read("xl/workbook.xml").decode("utf-8")
    rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship [^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2): m.group(1) for m in
                    re.finditer(r'<Relationship [^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    parts = {}
    for m in re.finditer(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', workbook):
        target = targets.get(m.group(2), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        parts[part] = _unescape(m.group(1))
    return parts


def _unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")


def owned_sheet_names(path: str | Path) -> set[str]:
    """Names of the report sheets of a workbook file, from the zip (no full load): sheets with the
    report mark and no Excel Table, as :meth:`WorkbookPort.owned_sheets` decides."""
    from addin.outputs import SHEET_MARK

    with zipfile.ZipFile(path) as book:
        workbook = book.read("xl/workbook.xml").decode("utf-8")
        order = [_unescape(m.group(1)) for m in re.finditer(r'<sheet [^>]*?name="([^"]+)"', workbook)]
        marked = set()
        for m in re.finditer(r"<definedName ([^>]*)>", workbook):
            name = re.search(r'\bname="([^"]+)"', m.group(1))
            local = re.search(r'\blocalSheetId="(\d+)"', m.group(1))
            if name and local and name.group(1) == SHEET_MARK and int(local.group(1)) < len(order):
                marked.add(order[int(local.group(1))])
        with_tables = {sheet for part, sheet in _sheet_parts(book).items() if _related(book, part, "/table")}
    return marked - with_tables


def unkeepable(path: str | Path, *, replaced_sheets: set[str] = frozenset()) -> list[Message]:
    """What an openpyxl load/save of ``path`` would lose, ignoring sheets that are replaced anyway.

    Returns catalogue Messages such as "VBA macros (xl/vbaProject.bin)"; empty if nothing would be lost.
    """
    found: list[Message] = []
    with zipfile.ZipFile(path) as book:
        names = book.namelist()
        for pattern, what in DROPPED_PARTS:
            hits = [n for n in names if pattern.search(n)]
            if hits:
                found.append(Message("workbook.lost.part", what=Message(what), part=hits[0]))
        if "customUI" in book.read("_rels/.rels").decode("utf-8", "replace") and not any("customUI" in f for f in found):
            found.append(Message("workbook.lost.ribbon_relationship"))
        for part, sheet in _sheet_parts(book).items():
            if sheet in replaced_sheets or part not in names:
                continue
            xml = book.read(part)
            for pattern, what in SHEET_FEATURES:
                if pattern.search(xml):
                    found.append(Message("workbook.lost.on_sheet", what=Message(what), sheet=sheet))
            # Excel 2013+ saves a style and a colour part per chart; openpyxl drops them (the chart stays,
            # its look changes). Only charts on sheets that are kept matter: report sheets are redrawn.
            for drawing in _related(book, part, "/drawing"):
                # openpyxl reads charts and pictures from a drawing, not shapes or text boxes: shapes would
                # vanish, unless the drawing is the Lite buttons' own, which the refresh puts back whole
                xml = book.read(drawing)
                shapes = [] if lite_buttons.carried_through_refresh(xml) else _shape_names(xml)
                if shapes:
                    found.append(Message("workbook.lost.shapes", sheet=sheet, names=", ".join(shapes)))
                for chart in _related(book, drawing, "/chart"):
                    if any(_related(book, chart, kind) for kind in ("/chartStyle", "/chartColorStyle")):
                        found.append(Message("workbook.lost.chart_styles", sheet=sheet))
                        break
    return list(dict.fromkeys(found))


#: a shape, text box, connector or group in a drawing part, and the name Excel gives it (cNvPr)
_SHAPE = re.compile(rb"<(?:\w+:)?(?:sp|cxnSp|grpSp)\b.*?<(?:\w+:)?cNvPr\b[^>]*?\bname=\"([^\"]*)\"", re.S)


def _shape_names(drawing_xml: bytes) -> list[str]:
    """Names of the shapes in a drawing part ("TextBox 1", "Rectangle 3"), in order, once each."""
    return list(dict.fromkeys(_unescape(m.group(1).decode("utf-8", "replace")) for m in _SHAPE.finditer(drawing_xml)))


def _related(book: zipfile.ZipFile, part: str, type_suffix: str) -> list[str]:
    """Parts related to ``part`` whose relationship type ends with ``type_suffix``."""
    folder, name = part.rsplit("/", 1)
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in book.namelist():
        return []
    out = []
    for m in re.finditer(r"<Relationship [^>]*>", book.read(rels).decode("utf-8", "replace")):
        tag = m.group(0)
        kind = re.search(r'Type="([^"]+)"', tag)
        target = re.search(r'Target="([^"]+)"', tag)
        if kind and target and kind.group(1).endswith(type_suffix) and 'TargetMode="External"' not in tag:
            out.append(_resolve(folder, target.group(1)))
    return out


def _resolve(folder: str, target: str) -> str:
    """A relationship target relative to ``folder`` as a zip part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = folder.split("/")
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


# --- proving nothing else changed -------------------------------------------------------------

def cell_fingerprint(path: str | Path, sheets: list[str] | None = None) -> dict[str, str]:
    """{sheet: hash of every cell's coordinate, value or formula and number format}, via openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        if sheets is not None and ws.title not in sheets:
            continue
        digest = hashlib.blake2b(digest_size=16)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and not cell.has_style:
                    continue
                value = cell.value.text if hasattr(cell.value, "text") else cell.value
                digest.update(f"{cell.coordinate}\x1f{value!r}\x1f{cell.number_format}\x1e".encode())
        digest.update(repr(sorted((t.name, t.ref) for t in ws.tables.values())).encode())
        out[ws.title] = digest.hexdigest()
    return out
