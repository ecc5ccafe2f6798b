"""The Windows route against xlwings' own code: its decorators, its VBA generator, a real VBA grammar.

On Linux ``xw.func``/``xw.arg`` are pass-through, so calling the Python functions proves nothing about
what Excel sees. Here ``xlwings.udfs`` itself is imported with only the pywin32 modules it imports at
module level (``pythoncom``, ``pywintypes``, ``win32com.client``) replaced, the registry is decorated
with ``xlwings.udfs.xlfunc/xlarg``, ``generate_vba_wrapper`` writes the VBA Excel would import, and the
``antlr4-vba`` grammar (an independent ANTLR grammar of VBA) parses it.
"""
from __future__ import annotations

import importlib
import io
import sys
import types
from pathlib import Path

import pytest
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from antlr4_vba.vba_ccLexer import vba_ccLexer
from antlr4_vba.vba_ccParser import vba_ccParser
from antlr4_vba.vbaLexer import vbaLexer
from antlr4_vba.vbaParser import vbaParser

from addin.ribbon.customui import VBA_FILE
from addin.udfs import UDFS, registry, vba_names

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # oletools on new pyparsing

PYWIN32_MODULES = ("pythoncom", "pywintypes", "win32com", "win32com.client")


class ComError(Exception):
    """pywintypes.com_error's stand-in: what COM raises."""


@pytest.fixture(scope="module")
def xlwings_udfs():
    """xlwings' Windows UDF module (xlwings/udfs.py), imported with only pywin32 stubbed, then unhooked
    from sys.modules again so no other test sees the stubs."""
    saved = {name: sys.modules.get(name) for name in (*PYWIN32_MODULES, "xlwings.udfs")}
    stubs = {name: types.ModuleType(name) for name in PYWIN32_MODULES}
    stubs["pythoncom"].CoInitialize = lambda: None
    stubs["pywintypes"].com_error = ComError
    stubs["win32com.client"].Dispatch = lambda obj: obj
    stubs["win32com"].client = stubs["win32com.client"]
    sys.modules.update(stubs)
    sys.modules.pop("xlwings.udfs", None)
    try:
        yield importlib.import_module("xlwings.udfs")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def decorated_module(xlwings_udfs) -> types.ModuleType:
    """What ``import addin.udfs`` gives on Windows: every registered function with xlwings' metadata."""
    module = types.ModuleType("addin.udfs")
    for name, spec in UDFS.items():
        setattr(module, name, spec.decorated(xlwings_udfs.xlfunc, xlwings_udfs.xlarg))
    return module


def generated_vba(xlwings_udfs, book_name: str = "cycle_roi.xlam") -> str:
    out = io.StringIO()
    xlwings_udfs.generate_vba_wrapper("addin.udfs", decorated_module(xlwings_udfs), out,
                                      types.SimpleNamespace(Name=book_name))
    return out.getvalue()


# --- the VBA grammar -------------------------------------------------------------------------------

class Errors(ErrorListener):
    def __init__(self):
        self.found: list[str] = []

    def syntaxError(self, recognizer, symbol, line, column, message, exc):  # noqa: N802 (ANTLR's name)
        self.found.append(f"line {line}:{column}: {message}")


def _parse(text: str, lexer_class, parser_class) -> list[str]:
    errors = Errors()
    lexer = lexer_class(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(errors)
    parser = parser_class(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    parser.startRule()
    return errors.found


def resolve_conditional_compilation(text: str, app: str) -> str:
    """The module as VBA compiles it when ``#Const App = app``: #If/#Else/#End If resolved (the
    only directives xlwings writes; any other one fails loudly)."""
    out, keep = [], [True]
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#Const"):
            continue
        if stripped.startswith("#If "):
            condition = stripped.removeprefix("#If ").removesuffix(" Then").strip()
            assert condition == 'App = "Microsoft Excel"', f"unexpected directive: {line}"
            keep.append(keep[-1] and app == "Microsoft Excel")
        elif stripped == "#Else":
            keep[-1] = keep[-2] and not keep[-1]
        elif stripped == "#End If":
            keep.pop()
        elif stripped.startswith("#"):
            raise AssertionError(f"unexpected directive: {line}")
        elif keep[-1]:
            out.append(line)
    assert keep == [True], "unbalanced #If"
    return "\r\n".join(out) + "\r\n"


def vba_errors(module_text: str) -> list[str]:
    """Syntax errors of a VBA module: its conditional compilation (vba_cc grammar), then the code VBA
    compiles in Excel and outside it (vba grammar). Empty: it parses."""
    errors = _parse(module_text, vba_ccLexer, vba_ccParser)
    for app in ("Microsoft Excel", "other"):
        errors += [f"[{app}] {e}" for e in _parse(resolve_conditional_compilation(module_text, app),
                                                  vbaLexer, vbaParser)]
    return errors


def module_of(functions: str) -> str:
    return 'Attribute VB_Name = "xlwings_udfs"\r\n' + functions


# --- the tests -----------------------------------------------------------------------------------

def test_every_function_is_in_the_cycle_roi_category_with_its_argument_docs(xlwings_udfs):
    module = decorated_module(xlwings_udfs)
    for name, spec in UDFS.items():
        meta = getattr(module, name).__xlfunc__
        assert meta["category"] == "Cycle ROI", name
        args = {a["name"]: a for a in meta["args"]}
        assert [a for a in args if a != "caller"] == list(spec.arg_docs), name
        assert all(args[a]["doc"] == doc for a, doc in spec.arg_docs.items()), name
        assert args["caller"]["vba"] is None or name  # caller is xlwings' reserved argument
        tables = [a for a in spec.arg_docs if a in registry.TABLE_ARGS]
        assert all(args[a]["options"] == {"ndim": 2} for a in tables), name


def test_the_generated_vba_module_parses_without_a_single_error(xlwings_udfs):
    text = generated_vba(xlwings_udfs)
    assert {f"Function {name}(" for name in UDFS} <= {line[:line.index("(") + 1] for line in text.splitlines()
                                                       if line.startswith("Function ")}
    assert "caller" not in text.split("Array(")[0]  # xlwings hides its reserved argument from Excel
    assert vba_errors(module_of(text)) == []


def test_the_grammar_catches_the_bug_that_broke_every_function(xlwings_udfs):
    # the wrapper xlwings wrote before the rename: a parameter called End (a reserved word)
    one = next(block for block in generated_vba(xlwings_udfs).split("End Function") if "Function CONSULT_COST(" in block)
    errors = vba_errors(module_of(one.replace("end_date", "end") + "End Function\r\n"))
    assert errors and "end" in errors[0].lower()


def test_reserved_words_of_the_specification_are_rejected_by_the_grammar_too():
    # two independent sources agree: MS-VBAL 3.3.5.2 (our data) and the antlr4-vba grammar
    template = module_of("Function F(Optional a, Optional {0})\r\nF = Array(a, {0})\r\nEnd Function\r\n")
    assert vba_errors(template.format("end_date")) == []
    accepted = [word for group, words in vba_names.RESERVED_IDENTIFIERS.items()
                if group != "reserved-for-implementation-use" for word in words
                if not vba_errors(template.format(word))]
    assert accepted == []


def test_the_registry_refuses_vba_names_and_a_second_argument_order():
    for bad in ("end", "Date", "STRING", "type", "currency", "property", "name", "filter", "range"):
        with pytest.raises(TypeError, match=f"'{bad}' is a"):
            registry.check_signature("SOME_FUNCTION", ["leads", bad])
    with pytest.raises(TypeError, match="'DATE' is a"):
        registry.check_signature("DATE", ["leads"])
    with pytest.raises(TypeError, match="order"):
        registry.check_signature("F", ["leads", "by", "start_date"])
    with pytest.raises(TypeError, match="order"):
        registry.check_signature("F", ["leads", "segment_filter", "start_date"])
    with pytest.raises(TypeError, match="order"):
        registry.check_signature("F", ["deals", "leads"])
    registry.check_signature("F", ["spend", "leads", "settings", "start_date", "end_date", "segment_filter", "by"])
    for name, spec in UDFS.items():
        assert all(vba_names.why_forbidden(a) is None for a in (name, *spec.arg_docs)), name


def test_the_ribbon_callbacks_parse_without_a_single_error():
    text = VBA_FILE.read_bytes().decode("ascii")
    assert "Sub On_refresh_reports(control As IRibbonControl)" in text
    assert vba_errors(text) == []
    assert vba_errors(text.replace("End Sub", "End Function", 1)) != []  # the check can fail


# --- the install flow: xlwings' import_udfs above a recording fake of Excel's COM objects -------------

class FakeComponents:
    """VBProject.VBComponents: records what is imported (the file's text, read at import time)."""

    def __init__(self, refuse: bool = False):
        self.imported: dict[str, str] = {}
        self.refuse = refuse

    def Import(self, path):  # noqa: N802 (COM names)
        if self.refuse:
            raise ComError(-2146827284, "Programmatic access to Visual Basic Project is not trusted")
        text = open(path, encoding="utf-8").read()
        name = text.split('Attribute VB_Name = "')[1].split('"')[0]
        self.imported[name] = text

    def __call__(self, name):
        if name not in self.imported:
            raise ComError(-2147352565, "Subscript out of range")
        return name

    def Remove(self, name):  # noqa: N802
        self.imported.pop(name)


class FakeWorkbook:
    def __init__(self, app, path, refuse):
        self.Application, self.path, self.Name = app, path, path.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        self.VBProject = types.SimpleNamespace(VBComponents=FakeComponents(refuse))
        self.calls: list[str] = []

    def Save(self):  # noqa: N802
        self.calls.append("Save")

    def Close(self, SaveChanges=None):  # noqa: N802, N803 (Excel's parameter name)
        self.calls.append("Close")


class FakeExcel:
    """Excel's COM Application, with the type library's parameter names (pywin32 keeps them)."""

    Version = "16.0"

    def __init__(self, refuse_vba: bool = False):
        self.refuse_vba = refuse_vba
        self.books: list[FakeWorkbook] = []
        self.macro_options: dict[str, dict] = {}
        self.Workbooks = types.SimpleNamespace(Open=self._open)

    def _open(self, Filename):  # noqa: N803
        self.books.append(FakeWorkbook(self, Filename, self.refuse_vba))
        return self.books[-1]

    def MacroOptions(self, Macro, Description=None, HasMenu=None, MenuText=None, HasShortcutKey=None,  # noqa: N802,N803
                     ShortcutKey=None, Category=None, StatusBar=None, HelpContextID=None, HelpFile=None,
                     ArgumentDescriptions=None):
        self.macro_options[Macro] = {"Description": Description, "Category": Category,
                                     "ArgumentDescriptions": ArgumentDescriptions}


@pytest.fixture
def windows_udf_module(xlwings_udfs):
    """On Windows ``import addin.udfs`` yields the decorated functions; xlwings keeps imported UDF modules
    in ``udf_modules`` (filetime None: never reloaded), so that is where the decorated module goes."""
    xlwings_udfs.udf_modules["addin.udfs"] = {"module": decorated_module(xlwings_udfs), "filetime": None,
                                              "filename": "addin/udfs/__init__.py"}
    yield xlwings_udfs
    xlwings_udfs.udf_modules.pop("addin.udfs", None)


def vba_modules_of(path) -> dict[str, str]:
    """The VBA modules in an Office file as olevba (oletools) reads them: {module name: code}."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_install_imports_callbacks_and_functions_and_configures_the_addin_itself(windows_udf_module, tmp_path):
    import xlwings as xw

    from addin import install
    from addin.ribbon.xlam import CONF_SHEET, PROJECT_NAME, read_conf_sheet

    user_conf = Path(xw.USER_CONFIG_FILE)
    before = user_conf.read_bytes() if user_conf.exists() else None
    excel = FakeExcel()
    target = tmp_path / "XLSTART" / install.ADDIN_NAME
    target.parent.mkdir()
    install.build_for_install(target)
    install.install_into(excel, target, windows_udf_module.import_udfs)

    book, = excel.books
    assert book.path == str(target) and book.calls == ["Save", "Close"]
    modules = book.VBProject.VBComponents.imported
    assert set(modules) == {"CycleROI", "xlwings_udfs"}
    assert vba_errors(modules["xlwings_udfs"]) == [] and vba_errors(modules["CycleROI"]) == []
    assert {f"'{install.ADDIN_NAME}'!{name}" for name in UDFS} == set(excel.macro_options)
    for name, spec in UDFS.items():
        options = excel.macro_options[f"'{install.ADDIN_NAME}'!{name}"]
        assert options["Category"] == "Cycle ROI"
        assert options["ArgumentDescriptions"] == [doc[:255] for doc in spec.arg_docs.values()]
    # the conf the add-in's VBA reads: the sheet named after the PROJECT_NAME in its own VBA code
    code = vba_modules_of(target)["xlwings"]
    assert f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"' in code
    assert 'wb.Sheets(PROJECT_NAME & ".conf")' in code and CONF_SHEET == f"{PROJECT_NAME}.conf"
    assert read_conf_sheet(target) == {"INTERPRETER_WIN": install.interpreter(), "UDF MODULES": "addin.udfs",
                                       "USE UDF SERVER": "True"}
    state = install.status(platform="win32", folder=target.parent)
    assert state.message.startswith("Installed") and state.config["UDF MODULES"] == "addin.udfs"
    # xlwings' own user config (the user's other projects) is left exactly as it was
    assert (user_conf.read_bytes() if user_conf.exists() else None) == before


def test_install_without_trusted_vba_access_says_how_to_allow_it(windows_udf_module, tmp_path):
    from addin import install

    excel = FakeExcel(refuse_vba=True)
    install.build_for_install(tmp_path / install.ADDIN_NAME)
    with pytest.raises(RuntimeError, match="Trust access to the VBA project object model"):
        install.install_into(excel, tmp_path / install.ADDIN_NAME, windows_udf_module.import_udfs)
    assert excel.books[0].calls == ["Close"]


def test_status_reads_the_addin_conf_and_names_what_is_missing(tmp_path):
    from addin import install
    from addin.ribbon.xlam import build_xlam, default_config

    assert "Not installed" in install.status(platform="win32", folder=tmp_path).message
    build_xlam(tmp_path / install.ADDIN_NAME)  # as `addin build` makes it: no interpreter named
    assert "lacks INTERPRETER_WIN" in install.status(platform="win32", folder=tmp_path).message
    build_xlam(tmp_path / install.ADDIN_NAME, default_config("C:/gone/pythonw.exe"))
    assert "no longer exists" in install.status(platform="win32", folder=tmp_path).message


def test_the_finance_copy_dialog_uses_excels_parameter_names():
    from addin.ribbon import ask_path_in_excel

    class Application:  # the type library's signatures, as pywin32's generated wrapper has them
        def GetSaveAsFilename(self, InitialFilename=None, FileFilter=None, FilterIndex=None, Title=None,  # noqa: N802,N803
                              ButtonText=None):
            return f"C:/out/{Title}.xlsx" if "xlsx" in FileFilter else False

        def GetOpenFilename(self, FileFilter=None, FilterIndex=None, Title=None, ButtonText=None,  # noqa: N802,N803
                            MultiSelect=None):
            return False  # the user cancelled

    assert ask_path_in_excel(Application(), "Save the finance copy as") == "C:/out/Save the finance copy as.xlsx"
    assert ask_path_in_excel(Application(), "Choose the Leads export (CSV or XLSX)") is None
