"""The Lite workbook's Start sheet: the Lite route's instructions in the workbook's language, and one sheet
button per Lite script, bound the way xlwings Lite binds them (a named shape whose hyperlink selects the cell
hidden behind it, and ``@script(button="[shape]Sheet!cell")`` in main.py); the buttons survive ``refresh``.

Read back three ways: the cells and the drawing part as written, headless LibreOffice's PDF of the Start sheet
(its text: the instructions and the button labels), and LibreOffice's own re-save of the workbook (it parsed our
shapes: their names and their hyperlinks come out again).
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin.lite import buttons, parts
from addin.lite.code import LITE_REQUIRED, LITE_SCRIPTS, main_py
from addin.lite.workbook import build_lite_workbook
from addin.report.labels import LANGUAGES, Labels
from addin.report.template import DATA_HANDLE_ROW, LITE_START_TEXTS, START_TEXTS, build_template, sample_tables
from addin.ribbon.registry import BUTTONS
from addin.workbook import refresh_file, share_file

WINDOWS_ONLY = ("start.refresh", "start.share", "start.help")  # the ribbon's "Cycle ROI > Refresh reports" etc.


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    root = tmp_path_factory.mktemp("lite_start")
    return {lang: build_lite_workbook(root / f"lite_{lang}.xlsx", language=lang) for lang in LANGUAGES}


@pytest.fixture(scope="module")
def libreoffice(books, tmp_path_factory):
    """LibreOffice's PDF text of the en and zh Start sheets, and its re-saved xlsx of both."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is required: apt-get install -y libreoffice-calc-nogui poppler-utils"
    root = tmp_path_factory.mktemp("lite_lo")
    files = [str(books["en"]), str(books["zh"])]
    for kind in ("pdf", "xlsx"):
        subprocess.run([exe, f"-env:UserInstallation=file://{root / 'profile'}", "--headless", "--convert-to", kind,
                        "--outdir", str(root / kind), *files], check=True, capture_output=True, timeout=300)
    text = {}
    for lang in ("en", "zh"):
        pdf = root / "pdf" / f"lite_{lang}.pdf"
        # page 1 is the Start sheet (the first sheet, fitted to one page wide)
        out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True, capture_output=True,
                             timeout=60).stdout.decode("utf-8")
        text[lang] = re.sub(r"\s+", "", out)  # lines wrap anywhere in the PDF: compare without white space
    return {"text": text, "xlsx": {lang: root / "xlsx" / f"lite_{lang}.xlsx" for lang in ("en", "zh")}}


def start_cells(path: Path, language: str) -> list:
    sheet = openpyxl.load_workbook(path)[Labels(language)("sheet.start")]
    return [sheet.cell(row=r, column=1).value for r in range(1, DATA_HANDLE_ROW + 2)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_start_sheet_has_the_lite_instructions_in_the_workbooks_language(books, language):
    L = Labels(language)
    cells = start_cells(books[language], language)
    assert cells[2: 2 + len(LITE_START_TEXTS)] == [L(key) for key in LITE_START_TEXTS]
    assert cells[DATA_HANDLE_ROW - 1] == L("start.data")  # the data handle's rows are where the formulas expect them
    for key in WINDOWS_ONLY:  # no ribbon to click in Lite
        assert L(key) not in cells
    opened = L("start.lite.open")
    assert "xlwings Lite" in opened and "#NAME?" in opened and "Cycle ROI" in opened
    assert "=CONSULT_COST(Spend[#All],Leads[#All])" in L("start.lite.tables")  # the explicit table arguments
    assert "refresh_reports" in L("start.lite.scripts") and "validate_data" in L("start.lite.scripts")


def test_the_windows_template_keeps_the_ribbon_instructions(tmp_path):
    path = build_template(tmp_path / "t.xlsx", language="ko")
    L = Labels("ko")
    assert start_cells(path, "ko")[2: 2 + len(START_TEXTS)] == [L(key) for key in START_TEXTS]
    assert buttons.shape_names(path).get(L("sheet.start"), []) == []  # no Lite buttons without the Lite code


@pytest.mark.parametrize("language", ["en", "zh"])
def test_libreoffice_renders_the_lite_start_sheet_with_its_buttons(libreoffice, language):
    L = Labels(language)
    text = libreoffice["text"][language]
    for key in ("start.lite.open", "start.lite.scripts", "start.lite.tables", "start.lite.share"):
        assert re.sub(r"\s+", "", L(key)) in text, key
    for button_id, *_ in buttons.start_buttons():
        assert re.sub(r"\s+", "", L(f"lite.button.{button_id}")) in text
    assert re.sub(r"\s+", "", L("start.refresh")) not in text


@pytest.mark.parametrize("language", ["en", "zh"])
def test_libreoffice_reads_the_buttons_as_named_shapes_linked_to_their_cells(libreoffice, language):
    """A second client parsed our drawing: its own re-save names the same shapes, linked to the same cells."""
    sheet = Labels(language)("sheet.start")
    resaved = libreoffice["xlsx"][language]
    expected = {shape: cell for _, shape, cell in links(buttons.start_buttons())}
    assert hyperlinks(resaved, sheet) == expected


def links(start):
    return [(bid, shape, buttons.cell_name(row, col)) for bid, shape, row, col in start]


def hyperlinks(path: Path, sheet: str) -> dict[str, str]:
    """{shape name: cell its hyperlink selects} of the Start sheet's shapes, read from the file's parts."""
    with zipfile.ZipFile(path) as book:
        part = buttons._sheet_parts(book)[sheet]
        drawing = buttons._drawing_of(book, part)
        xml = book.read(drawing).decode("utf-8")
        rels = book.read(buttons._rels_name(drawing)).decode("utf-8")
    targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    targets.update({i: t for t, i in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<xdr:cNvPr [^>]*name="([^"]+)"[^>]*>\s*<a:hlinkClick [^>]*r:id="(rId\d+)"', xml):
        target = targets[rid]
        assert target.startswith("#"), target  # a place in this workbook, not a web address
        where, cell = target[1:].rsplit("!", 1)
        assert where.strip("'") == sheet, target  # on the Start sheet itself
        out[name] = cell
    return out


def test_every_lite_script_of_the_ribbon_registry_has_a_start_button(books):
    start = buttons.start_buttons()
    assert [bid for bid, *_ in start] == [b.id for b in BUTTONS if b.id in LITE_SCRIPTS]
    assert [bid for bid, *_ in start] == ["refresh_reports", "validate_data"]
    for language, path in books.items():
        sheet = Labels(language)("sheet.start")
        assert hyperlinks(path, sheet) == {shape: cell for _, shape, cell in links(start)}
        # the hidden cell is the one the shape covers: its top-left anchor cell, and the cell is empty
        with zipfile.ZipFile(path) as book:
            xml = book.read(buttons._drawing_of(book, buttons._sheet_parts(book)[sheet])).decode()
        anchors = re.findall(r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>.*?name=\"([^\"]+)\"",
                             xml, re.S)
        assert {name: (int(r), int(c)) for c, r, name in anchors} == {shape: (row, col)
                                                                     for _, shape, row, col in start}
        cells = openpyxl.load_workbook(path)[sheet]
        assert all(cells.cell(row=row + 1, column=col + 1).value is None for _, _, row, col in start)


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_py_binds_each_script_to_its_button_on_this_workbooks_start_sheet(books, language):
    sheet = Labels(language)("sheet.start")
    main = parts.read_files(books[language])["main.py"]
    assert main == main_py(language)
    bound = {}
    for node in ast.parse(main).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "script":
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                    bound[node.name] = kwargs
    start = {bid: (shape, cell) for bid, shape, cell in links(buttons.start_buttons())}
    assert set(bound) == {LITE_SCRIPTS[bid][0] for bid in start}
    for bid, (shape, cell) in start.items():
        options = bound[LITE_SCRIPTS[bid][0]]
        assert options == {"button": f"[{shape}]{sheet}!{cell}", "show_taskpane": True}
        # the reference parses as Lite's registerSheetButtons parses it: [shape]sheet!cell
        m = re.fullmatch(r"\[(.*?)\](.*)", options["button"])
        assert m.group(1) == shape and m.group(2).split("!") == [sheet, cell]


def test_refresh_reports_fetches_formulas_as_xlwings_lite_requires():
    """xlwings Lite sends no formulas with the workbook: reading ``Range.formula`` raises there, and
    ``await Range.get_formula()`` (xlwings 0.37.0) fetches them. The script awaits it, and requirements.txt
    asks Lite for an xlwings that has it."""
    import xlwings
    from packaging.requirements import Requirement
    from packaging.version import Version

    tree = ast.parse(main_py())
    script = next(n for n in tree.body if getattr(n, "name", "") == "refresh_reports")
    assert isinstance(script, ast.AsyncFunctionDef)
    helper = next(n for n in tree.body if getattr(n, "name", "") == "_formulas")
    source = ast.unparse(helper) + ast.unparse(script)
    assert "await rng.options(ndim=2).get_formula()" in source
    assert not [n for n in ast.walk(script) if isinstance(n, ast.Attribute) and n.attr == "formula"
                and isinstance(n.ctx, ast.Load)]  # formulas are only written there, never read synchronously
    assert hasattr(xlwings.Range, "get_formula")  # the API exists in the xlwings these tests run with
    xlwings_line = next(line for line in LITE_REQUIRED if line.startswith("xlwings"))
    specifier = Requirement(xlwings_line.split("#")[0].strip()).specifier
    assert not specifier.contains(Version("0.36.17")) and specifier.contains(Version("0.37.0"))


# --- through refresh and share ---------------------------------------------------------------------

@pytest.fixture()
def lite_demo(tmp_path):
    return build_lite_workbook(tmp_path / "demo.xlsx", tables=sample_tables(until="2025-02-28"), language="zh")


def test_refresh_keeps_the_sheet_buttons(lite_demo, tmp_path):
    before = buttons.sheet_buttons(lite_demo)
    sheet = Labels("zh")("sheet.start")
    assert set(before) == {sheet}
    path, lost = refresh_file(lite_demo)  # in place
    assert lost == [] and buttons.sheet_buttons(path) == before  # byte for byte
    assert hyperlinks(path, sheet) == {shape: cell for _, shape, cell in links(buttons.start_buttons())}
    copy, _ = refresh_file(path, tmp_path / "copy.xlsx")  # and again, to a copy
    assert buttons.sheet_buttons(copy) == before
    with zipfile.ZipFile(copy) as book:
        types = book.read("[Content_Types].xml").decode()
        drawing = buttons._drawing_of(book, buttons._sheet_parts(book)[sheet])
        assert f'PartName="/{drawing}" ContentType="{buttons.DRAWING_CONTENT_TYPE}"' in types
        for name in book.namelist():
            if name.endswith((".xml", ".rels")):
                from xml.etree import ElementTree

                ElementTree.fromstring(book.read(name))  # every part still parses


def test_openpyxl_alone_would_drop_the_buttons(lite_demo, tmp_path):
    """Why refresh carries them: a plain openpyxl load and save loses the shapes (and the test above would fail)."""
    book = openpyxl.load_workbook(lite_demo)
    book.save(tmp_path / "plain.xlsx")
    assert buttons.sheet_buttons(tmp_path / "plain.xlsx") == {}


def test_finance_copies_drop_the_buttons_with_the_code_and_keep_them_with_it(lite_demo, tmp_path):
    refresh_file(lite_demo)  # a refreshed Lite workbook: its data handle cell has no stored result
    values, _ = share_file(lite_demo, tmp_path / "finance.xlsx")
    assert buttons.sheet_buttons(values) == {} and parts.web_parts(values) == {}
    live, _ = share_file(lite_demo, tmp_path / "finance_lite.xlsx", lite=True)
    assert buttons.sheet_buttons(live) == buttons.sheet_buttons(lite_demo) != {}
    assert parts.read_files(live)["main.py"] == main_py("zh")


def test_a_windows_workbook_shared_with_lite_gets_code_naming_its_own_start_sheet(tmp_path):
    path = build_template(tmp_path / "ko.xlsx", language="ko", tables=sample_tables(until="2025-01-31"))
    refresh_file(path)
    copy, _ = share_file(path, tmp_path / "finance.xlsx", lite=True)
    main = parts.read_files(copy)["main.py"]
    assert f"]{Labels('ko')('sheet.start')}!" in main and main == main_py("ko")


# --- what the scripts say, in the workbook's language -----------------------------------------------

VALIDATION_RUNNER = r'''
import json, sys, tempfile
sys.path.insert(0, sys.argv[1])
import main
import calc
assert calc.__file__.startswith(tempfile.gettempdir()), calc.__file__  # calc came out of main.py's bundle
cases = json.load(open(sys.argv[2], encoding="utf-8"))
json.dump([main._validation(tables, settings) for tables, settings in cases], open(sys.argv[3], "w", encoding="utf-8"))
'''


def test_validate_data_speaks_the_workbooks_language(books, tmp_path):
    """main.py's own validation (what the button writes into B1), run by a separate CPython on tables as
    Office.js hands them over (dates as serial numbers), in the language of the Settings table or, without
    one, of the workbook the code was made for; compared with calc and the catalogue."""
    import json
    import sys

    import calc
    from calc.messages import Message, render, text

    from tests.addin.test_lite import excel_rows

    tables = sample_tables(until="2025-01-31")
    rows = {name: excel_rows(frame, serial_dates=True) for name, frame in tables.items()}
    bad = {**rows, "Leads": [["lead_id", "date"], ["L1", "not a date"], ["L2", "not a date"]]}
    cases = [(rows, [["setting", "value"], ["language", "ko"]]),   # the Settings table's language wins
             (rows, None),                                          # no Settings table: the workbook's (zh)
             ({"Spend": None, "Leads": [["lead_id", "date"]], "Deals": None}, None),
             (bad, [["setting", "value"], ["language", "id"]])]
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "main.py").write_text(parts.read_files(books["zh"])["main.py"], encoding="utf-8")
    (folder / "cases.json").write_text(json.dumps(cases, default=float), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(folder), "HOME": str(folder)}
    done = subprocess.run([sys.executable, "-c", VALIDATION_RUNNER, str(folder), str(folder / "cases.json"),
                           str(folder / "out.json")], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads((folder / "out.json").read_text(encoding="utf-8"))

    data = calc.prepare(spend=tables["Spend"], leads=tables["Leads"], deals=tables["Deals"])
    for out, language in ((got[0], "ko"), (got[1], "zh")):
        counts = [Message("lite.script.rows", table=n, count=len(f)) for n, f in
                  (("Spend", data.spend), ("Leads", data.leads), ("Deals", data.deals))]
        assert out.split("\n")[0] == text("lite.script.usable", language, counts=counts)
        assert out.split("\n")[1:] == data.messages(language)
    no_data = calc.InputError(None, None, Message("lite.script.no_data"), fix=Message("lite.script.no_data.fix"))
    assert got[2] == text("lite.script.problem", "zh", problem=render(no_data, "zh"))
    assert got[3].startswith(text("lite.script.problem", "id", problem="")) and "Leads" in got[3]
    assert "Problem" not in got[0] + got[1] + got[2] + got[3]  # no English frame left in ko, zh or id


def test_the_selftest_workbook_binds_no_button_it_does_not_have(tmp_path):
    """The self-test workbook has no Start sheet: its scripts run from the task pane and name no sheet button
    (a button reference to a sheet that does not exist is left for Lite to stumble on nowhere)."""
    from addin.lite.workbook import build_lite_selftest

    path = build_lite_selftest(tmp_path / "selftest.xlsx")
    main = parts.read_files(path)["main.py"]
    assert main == main_py(buttons=False) and "button=" not in main
    tree = ast.parse(main)
    scripts = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
               and any(getattr(d, "id", "") == "script" for d in n.decorator_list)]
    assert sorted(n.name for n in scripts) == ["refresh_reports", "validate_data"]
    assert buttons.sheet_buttons(path) == {}
