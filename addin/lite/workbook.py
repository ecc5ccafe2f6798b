"""The Cycle ROI workbook for xlwings Lite: the template, its formulas stored as Excel stores Lite's, and the code.

Excel saves a formula that calls an Office.js custom function — the kind xlwings Lite registers — with
the prefix ``_xldudf_`` (OfficeDev/Excel-Custom-Functions issue 108; office-js issues 3558, 5611), and a
file holding the bare display name did not calculate in Excel until each formula was entered again.
So the Lite workbook stores ``_xldudf_CONSULT_COST(…)``. Lite registers its functions without a
namespace (``=HELLO(…)`` in its docs), hence no namespace after the prefix. Whether Excel binds that
form on open is checked by a person (docs/lite.md); if not, the ``refresh_reports`` script of
``main.py`` enters every Cycle ROI formula again, which does bind them.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from . import buttons, parts
from .code import lite_files

PREFIX = "_xldudf_"
_FORMULA = re.compile(rb"(<f\b[^>]*>)(.*?)(</f>)", re.S)


def function_names() -> list[str]:
    import addin.udfs  # noqa: F401
    from addin.udfs.registry import UDFS

    return sorted(UDFS)


def lite_formulas(xml: bytes, names: Iterable[str]) -> bytes:
    """Worksheet XML with every call of ``names`` in a formula written ``_xldudf_NAME(``.

    >>> lite_formulas(b'<c><f>INDEX(KPI_TABLE(Spend[#All]),2,2)</f></c>', ["KPI_TABLE"])
    b'<c><f>INDEX(_xldudf_KPI_TABLE(Spend[#All]),2,2)</f></c>'
    """
    call = re.compile(r"(?<![\w.])(" + "|".join(sorted(names, key=len, reverse=True)) + r")\(")

    def one(match: re.Match) -> bytes:
        text = match.group(2).decode("utf-8")
        return match.group(1) + call.sub(PREFIX + r"\1(", text).encode("utf-8") + match.group(3)

    return _FORMULA.sub(one, xml)


def add_lite(path: str | os.PathLike, *, formulas: bool = True, language: str = "en",
             with_buttons: bool = True) -> Path:
    """Give the workbook at ``path`` the Lite code (and, with ``formulas``, Lite's on-disk formula form).

    ``language``: the workbook's (the scripts' sheet buttons refer to its Start sheet by name); the
    buttons drawn by the template get their names here (:func:`addin.lite.buttons.name_shapes`).
    ``with_buttons`` False: a workbook without that Start sheet, whose scripts name no button."""
    names = function_names()

    def rewrite(name: str, data: bytes) -> bytes:
        if formulas and name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
            return lite_formulas(data, names)
        if name.startswith("xl/drawings/drawing") and name.endswith(".xml"):
            return buttons.name_shapes(data)
        return data

    return parts.inject(path, lite_files(language, buttons=with_buttons), rewrite=rewrite)


def build_lite_workbook(target: str | os.PathLike, *, language: str = "en", tables=None) -> Path:
    """The Cycle ROI template carrying the Lite code: open it in Excel with xlwings Lite.

    ``tables`` fills the input tables, as for :func:`addin.report.template.build_template`."""
    from addin.report.template import build_template
    from addin.report.xlsx import atomic_write

    with atomic_write(target) as (tmp, final):  # the target changes only once the whole file is ready
        build_template(tmp, language=language, tables=tables, lite=True)
        add_lite(tmp, language=language)
    return final


def build_lite_selftest(target: str | os.PathLike) -> Path:
    """The self-test workbook (``cycle-roi selftest``) carrying the Lite code: every check in Lite's formula form."""
    from addin.report.xlsx import atomic_write
    from addin.selftest import build_selftest

    with atomic_write(target) as (tmp, final):
        build_selftest(tmp)
        add_lite(tmp, with_buttons=False)  # no Start sheet there: its scripts run from Lite's task pane
    return final
