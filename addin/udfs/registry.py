"""How a calc function becomes an Excel function: the one registry, arguments in, results out.

Every Excel function of the product is a ≤10-line adapter declared with :func:`udf`, which

* checks that its Excel name is the calc function's name in capitals and records it in ``UDFS``;
* applies xlwings' decorators (category, argument docs for the Function Wizard, tables as 2-D);
* turns an ``InputError`` into short cell text (``#INPUT! Leads: column 'date' not found …``) and
  any other failure into ``#ERROR! …`` — never a traceback in a cell. Tests set
  ``RAISE_BUGS = True`` so real bugs are not swallowed there.

Table arguments are optional: left out, the function reads the calling workbook's own tables named
Spend, Leads, Deals (and Settings) through xlwings' reserved ``caller`` argument. Prepared data is
memoised by a content fingerprint of the tables, so a sheet of formulas over the same tables
parses them once.
"""
from __future__ import annotations

import functools
import inspect
import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import xlwings as xw

import calc
from calc import InputError
from calc.messages import Message, render

from ..convert import excel_value, frame_from_rows, rows_from_frame, settings_from_rows
from . import vba_names

#: Set True in tests: unexpected exceptions propagate instead of becoming cell text.
RAISE_BUGS = False
CATEGORY = "Cycle ROI"
#: Table arguments, in the order every function lists those it takes (first in its signature).
TABLE_ARGS = ("spend", "leads", "deals", "settings")
#: After the tables, every function lists those of these it takes in this order, then its own options.
SHARED_ARGS = ("start_date", "end_date", "segment_filter")
#: calc's keyword for each shared argument (the Excel names avoid VBA's reserved End and built-in Filter).
CALC_NAMES = {"start_date": "start", "end_date": "end", "segment_filter": "filter"}

ARG_DOCS = {
    "spend": "Spend table with its header (Spend[#All]): date, cost, segment columns; or the CYCLE_DATA handle. "
             "Empty: this workbook's Spend table.",
    "leads": "Leads table with its header (Leads[#All]): lead_id, date, segment columns; or the CYCLE_DATA handle. "
             "Empty: this workbook's Leads table.",
    "deals": "Deals table with its header (Deals[#All]): lead_id, date won, revenue, gross_profit; or the CYCLE_DATA "
             "handle. Empty: this workbook's Deals table.",
    "settings": "Settings table with its header (Settings[#All]): setting, value; or the CYCLE_DATA handle. "
                "Empty: this workbook's Settings table.",
    "start_date": "First inquiry date to count (a date). Empty: from the beginning.",
    "end_date": "Last inquiry date to count (a date). Empty: up to the as-of date.",
    "segment_filter": 'Segment filter, e.g. "province=Guangdong;industry=Medical|Education". Empty: everything.',
    "by": 'Segment columns to group by, e.g. "channel" or "province,industry". Empty: one total row.',
    "horizon_days": "Count only deals won within this many days of the inquiry. Empty: all deals so far.",
    # full-cycle ROI (issue 3)
    "projected": "TRUE (default): young cohorts count at their projected final value; FALSE: only deals won so far.",
    "measure": "What each cell shows: conversion (default), deals, converted, revenue, gross_profit, roas or roi.",
    "period": "Cohorts by month (default) or week.",
    "target_roi": "Full-cycle ROI the ads must earn, e.g. 0.3 = 30 %. Empty: the Settings table's target_roi.",
    # stability, segments, budget shift, portfolio (issue 4; addin/udfs/analysis.py words them per function)
    "method": "Control limits: nelson (default) or median.",
    "rank_by": "Rank segments by shrunk_conversion (default), shrunk_low or conversion_low.",
    "max_shift": "Largest share of a segment's spend one budget step moves, e.g. 0.2.",
    "dims": 'Unit columns, e.g. "category,store,price_tier".',
}


@dataclass(frozen=True)
class UdfSpec:
    excel_name: str
    calc_function: Callable[..., Any]
    adapter: Callable[..., Any]          # what Excel calls: errors as cell text, results as Excel values
    arg_docs: dict[str, str]             # Function Wizard text per Excel argument, in signature order
    example: dict[str, Any] = field(default_factory=dict)  # options the self-test calls it with (by, measure…)

    def decorated(self, func: Callable[..., Any], arg: Callable[..., Any]) -> Callable[..., Any]:
        """A fresh copy of the adapter carrying ``func``/``arg``'s metadata (xlwings' own decorators in tests)."""
        copy = functools.wraps(self.adapter)(lambda *args, **kwargs: self.adapter(*args, **kwargs))
        copy.__dict__.pop("__xlfunc__", None)  # wraps copies the original's metadata dict; start clean
        return excel_decorate(copy, self.arg_docs, func, arg)


UDFS: dict[str, UdfSpec] = {}


def excel_decorate(fn: Callable[..., Any], docs: dict[str, str], func: Callable[..., Any],
                   arg: Callable[..., Any]) -> Callable[..., Any]:
    """Apply xlwings' decorators: every ``arg`` first, then ``func(category=…)`` last (outermost).

    On Windows ``xw.arg`` calls a bare ``xlfunc(f)``, which resets the category to "xlwings"
    (xlwings 0.37.8 udfs.py ~217, ~261): only a category set by the last decorator survives.
    """
    for name, doc in docs.items():
        fn = arg(name, ndim=2, doc=doc)(fn) if name in TABLE_ARGS else arg(name, doc=doc)(fn)
    return func(category=CATEGORY)(fn)


def check_signature(name: str, args: list[str]) -> None:
    """Names VBA accepts, and one argument order for every function: tables, start_date, end_date,
    segment_filter, then the function's own options."""
    for arg in (name, *args):
        reason = vba_names.why_forbidden(arg)
        if reason:
            raise TypeError(f"{name}: '{arg}' is {reason}; xlwings writes it into the VBA wrapper, which then does not "
                            f"compile or misbehaves. Rename it (e.g. end -> end_date, filter -> segment_filter).")
    tables = [a for a in args if a in TABLE_ARGS]
    shared = [a for a in args if a in SHARED_ARGS]
    expected = ([a for a in TABLE_ARGS if a in tables] + [a for a in SHARED_ARGS if a in shared]
                + [a for a in args if a not in TABLE_ARGS and a not in SHARED_ARGS])
    if args != expected:
        raise TypeError(f"{name}: arguments must come in the order {', '.join(expected)} "
                        "(tables, then start_date, end_date, segment_filter, then the function's own options)")


#: Excel functions whose name is not their calc function's: CYCLE_DATA hands out prepared data itself.
NAMED_APART = {"CYCLE_DATA": "prepare"}


#: calc's option names as the Excel functions spell their arguments, so an error names the argument typed.
EXCEL_ARGUMENTS = {"start": "start_date", "end": "end_date", "filter": "segment_filter"}


def as_excel_error(exc: InputError) -> InputError:
    """The error with a calc option named by its Excel argument ("option 'start_date'", not "option 'start'")."""
    if exc.table == "options" and exc.column in EXCEL_ARGUMENTS:
        renamed = InputError("options", EXCEL_ARGUMENTS[exc.column], exc.problem, rows=exc.rows, fix=exc.fix)
        renamed.notes = exc.notes
        return renamed
    return exc


def udf(calc_function: Callable[..., Any], example: dict[str, Any] | None = None,
        **arg_docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an Excel function adapting ``calc_function``; its name must be the calc name in capitals.

    ``example``: the options a typical call needs (e.g. ``by``), used by the self-test workbook.
    """

    def register(adapter: Callable[..., Any]) -> Callable[..., Any]:
        name = adapter.__name__
        if name != calc_function.__name__.upper() and NAMED_APART.get(name) != calc_function.__name__:
            raise TypeError(f"Excel function {name} must be named {calc_function.__name__.upper()}")
        args = [a for a in inspect.signature(adapter).parameters if a != "caller"]
        check_signature(name, args)

        @functools.wraps(adapter)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return to_excel(adapter(*args, **kwargs))
            except InputError as exc:
                return f"#INPUT! {as_excel_error(exc).render(_language['value'])}"
            except Exception as exc:  # a cell must show text, not a traceback; tests re-raise
                if RAISE_BUGS:
                    raise
                return f"#ERROR! {type(exc).__name__}: {exc}"

        docs = {}
        for arg in args:
            docs[arg] = arg_docs.get(arg) or ARG_DOCS.get(arg)
            if docs[arg] is None:
                raise TypeError(f"{name}: argument '{arg}' has no Function Wizard doc")
        unknown = set(example or {}) - set(docs)
        if unknown:
            raise TypeError(f"{name}: example names no argument {', '.join(sorted(unknown))}")
        UDFS[name] = UdfSpec(name, calc_function, guarded, docs, dict(example or {}))
        return excel_decorate(guarded, docs, xw.func, xw.arg)

    return register


def to_excel(result: Any) -> Any:
    """A calc result as an Excel value: tables spill with a header row, scalars stay one cell."""
    import pandas as pd

    if isinstance(result, pd.DataFrame):
        return rows_from_frame(result)
    if isinstance(result, pd.Series):
        return rows_from_frame(result.to_frame())
    if isinstance(result, (list, tuple)):
        return [[excel_value(v) for v in row] if isinstance(row, (list, tuple)) else [excel_value(row)]
                for row in result]
    return excel_value(result)


# --- the calling workbook's own tables -------------------------------------------------------

def caller_table(caller: Any, name: str) -> list[list[Any]] | None:
    """Rows of the Excel table called ``name`` in the caller's workbook, or None if it has none."""
    if caller is None:
        return None
    for sheet in caller.sheet.book.sheets:
        for table in sheet.tables:
            if table.name.casefold() == name.casefold():
                return table.range.options(ndim=2).value
    return None


# --- memoised preparation -------------------------------------------------------------------
#
# Excel hands every call a fresh copy of each table, so identity cannot tell "unchanged". A table
# is recognised by a cheap key (its size and a few sampled rows), confirmed by comparing every cell
# with the copy seen before (one C-level list comparison, ~10 ms for 100k × 9 cells). Prepared
# data and results are then reused; any edited cell fails the comparison and is prepared afresh.

_TABLES_KEPT = 16
_DATASETS_KEPT = 8
_RESULTS_PER_DATASET = 64


@dataclass
class _Seen:
    rows: Any
    token: int


_seen: OrderedDict[Any, _Seen] = OrderedDict()
_cache: OrderedDict[tuple, tuple[calc.Dataset, OrderedDict]] = OrderedDict()
_results: dict[int, OrderedDict] = {}
_tokens = itertools.count(1)


def _sample_key(rows: Any) -> Any:
    if not isinstance(rows, (list, tuple)) or not rows:
        return ("other", id(rows))
    picks = (rows[0], rows[1 % len(rows)], rows[len(rows) // 2], rows[-1])
    try:
        return (len(rows), hash(tuple(tuple(r) if isinstance(r, (list, tuple)) else (r,) for r in picks)))
    except TypeError:  # an unhashable cell: fall back to its text
        return (len(rows), repr(picks))


def table_token(rows: Any) -> int | None:
    """The same token for equal tables, a new one after any edit; None for a missing table."""
    if rows is None:
        return None
    key = _sample_key(rows)
    seen = _seen.get(key)
    if seen is not None:
        try:
            same = seen.rows is rows or bool(seen.rows == rows)
        except Exception:  # exotic cells that refuse comparison: treat as changed
            same = False
        if same:
            _seen.move_to_end(key)
            return seen.token
    _seen[key] = _Seen(rows, next(_tokens))
    if len(_seen) > _TABLES_KEPT:
        _seen.popitem(last=False)
    return _seen[key].token


def clear_cache() -> None:
    _handles.clear()
    _seen.clear()
    _cache.clear()
    _results.clear()


def dataset(spend: Any = None, leads: Any = None, deals: Any = None, settings: Any = None, caller: Any = None,
            needs: tuple[str, ...] = TABLE_ARGS[:3]) -> calc.Dataset:
    """Prepared data from explicit tables, else from the caller's workbook tables; memoised by content.

    Settings passed explicitly (``Settings[#All]``) is a dependency Excel tracks; left out, the
    calling workbook's Settings table is read (Excel does not know about that read).
    """
    for table in (spend, leads, deals, settings):
        if is_handle(table):
            return data_of_handle(table, caller)
    settings_rows = settings if settings is not None else caller_table(caller, "Settings")
    chosen = settings_from_rows(settings_rows)
    if chosen.get(SOURCE_SETTING):
        return _from_source(chosen, table_token(settings_rows))
    given = {"spend": spend, "leads": leads, "deals": deals}
    tables = {k: (given[k] if given[k] is not None else caller_table(caller, k.capitalize()))
              for k in TABLE_ARGS[:3] if k in needs}
    if tables.get("leads") is None and tables.get("deals") is None and caller is not None:
        # a CRM export pasted as one Pipeline table is Leads and Deals at once (calc.pipeline)
        pipeline = caller_table(caller, "Pipeline")
        if pipeline is not None:
            tables.update({k: pipeline for k in ("leads", "deals") if k in needs})
    key = tuple(table_token(tables.get(k)) for k in TABLE_ARGS[:3]) + (table_token(settings_rows),)
    if key in _cache:
        _cache.move_to_end(key)
        _language["value"] = _cache[key][0].settings.language
        return _cache[key][0]
    frames = {k: (frame_from_rows(v, table=k.capitalize()) if v is not None else None) for k, v in tables.items()}
    if all(v is None for v in frames.values()):
        raise InputError(None, None, Message("udf.no_data"), fix=Message("udf.no_data.fix"))
    data = calc.prepare(**frames, settings=chosen)
    _remember(key, data)
    return data


#: Settings rows that point the data handle at a warehouse instead of the sheet tables: ``source`` (a URL
#: as for ``cycle-roi --source``) and the table names ``spend_table``, ``leads_table``, ``deals_table``.
SOURCE_SETTING = "source"
SOURCE_TABLES = {"Spend": "spend_table", "Leads": "leads_table", "Deals": "deals_table"}


def _from_source(chosen: dict[str, Any], token: int | None) -> calc.Dataset:
    """The data handle of a Settings table naming a source: aggregates summed where the data lives (once per
    edit of the Settings table; recalculating a sheet does not query the warehouse again)."""
    key = ("source", token)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key][0]
    from .. import sources  # the engines load only for this route

    rest = {k: v for k, v in chosen.items() if k != SOURCE_SETTING and k not in SOURCE_TABLES.values()}
    data = sources.load(str(chosen[SOURCE_SETTING]).strip(), settings=rest,
                        tables={t: chosen.get(name) for t, name in SOURCE_TABLES.items()})
    _remember(key, data)
    return data


def _remember(key: tuple, data: calc.Dataset) -> None:
    _language["value"] = data.settings.language  # messages in cells speak the workbook's language
    _cache[key] = (data, OrderedDict())
    _results[id(data)] = _cache[key][1]
    if len(_cache) > _DATASETS_KEPT:
        evicted, _ = _cache.popitem(last=False)[1]
        _results.pop(id(evicted), None)


# --- the data handle: =CYCLE_DATA(Spend[#All], Leads[#All], Deals[#All], Settings[#All]) -----------------
#
# Excel copies every range argument to Python on every call, so a sheet of formulas that each pass the
# tables moves each table once per formula. CYCLE_DATA receives the tables once and returns a short text,
# the handle: a fingerprint of the tables' content and the address of its own cell. Every function accepts
# the handle in place of its tables. Excel still tracks every dependency (tables -> handle cell -> formulas),
# so an edit recalculates CYCLE_DATA first and a new fingerprint reaches every dependent.
#
# A handle whose data this process no longer holds (Excel or Python restarted, or evicted) recovers by
# itself: the handle names its cell; the function reads that cell's CYCLE_DATA formula, reads the ranges
# it names and prepares them. Same content -> same fingerprint -> the very data CYCLE_DATA had, so the
# results are identical. Different content can only mean the handle cell has not recalculated yet (manual
# calculation); the ranges read are then what CYCLE_DATA will hand out when it does, so again no result
# disagrees with the tables.

HANDLE_PREFIX = "cycle-data:"
_HANDLES_KEPT = 8
_handles: OrderedDict[str, calc.Dataset] = OrderedDict()


def is_handle(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(HANDLE_PREFIX)


def fingerprint(*tables: Any) -> str:
    """A content fingerprint, the same in every process (repr of the cells, not Python's salted hash)."""
    import hashlib

    return hashlib.blake2b(repr(tables).encode("utf-8"), digest_size=6).hexdigest()


def _keep(spend: Any, leads: Any, deals: Any, settings: Any, caller: Any) -> tuple[str, calc.Dataset]:
    """Prepare the tables (left-out ones: the caller's workbook tables) and keep them under their fingerprint."""
    tables = tuple(t if t is not None else caller_table(caller, name.capitalize())
                   for t, name in zip((spend, leads, deals, settings), TABLE_ARGS))
    if tables[1] is None and tables[2] is None and caller is not None:  # a CRM export as one Pipeline table
        pipeline = caller_table(caller, "Pipeline")
        tables = (tables[0], pipeline, pipeline, tables[3])
    data = dataset(*tables)
    key = fingerprint(*tables)
    _handles[key] = data
    _handles.move_to_end(key)
    if len(_handles) > _HANDLES_KEPT:
        _handles.popitem(last=False)
    return key, data


def make_handle(spend: Any, leads: Any, deals: Any, settings: Any, caller: Any = None) -> str:
    """The handle text: the tables' fingerprint and, in Excel, the address of the CYCLE_DATA cell."""
    key, _ = _keep(spend, leads, deals, settings, caller)
    where = f"@'{caller.sheet.name}'!{caller.address}" if caller is not None else ""
    return f"{HANDLE_PREFIX}{key}{where}"


def data_of_handle(handle: str, caller: Any) -> calc.Dataset:
    key, _, where = handle.removeprefix(HANDLE_PREFIX).partition("@")
    if key in _handles:
        _handles.move_to_end(key)
        return _handles[key]
    tables = _tables_behind(where, caller)
    if tables is None:
        raise InputError(None, None, Message("udf.handle_lost", handle=handle), fix=Message("udf.handle_lost.fix"))
    return _keep(*tables, caller=caller)[1]


def _tables_behind(where: str, caller: Any) -> tuple | None:
    """The ranges the CYCLE_DATA formula in the cell ``where`` ('Sheet'!$A$1) names, read afresh."""
    if caller is None or "!" not in where:
        return None
    sheet_name, address = where.rsplit("!", 1)
    try:
        sheet = caller.sheet.book.sheets[sheet_name.strip("'").replace("''", "'")]
        formula = str(sheet.range(address).formula)
    except Exception:  # the sheet or cell is gone: nothing to recover from
        return None
    if "CYCLE_DATA(" not in formula.upper():
        return None
    inner = formula[formula.upper().index("CYCLE_DATA(") + len("CYCLE_DATA("):formula.rindex(")")]
    refs = [r.strip() for r in split_arguments(inner)] + [""] * 4
    return tuple(sheet.range(r).options(ndim=2).value if r else None for r in refs[:4])


def split_arguments(text: str) -> list[str]:
    """Top-level comma-separated arguments of a formula call (commas inside brackets or quotes kept).

    >>> split_arguments("Spend[#All],Leads[[#All],[date]],,'My, sheet'!A1:B2")
    ['Spend[#All]', 'Leads[[#All],[date]]', '', "'My, sheet'!A1:B2"]
    """
    parts, depth, quoted, current = [], 0, None, ""
    for ch in text:
        if quoted:
            quoted = None if ch == quoted else quoted
        elif ch in "'\"":
            quoted = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    return parts + [current]


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


#: Language of the workbook whose tables were read last (its Settings), for messages in cells. Excel calls
#: functions one at a time on its calculation thread, so the last workbook read is the caller's.
_language = {"value": "en"}


def call(function: Callable[..., Any], data: calc.Dataset, **options: Any) -> Any:
    """function(data, **options), remembered per prepared dataset: a sheet repeating a formula computes it once.

    A sentence calc returns (a catalogue Message) comes back in the workbook's ``language`` setting."""
    result = _call(function, data, **options)
    settings = getattr(data, "settings", None)  # a pasted series has no settings: the last workbook's language
    language = settings.language if settings is not None else _language["value"]
    if isinstance(result, Message):
        return render(result, language)
    import pandas as pd

    if isinstance(result, pd.DataFrame):  # sentences in table cells (advice, evidence) as plain text too
        texts = [c for c in result.columns if result[c].dtype == object]
        if texts:
            result = result.assign(**{c: result[c].map(lambda v: render(v, language) if isinstance(v, Message) else v)
                                      for c in texts})
    return result


def _call(function: Callable[..., Any], data: calc.Dataset, **options: Any) -> Any:
    results = _results.get(id(data))
    key = (function.__module__, function.__name__, _freeze(sorted(options.items())))
    if results is None:
        return function(data, **options)
    if key not in results:
        results[key] = function(data, **options)
        if len(results) > _RESULTS_PER_DATASET:
            results.popitem(last=False)
    results.move_to_end(key)
    return results[key]


# --- formulas from the registry ------------------------------------------------------------------

def excel_literal(value: Any) -> str:
    """A Python option as an Excel formula literal; None is an empty (left out) argument."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace('"', '""') + '"'


def udf_formula(name: str, tables: dict[str, str], **options: Any) -> str:
    """``NAME(arg, …)`` in the registered argument order: table arguments from ``tables`` (references,
    e.g. ``Leads[#All]``), the rest from ``options``; trailing empty arguments left out.

    >>> udf_formula("INQUIRY_CONVERSION", {"leads": "Leads[#All]", "deals": "Deals[#All]"}, horizon_days=90)
    'INQUIRY_CONVERSION(Leads[#All],Deals[#All],,,,,90)'
    """
    spec = UDFS[name]
    unknown = set(options) - set(spec.arg_docs)
    if unknown:
        raise TypeError(f"{name} has no argument {', '.join(sorted(unknown))}")
    args = [tables.get(a, "") if a in TABLE_ARGS else excel_literal(options.get(a)) for a in spec.arg_docs]
    while args and args[-1] == "":
        args.pop()
    return f"{name}({','.join(args)})"
