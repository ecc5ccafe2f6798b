"""What every ``cycle-roi`` command shares: the app, input options, loading, output and errors."""
from __future__ import annotations

import dataclasses
import json
import math
import sys
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from calc.errors import InputError
from calc.messages import LANGUAGES, Message, render, render_all

from ..outputs import OutputError, check_output

# pandas, calc's calculations and the readers are imported by the functions that use them: every command
# module imports this one, and ``cycle-roi --help`` (which builds the whole command tree) needs none of them
if TYPE_CHECKING:
    import pandas as pd

    import calc

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Cycle ROI: consultation volume, consultation cost, inquiry conversion and full-cycle ROI.")
# piped output (files, CI logs) gets a wide page instead of rich's 80-column default. No markup: what is printed is
# our sentences with the user's values, file names and segments in them, and rich would take '[snowflake]' in
# `pip install "ibis-framework[snowflake]"` or a segment '[Brand] Search' for a style and drop it; colour is given
# as styled Text (`labelled`)
out = Console(width=None if sys.stdout.isatty() else 200, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


def labelled(key: str, style: str, message: str) -> Text:
    """A catalogue label in colour ('Error:', 'Note:'), then ``message`` exactly as it is."""
    return Text.assemble((render_label(key), style), " ", message)

#: The language of this run's messages: ``--language`` (before or after the command), else the ``language``
#: setting given with ``--setting``, else the data's Settings, else English. One CLI run is one process.
_language = {"value": None}


def language() -> str:
    return _language["value"] or "en"


def use_language(value: str | None, *, explicit: bool = True) -> None:
    """Set the run's language; a language read from data settings never overrides an explicit one."""
    if value is None or (not explicit and _language.get("explicit")):
        return
    if value not in LANGUAGES:
        raise InputError("--language", None, Message("cli.language_unavailable", value=value),
                         fix=Message("cli.language_unavailable.fix", languages=", ".join(LANGUAGES)))
    _language.update(value=value, explicit=explicit)


@app.callback()
def _global_options(language_option: Annotated[Optional[str], typer.Option(
        "--language", help="Language of messages and reports: en, zh, ko or id.")] = None) -> None:
    """Cycle ROI: consultation volume, consultation cost, inquiry conversion and full-cycle ROI."""
    if language_option is not None and language_option not in LANGUAGES:
        err.print(labelled("cli.error", "red", render_label("cli.language_option_unavailable", value=language_option,
                                                           languages=", ".join(LANGUAGES))), highlight=False)
        raise typer.Exit(2)
    _language.update(value=None, explicit=False)  # tests run many commands in one process
    use_language(language_option)


SpendOpt = Annotated[Optional[Path], typer.Option("--spend", help="Spend file (CSV, XLSX or Parquet): date, cost, segments.")]
LeadsOpt = Annotated[Optional[Path], typer.Option("--leads", help="Leads file: lead_id, inquiry date, segments.")]
DealsOpt = Annotated[Optional[Path], typer.Option("--deals", help="Deals file: lead_id, won date, revenue, gross_profit.")]
MapOpt = Annotated[Optional[list[str]], typer.Option(
    "--map", help="Column mapping TABLE.CANONICAL=SOURCE, e.g. leads.date=first_contact_date (repeatable).")]
SettingOpt = Annotated[Optional[list[str]], typer.Option(
    "--setting", help="A setting KEY=VALUE, e.g. gross_margin=0.35 or target_roi=0.3 (repeatable).")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Use only what was known on this date (YYYY-MM-DD).")]
FromOpt = Annotated[Optional[str], typer.Option("--from", help="First inquiry date (YYYY-MM-DD).")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last inquiry date (YYYY-MM-DD).")]
FilterOpt = Annotated[Optional[str], typer.Option("--filter", help='Segment filter, e.g. "province=Guangdong;industry=Medical|Education".')]
ByOpt = Annotated[Optional[str], typer.Option("--by", help="Group by these segment columns, e.g. channel or province,industry.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace an existing output file that Cycle ROI did not write (never one of the inputs).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SourceOpt = Annotated[Optional[str], typer.Option(
    "--source", help="Where the data lives, summed there: duckdb:// (over --spend/--leads/--deals Parquet or CSV), "
                     "duckdb:///file.duckdb, spark://local or a warehouse URL (bigquery://, snowflake://, trino://).")]
SpendTableOpt = Annotated[Optional[str], typer.Option("--spend-table", help="Spend's table in --source (default spend).")]
LeadsTableOpt = Annotated[Optional[str], typer.Option("--leads-table", help="Leads' table in --source (default leads).")]
DealsTableOpt = Annotated[Optional[str], typer.Option("--deals-table", help="Deals' table in --source (default deals).")]


def parse_mapping(items: list[str] | None) -> dict[str, dict[str, str]]:
    """['leads.date=first_contact_date'] -> {'Leads': {'date': 'first_contact_date'}}."""
    mapping: dict[str, dict[str, str]] = {}
    for item in items or []:
        target, sep, source = item.partition("=")
        table, dot, column = target.partition(".")
        if not sep or not dot or not column.strip() or not source.strip():
            raise InputError("--map", None, Message("cli.map_syntax", item=item), fix=Message("cli.map_syntax.fix"))
        name = {"spend": "Spend", "leads": "Leads", "deals": "Deals", "pipeline": "Pipeline"}.get(table.strip().lower())
        if name is None:
            raise InputError("--map", None, Message("cli.map_table", table=table), fix=Message("cli.map_table.fix"))
        mapping.setdefault(name, {})[column.strip()] = source.strip()
    return mapping


def parse_settings(items: list[str] | None, as_of: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError("--setting", None, Message("cli.setting_syntax", item=item),
                             fix=Message("cli.setting_syntax.fix"))
        settings[key.strip()] = value.strip()
    if as_of:
        settings["as_of"] = as_of
    return settings


def load_dataset(spend: Path | None, leads: Path | None, deals: Path | None, maps: list[str] | None = None,
                 settings: list[str] | None = None, as_of: str | None = None, *,
                 source: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)
                 ) -> calc.Dataset:
    """Read the files and prepare them; file notes (e.g. a missing header row) travel with errors.

    ``source`` is (``--source``, ``--spend-table``, ``--leads-table``, ``--deals-table``): with a source
    URL the data is summed where it lives (addin.sources) and only its aggregates come back."""
    import calc

    from ..io import read_inputs

    mapping = parse_mapping(maps)
    url, *tables = source
    if url:
        from .. import sources  # Ibis and the engine load only for this route
        return sources.load(url, spend=spend, leads=leads, deals=deals, mapping=mapping,
                            tables=dict(zip(("Spend", "Leads", "Deals"), tables)),
                            settings=parse_settings(settings, as_of))
    frames, notes = read_inputs(spend, leads, deals, mapping)
    try:
        data = calc.prepare(frames["Spend"], frames["Leads"], frames["Deals"], mapping=mapping,
                            settings=parse_settings(settings, as_of))
    except InputError as exc:
        exc.notes += notes
        raise
    use_language(data.settings.language, explicit=False)
    if notes:
        data = dataclasses.replace(data, notes=data.notes + tuple(notes), memo={})
    return data


def jsonable(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, Message):  # calc's sentences in the run's language
        return value.render(language())
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "item"):
        return jsonable(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


#: Columns that count things: whole numbers in JSON (calc keeps them float so NaN can mean "unknown").
COUNT_COLUMNS = {"consultations", "deals", "deals_observed", "actual_deals", "observed_deals"}


def _json_cell(column: str, value: Any) -> Any:
    value = jsonable(value)
    if column in COUNT_COLUMNS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json_cell(str(k), v) for k, v in row.items()} for row in frame.to_dict("records")]


#: How print_frame writes a number, by kind (a command may name the kind of a column).
KIND_FORMATS = {"pct": "{:.1%}", "money": "{:,.2f}", "num": "{:,.2f}", "int": "{:,.0f}"}


def _cell(value: Any, column: str, kind: str | None = None) -> str:
    value = jsonable(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and kind in KIND_FORMATS:
        return KIND_FORMATS[kind].format(value)
    if isinstance(value, (int, float)):
        if "rate" in column or "conversion" in column or "share" in column:
            return f"{value:.1%}"
        if "roi" in column or "roas" in column:
            return f"{value:.2f}"
        if "cost" in column:
            return f"{value:,.2f}"
        if "days" in column:
            return f"{value:,.1f}"
        return f"{value:,.0f}"
    return str(value)


def heading(column: str) -> str:
    """A column's heading in the run's language: the catalogue's ``col.<name>``, as on the report's sheets,
    where it has one; else the column's own name (a segment such as ``province``) with spaces for ``_``."""
    from calc.messages import catalogue

    key = f"col.{column}"
    return render_label(key) if key in catalogue("en") else column.replace("_", " ")


def print_frame(frame: pd.DataFrame, *, title: str | None = None, kinds: dict[str, str] | None = None) -> None:
    import pandas as pd

    table = Table(title=title, header_style="bold")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column].dtype)
        table.add_column(heading(str(column)),
                         justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v, str(c), (kinds or {}).get(str(c))) for v, c in zip(row, frame.columns)))
    out.print(table)


def print_messages(messages: list[Any]) -> None:
    """Notes and exclusions (calc Messages, Exclusions or text) on stderr, in the run's language."""
    for message in render_all(messages, language()):
        err.print(labelled("cli.note", "yellow", message), highlight=False)


def render_label(key: str, **params: Any) -> str:
    from calc.messages import text

    return text(key, language(), **params)


def emit(frame: pd.DataFrame, *, as_json: bool, title: str | None = None, extra: dict[str, Any] | None = None,
         kinds: dict[str, str] | None = None) -> None:
    """Print a result: JSON on stdout (NaN -> null), or a table; notes go to stderr either way."""
    messages = list(frame.attrs.get("notes", [])) + list(frame.attrs.get("exclusions", []))
    if as_json:
        payload: Any = records(frame)
        if extra is not None:
            payload = {**{k: jsonable(v) for k, v in extra.items()}, "rows": payload}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    else:
        print_frame(frame, title=title, kinds=kinds)
        for key, value in (extra or {}).items():
            out.print(f"{heading(key)}: {jsonable(value)}")  # the JSON keeps the key itself
    print_messages(messages)


def output_path(target: Path, *, inputs: tuple[Path | None, ...] = (), force: bool = False,
                suffixes: tuple[str, ...] | None = (".xlsx",)) -> Path:
    """The one output-path check of every writing command, before any work (``addin.outputs``):
    refuses with a message naming the path and the fix (exit 2 through :func:`friendly`)."""
    notes: list[str] = []
    final = check_output(target, inputs=inputs, force=force, suffixes=suffixes, notes=notes)
    print_messages(notes)
    return final


#: calc's option names as the command line spells them, so an error names the flag the user typed.
CLI_OPTIONS = {"start": "--from", "end": "--to", "filter": "--filter", "by": "--by", "horizon_days": "--horizon",
               "horizon_periods": "--horizon-periods", "period": "--period", "measure": "--measure",
               "as_of": "--as-of", "max_shift": "--max-shift", "dims": "--dims", "rank_by": "--rank-by",
               "method": "--method"}


def as_cli_error(exc: InputError) -> InputError:
    """The error with a calc option named by its command-line flag ("option --from", not "option 'start'")."""
    if exc.table == "options" and exc.column in CLI_OPTIONS:
        return InputError("options", CLI_OPTIONS[exc.column], exc.problem, rows=exc.rows, fix=exc.fix)
    return exc


def friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input ends a command with its message and exit code 2, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            for item in kwargs.get("setting") or []:  # --setting language=zh speaks before the data is read
                key, _, value = str(item).partition("=")
                if key.strip() == "language":
                    use_language(value.strip(), explicit=False)
            use_language(kwargs.get("language"))
            return command(*args, **kwargs)
        except (InputError, OutputError) as exc:
            shown = as_cli_error(exc) if isinstance(exc, InputError) else exc
            err.print(labelled("cli.error", "red", render(shown, language())), highlight=False)
            raise typer.Exit(2) from None
        except PermissionError as exc:
            err.print(labelled("cli.error", "red", render_label("cli.permission_denied", path=str(exc.filename))),
                      highlight=False)
            raise typer.Exit(2) from None

    return run
