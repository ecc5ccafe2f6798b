"""What each ribbon button does, written against the workbook port so it runs (and is tested)
headless with the file port exactly as it runs in Excel with the xlwings port.

Every action returns the message to show the user. Actions that would replace something of the
user's (the rows of an input table, an existing file) first ask ``confirm(question) -> bool``: Excel's
Yes/No box in the ribbon route, whatever the route provides elsewhere (the Lite scripts). Without a
``confirm`` nothing of the user's is replaced: the action is cancelled and says so.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import calc
from addin.io import read_table
from addin.outputs import NeedsConsent, check_output
from addin.workbook.port import WorkbookPort, has_data
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


Confirm = Callable[[str], bool]


def import_table(port: WorkbookPort, table: str, path: str | Path, *, confirm: Confirm | None = None) -> str:
    """Replace the rows of the Excel table ``table`` with a CSV/XLSX/Parquet export (asking first
    when the table holds rows)."""
    frame = read_table(path, table=table)
    rows = port.read_table(table)
    if has_data(rows):
        question = (f"Replace the {len(rows) - 1:,} rows of the {table} table with the {len(frame):,} rows of "
                    f"{Path(path).name}?")
        if not (confirm and confirm(question)):
            return f"Import cancelled: the {table} table is unchanged."
    port.write_table(table, frame)
    return f"{table}: {len(frame):,} rows imported from {Path(path).name}. Click Refresh reports next."


def share_with_finance(source: str | Path, target: str | Path, *, confirm: Confirm | None = None) -> str:
    """The finance copy at ``target``; an existing file there that Cycle ROI did not write is replaced
    only after a Yes (the checks of ``addin.outputs.check_output``, as in the CLI)."""
    from addin.workbook.refresh import share_file

    force = False
    try:
        check_output(target, inputs=[source], suffixes=(".xlsx",))
    except NeedsConsent as exc:
        if not (confirm and confirm(exc.question)):
            return f"Share cancelled: {exc.path.name} was not replaced."
        force = True
    path, notes = share_file(source, target, include_inputs=False, force=force)
    return "\n".join([f"Finance copy saved: {path}", *notes])


def settings_help(port: WorkbookPort) -> str:
    port.activate("Settings")
    return ("Fill in gross margin, target ROI, currency and report language on the Settings sheet. "
            f"Help: {DOCS_URL}.")
