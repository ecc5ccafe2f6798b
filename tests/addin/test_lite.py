"""The xlwings Lite route, checked without Excel.

The Lite code is read back out of a generated workbook exactly as Lite would read it (the Office.js
settings of the web-extension part), its ``main.py`` is imported by a separate CPython whose only way
to calc is the bundle inside ``main.py`` (xlwings' decorators pass through outside Windows), and every
function is called as Lite calls it — tables as 2-D lists with dates as serial numbers, dates as serial
numbers — and compared with the Windows route's adapter called with datetimes, and with calc itself.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

import calc
from addin.lite import parts
from addin.lite.code import LITE_SCRIPTS, NOT_IN_LITE, lite_doc, requirements_txt, write_code
from addin.lite.workbook import PREFIX, build_lite_workbook
from addin.report.template import sample_tables
from addin.ribbon.registry import BUTTONS
from addin.udfs import registry

REPO = Path(__file__).resolve().parents[2]
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def serial(value: dt.datetime) -> float:
    return (value - EXCEL_EPOCH) / dt.timedelta(days=1)


def excel_rows(frame, *, serial_dates: bool) -> list[list]:
    """A table as Excel hands it over: header, then rows; dates as datetimes (Windows) or serials (Office.js)."""
    rows = [list(frame.columns)]
    for record in frame.itertuples(index=False):
        row = []
        for value in record:
            if hasattr(value, "to_pydatetime"):
                value = value.to_pydatetime()
                value = serial(value) if serial_dates else value
            row.append(value)
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def lite_book(tmp_path_factory) -> Path:
    return build_lite_workbook(tmp_path_factory.mktemp("lite") / "CycleROI-lite.xlsx")


@pytest.fixture(scope="module")
def tables():
    return sample_tables(until="2025-03-31")


START, END = dt.datetime(2025, 2, 1), dt.datetime(2025, 3, 15)


def call_arguments(name: str, tables, *, lite: bool) -> dict:
    """Arguments for every parameter of ``name`` that has an obvious value; the rest keep their defaults."""
    import inspect

    values = {"spend": tables["Spend"], "leads": tables["Leads"], "deals": tables["Deals"]}
    out = {}
    for param in inspect.signature(registry.UDFS[name].adapter).parameters:
        if param in values:
            out[param] = excel_rows(values[param], serial_dates=lite)
        elif param in ("start", "cohort_start", "start_date"):
            out[param] = serial(START) if lite else START
        elif param in ("end", "cohort_end", "end_date"):
            out[param] = serial(END) if lite else END
        elif param == "by":
            out[param] = "channel"
    return out


RUNNER = r'''
import pickle, sys, tempfile
sys.path.insert(0, sys.argv[1])
import main
import calc
assert calc.__file__.startswith(tempfile.gettempdir()), calc.__file__  # calc came out of main.py's bundle
main._registry.RAISE_BUGS = True
calls = pickle.load(open(sys.argv[2], "rb"))
results = {name: getattr(main, name)(**kwargs) for name, kwargs in calls.items()}
handle_call = dict(calls["CYCLE_DATA"])
results["CONSULT_COST via CYCLE_DATA"] = main.CONSULT_COST(main.CYCLE_DATA(**handle_call),
                                                          start_date=calls["CONSULT_COST"]["start_date"],
                                                          end_date=calls["CONSULT_COST"]["end_date"])
pickle.dump({"results": results, "calc": calc.__file__}, open(sys.argv[3], "wb"))
'''


@pytest.fixture(scope="module")
def lite_results(lite_book, tables, tmp_path_factory):
    """Every Lite function of the workbook's main.py, called in a fresh CPython as Lite calls it."""
    folder = tmp_path_factory.mktemp("lite_code")
    files = parts.read_files(lite_book)
    (folder / "main.py").write_text(files["main.py"], encoding="utf-8")
    calls = {name: call_arguments(name, tables, lite=True) for name in registry.UDFS}
    (folder / "calls.pkl").write_bytes(pickle.dumps(calls))
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(folder), "HOME": str(folder)}
    done = subprocess.run([sys.executable, "-c", RUNNER, str(folder), str(folder / "calls.pkl"),
                           str(folder / "out.pkl")], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return pickle.loads((folder / "out.pkl").read_bytes())


def same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b and type(a) is type(b)


def test_every_function_gives_the_windows_routes_result(lite_results, tables):
    """Serial dates in, the same cells out as the Windows adapter given datetimes — for every function."""
    assert "cycle_roi_" in lite_results["calc"]
    for name in registry.UDFS:
        expected = registry.UDFS[name].adapter(**call_arguments(name, tables, lite=False))
        got = lite_results["results"][name]
        assert not (isinstance(got, str) and got.startswith("#")), (name, got)
        if registry.is_handle(expected):  # a fingerprint of the cells as handed over: serials here, datetimes there
            assert registry.is_handle(got), (name, got)
            continue
        assert same(got, expected), name
    assert lite_results["results"]["CONSULT_COST via CYCLE_DATA"] == lite_results["results"]["CONSULT_COST"]


def test_lite_functions_compare_with_calc(lite_results, tables):
    """Two scalars and one table recomputed by calc directly (the numbers the Windows route shows)."""
    data = calc.prepare(spend=tables["Spend"], leads=tables["Leads"], deals=tables["Deals"])
    results = lite_results["results"]
    assert results["CONSULT_COST"] == pytest.approx(calc.consult_cost(data, start=START.date(), end=END.date()))
    assert results["CONSULT_VOLUME"] == calc.consult_volume(data, start=START.date(), end=END.date())
    table = calc.kpi_table(data, by=["channel"], start=START.date(), end=END.date())
    assert results["KPI_TABLE"][0] == [str(c) for c in table.columns]
    assert [row[0] for row in results["KPI_TABLE"][1:]] == table["channel"].tolist()


def test_main_py_has_every_function_with_windows_names_order_and_docs(lite_book):
    import ast

    tree = ast.parse(parts.read_files(lite_book)["main.py"])
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    import inspect

    for name, spec in registry.UDFS.items():
        node = defined[name]
        windows = [p for p in inspect.signature(spec.adapter).parameters if p != "caller"]
        assert [a.arg for a in node.args.args] == windows, name
        docs = {d.args[0].value: next(k.value.value for k in d.keywords if k.arg == "doc")
                for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "arg"}
        assert docs == {arg: lite_doc(spec.arg_docs[arg]) for arg in windows}, name
        assert any(getattr(d, "id", "") == "func" for d in node.decorator_list), name
    for text in (lite_doc(d) for spec in registry.UDFS.values() for d in spec.arg_docs.values()):
        assert "Empty: this workbook's" not in text  # Lite cannot fall back on the workbook's own tables


def test_table_arguments_are_required_in_lite(lite_book):
    import ast

    tree = ast.parse(parts.read_files(lite_book)["main.py"])
    def required(name):
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        return [a.arg for a in node.args.args[:len(node.args.args) - len(node.args.defaults)]]

    # the first table: a table, or the CYCLE_DATA handle that then stands for all of them
    assert required("CONSULT_COST") == ["spend"]
    assert required("KPI_TABLE") == ["spend"]
    assert required("CONSULT_VOLUME") == ["leads"]
    assert required("CYCLE_DATA") == ["spend"]


def test_every_ribbon_button_has_a_lite_script_or_a_reason(lite_book):
    import ast

    tree = ast.parse(parts.read_files(lite_book)["main.py"])
    # @script or @script(button=…), on a def or an async def (refresh_reports awaits Range.get_formula)
    scripts = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
               and any(getattr(getattr(d, "func", d), "id", "") == "script" for d in n.decorator_list)}
    for button in BUTTONS:
        assert (button.id in LITE_SCRIPTS) != (button.id in NOT_IN_LITE), button.id
        if button.id in LITE_SCRIPTS:
            assert LITE_SCRIPTS[button.id][0] in scripts


# --- the parts, as Lite saves them ------------------------------------------------------------

def test_web_extension_parts_are_wired_and_well_formed(lite_book):
    with zipfile.ZipFile(lite_book) as book:
        names = book.namelist()
        for name in names:
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(book.read(name))  # every part parses
        assert {parts.TASKPANES, parts.WEBEXTENSION, parts.TASKPANES_RELS} <= set(names)
        rels = book.read("_rels/.rels").decode()
        assert f'Type="{parts.TASKPANES_REL_TYPE}" Target="{parts.TASKPANES}"' in rels
        assert 'Target="webextension1.xml"' in book.read(parts.TASKPANES_RELS).decode()
        types = book.read("[Content_Types].xml").decode()
        assert f'PartName="/{parts.TASKPANES}" ContentType="{parts.TASKPANES_CONTENT_TYPE}"' in types
        assert f'PartName="/{parts.WEBEXTENSION}" ContentType="{parts.WEBEXTENSION_CONTENT_TYPE}"' in types
        xml = book.read(parts.WEBEXTENSION).decode()
    # the value format observed in Lite-saved workbooks: JSON text, "/" as "\/", XML-escaped quotes
    assert '<we:property name="requirements.txt" value="&quot;xlwings&gt;=' in xml
    assert '<we:reference id="wa200008175" version="1.0.0.0"' in xml and "<we:containsCustomFunctions/>" in xml
    files = parts.read_files(lite_book)
    assert files["pyodideVersion"] == parts.PYODIDE_VERSION and files["requirements.txt"] == requirements_txt()


def test_values_round_trip_through_the_lite_encoding(tmp_path):
    text = 'x = "a/b" \\ \'q\' <tag> & 中文 한국어\n\ttab\n'
    path = build_lite_workbook(tmp_path / "b.xlsx")
    parts.inject(path, {"main.py": text, "requirements.txt": "pandas\n"})
    assert parts.read_files(path)["main.py"] == text
    raw = zipfile.ZipFile(path).read(parts.WEBEXTENSION).decode()
    assert "a\\/b" in raw and "中文" in raw  # as Lite writes it: "/" escaped, non-ASCII kept


def test_formulas_are_stored_the_way_excel_stores_lite_functions(lite_book):
    with zipfile.ZipFile(lite_book) as book:
        xml = "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/sheet"))
    assert f"<f>{PREFIX}CYCLE_DATA(Spend[#All],Leads[#All],Deals[#All],Settings[#All])</f>" in xml
    assert f"<f>{PREFIX}CONSULT_COST(CycleData)</f>" in xml
    import re

    for formula in re.findall(r"<f[^>]*>([^<]*)</f>", xml):
        for name in registry.UDFS:
            assert not re.search(rf"(?<![\w.]){name}\(", formula), formula  # no bare call left


def test_code_folder_matches_the_workbook(lite_book, tmp_path):
    write_code(tmp_path)
    files = parts.read_files(lite_book)
    assert (tmp_path / "main.py").read_text(encoding="utf-8") == files["main.py"]
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8") == files["requirements.txt"]


def test_the_lite_workbook_is_deterministic(lite_book, tmp_path):
    again = build_lite_workbook(tmp_path / "again.xlsx")
    assert again.read_bytes() == lite_book.read_bytes()


def test_the_bundle_carries_the_message_catalogue():
    # calc's sentences are read from calc/messages/<language>.json at run time: Lite must have them too
    import io

    from addin.lite.code import bundle_bytes

    names = set(zipfile.ZipFile(io.BytesIO(bundle_bytes())).namelist())
    assert {f"calc/messages/{lang}.json" for lang in ("en", "zh", "ko", "id")} <= names
