"""The self-test workbook: every registered function checked, formulas that compute the expected values.

Excel is not here, so the check formulas are evaluated by the formula engine over the registered
adapters (addin/udfs/formula_engine.py) against the sample tables as the workbook stores them, and
headless LibreOffice opens the file and computes its own cells (where the add-in's functions are
unknown, so every check must say FAIL, the summary included: the PASS/FAIL formulas work).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from addin import selftest
from addin.udfs import UDFS, formula_engine
from addin.workbook import FilePort


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = selftest.build_selftest(tmp_path_factory.mktemp("st") / "selftest.xlsx")
    port = FilePort(path)
    stored = {name: port.read_table(name) for name in ("Spend", "Leads", "Deals", "Settings")}
    return path, stored


def same(value, expected) -> bool:
    if isinstance(expected, float) and isinstance(value, (int, float)):
        return abs(value - expected) <= 1e-9 * max(1.0, abs(expected))
    return value == expected


def test_every_registered_function_has_a_check_and_table_functions_a_spill_check(built):
    path, _ = built
    book = openpyxl.load_workbook(path)
    test = book["SelfTest"]
    first = selftest.FIRST_CHECK_ROW
    rows = [[c.value for c in row] for row in test.iter_rows(min_row=first, max_col=6)]
    assert {r[0] for r in rows} == set(UDFS)
    spilled = {r[0] for r in rows if r[1] == "rows spilled"}
    assert spilled == {r[0] for r in rows if str(r[1]).startswith("cell ")}
    assert all(str(r[4]).startswith('=IF(') for r in rows)
    assert test["B2"].value.startswith('=IF(COUNTIF(E6:E') and f"/{len(rows)}" in test["B2"].value


def test_the_check_formulas_compute_the_expected_values_from_the_stored_tables(built):
    # the tables as the workbook stores them (what Excel will hand the functions), not as they were built
    _, stored = built
    found, spills = selftest.checks(selftest.sample_rows())
    assert len(found) == len(UDFS) + 1  # CONSULT_COST is checked twice: tables, and through the handle
    for check in found:
        formula = check.formula.replace("{handle}", selftest.udf_formula("CYCLE_DATA", selftest.REFS))
        value = formula_engine.evaluate("=" + formula, stored)
        if check.what == "handle":
            assert value.startswith(check.expected)
        else:
            assert same(value, check.expected), (check, value)
    for name, call, expected in spills:
        assert formula_engine.evaluate("=" + call, stored) == expected, name


RECALCULATE_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def test_libreoffice_computes_the_pass_fail_cells_without_the_add_in(built, tmp_path):
    path, _ = built
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is required: apt-get install -y libreoffice-calc-nogui"
    # LibreOffice keeps the stored results of a file that says Excel wrote it; this profile makes it recalculate
    settings = tmp_path / "profile" / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True)
    settings.write_text(RECALCULATE_ON_LOAD, encoding="utf-8")
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "xlsx", "--outdir", str(tmp_path / "out"), str(path)], check=True, capture_output=True,
                   timeout=180)
    rows = CalamineWorkbook.from_path(str(tmp_path / "out" / path.name)).get_sheet_by_name("SelfTest").to_python()
    checks = [r[4] for r in rows[selftest.FIRST_CHECK_ROW - 1:] if r[0]]
    assert checks and set(checks) == {"FAIL"}  # no Cycle ROI functions in LibreOffice
    assert rows[1][1] == f"FAIL: {len(checks)}/{len(checks)}"
