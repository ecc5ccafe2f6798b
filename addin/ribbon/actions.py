"""What each ribbon button does, written against the workbook port so it runs (and is tested)
headless with the file port exactly as it runs in Excel with the xlwings port.

Every action returns the message to show the user.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import calc
from addin.io import read_table
from addin.workbook.port import WorkbookPort
from addin.workbook.refresh import read_dataset, refresh_port

DOCS_URL = "docs/troubleshooting.md and docs/windows_smoke.md in the Cycle ROI folder"


def refresh_reports(port: WorkbookPort, progress: Callable[[str], None] | None = None) -> str:
    data = refresh_port(port, progress=progress)
    return f"Reports refreshed (data up to {data.as_of:%Y-%m-%d})." if data.as_of is not None else "Reports refreshed."


def validate_data(port: WorkbookPort) -> str:
    """Prepare the tables as a refresh would and list what calc noticed; an InputError is the answer too."""
    try:
        data = read_dataset(port)
    except calc.InputError as exc:
        return f"Problem: {exc}"
    counts = ", ".join(f"{name} {len(frame):,} rows" for name, frame in
                       (("Spend", data.spend), ("Leads", data.leads), ("Deals", data.deals)) if frame is not None)
    lines = [f"Data is usable: {counts}."] + data.messages()
    return "\n".join(lines)


def import_table(port: WorkbookPort, table: str, path: str | Path) -> str:
    """Replace the rows of the Excel table ``table`` with a CSV/XLSX/Parquet export."""
    frame = read_table(path, table=table)
    port.write_table(table, frame)
    return f"{table}: {len(frame):,} rows imported from {Path(path).name}. Click Refresh reports next."


def share_with_finance(source: str | Path, target: str | Path) -> str:
    from addin.workbook.refresh import share_file

    path, notes = share_file(source, target, include_inputs=False)
    return "\n".join([f"Finance copy saved: {path}", *notes])


def settings_help(port: WorkbookPort) -> str:
    port.activate("Settings")
    return ("Fill in gross margin, target ROI, currency and report language on the Settings sheet. "
            f"Help: {DOCS_URL}.")
