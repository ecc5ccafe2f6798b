"""Workbooks through a small port: read a table, write a report sheet, set status text.

``FilePort`` (openpyxl, any OS) and ``XlwingsPort`` (live Excel) implement it; ``refresh_file``
and ``share_file`` are the headless refresh and the values-only finance copy.
"""
from .files import FilePort
from .port import WorkbookPort, cell_fingerprint, unkeepable
from .refresh import WorkbookError, refresh_file, refresh_port, share_file

__all__ = ["FilePort", "WorkbookError", "WorkbookPort", "cell_fingerprint", "refresh_file", "refresh_port",
           "share_file", "unkeepable"]
