"""The Lite workbook through the workbook commands: refresh keeps the Lite code, share drops it unless
--lite, and a --lite copy is enough for xlwings Lite to recompute with a new filter. Headless LibreOffice
opens the Lite workbook and shows no error other than #NAME? (the Lite functions, which no add-in provides there)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

import calc
from addin.cli import app
from addin.lite import parts
from addin.lite.workbook import PREFIX, build_lite_workbook
from addin.report.template import sample_tables
from addin.workbook import WorkbookError, refresh_file, share_file

runner = CliRunner()


@pytest.fixture(scope="module")
def small_tables():
    return sample_tables(until="2025-02-28")


@pytest.fixture()
def lite_demo(tmp_path, small_tables):
    return build_lite_workbook(tmp_path / "lite_demo.xlsx", tables=small_tables)


def test_refresh_keeps_the_lite_code(lite_demo, tmp_path):
    before = parts.web_parts(lite_demo)
    assert before and parts.read_files(lite_demo)["main.py"]
    path, lost = refresh_file(lite_demo)  # in place
    assert path == lite_demo.resolve() and lost == []
    assert parts.web_parts(path) == before  # byte for byte: Lite finds its code again
    with zipfile.ZipFile(path) as book:
        assert f'Target="{parts.TASKPANES}"' in book.read("_rels/.rels").decode()
        assert parts.WEBEXTENSION_CONTENT_TYPE in book.read("[Content_Types].xml").decode()
    copy, _ = refresh_file(path, tmp_path / "copy.xlsx")
    assert parts.web_parts(copy) == before


def test_values_only_finance_copy_carries_no_code(lite_demo, tmp_path):
    copy, _ = share_file(lite_demo, tmp_path / "finance.xlsx")
    assert parts.web_parts(copy) == {} and parts.read_files(copy) == {}
    with zipfile.ZipFile(copy) as book:
        xml = "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/"))
    assert PREFIX not in xml and "<f>" not in xml


def add_own_sheet(path: Path, formula: str) -> None:
    book = openpyxl.load_workbook(path)
    book.create_sheet("Mine")["A1"] = formula
    lite_parts = parts.web_parts(path)
    book.save(path)
    parts.inject(path, parts=lite_parts)


def import_main(text: str, folder: Path, monkeypatch):
    """Import a main.py as Lite would (its bundle unpacked into the temp folder), then restore sys.path."""
    (folder / "main.py").write_text(text, encoding="utf-8")
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    saved = list(sys.path)
    sys.path.insert(0, str(folder))
    try:
        sys.modules.pop("main", None)
        import main  # noqa: PLC0415
    finally:
        sys.path[:] = saved
        sys.modules.pop("main", None)
    return main


def test_lite_finance_copy_recalculates_with_a_new_filter(lite_demo, tmp_path, small_tables, monkeypatch):
    add_own_sheet(lite_demo, '=CONSULT_COST(Spend[#All],Leads[#All],,,,"channel=Search")')
    copy, notes = share_file(lite_demo, tmp_path / "finance.xlsx", lite=True)
    assert parts.read_files(copy) == parts.read_files(lite_demo)
    book = openpyxl.load_workbook(copy)
    assert {"Spend", "Leads", "Deals"} <= set(book.sheetnames)
    assert book["Mine"]["A1"].value == f'={PREFIX}CONSULT_COST(Spend[#All],Leads[#All],,,,"channel=Search")'
    assert book["Dashboard"]["A6"].data_type != "f"  # the report sheets are values, as in any finance copy
    assert any("xlwings Lite" in n for n in notes)
    # what Lite does when the colleague changes the filter: the copy's code over the copy's tables
    main = import_main(parts.read_files(copy)["main.py"], tmp_path, monkeypatch)
    rows = {name: [list(r) for r in CalamineWorkbook.from_path(str(copy)).get_sheet_by_name(name).to_python()]
            for name in ("Spend", "Leads")}
    got = main.CONSULT_COST(rows["Spend"], rows["Leads"], segment_filter="channel=Feed")
    data = calc.prepare(spend=small_tables["Spend"], leads=small_tables["Leads"])
    assert got == pytest.approx(calc.consult_cost(data, filter="channel=Feed"), rel=1e-12)


def test_lite_finance_copy_needs_the_input_tables(lite_demo, tmp_path):
    with pytest.raises(WorkbookError, match="--lite keeps the Spend"):
        share_file(lite_demo, tmp_path / "finance.xlsx", lite=True, include_inputs=False)
    assert not (tmp_path / "finance.xlsx").exists()


def test_a_finance_copy_of_a_plain_workbook_gets_fresh_lite_code(tmp_path, small_tables):
    from addin.lite.code import lite_files
    from addin.report.template import build_template

    plain = build_template(tmp_path / "plain.xlsx", tables=small_tables)
    copy, _ = share_file(plain, tmp_path / "finance.xlsx", lite=True)
    files = parts.read_files(copy)
    assert {k: files[k] for k in ("main.py", "requirements.txt")} == lite_files()


def test_cli_lite_workbook_code_folder_and_share(tmp_path, small_tables):
    result = runner.invoke(app, ["lite", "-o", str(tmp_path / "L.xlsx")])
    assert result.exit_code == 0, result.output
    assert parts.read_files(tmp_path / "L.xlsx")["main.py"].startswith('"""Cycle ROI for xlwings Lite')
    result = runner.invoke(app, ["lite", "--code", str(tmp_path / "code")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "code" / "main.py").read_text(encoding="utf-8") == parts.read_files(tmp_path / "L.xlsx")["main.py"]
    # someone else's main.py is never overwritten
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "main.py").write_text("print('mine')\n", encoding="utf-8")
    result = runner.invoke(app, ["lite", "--code", str(tmp_path / "mine")])
    assert result.exit_code == 2 and "was not written by cycle-roi lite" in result.output
    assert (tmp_path / "mine" / "main.py").read_text(encoding="utf-8") == "print('mine')\n"
    for wrong in ([], ["-o", str(tmp_path / "x.xlsx"), "--code", str(tmp_path / "c")], ["-o", str(tmp_path / "x.xlsm")]):
        result = runner.invoke(app, ["lite", *wrong])
        assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    demo = build_lite_workbook(tmp_path / "demo.xlsx", tables=small_tables)
    result = runner.invoke(app, ["share", str(demo), "-o", str(tmp_path / "f.xlsx"), "--lite"])
    assert result.exit_code == 0, result.output
    assert parts.read_files(tmp_path / "f.xlsx")["requirements.txt"]


def test_libreoffice_opens_the_lite_workbook_with_only_name_errors(tmp_path):
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is required: apt-get install -y libreoffice-calc-nogui poppler-utils"
    book = build_lite_workbook(tmp_path / "lite.xlsx")
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path / "out"), str(book)], check=True, capture_output=True, timeout=180)
    # error results as LibreOffice stores them after recalculating: <c t="e"><f>…</f><v>#NAME?</v></c>
    import re

    errors = []
    with zipfile.ZipFile(tmp_path / "out" / "lite.xlsx") as converted:
        for name in converted.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = converted.read(name).decode("utf-8")
                errors += re.findall(r'<c [^>]*t="e"[^>]*>(?:<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>', xml)
    assert errors and set(errors) == {"#NAME?"}  # only the Lite functions, which no add-in provides here

