"""Refresh a workbook's report sheets from its own tables, and make the values-only finance copy.

Both work through the port (``port.py``), so the ribbon in live Excel and the command line on any
OS run the same code:

* :func:`refresh_port` reads Spend, Leads, Deals and Settings from the workbook's Excel Tables,
  prepares them with calc, and replaces every report sheet — known by the mark the product wrote on
  it (``addin.outputs.SHEET_MARK``), never by its tab name — with a freshly laid-out one. Input tables
  (found by table name on whatever sheet they sit) and the user's own sheets are not touched; a user
  sheet that has a report sheet's name keeps it, and the report takes another name (a note says so).
* :func:`refresh_file` does that for a file: in place only when openpyxl can keep everything the
  file holds, else it refuses and says what would be lost (or writes to ``target``).
* :func:`share_file` writes the finance copy: report sheets recomputed as values, every other
  formula replaced by its cached value, no macros, no add-in calls, inputs optionally left out.
"""
from __future__ import annotations

import dataclasses
import os
import re
import string
from pathlib import Path
from typing import Any, Callable

import openpyxl

import calc
from addin.convert import frame_from_rows, settings_from_rows
from addin.report import SECTIONS, build_plans
from addin.report.labels import LANGUAGES, Labels, all_sheet_names
from addin.report.layout import plan_sheet
from addin.report.sections import COST_FORMULA, empty_sheets
from addin.report.template import DATA_HANDLE_UNCALCULATED

from addin.outputs import check_output
from calc.messages import Message, render, text
from addin.safety import set_text_cell

from .files import FilePort
from .port import WorkbookPort, has_data, owned_sheet_names, unkeepable

INPUTS = ("Spend", "Leads", "Deals")


class WorkbookError(ValueError):
    """The workbook cannot be refreshed or shared as asked; the message (a catalogue Message) says why and
    what to do. ``str()`` is the English text; :meth:`render` writes it in any language."""

    def render(self, language: str = "en") -> str:
        return render(self.args[0], language) if self.args else ""


def book_language(port: WorkbookPort) -> str | None:
    """The workbook's ``language`` setting (Settings sheet), or None when it has none or an unknown one."""
    try:
        language = settings_from_rows(port.read_table("Settings")).get("language")
    except calc.InputError:  # a damaged Settings table is reported where the settings are read for the figures
        return None
    return language if language in LANGUAGES else None


def report_sheet_names() -> set[str]:
    """Tab names of every report sheet in every language."""
    return {name for key in SECTIONS for name in all_sheet_names(key)}


def read_dataset(port: WorkbookPort, *, settings: dict[str, Any] | None = None) -> calc.Dataset:
    """calc's Dataset from the workbook's Spend/Leads/Deals tables (empty tables count as missing)."""
    frames = {}
    for name in INPUTS:
        rows = port.read_table(name)
        frames[name.lower()] = frame_from_rows(rows, table=name) if has_data(rows) else None
    if frames["leads"] is None and frames["deals"] is None:  # a CRM export pasted as one Pipeline table
        rows = port.read_table("Pipeline")
        frames["pipeline"] = frame_from_rows(rows, table="Pipeline") if has_data(rows) else None
    if all(f is None for f in frames.values()):
        raise calc.InputError(None, None, Message("workbook.no_data"), fix=Message("workbook.no_data.fix"))
    from_sheet = settings_from_rows(port.read_table("Settings"))
    return calc.prepare(**frames, settings={**from_sheet, **(settings or {})})


#: Longest sheet name Excel accepts.
SHEET_NAME_MAX = 31


def sheet_names_for(wanted: dict[str, str], owned: dict[str, str], existing: list[str],
                    labels: Labels) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """Where each report goes: {section key: (sheet name, the report sheet it replaces or None)}, and
    a note for each report that could not take its usual name.

    ``wanted``: {key: usual tab name}; ``owned``: {sheet: key} of the sheets that carry the report mark.
    A sheet that is not owned is never replaced, whatever its name: the report takes the name
    "<usual> (Cycle ROI)" instead (numbered if that is taken too). A report sheet the user renamed
    keeps its name. Excel compares names ignoring case.

    >>> sheet_names_for({"dashboard": "Dashboard"}, {}, ["Dashboard", "Leads"], Labels("en"))[0]
    {'dashboard': ('Dashboard (Cycle ROI)', None)}
    >>> sheet_names_for({"dashboard": "Dashboard"}, {"Dashboard (Cycle ROI)": "dashboard"},
    ...                 ["Dashboard", "Dashboard (Cycle ROI)"], Labels("en"))[0]
    {'dashboard': ('Dashboard (Cycle ROI)', 'Dashboard (Cycle ROI)')}
    """
    taken = {name.casefold() for name in existing}
    placed: dict[str, tuple[str, str | None]] = {}
    notes = []
    for key, usual in wanted.items():
        mine = sorted((sheet for sheet, k in owned.items() if k == key), key=lambda sheet: sheet != usual)
        old = mine[0] if mine else None
        if old is not None:
            taken.discard(old.casefold())
        # a report sheet the user renamed keeps their name; one with a generated name follows the language
        name = old if old is not None and not _generated(old, key) else usual
        number = 1
        while name.casefold() in taken:
            tail = " (Cycle ROI)" if number == 1 else f" (Cycle ROI {number})"
            name = usual[:SHEET_NAME_MAX - len(tail)] + tail
            number += 1
        if name != usual and usual not in owned:
            notes.append(labels("note.sheet_renamed", sheet=usual, name=name))
        taken.add(name.casefold())
        placed[key] = (name, old)
    return placed, notes


def _generated(sheet: str, key: str) -> bool:
    """True for a name the product gives the report ``key``: its tab name in any language, or that
    name with a " (Cycle ROI…)" tail."""
    return any(sheet == usual or (sheet.startswith(usual[:SHEET_NAME_MAX - 17]) and " (Cycle ROI" in sheet)
               for usual in all_sheet_names(key))


def refresh_port(port: WorkbookPort, *, progress: Callable[[str], None] | None = None,
                 values_only: bool = False, settings: dict[str, Any] | None = None,
                 written: list[str] | None = None, notes: list[str] | None = None) -> calc.Dataset:
    """Recompute and rewrite every report sheet of the workbook behind ``port``.

    Only sheets with the report mark are replaced (``WorkbookPort.owned_sheets``); a sheet of the
    user's with a report sheet's name stays exactly as it is and the report goes to another name,
    which the report's notes (and ``notes``) say. ``written`` gets the names of the sheets written.
    """
    language = book_language(port) or "en"

    def step(label: Any) -> None:  # a section key (the report's progress) or a Message, shown in the book's language
        shown = text(f"sheet.{label}", language) if label in SECTIONS else render(label, language)
        port.set_status(text("workbook.status", language, step=shown))
        if progress:
            progress(shown)

    step(Message("workbook.progress.reading"))
    data = read_dataset(port, settings=settings)
    labels = Labels(data.settings.language)
    placed, renamed = sheet_names_for({key: labels(f"sheet.{key}") for key in SECTIONS}, port.owned_sheets(),
                                      port.sheet_names(), labels)
    if renamed:
        data = dataclasses.replace(data, notes=data.notes + tuple(renamed), memo={})
        if notes is not None:
            notes.extend(renamed)
    plans = build_plans(data, progress=step)
    for plan in plans:
        name, old = placed[plan.key]
        step(Message("workbook.progress.writing", sheet=name))
        port.write_sheet(dataclasses.replace(plan, name=name), values_only=values_only,
                         replaces={old} if old else set())
        if written is not None:
            written.append(name)
    port.set_status(text("workbook.status", language, step=text("workbook.progress.refreshed", language)))
    return data


def refresh_file(source: str | os.PathLike, target: str | os.PathLike | None = None, *,
                 progress: Callable[[str], None] | None = None, force: bool = False,
                 notes: list[str] | None = None,
                 on_language: Callable[[str | None], None] | None = None) -> tuple[Path, list[str]]:
    """Refresh a workbook file; returns (written path, what the new file could not keep).

    In place (no ``target``) it refuses when anything would be lost. A ``target`` must be a new
    file (``addin.outputs.check_output``): naming the workbook itself there is refused, and an
    existing file the product did not write is replaced only with ``force``. ``on_language`` is told the
    workbook's language setting as soon as it is read, so the caller's messages speak it.
    """
    source = Path(source)
    _check_source(source)
    in_place = target is None
    final = check_output(source if in_place else target, inputs=[source], in_place=in_place, force=force,
                         suffixes=(".xlsx", ".xlsm") if in_place else (".xlsx",), notes=notes,
                         same_as_input_fix=Message("workbook.refresh_same_file.fix"))
    port = FilePort(source)
    if on_language is not None:
        on_language(book_language(port))
    lost = unkeepable(source, replaced_sheets=owned_sheet_names(source))
    if lost and in_place:
        raise WorkbookError(Message("workbook.cannot_keep", name=source.name, lost=lost))
    data = refresh_port(port, progress=progress, notes=notes)
    if notes is not None:  # the data notes and exclusions, for the caller to show (the CLI: on stderr)
        notes.extend([*data.notes, *data.exclusions])
    return port.save(None if in_place else final), lost


def share_file(source: str | os.PathLike, target: str | os.PathLike, *, include_inputs: bool = True,
               progress: Callable[[str], None] | None = None, force: bool = False,
               lite: bool = False, on_language: Callable[[str | None], None] | None = None) -> tuple[Path, list[str]]:
    """The finance copy: values only, charts and formatting kept, opens anywhere without the add-in.

    Returns (written path, notes). Refuses (WorkbookError) when a formula outside the report
    sheets has no stored result, because its value cannot be known without Excel.

    With ``lite`` the copy also carries the xlwings Lite code (the workbook's own, else freshly
    generated) and keeps the input tables and the formulas of your own sheets that call Cycle ROI
    functions, so a colleague with xlwings Lite can change a filter and recalculate; everything
    else is values as without it.
    """
    source = Path(source)
    _check_source(source)
    if lite and not include_inputs:
        raise WorkbookError(Message("workbook.lite_needs_inputs"))
    cleaned: list[str] = []
    target = check_output(target, inputs=[source], force=force, suffixes=(".xlsx",), notes=cleaned,
                          same_as_input_fix=Message("workbook.share_same_file.fix"))
    port = FilePort(source)
    if on_language is not None:
        on_language(book_language(port))
    notes = cleaned + [Message("workbook.not_carried", what=what)
                       for what in unkeepable(source, replaced_sheets=owned_sheet_names(source))]
    live_call = _lite_call_pattern() if lite else None
    if lite:
        from addin.lite.code import lite_files
        from addin.lite.parts import lite_parts

        if not port.lite_parts:  # a Windows workbook: fresh code, its buttons naming the workbook's Start sheet
            port.lite_parts = lite_parts(lite_files(book_language(port) or "en"))
        notes.append(Message("workbook.lite_carried"))
    else:
        port.lite_parts = {}  # values only: no code travels with the finance copy,
        port.sheet_buttons = {}  # nor the buttons that would run it
    recomputed: list[str] = []
    if any(has_data(port.read_table(name)) for name in INPUTS):
        refresh_port(port, progress=progress, values_only=True, written=recomputed, notes=notes)
    elif progress:
        progress(Message("workbook.progress.stored_results"))
    if progress:
        progress(Message("workbook.progress.values"))
    formulas = [(ws.title, cell) for ws in port.book.worksheets if ws.title not in recomputed
                for row in ws.iter_rows() for cell in row
                if cell.data_type == "f" or hasattr(cell.value, "text")]  # text that starts with "=" is no formula
    if live_call is not None:  # Cycle ROI calls stay formulas, stored the way Excel stores Lite's functions
        from addin.lite.workbook import PREFIX

        kept = [(title, cell) for title, cell in formulas
                if isinstance(cell.value, str) and live_call.search(cell.value)]
        for _, cell in kept:
            cell.value = live_call.sub(lambda m: f"{PREFIX}{m.group(1)}(", cell.value)
        kept_ids = {id(cell) for _, cell in kept}
        formulas = [(title, cell) for title, cell in formulas if id(cell) not in kept_ids]
    unknown = []
    if formulas:  # the stored results are read only when needed: a second openpyxl load is slow
        cached = openpyxl.load_workbook(source, data_only=True)
        for title, cell in formulas:
            result = cached[title][cell.coordinate].value
            # the handle, bare or in the Lite workbook's stored form (=_xldudf_CYCLE_DATA(…))
            if result is None and re.match(r"=(?:_xldudf_)?CYCLE_DATA\(", str(cell.value), re.I):
                result = text(DATA_HANDLE_UNCALCULATED, book_language(port) or "en")  # the data handle means nothing outside Excel: no value to lose
            if result is None:  # an empty-text result reads as None; the product's own formulas are computed
                result = own_formula_value(cell.value, cached[title])
            if result is None:
                unknown.append(f"{title}!{cell.coordinate}")
            set_text_cell(cell, result)  # a result such as "=x" or "-Search" stays text in the copy
    # a report sheet of a workbook with no data yet (the empty template) holds add-in formulas without
    # results: the copy says which tables are missing instead, as a report built without them does
    blank = {ref.split("!")[0] for ref in unknown} & report_sheet_names()
    if blank:
        language = book_language(port) or "en"
        for key, plan in zip(SECTIONS, empty_plans(language)):
            if all_sheet_names(key) & blank:
                port.write_sheet(plan, values_only=True, replaces=all_sheet_names(key))
        notes.append(Message("workbook.empty_reports"))
        unknown = [ref for ref in unknown if ref.split("!")[0] not in blank]
    if unknown:
        shown = ", ".join(unknown[:5])
        raise WorkbookError(Message("workbook.uncached_more" if len(unknown) > 5 else "workbook.uncached",
                                    count=len(unknown), cells=shown, more=len(unknown) - 5))
    if not include_inputs:
        for name in INPUTS:
            ws, _ = port.find_table(name)
            if ws is not None:
                port.book.remove(ws)
        notes.append(Message("workbook.inputs_left_out"))
    port.mark("finance copy")
    return port.save(target), notes


def _lite_call_pattern():
    """A call of any Cycle ROI function in a formula, bare or in Excel's stored ``_xldudf_`` form."""
    import re

    from addin.lite.workbook import function_names

    return re.compile(r"(?<![\w.])(?:_xldudf_)?(" + "|".join(function_names()) + r")\(")


def empty_plans(language: str) -> list:
    return [plan_sheet(sheet) for sheet in empty_sheets(language)]


def _own_pattern(template: str) -> re.Pattern:
    """A writer formula template ('{spend}/{consultations}') as a pattern: each name a cell reference,
    the same reference wherever the name repeats."""
    out, seen = "^", set()
    for literal, name, _, _ in string.Formatter().parse(template):
        out += re.escape(literal)
        if name:
            out += f"(?P={name})" if name in seen else rf"(?P<{name}>\$?[A-Z]+\$?\d+)"
            seen.add(name)
    return re.compile(out + "$")


#: The ordinary formulas the report writes (``sections.COST_FORMULA``) as patterns over cell references.
_OWN_FORMULAS = (_own_pattern(COST_FORMULA),)


def own_formula_value(formula: Any, sheet) -> Any:
    """The value of a formula the report writer itself puts in cells (consultation cost = spend ÷
    consultations), computed from the stored values of the cells it reads; None for any other formula.

    Excel stores "" as the result of ``IF(…,"")`` as an empty value that reads back as "not
    calculated"; computing the product's own formulas lets a report built without Spend be shared.
    """
    for pattern in _OWN_FORMULAS:
        found = pattern.match(str(formula)) if isinstance(formula, str) else None
        if found:
            spend = sheet[found["spend"].replace("$", "")].value
            consultations = sheet[found["consultations"].replace("$", "")].value
            numeric = isinstance(spend, (int, float)) and not isinstance(spend, bool)
            counted = isinstance(consultations, (int, float)) and not isinstance(consultations, bool)
            return spend / consultations if numeric and counted and consultations > 0 else ""
    return None


def _check_source(source: Path) -> None:
    if not source.exists():
        raise WorkbookError(Message("workbook.missing", path=str(source)))
    if not source.is_file():  # a folder, or a FIFO that would block the read forever
        raise WorkbookError(Message("workbook.not_a_file", path=str(source)))
    if source.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(Message("workbook.not_xlsx", name=source.name))
