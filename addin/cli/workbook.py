"""Workbook commands: ``report`` (a report workbook from files), ``template``, ``refresh``, ``share``
and ``addin install|status|uninstall``."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from calc.messages import LANGUAGES, Message, render

# the report package (pandas, calc's calculations, xlsxwriter) is imported by the commands that write a workbook:
# --help builds every command of this module without it
from ..outputs import TargetLockedError
from .common import (AsOfOpt, DealsOpt, DealsTableOpt, ForceOpt, LeadsOpt, LeadsTableOpt, MapOpt, SettingOpt, SourceOpt,
                     SpendOpt, SpendTableOpt, app, err, friendly, labelled, load_dataset, out, output_path,
                     print_messages, render_label, use_language)
from .common import language as current_language


def book_language(language: str | None) -> None:
    """The workbook's own language setting speaks for the run unless --language was given."""
    use_language(language if language in LANGUAGES else None, explicit=False)

OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="Workbook to write (.xlsx).")]
LanguageOpt = Annotated[Optional[str], typer.Option(
    "--language", help="Report language: en, zh, ko or id (default: the language setting, else en).")]


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[callable]:
    """A progress bar on stderr; yields ``step(label)`` to advance it by one."""
    from ..report import SECTIONS

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        task = bar.add_task(description, total=total)
        seen = [0]

        def step(label: Any) -> None:  # a report section's key, or a step already in words
            if seen[0]:
                bar.advance(task)
            seen[0] += 1
            shown = render_label(f"sheet.{label}") if label in SECTIONS else render(label, current_language())
            bar.update(task, description=f"{description}: {shown}")

        yield step
        bar.update(task, completed=total, description=f"{description}: {render_label('cli.progress.done')}")


def check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        fail(Message("cli.language_option_unavailable", value=language, languages=", ".join(LANGUAGES)))


def fail(message: Any) -> None:
    """End the command with ``message`` (a catalogue Message, or an error carrying one) in the run's language."""
    err.print(labelled("cli.error", "red", render(message, current_language())), highlight=False)
    raise typer.Exit(2)


@app.command()
@friendly
def report(output: OutputOpt, spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None,
           map: MapOpt = None,
           source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
           deals_table: DealsTableOpt = None,
           setting: SettingOpt = None, as_of: AsOfOpt = None,
           language: LanguageOpt = None, force: ForceOpt = False) -> None:
    """Build a full report workbook (Dashboard and every analysis sheet) from Spend/Leads/Deals files.

    Any one file may be missing: the sheets that need it say so instead of failing.
    """
    from ..report import SECTIONS, write_report

    check_language(language)
    output = output_path(output, inputs=(spend, leads, deals), force=force)
    # scipy.special (0.1-0.15 s to import) loads where the cycle sheets first need it: imported on a second thread
    # while the tables were read, it took as long from the reading (which keeps both cores busy) as it saved
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    with progress_bar(len(SECTIONS) + 1, render_label("cli.progress.building")) as step:
        try:
            # the report's own --language, else the run's (cycle-roi --language zh report …), else the data's setting
            path = write_report(data, output, language=language or current_language(), progress=step)
        except TargetLockedError as exc:
            fail(exc)
        step(render_label("cli.progress.saved"))
    print_messages([*data.notes, *data.exclusions])  # what was left out or assumed, as on the sheets
    out.print(render_label("cli.report_written", path=str(path)))


@app.command()
@friendly
def template(output: OutputOpt, language: LanguageOpt = None, force: ForceOpt = False) -> None:
    """Write the empty Cycle ROI workbook template (deterministic: same code, same bytes)."""
    check_language(language)
    output = output_path(output, force=force)
    from ..report.template import build_template

    try:
        path = build_template(output, language=language or current_language())  # else the run's --language
    except TargetLockedError as exc:
        fail(exc)
    out.print(render_label("cli.template_written", path=str(path)))


BookArg = Annotated[Path, typer.Argument(help="The Cycle ROI workbook (.xlsx).")]
NewOutputOpt = Annotated[Optional[Path], typer.Option("-o", "--output", help="Write here instead of changing BOOK.")]


@app.command()
@friendly
def refresh(book: BookArg, output: NewOutputOpt = None, force: ForceOpt = False) -> None:
    """Recompute every report sheet of BOOK from its own Spend/Leads/Deals tables and Settings.

    Input tables and your own sheets stay exactly as they were. If BOOK holds something the file
    writer cannot keep (macros, a ribbon, pictures, spilling formulas on your sheets, ...), it is
    left unchanged and the message says what; use -o to write a refreshed copy instead.
    """
    from ..report import SECTIONS
    from ..workbook import WorkbookError, refresh_file

    notes: list[str] = []
    with progress_bar(len(SECTIONS) * 2 + 1, render_label("cli.progress.refreshing")) as step:
        try:
            path, lost = refresh_file(book, output, progress=step, force=force, notes=notes,
                                      on_language=book_language)
        except (WorkbookError, TargetLockedError) as exc:
            fail(exc)
    print_messages([*notes, *(Message("cli.copy_lacks", what=what, book=str(book)) for what in lost)])
    out.print(render_label("cli.refreshed", path=str(path)))


@app.command()
@friendly
def share(book: BookArg, output: OutputOpt,
          inputs: Annotated[bool, typer.Option("--inputs/--no-inputs", help="Keep the Spend/Leads/Deals sheets.")] = True,
          lite: Annotated[bool, typer.Option("--lite", help="Carry the xlwings Lite code too, so a colleague with "
                                             "xlwings Lite can change a filter and recalculate.")] = False,
          force: ForceOpt = False) -> None:
    """Write a finance copy of BOOK: every formula replaced by its value, no macros or add-in calls,
    charts and formatting kept, so it opens anywhere without the add-in and shows no error cells.

    With --lite the copy also carries the xlwings Lite code and keeps the input tables and the Cycle ROI
    formulas of your own sheets (those show #NAME? where xlwings Lite is not installed)."""
    from ..report import SECTIONS
    from ..workbook import WorkbookError, share_file

    with progress_bar(len(SECTIONS) * 2 + 2, render_label("cli.progress.sharing")) as step:
        try:
            path, notes = share_file(book, output, include_inputs=inputs, progress=step, force=force, lite=lite,
                                     on_language=book_language)
        except (WorkbookError, TargetLockedError) as exc:
            fail(exc)
    print_messages(notes)
    out.print(render_label("cli.shared", path=str(path)))


addin_app = typer.Typer(no_args_is_help=True, help="Install, check or remove the Excel add-in (ribbon and functions).")
app.add_typer(addin_app, name="addin")


@addin_app.command("install")
@friendly
def addin_install() -> None:
    """Windows: build the .xlam (with its own settings) into XLSTART, import the ribbon callbacks and functions."""
    from .. import install as installer

    try:
        message = installer.install(language=current_language())  # the ribbon speaks --language
    except RuntimeError as exc:
        fail(exc)
    if message is installer.NOT_WINDOWS:  # nothing was installed: what to do instead, and an exit a script reads
        err.print(render(message, current_language()), highlight=False)
        raise typer.Exit(2)
    out.print(render(message, current_language()), highlight=False)


@addin_app.command("status")
def addin_status() -> None:
    """Say what is installed and configured (and what this system supports)."""
    from .. import install as installer

    state = installer.status()
    out.print(render(state.message, current_language()), highlight=False)
    for key, value in state.config.items():
        out.print(f"  {key} = {value}", highlight=False)


@addin_app.command("uninstall")
def addin_uninstall() -> None:
    """Windows: remove the .xlam (its settings live inside it)."""
    from .. import install as installer

    out.print(render(installer.uninstall(), current_language()), highlight=False)


@addin_app.command("build")
@friendly
def addin_build(output: Annotated[Path, typer.Option("-o", "--output", help="Add-in file to write (.xlam).")],
                force: ForceOpt = False) -> None:
    """Build the add-in file (.xlam with the Cycle ROI ribbon) on any system."""
    from ..ribbon.xlam import build_xlam

    output = output_path(output, force=force, suffixes=(".xlam",))
    try:
        path = build_xlam(output, language=current_language())
    except TargetLockedError as exc:
        fail(exc)
    out.print(render_label("cli.addin_written", path=str(path)))


@app.command()
@friendly
def selftest(output: OutputOpt, force: ForceOpt = False) -> None:
    """Write the self-test workbook: every Excel function on sample tables beside its expected value."""
    output = output_path(output, force=force)
    from ..selftest import build_selftest

    try:
        path = build_selftest(output)
    except TargetLockedError as exc:
        fail(exc)
    out.print(render_label("cli.selftest_written", path=str(path)))
