"""Ribbon: registry -> customUI XML and VBA callbacks -> .xlam; every button reaches a real action."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest
from typer.testing import CliRunner

from addin import install
from addin.cli import app
from addin.report.template import build_template, sample_tables
from addin.ribbon import ACTIONS, dispatch
from addin.ribbon.customui import CUSTOMUI_FILE, VBA_FILE, customui_xml, vba_module
from addin.ribbon.registry import BUTTONS, BY_ID, VBA_MODULE
from addin.ribbon.xlam import CUSTOMUI_PART, RIBBON_REL_TYPE, build_xlam
from addin.outputs import OutputError, product_kind
from addin.workbook import FilePort, cell_fingerprint
from calc.messages import Message

NS = {"ui": "http://schemas.microsoft.com/office/2009/07/customui"}
runner = CliRunner()


def on_actions(xml: str) -> list[str]:
    root = ET.fromstring(xml)
    return [b.get("onAction") for b in root.iterfind(".//ui:button", NS)]


def vba_subs(text: str) -> dict[str, str]:
    """{Sub name: action id it passes to addin.ribbon.main}."""
    return dict(re.findall(r"Sub (\w+)\(control As IRibbonControl\)\r?\n\s+RunPython \"import addin\.ribbon; "
                           r"addin\.ribbon\.main\('(\w+)'\)\"", text))


def test_committed_customui_and_vba_are_generated_from_the_registry():
    assert CUSTOMUI_FILE.read_text(encoding="utf-8") == customui_xml(), "run python -m addin.ribbon.customui"
    assert VBA_FILE.read_bytes() == vba_module().encode("ascii"), "run python -m addin.ribbon.customui"


def test_every_onaction_has_a_callback_and_every_callback_a_registered_action():
    actions = on_actions(CUSTOMUI_FILE.read_text(encoding="utf-8"))
    subs = vba_subs(VBA_FILE.read_text(encoding="ascii"))
    assert len(actions) == len(BUTTONS) == len(subs)
    for action in actions:
        module, sub = action.split(".")
        assert module == VBA_MODULE and sub in subs
    for sub, action_id in subs.items():
        assert action_id in BY_ID and BY_ID[action_id].callback == sub
    # the buttons: refresh, validate, import into each table, share, settings/help
    assert set(ACTIONS) == {"refresh_reports", "validate_data", "import_spend", "import_leads", "import_deals",
                            "share_with_finance", "settings_help"}


def test_xlam_zip_carries_our_ribbon_part_and_its_relationship(tmp_path):
    xlam = build_xlam(tmp_path / "cycle_roi.xlam")
    with zipfile.ZipFile(xlam) as book:
        assert book.read(CUSTOMUI_PART).decode("utf-8") == customui_xml()
        ET.fromstring(book.read(CUSTOMUI_PART))  # valid XML
        rels = ET.fromstring(book.read("_rels/.rels"))
        targets = {r.get("Target") for r in rels if r.get("Type") == RIBBON_REL_TYPE}
        assert targets == {CUSTOMUI_PART}
        assert "xl/vbaProject.bin" in book.namelist()  # xlwings' RunPython lives there
        assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in book.read("[Content_Types].xml").decode()


@pytest.fixture()
def demo(tmp_path):
    return build_template(tmp_path / "demo.xlsx", tables=sample_tables(until="2025-01-31"))


def test_every_button_runs_its_action_through_the_file_port(demo, tmp_path):
    leads_csv = tmp_path / "leads.csv"
    leads_csv.write_text("lead_id,date,channel\nA1,2025-01-03,Search\nA2,2025-01-04,Feed\n", encoding="utf-8")
    answers = {"import_leads": str(leads_csv), "share_with_finance": str(tmp_path / "finance.xlsx")}
    messages = {}
    for action_id in ACTIONS:
        port = FilePort(demo)
        messages[action_id] = dispatch(action_id, port, ask_path=lambda title, a=action_id: answers.get(a),
                                       book_path=str(demo), confirm=lambda question: True)
        if action_id in ("refresh_reports", "import_leads"):
            port.save()
    assert messages["refresh_reports"].startswith("Reports refreshed")
    assert messages["validate_data"].startswith("Data is usable: Spend")
    assert messages["import_spend"] == "Import cancelled."  # the user closed the file dialog
    assert messages["import_leads"].startswith("Leads: 2 rows imported")
    assert FilePort(demo).read_table("Leads") == [["lead_id", "date", "channel"], ["A1", "2025-01-03", "Search"],
                                                  ["A2", "2025-01-04", "Feed"]]
    assert "Finance copy saved" in messages["share_with_finance"]
    assert openpyxl.load_workbook(tmp_path / "finance.xlsx").sheetnames[0] == "Start"
    assert "Settings sheet" in messages["settings_help"]


def test_validate_reports_bad_data_as_a_message_not_an_exception(tmp_path):
    bad = build_template(tmp_path / "bad.xlsx", tables={"Leads": __import__("pandas").DataFrame(
        {"lead_id": ["a"], "when": ["2024-01-01"]})})
    assert dispatch("validate_data", FilePort(bad), ask_path=lambda t: None).startswith("Problem: Leads: column 'date'")


def test_addin_commands_say_what_this_system_supports():
    assert install.status(platform="linux").supported is False
    assert "Windows" in install.install(platform="linux") and "cycle-roi addin build" in install.uninstall("darwin")
    result = runner.invoke(app, ["addin", "status"])
    assert result.exit_code == 0 and "Windows with Excel desktop only" in result.output


def test_cli_addin_build(tmp_path):
    result = runner.invoke(app, ["addin", "build", "-o", str(tmp_path / "a.xlam")])
    assert result.exit_code == 0 and (tmp_path / "a.xlam").exists()


# --- asking before anything of the user's is replaced (issue 12) ------------------------------------

def test_import_over_rows_asks_and_no_leaves_the_table_as_it_was(demo, tmp_path):
    leads_csv = tmp_path / "leads.csv"
    leads_csv.write_text("lead_id,date\nA1,2025-01-03\n", encoding="utf-8")
    before = cell_fingerprint(demo)
    rows = len(FilePort(demo).read_table("Leads")) - 1
    asked = []
    for confirm in (lambda q: asked.append(q) or False, None):  # the user says No; a route that cannot ask
        port = FilePort(demo)
        message = dispatch("import_leads", port, ask_path=lambda t: str(leads_csv), confirm=confirm)
        assert message == "Import cancelled: the Leads table is unchanged."
        port.save()
        assert cell_fingerprint(demo) == before
    assert asked == [f"Replace the {rows:,} rows of the Leads table with the 1 rows of leads.csv?"]


def test_share_over_a_file_cycle_roi_did_not_write_asks_first(demo, tmp_path):
    theirs = tmp_path / "budget.xlsx"
    openpyxl.Workbook().save(theirs)
    original = theirs.read_bytes()
    asked = []

    def share(answer):
        return dispatch("share_with_finance", FilePort(demo), ask_path=lambda t: str(theirs), book_path=str(demo),
                        confirm=lambda q: asked.append(q) or answer)

    assert share(False) == "Share cancelled: budget.xlsx was not replaced."
    assert theirs.read_bytes() == original
    assert asked == ["budget.xlsx already exists and was not written by Cycle ROI. Replace it?"]
    assert share(True).startswith("Finance copy saved")
    assert product_kind(theirs) == "finance copy"
    asked.clear()
    assert share(False).startswith("Finance copy saved") and asked == []  # its own copy: replaced without asking
    with pytest.raises(OutputError, match="is the input file"):  # never over the workbook itself, whatever the answer
        dispatch("share_with_finance", FilePort(demo), ask_path=lambda t: str(demo), book_path=str(demo),
                 confirm=lambda q: True)


def test_excel_ribbon_asks_with_a_yes_no_box(demo, tmp_path, monkeypatch):
    """main() as the VBA callback runs it: Excel's Yes/No box answers the question (stubbed Excel objects)."""
    import xlwings as xw

    from addin.ribbon import main

    theirs = tmp_path / "budget.xlsx"
    openpyxl.Workbook().save(theirs)
    original = theirs.read_bytes()
    alerts = []

    class ExcelApp:
        status_bar = None
        api = type("Api", (), {"GetSaveAsFilename": staticmethod(lambda **kw: str(theirs))})()

        def alert(self, prompt, title=None, buttons="ok"):
            alerts.append((prompt, buttons))
            return "no" if buttons == "yes_no" else "ok"

    book = type("Book", (), {"fullname": str(demo), "app": ExcelApp(), "sheets": [], "save": lambda self: None})()
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    main("share_with_finance")
    assert alerts == [("budget.xlsx already exists and was not written by Cycle ROI. Replace it?", "yes_no"),
                      ("Share cancelled: budget.xlsx was not replaced.", "ok")]
    assert theirs.read_bytes() == original


def test_the_ribbon_answers_in_the_workbooks_language(tmp_path):
    # a workbook whose language setting is zh: titles, questions and answers come from the catalogue in zh
    book = build_template(tmp_path / "zh.xlsx", language="zh", tables=sample_tables(until="2025-01-31"))
    titles, questions = [], []

    def ask(title):
        titles.append(title)
        return None

    assert dispatch("validate_data", FilePort(book), ask_path=ask).startswith("数据可用：")
    assert dispatch("import_leads", FilePort(book), ask_path=ask) == "已取消导入。"
    assert titles == ["选择 Leads 的导出文件（CSV 或 XLSX）"]
    theirs = tmp_path / "theirs.xlsx"
    openpyxl.Workbook().save(theirs)
    answer = dispatch("share_with_finance", FilePort(book), ask_path=lambda t: str(theirs), book_path=str(book),
                      confirm=lambda q: questions.append(q) or False)
    assert answer == "已取消共享：未替换 theirs.xlsx。"
    assert questions == ["theirs.xlsx 已存在，且不是由 Cycle ROI 写入的。要替换它吗？"]
    assert re.fullmatch(r"报告已刷新（数据截至 2025年\d+月\d+日）。", dispatch("refresh_reports", FilePort(book), ask_path=ask))
    # an error of a click is said in the workbook's language too
    from addin.ribbon import could_not_finish
    from addin.workbook import WorkbookError

    assert could_not_finish("share_with_finance", WorkbookError(Message("workbook.missing", path="x.xlsx")), "zh") == \
        "Cycle ROI 未能完成“与财务共享”：x.xlsx 不存在：请检查路径"


def test_every_button_has_its_name_in_the_catalogue():
    from calc.messages import catalogue

    assert all(catalogue("en")[f"ribbon.button.{b.id}"] == b.label for b in BUTTONS)
    assert all(catalogue("en")[f"ribbon.tip.{b.id}"] == b.screentip for b in BUTTONS)


@pytest.mark.parametrize("language", ["zh", "ko", "id"])
def test_the_add_in_built_in_a_language_shows_its_ribbon_in_that_language(tmp_path, language):
    import xml.etree.ElementTree as ET
    import zipfile

    from addin.ribbon.registry import GROUPS
    from addin.ribbon.xlam import CUSTOMUI_PART
    from calc.messages import catalogue

    result = runner.invoke(app, ["--language", language, "addin", "build", "-o", str(tmp_path / "a.xlam")])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "a.xlam") as book:
        root = ET.fromstring(book.read(CUSTOMUI_PART))  # well-formed XML, as Office requires
    ns = {"c": "http://schemas.microsoft.com/office/2009/07/customui"}
    words = catalogue(language)
    buttons = {b.get("id"): (b.get("label"), b.get("screentip")) for b in root.iterfind(".//c:button", ns)}
    assert buttons == {b.id: (words[f"ribbon.button.{b.id}"], words[f"ribbon.tip.{b.id}"]) for b in BUTTONS}
    groups = [g.get("label") for g in root.iterfind(".//c:group", ns)]
    assert groups == [words[f"ribbon.group.{g}"] for g in GROUPS]
    # the callbacks do not change with the language: the same VBA module serves every build
    assert {b.get("onAction") for b in root.iterfind(".//c:button", ns)} == \
        {f"CycleROI.{b.callback}" for b in BUTTONS}


def test_addin_commands_speak_the_run_language():
    from calc.messages import text

    result = runner.invoke(app, ["--language", "ko", "addin", "status"])
    assert result.exit_code == 0 and text("install.not_windows", "ko").splitlines()[0][:20] in result.output
    assert "Windows with Excel desktop only" not in result.output


def test_addin_install_where_it_cannot_install_fails_with_what_to_do_instead(monkeypatch):
    # never a silent success: a script reading the exit code must not think the ribbon is there. The real
    # installer runs, told it is on Linux (on Windows it would really install the add-in)
    import functools

    from calc.messages import text

    monkeypatch.setattr(install, "install", functools.partial(install.install, platform="linux"))
    result = runner.invoke(app, ["--language", "ko", "addin", "install"])
    assert result.exit_code == 2 and text("install.not_windows", "ko").splitlines()[0][:20] in result.stderr
