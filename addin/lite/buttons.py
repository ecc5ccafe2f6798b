"""Sheet buttons of the Lite workbook: named shapes on the Start sheet that run the Lite scripts.

Office.js has no sheet buttons, so xlwings Lite (since 1.0.0.0-15, with xlwings 0.33.14 or later) binds a
script to a *named shape with a hyperlink to a cell hidden behind it*: ``@script(button="[name]Sheet!B9")``
makes Lite run the script when that cell gets selected, which a click on the shape does
(lite.xlwings.org/custom_scripts, "Running a script via sheet button"; the registration is
``registerSheetButtons`` in xlwings-server's ``sheet-buttons.js``: it finds the sheet by name, the shape by
name, and compares the selected address with the cell). Excel on the web cannot add a hyperlink to a
shape, but a workbook that has one works there too (same page) — so the file carries the shapes.

The buttons come from the ribbon registry (:data:`addin.ribbon.registry.BUTTONS`): every button that has
a Lite script (:data:`addin.lite.code.LITE_SCRIPTS`) gets a shape, its label from the message catalogue.
The template draws them (:func:`add_start_buttons`, xlsxwriter text boxes with an internal hyperlink) and
:func:`name_shapes` gives them their names; openpyxl drops shapes when ``refresh`` re-saves a workbook, so
:func:`sheet_buttons` / :func:`put_back` carry them across, byte for byte, as :mod:`.parts` does the code.
"""
from __future__ import annotations

import os
import posixpath
import re
import zipfile
from pathlib import Path
from typing import Mapping
from xml.etree import ElementTree

#: Every Cycle ROI shape name starts so; the shapes carried through a refresh are recognised by it.
SHAPE_PREFIX = "cycle_roi_"
#: The buttons sit beside the Start sheet's text on the scripts, one every 3 columns.
BUTTON_TEXT = "start.lite.scripts"
FIRST_COLUMN, COLUMN_STEP = 1, 3          # B, E, H …
WIDTH, HEIGHT, X_OFFSET, Y_OFFSET = 180, 34, 6, 5   # pixels

DRAWING_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
DRAWING_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
#: Children of <worksheet> that come after <drawing> (ECMA-376 CT_Worksheet order): <drawing> goes before them.
_AFTER_DRAWING = ("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                  "webPublishItems", "tableParts", "extLst")


def start_buttons() -> list[tuple[str, str, int, int]]:
    """[(ribbon button id, shape name, row, column)] of the Start sheet, in ribbon order; (row, column),
    0-based, is the cell hidden behind the shape that the shape's hyperlink selects."""
    from addin.report.template import LITE_START_TEXTS
    from addin.ribbon.registry import BUTTONS

    from .code import LITE_SCRIPTS

    row = 2 + LITE_START_TEXTS.index(BUTTON_TEXT)  # the Start texts begin on row 3
    ids = [b.id for b in BUTTONS if b.id in LITE_SCRIPTS]
    return [(bid, SHAPE_PREFIX + bid, row, FIRST_COLUMN + COLUMN_STEP * i) for i, bid in enumerate(ids)]


def cell_name(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(row, col)


def button_ref(sheet: str, button_id: str) -> str:
    """The ``button=`` argument of the script for ``button_id``: ``[shape]Sheet!B9``.

    >>> button_ref("Start", "refresh_reports")
    '[cycle_roi_refresh_reports]Start!B9'
    """
    for bid, shape, row, col in start_buttons():
        if bid == button_id:
            quoted = sheet if re.fullmatch(r"\w+", sheet) else "'" + sheet.replace("'", "''") + "'"
            return f"[{shape}]{quoted}!{cell_name(row, col)}"
    raise KeyError(button_id)


def add_start_buttons(worksheet, sheet_name: str, label) -> None:
    """Draw one button per Lite script on the Start sheet (xlsxwriter), each linked to the cell behind it.

    ``label(message_id)`` gives the text in the workbook's language. The shapes carry their final name
    in the alternative text until :func:`name_shapes` moves it to the name (xlsxwriter numbers text
    boxes "TextBox n" and has no option for the name)."""
    quoted = "'" + sheet_name.replace("'", "''") + "'"
    for bid, shape, row, col in start_buttons():
        worksheet.insert_textbox(row, col, label(f"lite.button.{bid}"), {
            "width": WIDTH, "height": HEIGHT, "x_offset": X_OFFSET, "y_offset": Y_OFFSET,
            "object_position": 3,  # neither moved nor sized with cells: stays over its cell
            "url": f"internal:{quoted}!{cell_name(row, col)}",
            "description": shape,
            "fill": {"color": "#1F4E79"}, "line": {"color": "#1F4E79"},
            "font": {"color": "white", "bold": True, "size": 11},
            "align": {"vertical": "middle", "horizontal": "center"}})


_TEXTBOX = re.compile(r'(<xdr:cNvPr id="\d+" )name="TextBox \d+" descr="(' + SHAPE_PREFIX + r'\w+)"')


def name_shapes(drawing_xml: bytes) -> bytes:
    """Drawing XML with each Cycle ROI text box named by the name its alternative text carries.

    >>> name_shapes(b'<xdr:cNvPr id="2" name="TextBox 1" descr="cycle_roi_x">')
    b'<xdr:cNvPr id="2" name="cycle_roi_x">'
    """
    return _TEXTBOX.sub(lambda m: f'{m.group(1)}name="{m.group(2)}"', drawing_xml.decode("utf-8")).encode("utf-8")


def shape_names(path: str | os.PathLike) -> dict[str, list[str]]:
    """{sheet name: [names of its shapes]} of a workbook (every drawing shape, ours or not)."""
    out: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as book:
        for sheet, part in _sheet_parts(book).items():
            drawing = _drawing_of(book, part)
            if drawing is not None:
                xml = book.read(drawing).decode("utf-8")
                out[sheet] = re.findall(r'<xdr:sp\b.*?<xdr:cNvPr [^>]*name="([^"]*)"', xml, re.S)
    return out


# --- carrying the buttons through an openpyxl re-save ---------------------------------------------

def carried_through_refresh(drawing_xml: bytes) -> bool:
    """Whether a refresh puts this drawing back whole: it holds Cycle ROI buttons and no chart or picture
    (those openpyxl keeps itself, in a drawing of its own that the buttons cannot be merged into)."""
    text = drawing_xml.decode("utf-8", "replace")
    return f'name="{SHAPE_PREFIX}' in text and "<xdr:graphicFrame" not in text and "<xdr:pic" not in text


def sheet_buttons(path: str | os.PathLike) -> dict[str, tuple[bytes, bytes | None]]:
    """{sheet name: (drawing XML, its relationships XML)} for each sheet whose drawing holds Cycle ROI
    buttons and nothing else (no chart or picture, which openpyxl keeps itself) — what a re-save loses."""
    out = {}
    with zipfile.ZipFile(path) as book:
        names = set(book.namelist())
        for sheet, part in _sheet_parts(book).items():
            drawing = _drawing_of(book, part)
            if drawing is None:
                continue
            xml = book.read(drawing)
            if not carried_through_refresh(xml):
                continue
            rels = _rels_name(drawing)
            out[sheet] = (xml, book.read(rels) if rels in names else None)
    return out


def put_back(path: str | os.PathLike, buttons: Mapping[str, tuple[bytes, bytes | None]]) -> list[str]:
    """Give each named sheet of the workbook at ``path`` its buttons drawing again (the sheets that have no
    drawing now). Returns the sheets that could not take them back (gone, or holding a drawing of their own)."""
    path = Path(path)
    if not buttons:
        return []
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
        infos = src.infolist()
        sheets = _sheet_parts(src)
        missed, added = [], {}
        for sheet, (drawing_xml, drawing_rels) in buttons.items():
            part = sheets.get(sheet)
            if part is None or _drawing_of(src, part) is not None:
                missed.append(sheet)
                continue
            n = 1
            while f"xl/drawings/drawing{n}.xml" in parts or f"xl/drawings/drawing{n}.xml" in added:
                n += 1
            target = f"xl/drawings/drawing{n}.xml"
            added[target] = drawing_xml
            if drawing_rels is not None:
                added[_rels_name(target)] = drawing_rels
            sheet_rels = _rels_name(part)
            rels_xml = parts.get(sheet_rels, (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                              f'<Relationships xmlns="{_PKG_REL_NS}"></Relationships>').encode())
            rid = _free_id(rels_xml.decode("utf-8"))
            rel = (f'<Relationship Id="{rid}" Type="{DRAWING_REL_TYPE}" '
                   f'Target="{posixpath.relpath(target, posixpath.dirname(part))}"/>')
            parts[sheet_rels] = rels_xml.decode("utf-8").replace("</Relationships>", rel + "</Relationships>").encode()
            parts[part] = _with_drawing_element(parts[part].decode("utf-8"), rid).encode("utf-8")
            types = parts["[Content_Types].xml"].decode("utf-8")
            parts["[Content_Types].xml"] = types.replace(
                "</Types>", f'<Override PartName="/{target}" ContentType="{DRAWING_CONTENT_TYPE}"/></Types>').encode()
    if not added:
        return missed
    tmp = path.with_name(f".{path.name}.buttons.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                out.writestr(info, parts[info.filename])
            for name in [n for n in parts if n not in {i.filename for i in infos}] + sorted(added):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, added.get(name, parts.get(name)))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return missed


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return f"{folder}/_rels/{name}.rels"


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: worksheet part name}."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return out


def _drawing_of(book: zipfile.ZipFile, part: str) -> str | None:
    rels = _rels_name(part)
    if rels not in book.namelist():
        return None
    for rel in ElementTree.fromstring(book.read(rels)):
        if rel.get("Type") == DRAWING_REL_TYPE:
            target = rel.get("Target")  # openpyxl writes absolute targets ("/xl/drawings/…"), Excel relative ones
            return target[1:] if target.startswith("/") else posixpath.normpath(
                posixpath.join(posixpath.dirname(part), target))
    return None


def _free_id(rels_xml: str) -> str:
    used = {int(m) for m in re.findall(r'Id="rId(\d+)"', rels_xml)}
    return f"rId{max(used, default=0) + 1}"


def _with_drawing_element(sheet_xml: str, rid: str) -> str:
    element = f'<drawing xmlns:r="{_REL_NS}" r:id="{rid}"/>'
    for name in _AFTER_DRAWING:
        match = re.search(rf"<{name}[\s/>]", sheet_xml)
        if match:
            return sheet_xml[:match.start()] + element + sheet_xml[match.start():]
    return sheet_xml.replace("</worksheet>", element + "</worksheet>")
