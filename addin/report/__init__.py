"""Report workbooks: sections registry -> blocks -> sheet plans -> a dumb writer.

``build_plans(data)`` gives the plans of every report sheet; ``write_report(data, path)`` writes
them into a new workbook (xlsxwriter, atomic save). Refreshing a user's own workbook goes through
:mod:`addin.workbook` instead, which copies the same plans into the existing file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from calc import Dataset

from .layout import SheetPlan, plan_sheet
from .sections import SECTIONS, build_sheets, template_sheets
from .xlsx import TargetLockedError, write_report_file


def build_plans(data: Dataset, *, language: str | None = None, sections: list[str] | None = None,
                progress: Callable[[str], None] | None = None) -> list[SheetPlan]:
    """Sheet plans of every report section for ``data`` (``progress(section_key)`` before each)."""
    return [plan_sheet(sheet) for sheet in build_sheets(data, language=language, sections=sections, progress=progress)]


def write_report(data: Dataset, target: str | os.PathLike, *, language: str | None = None,
                 progress: Callable[[str], None] | None = None) -> Path:
    """A new report workbook at ``target`` (written to a temp file, then moved into place)."""
    return write_report_file(build_plans(data, language=language, progress=progress), target)


__all__ = ["SECTIONS", "SheetPlan", "TargetLockedError", "build_plans", "template_sheets", "write_report"]
