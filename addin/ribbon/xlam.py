"""Build the Cycle ROI add-in (.xlam) from xlwings' ribbon add-in template, on any OS.

The template (``xlwings/quickstart_addin_ribbon.xlam``, what ``xlwings quickstart NAME --addin
--ribbon`` copies) carries xlwings' VBA (RunPython, UDF import) and a ribbon part
``customUI/customUI.xml`` with its relationship in ``_rels/.rels``. We replace the ribbon part with
ours (generated from the registry). Our VBA callbacks (``CycleROI.bas``) cannot be written into
the binary VBA project without Excel: ``cycle-roi addin install`` imports them on Windows.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from .customui import customui_xml

CUSTOMUI_PART = "customUI/customUI.xml"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


def xlwings_template() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent / "quickstart_addin_ribbon.xlam"


def build_xlam(target: str | os.PathLike) -> Path:
    """Write the add-in with our ribbon to ``target`` (atomic: temp file, then replace)."""
    from addin.report.xlsx import atomic_write

    with atomic_write(target) as (tmp, final):
        with zipfile.ZipFile(xlwings_template()) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            names = src.namelist()
            if CUSTOMUI_PART not in names:
                raise RuntimeError(f"{xlwings_template()} has no {CUSTOMUI_PART}: this xlwings version is not supported")
            for item in src.infolist():
                data = customui_xml().encode("utf-8") if item.filename == CUSTOMUI_PART else src.read(item)
                dst.writestr(item, data)
    return final
