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
from calc.messages import Message, render
from addin.workbook.port import WorkbookPort, has_data
from addin.workbook.refresh import read_dataset, refresh_port


# Every action returns a catalogue Message (or lines of them); ``addin.ribbon.dispatch`` writes it in the
# workbook's language setting.


def refresh_reports(port: WorkbookPort, progress: Callable[[str], None] | None = None) -> Message:
    data = refresh_port(port, progress=progress)
    return Message("ribbon.refreshed_as_of", as_of=data.as_of) if data.as_of is not None else Message("ribbon.refreshed")


def validate_data(port: WorkbookPort) -> list:
    """Prepare the tables as a refresh would and list what calc noticed; an InputError is the answer too."""
    try:
        data = read_dataset(port)
    except calc.InputError as exc:
        return [Message("ribbon.problem", problem=exc)]
    counts = [Message("ribbon.table_rows", table=name, count=len(frame)) for name, frame in
              (("Spend", data.spend), ("Leads", data.leads), ("Deals", data.deals)) if frame is not None]
    return [Message("ribbon.usable", counts=counts), *data.notes, *data.exclusions]


Confirm = Callable[[str], bool]


def import_table(port: WorkbookPort, table: str, path: str | Path, *, confirm: Confirm | None = None,
                 language: str = "en") -> Message:
    """Replace the rows of the Excel table ``table`` with a CSV/XLSX/Parquet export (asking first
    when the table holds rows)."""
    frame = read_table(path, table=table)
    rows = port.read_table(table)
    if has_data(rows):
        question = Message("ribbon.replace_rows", rows=len(rows) - 1, table=table, count=len(frame),
                           file=Path(path).name)
        if not (confirm and confirm(render(question, language))):
            return Message("ribbon.import_cancelled_unchanged", table=table)
    port.write_table(table, frame)
    return Message("ribbon.imported", table=table, count=len(frame), file=Path(path).name)


def share_with_finance(source: str | Path, target: str | Path, *, confirm: Confirm | None = None,
                       language: str = "en") -> list:
    """The finance copy at ``target``; an existing file there that Cycle ROI did not write is replaced
    only after a Yes (the checks of ``addin.outputs.check_output``, as in the CLI)."""
    from addin.workbook.refresh import share_file

    force = False
    try:
        check_output(target, inputs=[source], suffixes=(".xlsx",))
    except NeedsConsent as exc:
        if not (confirm and confirm(render(exc.question, language))):
            return [Message("ribbon.share_cancelled_kept", name=exc.path.name)]
        force = True
    path, notes = share_file(source, target, include_inputs=False, force=force)
    return [Message("ribbon.shared", path=str(path)), *notes]


def settings_help(port: WorkbookPort) -> Message:
    port.activate("Settings")
    return Message("ribbon.settings_help")
