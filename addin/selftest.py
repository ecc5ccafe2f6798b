"""``cycle-roi selftest -o FILE.xlsx``: a workbook that shows at a glance whether the add-in works in Excel.

It holds the bundled sample business as Excel tables (Spend, Leads, Deals, Settings) and, for every Excel
function of the registry, a live formula beside the value the same function computed when the file was
written, and a PASS/FAIL cell; one summary cell at the top. Table functions are also spilled in full on
the Spills sheet, and a check counts the rows that spilled. A person opens it in Excel after installing:
``#NAME?`` means the function is not registered, a spill count of FAIL that it did not spill, a number
that differs that the route changes a value (docs/windows_smoke.md says what to do about each).

Everything comes from the registry (``addin.udfs.registry.UDFS``: argument order, the ``example`` options),
and every table is passed explicitly, so the same checks serve the xlwings Lite route; ``data_handle``
adds the CYCLE_DATA checks of the classic route.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calc.messages import Message

from .udfs.registry import HANDLE_PREFIX, TABLE_ARGS, UDFS, udf_formula

#: Where each table argument comes from in the self-test workbook.
REFS = {"spend": "Spend[#All]", "leads": "Leads[#All]", "deals": "Deals[#All]", "settings": "Settings[#All]"}
#: The sample business up to this day: every function has something to show, the file opens quickly.
SAMPLE_UNTIL = "2025-06-30"
FIRST_CHECK_ROW = 6  # 1-based row of the first check on the SelfTest sheet
SPILL_GAP = 3
#: What the summary cell shows before Excel has calculated the file (e.g. calculation set to manual).
NOT_CALCULATED = "not calculated yet: press Ctrl+Alt+F9"


@dataclass(frozen=True)
class Check:
    """One row of the SelfTest sheet: ``formula`` (no '=') computes ``expected`` in Excel."""

    function: str
    what: str            # "value", "cell r,c of the table", "rows spilled", "handle"
    formula: str
    expected: Any


def excel_rows(frame) -> list[list[Any]]:
    """A table as Excel hands it to Python: header, then numbers as floats, dates as datetimes, blanks None."""
    import pandas as pd

    rows: list[list[Any]] = [[str(c) for c in frame.columns]]
    for record in frame.astype(object).itertuples(index=False, name=None):
        row = []
        for v in record:
            if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
                row.append(None)
            elif isinstance(v, pd.Timestamp):
                row.append(v.to_pydatetime())
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                row.append(float(v))
            else:
                row.append(v)
        rows.append(row)
    return rows


def sample_rows() -> dict[str, list[list[Any]]]:
    from .report.template import sample_tables, settings_rows

    tables = {name: excel_rows(frame) for name, frame in sample_tables(until=SAMPLE_UNTIL).items()}
    tables["Settings"] = [["setting", "value", "description"],
                          *([name, value if value != "" else None, text] for name, value, text in settings_rows("en"))]
    return tables


def _first_number(row: list[Any]) -> int | None:
    for j, value in enumerate(row):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return j
    return None


def checks(rows: dict[str, list], *, data_handle: bool = True) -> tuple[list[Check], list[tuple[str, str, list]]]:
    """The checks, and the spills (function, formula, expected table) for the Spills sheet."""
    found: list[Check] = []
    spills: list[tuple[str, str, list]] = []
    for name, spec in UDFS.items():
        if name == "CYCLE_DATA":
            continue
        tables = [a for a in spec.arg_docs if a in TABLE_ARGS]
        call = udf_formula(name, {t: REFS[t] for t in tables}, **spec.example)
        result = spec.adapter(**{t: rows[t.capitalize()] for t in tables}, **spec.example)
        if isinstance(result, str) and result.startswith("#"):
            raise RuntimeError(Message("selftest.fails", name=name, result=result))
        if isinstance(result, list):
            row = 1 if len(result) > 1 else 0
            col = _first_number(result[row])
            col = 0 if col is None else col
            found.append(Check(name, f"cell {row + 1},{col + 1}", f"INDEX({call},{row + 1},{col + 1})",
                               result[row][col]))
            spills.append((name, call, result))
        else:
            found.append(Check(name, "value", call, result))
    if data_handle:
        handle_call = udf_formula("CYCLE_DATA", REFS)
        found.append(Check("CYCLE_DATA", "handle", handle_call, HANDLE_PREFIX))
        cost = UDFS["CONSULT_COST"]
        expected = cost.adapter(rows["Spend"], rows["Leads"], rows["Settings"])
        found.append(Check("CONSULT_COST", "value via the handle", "CONSULT_COST({handle})", expected))
    return found, spills


def build_selftest(target: str | os.PathLike, *, data_handle: bool = True) -> Path:
    """Write the self-test workbook (atomic)."""
    from .report.labels import Labels
    from .report.xlsx import atomic_write, new_workbook

    L = Labels("en")
    rows = sample_rows()
    found, spills = checks(rows, data_handle=data_handle)
    with atomic_write(target) as (tmp, final):
        book = new_workbook(tmp, kind="self-test")
        bold = book.add_format({"bold": True})
        title = book.add_format({"bold": True, "font_size": 14})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        pass_fmt = book.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        fail_fmt = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})

        test = book.add_worksheet("SelfTest")
        spill_sheet = book.add_worksheet("Spills")
        test.set_column(0, 0, 22)
        test.set_column(1, 1, 22)
        test.set_column(2, 3, 18)
        test.set_column(4, 4, 9)
        test.set_column(5, 5, 90)
        test.write(0, 0, L("selftest.title"), title)
        test.merge_range(2, 0, 2, 5, L("selftest.read_me"), wrap)
        test.set_row(2, 64)
        headers = ("selftest.function", "selftest.what", "selftest.result", "selftest.expected", "selftest.check",
                   "selftest.formula")
        for j, key in enumerate(headers):
            test.write(FIRST_CHECK_ROW - 2, j, L(key), bold)

        # the Spills sheet: each table function in full, one below the other
        anchors: dict[str, str] = {}
        r = 0
        for name, call, result in spills:
            spill_sheet.write(r, 0, name, bold)
            spill_sheet.write_dynamic_array_formula(r + 1, 0, r + 1, 0, f"={call}")
            anchors[name] = f"Spills!$A${r + 2}"
            r += len(result) + SPILL_GAP
        rows_checks = [Check(name, "rows spilled", f"ROWS(_xlfn.ANCHORARRAY({anchors[name]}))", len(result))
                       for name, _, result in spills]

        handle_cell = None
        all_checks = found + rows_checks
        for i, check in enumerate(all_checks):
            r = FIRST_CHECK_ROW - 1 + i
            cell = f"C{r + 1}"
            formula = check.formula
            if check.what == "handle":
                handle_cell = cell
            if "{handle}" in formula:
                formula = formula.format(handle=handle_cell)
            test.write(r, 0, check.function)
            test.write(r, 1, check.what)
            expected = check.expected
            if isinstance(expected, (dt.datetime, dt.date)):
                test.write_formula(r, 2, f"={formula}", date_fmt, "")
                test.write_datetime(r, 3, expected, date_fmt)
            else:
                test.write_formula(r, 2, f"={formula}", None, "")  # no stored result until Excel computes it
                test.write(r, 3, "" if expected is None else expected)
            exp = f"D{r + 1}"
            if check.what == "handle":
                verdict = f'=IF(ISERROR({cell}),"FAIL",IF(LEFT({cell},{len(HANDLE_PREFIX)})={exp},"PASS","FAIL"))'
            elif isinstance(expected, (int, float, dt.datetime, dt.date)) and not isinstance(expected, bool):
                verdict = (f'=IF(ISNUMBER({cell}),IF(ABS({cell}-{exp})<=1E-9*MAX(1,ABS({exp})),"PASS","FAIL"),'
                           f'"FAIL")')
            else:
                verdict = f'=IF(ISERROR({cell}),"FAIL",IF({cell}&""={exp}&"","PASS","FAIL"))'
            test.write_formula(r, 4, verdict, None, "")
            test.write_string(r, 5, f"={formula}")
        last = FIRST_CHECK_ROW + len(all_checks) - 1
        checks_range = f"E{FIRST_CHECK_ROW}:E{last}"
        n = len(all_checks)
        test.write(1, 0, L("selftest.summary"), bold)
        test.write_formula(1, 1, f'=IF(COUNTIF({checks_range},"PASS")={n},"PASS: {n}/{n}",'
                                 f'"FAIL: "&({n}-COUNTIF({checks_range},"PASS"))&"/{n}")', bold,
                          NOT_CALCULATED)
        for col in (1, 4):
            rng = f"B2" if col == 1 else checks_range
            test.conditional_format(rng, {"type": "text", "criteria": "begins with", "value": "PASS",
                                          "format": pass_fmt})
            test.conditional_format(rng, {"type": "text", "criteria": "begins with", "value": "FAIL",
                                          "format": fail_fmt})

        for name in ("Spend", "Leads", "Deals", "Settings"):
            data = rows[name]
            ws = book.add_worksheet(name)
            ws.add_table(0, 0, max(len(data) - 1, 1), len(data[0]) - 1, {
                "name": name, "style": "Table Style Medium 2",
                "columns": [{"header": h, "format": date_fmt if h == "date" else None} for h in data[0]]})
            for i, row in enumerate(data[1:], start=1):
                for j, value in enumerate(row):
                    if isinstance(value, dt.datetime):
                        ws.write_datetime(i, j, value, date_fmt)
                    elif value is not None:
                        ws.write(i, j, value)
        book.close()
    return final
