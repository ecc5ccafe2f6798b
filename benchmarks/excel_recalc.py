"""What one full recalculation of the template costs in Excel: input cells handed to Python.

Excel copies every range argument of a Python function over COM on every call. This evaluates every
formula of the template's report sheets through the real adapters (addin/udfs/formula_engine.py) and
counts the cells of every argument handed over, for the template as shipped (every formula reads the
tables through the one CYCLE_DATA handle cell) and for the same formulas passing the tables themselves
(the template before the handle). Beside it: the in-process recalculation time of each, cold (caches
cleared) and as a ratio to each other, never as an absolute target.

    python benchmarks/excel_recalc.py                 # the bundled sample business
    python benchmarks/excel_recalc.py --scale 4       # the sample's rows repeated 4x (ids made unique)

Goal (issue 13): cells handed to Python per full recalculation / input cells <= 1.1.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

GOAL = 1.1


def excel_rows(frame) -> list[list]:
    """A table as Excel hands it to Python: header row, then values (dates as datetimes, blanks as None)."""
    import pandas as pd

    rows = [list(frame.columns)]
    for record in frame.astype(object).itertuples(index=False, name=None):
        rows.append([None if (v is None or (isinstance(v, float) and v != v)) else
                     (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for v in record])
    return rows


def input_tables(scale: int) -> dict[str, list]:
    import pandas as pd

    from addin.report.template import sample_tables, settings_rows

    tables = sample_tables()
    if scale > 1:  # repeat the business with its own ids per copy, so leads and deals stay linked
        copies = {name: [] for name in tables}
        for k in range(scale):
            for name, frame in tables.items():
                copy = frame.copy()
                if "lead_id" in copy:
                    copy["lead_id"] = copy["lead_id"].astype(str) + f"-{k}"
                copies[name].append(copy)
        tables = {name: pd.concat(parts, ignore_index=True) for name, parts in copies.items()}
    out = {name: excel_rows(frame) for name, frame in tables.items()}
    out["Settings"] = [["setting", "value", "description"], *settings_rows("en")]
    return out


def template_formulas(data_handle: bool) -> list[str]:
    from addin.report.sections import template_sheets

    formulas = []
    for sheet in template_sheets("en", data_handle=data_handle):
        for block in sheet.blocks:
            for item in (*getattr(block, "cards", ()), block):
                if getattr(item, "formula", None):
                    formulas.append(item.formula)
    return formulas


def recalculate(formulas: list[str], tables: dict[str, list], names: dict[str, str]) -> dict:
    from addin.udfs import formula_engine, registry

    registry.clear_cache()
    recalculation = formula_engine.Recalculation(tables, names)
    started = time.perf_counter()
    for formula in formulas:
        result = recalculation.evaluate(formula)
        if isinstance(result, str) and result.startswith("#"):
            raise RuntimeError(f"{formula} -> {result}")
    seconds = time.perf_counter() - started
    return {"formulas": len(formulas), "function_calls": recalculation.calls,
            "cells_to_python": recalculation.cells_to_python, "seconds": round(seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--save", action="store_true", help="write the result into benchmarks/results/")
    args = parser.parse_args()

    from addin.report.template import DATA_HANDLE_FORMULA, DATA_HANDLE_NAME
    from addin.udfs import formula_engine

    tables = input_tables(args.scale)
    input_cells = sum(formula_engine.cells(rows) for rows in tables.values())
    handle = recalculate(template_formulas(True), tables, {DATA_HANDLE_NAME: DATA_HANDLE_FORMULA})
    explicit = recalculate(template_formulas(False), tables, {})
    result = {
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "rows": {name: len(rows) - 1 for name, rows in tables.items()},
        "input_cells": input_cells,
        "with_handle": {**handle, "cells_per_input_cell": round(handle["cells_to_python"] / input_cells, 3)},
        "tables_in_every_formula": {**explicit,
                                    "cells_per_input_cell": round(explicit["cells_to_python"] / input_cells, 3)},
        "goal_cells_per_input_cell": GOAL,
    }
    result["time_handle_vs_tables"] = round(handle["seconds"] / explicit["seconds"], 3)
    result["goal_met"] = result["with_handle"]["cells_per_input_cell"] <= GOAL
    print(json.dumps(result, indent=2))
    if args.save:
        out = HERE / "results" / f"excel_recalc-{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M}.json"
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
