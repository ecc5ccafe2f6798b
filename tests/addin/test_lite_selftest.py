"""The self-test workbook of the Windows route works in the Lite route: every check's formula (tables passed
explicitly, or the CYCLE_DATA handle) evaluated with the functions of the Lite ``main.py`` — tables handed over
as Office.js hands them, dates as serial numbers — gives the value the self-test expects."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from addin.lite.code import main_py
from addin.selftest import checks, sample_rows
from addin.udfs.formula_engine import Recalculation
from addin.udfs.registry import HANDLE_PREFIX, UDFS

from .test_lite_workbook import import_main

EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def as_office_js(rows: list[list]) -> list[list]:
    """Dates as Excel serial numbers: Office.js has no date type."""
    return [[(v - EXCEL_EPOCH) / dt.timedelta(days=1) if isinstance(v, dt.datetime) else v for v in row]
            for row in rows]


class LiteRecalculation(Recalculation):
    """The formula engine of the self-test, calling the Lite main.py's functions instead of the adapters."""

    main = None

    def call(self, name, args):
        if name in UDFS:
            return getattr(self.main, name)(*args)
        return super().call(name, args)


def agrees(got, expected) -> bool:
    if isinstance(expected, float) and isinstance(got, (int, float)):
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
    return got == expected


def test_every_self_test_check_passes_with_the_lite_functions(tmp_path, monkeypatch):
    rows = sample_rows()
    found, _ = checks(rows, data_handle=True)
    LiteRecalculation.main = import_main(main_py(), tmp_path, monkeypatch)
    tables = {name: as_office_js(table) for name, table in rows.items()}
    handle = next(c.formula for c in found if c.what == "handle")
    assert len(found) >= len(UDFS)
    for check in found:
        engine = LiteRecalculation(tables, {"handle": handle})
        got = engine.evaluate(check.formula.replace("{handle}", "handle"))
        if check.what == "handle":
            assert isinstance(got, str) and got.startswith(HANDLE_PREFIX), got
        else:
            assert agrees(got, check.expected), (check.function, check.formula, got, check.expected)


def test_cli_writes_the_self_test_workbook_with_the_lite_code(tmp_path):
    import re
    import zipfile

    from typer.testing import CliRunner

    from addin.cli import app
    from addin.lite import parts
    from addin.lite.code import lite_files
    from addin.lite.workbook import PREFIX

    result = CliRunner().invoke(app, ["lite", "--selftest", "-o", str(tmp_path / "selftest-lite.xlsx")])
    assert result.exit_code == 0, result.output
    book = tmp_path / "selftest-lite.xlsx"
    files = parts.read_files(book)
    # the template's code, except that no script names a sheet button: the self-test workbook has no Start sheet
    assert {k: files[k] for k in ("main.py", "requirements.txt")} == lite_files(buttons=False)
    with zipfile.ZipFile(book) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    formulas = re.findall(r"<f[^>]*>([^<]*)</f>", xml)
    assert any(f.startswith(f"{PREFIX}CONSULT_COST(Spend[#All],Leads[#All]") for f in formulas)
    for name in UDFS:
        assert not any(re.search(rf"(?<![\w.]){name}\(", f) for f in formulas), name
