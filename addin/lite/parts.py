"""The xlwings Lite code inside a workbook: the Office.js web-extension parts, written, read and carried.

xlwings Lite keeps its files (``main.py``, ``requirements.txt``) as Office.js document settings of its
task pane add-in: one ``<we:property name="main.py" value="…"/>`` per file in
``xl/webextensions/webextension1.xml``, each value the file's text JSON-encoded (non-ASCII kept, ``/``
written ``\\/``) and then escaped as an XML attribute. The part is wired in by ``_rels/.rels`` →
``xl/webextensions/taskpanes.xml`` → ``webextension1.xml`` and two content-type overrides. This is the
format of workbooks saved by Lite 1.0.0.0-18 (``../shared/docs/excel-routes.md``, checked against the
public workbooks of github.com/amararun/xlwings-lite-apps-codes-docs on 2026-11-30).

openpyxl drops these parts when it re-saves a workbook, so they are injected last, with ``zipfile``
(:func:`inject`), and a re-saved copy gets them back from its source (:func:`carry`).
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Callable, Mapping
from xml.sax.saxutils import escape, quoteattr
from xml.etree import ElementTree

#: The xlwings Lite add-in in Microsoft's add-in store (AppSource id WA200008175).
ADDIN_ID = "wa200008175"
ADDIN_VERSION = "1.0.0.0-18"      # the Lite version whose saved format this reproduces
PYODIDE_VERSION = "0.27.5"        # the Pyodide of that Lite version, as the workbook names it
#: Every Pyodide the workbook may run on: the one it names, and the first and the newest 314.0.x (Python 3.14,
#: pandas 3), which current Lite requires (lite.xlwings.org/dependencies: "Pyodide 314.0.0+ is required").
#: requirements.txt must fit each; tests/data holds each one's pyodide-lock.json (names, versions, pure or not).
PYODIDE_VERSIONS = (PYODIDE_VERSION, "314.0.0", "314.0.7")

FOLDER = "xl/webextensions"
TASKPANES = f"{FOLDER}/taskpanes.xml"
WEBEXTENSION = f"{FOLDER}/webextension1.xml"
TASKPANES_RELS = f"{FOLDER}/_rels/taskpanes.xml.rels"
TASKPANES_REL_TYPE = "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes"
WEBEXTENSION_REL_TYPE = "http://schemas.microsoft.com/office/2011/relationships/webextension"
TASKPANES_CONTENT_TYPE = "application/vnd.ms-office.webextensiontaskpanes+xml"
WEBEXTENSION_CONTENT_TYPE = "application/vnd.ms-office.webextension+xml"
WE_NS = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
#: A fixed id, so the same code gives the same bytes (the id Lite saves is a random GUID).
EXTENSION_GUID = "{6C1D4E2A-7C3B-4E55-9A1F-0C7C1E5A0B14}"

_ATTR = {'"': "&quot;"}
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def encode_value(text: str) -> str:
    """A file's text as Lite stores it in a property value (before XML escaping).

    >>> encode_value('print("a/b")\\nx = "中"')
    '"print(\\\\"a\\\\/b\\\\")\\\\nx = \\\\"中\\\\""'
    """
    return json.dumps(text, ensure_ascii=False).replace("/", "\\/")


def webextension_xml(files: Mapping[str, str], *, pyodide_version: str = PYODIDE_VERSION,
                     addin_version: str = ADDIN_VERSION, store: str = "en-US") -> str:
    """``webextension1.xml`` holding ``files`` ({"main.py": text, "requirements.txt": text})."""
    props = dict(files)
    props.setdefault("pyodideVersion", pyodide_version)
    props.setdefault("addinVersion", addin_version)
    order = ["main.py", "pyodideVersion", "addinVersion", "requirements.txt"]
    names = [n for n in order if n in props] + sorted(n for n in props if n not in order)
    properties = "".join(f'<we:property name={quoteattr(n)} value="{escape(encode_value(props[n]), _ATTR)}"/>'
                         for n in names)
    return (_XML_HEAD +
            f'<we:webextension xmlns:we="{WE_NS}" id="{EXTENSION_GUID}">'
            f'<we:reference id="{ADDIN_ID}" version="1.0.0.0" store="{store}" storeType="OMEX"/>'
            f'<we:alternateReferences><we:reference id="{ADDIN_ID.upper()}" version="1.0.0.0" '
            f'store="{ADDIN_ID.upper()}" storeType="OMEX"/></we:alternateReferences>'
            f"<we:properties>{properties}</we:properties><we:bindings/>"
            '<we:snapshot xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
            '<we:extLst>'
            '<a:ext xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            'uri="{D87F86FE-615C-45B5-9D79-34F1136793EB}"><we:containsCustomFunctions/></a:ext>'
            '<a:ext xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            'uri="{7C84B067-C214-45C3-A712-C9D94CD141B2}"><we:customFunctionIdList/></a:ext>'
            "</we:extLst></we:webextension>")


def taskpanes_xml(*, visible: bool = True) -> str:
    """The task pane entry: docked right, open when the workbook opens (Lite then loads its code)."""
    return (_XML_HEAD +
            '<wetp:taskpanes xmlns:wetp="http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11">'
            f'<wetp:taskpane dockstate="right" visibility="{int(visible)}" width="438" row="3">'
            '<wetp:webextensionref xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
            'r:id="rId1"/></wetp:taskpane></wetp:taskpanes>')


def taskpanes_rels_xml() -> str:
    return (_XML_HEAD +
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{WEBEXTENSION_REL_TYPE}" Target="webextension1.xml"/></Relationships>')


def lite_parts(files: Mapping[str, str]) -> dict[str, bytes]:
    """The three web-extension parts for ``files``, by zip name."""
    return {TASKPANES: taskpanes_xml().encode(), TASKPANES_RELS: taskpanes_rels_xml().encode(),
            WEBEXTENSION: webextension_xml(files).encode()}


def read_files(path: str | os.PathLike) -> dict[str, str]:
    """The Lite files stored in a workbook ({} if it carries none), e.g. {"main.py": …, "requirements.txt": …}."""
    with zipfile.ZipFile(path) as book:
        names = [n for n in book.namelist() if n.startswith(f"{FOLDER}/webextension") and n.endswith(".xml")]
        out: dict[str, str] = {}
        for name in names:
            root = ElementTree.fromstring(book.read(name))
            refs = [r.get("id", "").lower() for r in root.iter(f"{{{WE_NS}}}reference")]
            if ADDIN_ID not in refs:
                continue  # another add-in's settings
            for prop in root.iter(f"{{{WE_NS}}}property"):
                value = prop.get("value", "")
                try:
                    out[prop.get("name", "")] = json.loads(value)
                except json.JSONDecodeError:
                    out[prop.get("name", "")] = value
        return out


def has_lite_parts(path: str | os.PathLike) -> bool:
    with zipfile.ZipFile(path) as book:
        return any(n.startswith(f"{FOLDER}/") for n in book.namelist())


def inject(path: str | os.PathLike, files: Mapping[str, str] | None = None, *,
           parts: Mapping[str, bytes] | None = None,
           rewrite: Callable[[str, bytes], bytes] | None = None) -> Path:
    """Rewrite the workbook at ``path`` with the Lite parts (for ``files``, or the given ``parts``).

    Any web-extension parts already there are replaced; every other part is copied byte for byte,
    or passed through ``rewrite(name, data)`` when given.
    The new file is written beside ``path`` and moved over it, so a failure leaves ``path`` as it was.
    """
    path = Path(path)
    new_parts = dict(parts) if parts is not None else lite_parts(files or {})
    tmp = path.with_name(f".{path.name}.lite.tmp")
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                if info.filename.startswith(f"{FOLDER}/"):
                    continue
                data = src.read(info.filename)
                if info.filename == "[Content_Types].xml":
                    data = _with_content_types(data.decode("utf-8"), new_parts).encode("utf-8")
                elif info.filename == "_rels/.rels":
                    data = _with_taskpanes_rel(data.decode("utf-8")).encode("utf-8")
                elif rewrite is not None:
                    data = rewrite(info.filename, data)
                out.writestr(info, data)
            for name in sorted(new_parts):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, new_parts[name])
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def web_parts(path: str | os.PathLike) -> dict[str, bytes]:
    """The web-extension parts of a workbook ({} if none), to put back after openpyxl re-saves it."""
    with zipfile.ZipFile(path) as book:
        return {n: book.read(n) for n in book.namelist() if n.startswith(f"{FOLDER}/")}


def _with_content_types(xml: str, parts: Mapping[str, bytes]) -> str:
    xml = re.sub(r'<Override PartName="/xl/webextensions/[^"]*"[^>]*/>', "", xml)
    overrides = []
    for name in sorted(parts):
        if name.endswith(".rels"):
            continue  # covered by the package's Default for .rels
        kind = TASKPANES_CONTENT_TYPE if name.endswith("taskpanes.xml") else WEBEXTENSION_CONTENT_TYPE
        overrides.append(f'<Override PartName="/{name}" ContentType="{kind}"/>')
    return xml.replace("</Types>", "".join(overrides) + "</Types>")


def _with_taskpanes_rel(xml: str) -> str:
    if TASKPANES_REL_TYPE in xml:
        return xml
    ids = {int(m) for m in re.findall(r'Id="rId(\d+)"', xml)}
    new_id = max(ids, default=0) + 1
    rel = f'<Relationship Id="rId{new_id}" Type="{TASKPANES_REL_TYPE}" Target="{TASKPANES}"/>'
    return xml.replace("</Relationships>", rel + "</Relationships>")
