"""The workbook port and the headless refresh: report sheets replaced, nothing else touched,
refusal when the file holds what openpyxl cannot keep, atomic saves, clear lock messages."""
from __future__ import annotations

import shutil
import zipfile

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

import calc
from addin.cli import app
from addin.report.template import build_template, sample_tables
from addin.report.xlsx import TargetLockedError
from addin.workbook import FilePort, WorkbookError, cell_fingerprint, refresh_file, unkeepable
from addin.workbook.live import XlwingsPort

runner = CliRunner()
INPUT_SHEETS = ["Start", "Settings", "Spend", "Leads", "Deals"]


@pytest.fixture(scope="module")
def small_tables():
    return sample_tables(until="2025-02-28")


@pytest.fixture()
def demo(tmp_path, small_tables):
    """The template filled with two months of the sample, plus a sheet the user added."""
    path = build_template(tmp_path / "demo.xlsx", tables=small_tables)
    book = openpyxl.load_workbook(path)
    mine = book.create_sheet("My notes")
    mine["A1"], mine["B2"], mine["C3"] = "budget memo", 1234.5, "=B2*2"
    book.save(path)
    return path


def card_values(path, sheet="Dashboard") -> dict[str, object]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    found = {}
    for r in range(len(rows) - 1):
        for c, label in enumerate(rows[r]):
            if label in ("Consultations", "Consultation cost", "Deals") and r + 1 < len(rows) and rows[r + 1][c] != "":
                found.setdefault(label, rows[r + 1][c])
    return found


def test_refresh_in_place_rewrites_reports_and_leaves_every_other_cell_as_it_was(demo, small_tables):
    before = cell_fingerprint(demo)
    order = openpyxl.load_workbook(demo).sheetnames
    path, lost = refresh_file(demo)
    assert path == demo.resolve() and lost == []
    after = cell_fingerprint(demo)
    for sheet in INPUT_SHEETS + ["My notes"]:
        assert after[sheet] == before[sheet], sheet
    assert after["Dashboard"] != before["Dashboard"]
    assert openpyxl.load_workbook(demo).sheetnames == order  # report sheets replaced where they were
    # values written are calc's (openpyxl stores no cached results for formulas, so read values only)
    total = calc.kpi_table(calc.prepare(small_tables["Spend"], small_tables["Leads"], small_tables["Deals"])).iloc[0]
    ws = openpyxl.load_workbook(demo)["Dashboard"]
    values = {}
    for r in range(1, 12):  # cards come first: keep a label's first occurrence (tables repeat the labels)
        for c in range(1, 6):
            values.setdefault(ws.cell(r, c).value, ws.cell(r + 1, c).value)
    assert values["Consultations"] == total["consultations"]
    assert values["Consultation cost"] == pytest.approx(total["consult_cost"], rel=1e-12)
    assert len(ws._charts) == 3


def test_refresh_uses_the_settings_sheet(demo):
    book = openpyxl.load_workbook(demo)
    ws = book["Settings"]
    row = next(r for r in range(2, 30) if ws.cell(r, 1).value == "language")
    ws.cell(row, 2).value = "zh"
    book.save(demo)
    refresh_file(demo)
    names = openpyxl.load_workbook(demo).sheetnames
    assert "仪表盘" in names and "Dashboard" not in names  # replaced, not duplicated


def test_refresh_refuses_in_place_when_a_user_sheet_spills_and_writes_a_copy_with_o(tmp_path, demo):
    # a dynamic-array formula on the user's own sheet: openpyxl would turn it into a legacy array
    src = tmp_path / "spill.xlsx"
    wb = xlsxwriter.Workbook(src)
    ws = wb.add_worksheet("Mine")
    ws.write_dynamic_array_formula("A1:A1", "=_xlfn.SEQUENCE(3)")
    data = wb.add_worksheet("Leads")
    data.add_table(0, 0, 2, 1, {"name": "Leads", "columns": [{"header": "lead_id"}, {"header": "date"}],
                                "data": [["a", "2024-03-01"], ["b", "2024-03-02"]]})
    wb.close()
    original = src.read_bytes()
    with pytest.raises(WorkbookError, match="dynamic-array .* on sheet 'Mine'.*-o NEW.xlsx"):
        refresh_file(src)
    assert src.read_bytes() == original
    copy, lost = refresh_file(src, tmp_path / "copy.xlsx")
    assert lost and "dynamic-array" in lost[0]
    assert src.read_bytes() == original and "Dashboard" in openpyxl.load_workbook(copy).sheetnames


def test_unkeepable_names_vba_ribbon_and_pictures(tmp_path, demo):
    assert unkeepable(demo) == []
    extra = tmp_path / "extra.xlsx"
    with zipfile.ZipFile(demo) as src, zipfile.ZipFile(extra, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rCUI" Type="http://schemas.microsoft.com/'
                                    b'office/2007/relationships/ui/extensibility" Target="customUI/customUI.xml"/>'
                                    b"</Relationships>")
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", b"\0")
        dst.writestr("xl/media/image1.png", b"\0")
    found = " | ".join(unkeepable(extra))
    assert "VBA macros" in found and "pictures" in found and "ribbon" in found


def test_a_failed_save_leaves_the_original_and_no_temp_file(demo, monkeypatch):
    original = demo.read_bytes()

    def broken(self, filename):
        with open(filename, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        refresh_file(demo)
    assert demo.read_bytes() == original
    assert sorted(p.name for p in demo.parent.iterdir()) == ["demo.xlsx"]


def test_locked_and_read_only_targets_get_a_clear_message(demo, tmp_path):
    lock = demo.with_name("~$demo.xlsx")
    lock.write_bytes(b"")
    with pytest.raises(TargetLockedError, match="open in another program"):
        refresh_file(demo)
    lock.unlink()
    readonly = tmp_path / "ro.xlsx"
    shutil.copy(demo, readonly)
    readonly.chmod(0o444)
    try:
        with pytest.raises(TargetLockedError, match="read-only"):
            refresh_file(demo, readonly)
    finally:
        readonly.chmod(0o644)


def test_cli_refresh_reports_progress_and_refuses_an_empty_template(demo, tmp_path):
    result = runner.invoke(app, ["refresh", str(demo)])
    assert result.exit_code == 0, result.output
    assert "Refreshing" in result.output and "Reports refreshed" in result.output
    empty = build_template(tmp_path / "empty.xlsx")
    result = runner.invoke(app, ["refresh", str(empty)])
    assert result.exit_code == 2 and "Spend, Leads and Deals tables are empty" in result.output


def test_file_port_reads_tables_by_name(demo, small_tables):
    rows = FilePort(demo).read_table("leads")
    assert rows[0] == list(small_tables["Leads"].columns) and len(rows) == len(small_tables["Leads"]) + 1
    assert FilePort(demo).read_table("Nope") is None


class FakeRange:
    left = top = 0.0

    def __init__(self, sheet, key):
        self.sheet, self.key = sheet, key
        self.font = type("Font", (), {})()

    def __setattr__(self, name, value):
        if name == "value":
            self.sheet.written[self.key] = value
        elif name == "formula2":
            self.sheet.spills[self.key] = value
        object.__setattr__(self, name, value)

    def merge(self):
        self.sheet.merged.append(self.key)


class FakeNames(list):
    """Sheet-scoped names as xlwings lists them: "Sheet!name" with refers_to."""

    def __init__(self, sheet):
        super().__init__()
        self.sheet = sheet

    def add(self, name, refers_to):
        self.append(type("Name", (), {"name": f"{self.sheet.name}!{name}", "refers_to": refers_to})())


class FakeCOM:
    """The last boundary, Excel's COM objects: records what is set and called, by Excel's own names."""

    def __init__(self, log, path):
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name):
        return FakeCOM(self._log, f"{self._path}.{name}")

    def __setattr__(self, name, value):
        self._log.append((f"{self._path}.{name}", value))

    def __call__(self, *args, **kwargs):
        self._log.append((f"{self._path}()", args, kwargs))
        return FakeCOM(self._log, f"{self._path}({', '.join(map(str, args))})")


class FakeSheet:
    def __init__(self, name):
        self.name, self.written, self.spills, self.tables, self.merged = name, {}, {}, [], []
        self.names = FakeNames(self)
        self.com = []
        self.api = FakeCOM(self.com, "Sheet")
        self.charts = type("Charts", (), {"add": lambda *a, **k: type("Chart", (), {"set_source_data": lambda *a: None})()})()

    def range(self, *key):
        return FakeRange(self, key[0] if len(key) == 1 else key)

    def delete(self):
        self.book_sheets.remove(self)


class FakeSheets(list):
    def add(self, before=None, after=None):
        sheet = FakeSheet("new")
        sheet.book_sheets = self
        self.insert(self.index(before) if before is not None else self.index(after) + 1, sheet)
        return sheet


def test_xlwings_port_writes_a_plan_in_one_block_and_sets_the_status_bar():
    from addin.report import build_plans

    data = calc.prepare(leads=__import__("pandas").DataFrame({"lead_id": [1, 2], "date": ["2024-03-01"] * 2}))
    plan = build_plans(data)[0]
    sheets = FakeSheets([FakeSheet("Start"), FakeSheet("Dashboard")])
    for s in sheets:
        s.book_sheets = sheets
    sheets[1].names.add("CycleROI_report", '="dashboard"')  # the report sheet a refresh wrote before
    app_log = []
    book = type("Book", (), {"sheets": sheets, "app": type("App", (), {"api": FakeCOM(app_log, "Application")})()})()
    port = XlwingsPort(book)
    port.write_sheet(plan)
    port.set_status("Cycle ROI: done")
    assert [s.name for s in sheets] == ["Start", "Dashboard"]  # replaced in place, not added twice
    assert port.owned_sheets() == {"Dashboard": "dashboard"}  # the new sheet carries the report mark
    grid = sheets[1].written[(1, 1)]
    for cell in plan.cells:
        assert grid[cell.row][cell.col] == (cell.formula or cell.value)
    assert book.app.status_bar == "Cycle ROI: done"
    # the notes (calc's "No Spend table ..." sentences) are wrapped in merged cells, one per note row
    assert len(sheets[1].merged) == sum(1 for c in plan.cells if c.merge_to is not None) > 0


def test_excel_chart_styles_only_matter_on_sheets_that_are_kept(tmp_path, demo):
    from addin.workbook.refresh import report_sheet_names

    styled = tmp_path / "styled.xlsx"
    rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.microsoft'
            b'.com/office/2011/relationships/chartStyle" Target="style1.xml"/></Relationships>')
    with zipfile.ZipFile(demo) as src, zipfile.ZipFile(styled, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/charts/_rels/chart1.xml.rels", rels)  # as Excel 2013+ saves every chart
        dst.writestr("xl/charts/style1.xml", b"<cs:chartStyle/>")
    # chart1 is on the Dashboard, which a refresh redraws: nothing is lost
    assert unkeepable(styled, replaced_sheets=report_sheet_names()) == []
    assert unkeepable(styled) == ["chart styles and colours on sheet 'Dashboard'"]


def test_shapes_a_user_drew_are_named_before_a_save_would_drop_them(tmp_path):
    # the premise, from openpyxl itself: a load/save keeps no shape or text box
    drawn = tmp_path / "drawn.xlsx"
    book = xlsxwriter.Workbook(drawn)
    book.add_worksheet("Notes").insert_textbox("B2", "ask finance about March")
    book.close()
    resaved = tmp_path / "resaved.xlsx"
    openpyxl.load_workbook(drawn).save(resaved)
    with zipfile.ZipFile(resaved) as zf:
        assert not any(b"<xdr:sp" in zf.read(n) for n in zf.namelist() if n.startswith("xl/drawings/"))
    assert unkeepable(drawn) == ["shapes or text boxes (TextBox 1) on sheet 'Notes'"]
    assert unkeepable(drawn, replaced_sheets={"Notes"}) == []


def test_refresh_keeps_the_lite_buttons_but_refuses_over_a_users_shapes(tmp_path, small_tables):
    from addin.lite.workbook import build_lite_workbook
    from addin.workbook.refresh import report_sheet_names

    lite = build_lite_workbook(tmp_path / "lite.xlsx", tables=small_tables)
    # the Start sheet's buttons are ours: the refresh puts them back (report sheets are redrawn anyway)
    assert unkeepable(lite, replaced_sheets=report_sheet_names()) == []
    # the same drawing with shapes of the user's (renamed, so not ours): an in-place refresh would drop them
    mine = tmp_path / "mine.xlsx"
    with zipfile.ZipFile(lite) as src, zipfile.ZipFile(mine, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/drawings/drawing"):
                data = data.replace(b'name="cycle_roi_', b'name="My arrow ')
            dst.writestr(item, data)
    before = mine.read_bytes()
    with pytest.raises(WorkbookError, match="shapes or text boxes .*My arrow"):
        refresh_file(mine)
    assert mine.read_bytes() == before


def test_xlwings_port_prints_like_the_file_writers_a4_landscape_at_the_plans_scale_and_breaks():
    # the refresh inside Excel sets the same page as the file writers: Excel's PageSetup and HPageBreaks
    # (only COM itself is faked), with the printer talk switched off around it and back on after
    from addin.report import build_plans

    data = calc.prepare(*(sample_tables(until="2025-06-30")[t] for t in ("Spend", "Leads", "Deals")))
    plan = next(p for p in build_plans(data) if p.row_breaks)  # a sheet long enough to need breaks
    sheets = FakeSheets([FakeSheet("Start")])
    for s in sheets:
        s.book_sheets = sheets
    app_log = []
    book = type("Book", (), {"sheets": sheets, "app": type("App", (), {"api": FakeCOM(app_log, "Application")})()})()
    XlwingsPort(book).write_sheet(plan)
    log = dict((entry[0], entry[1]) for entry in sheets[1].com if len(entry) == 2)
    assert log["Sheet.PageSetup.Orientation"] == 2 and log["Sheet.PageSetup.PaperSize"] == 9
    assert log["Sheet.PageSetup.Zoom"] == plan.print_scale
    from addin.report.layout import xl_cell
    assert log["Sheet.PageSetup.PrintArea"] == f"A1:{xl_cell(*plan.print_area)}"
    breaks = [entry[2]["Before"] for entry in sheets[1].com if entry[0] == "Sheet.HPageBreaks.Add()"]
    assert [b._path for b in breaks] == [f"Sheet.Range(A{row + 1})" for row in plan.row_breaks]
    calls = [entry[0] for entry in sheets[1].com]
    assert calls.index("Sheet.ResetAllPageBreaks()") < calls.index("Sheet.HPageBreaks.Add()")
    assert app_log == [("Application.PrintCommunication", False), ("Application.PrintCommunication", True)]
