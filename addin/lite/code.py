"""The xlwings Lite code of Cycle ROI — ``main.py`` and ``requirements.txt`` — generated from the registries.

One registry, two routes: every Excel function of :data:`addin.udfs.registry.UDFS` becomes a Lite
``@func`` of the same name, argument order and argument docs, whose body calls the very adapter the
Windows route calls (so the results are the same). Lite functions get only their arguments — there
is no workbook behind ``caller`` — so the docs of table arguments say to pass the table, and the
leading table arguments are required. The ribbon buttons that can work inside Lite become
``@script`` functions (:data:`LITE_SCRIPTS`); the others say why not (:data:`NOT_IN_LITE`).

Lite runs one ``main.py``; Cycle ROI is a package. So ``main.py`` carries the modules the functions
need (``calc`` and the function adapters, found by following their imports) as a zip in base64,
unpacks it into Pyodide's in-memory file system once, and imports from there. It needs no file
access outside the browser and nothing from the network beyond the packages in ``requirements.txt``.
"""
from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import io
import re
import textwrap
import zipfile
from pathlib import Path

from calc.messages import Message

#: Lines Lite itself requires in requirements.txt, as Lite 1.0.0.0-18 saved them (Pyodide 0.27.5), except
#: xlwings: 0.37.0 or later, because ``refresh_reports`` reads formulas with ``Range.get_formula()`` (xlwings
#: 0.37.0; before it Lite could not read formulas at all) and xlwings 0.35.1 fixed Lite on newer Pyodide. A range,
#: not a pin, as Lite's dependency docs now advise (Lite records the installed versions in requirements-pinned.txt).
LITE_REQUIRED = ("xlwings>=0.37.0,<1.0.0  # required", "python-dotenv==1.1.1  # required",
                 "pyodide-http  # required", "black  # required")
ROOT = Path(__file__).resolve().parents[2]
#: Where the bundled modules' imports are followed from.
ENTRY_MODULES = ("addin.udfs",)
OWN_PACKAGES = ("calc", "addin")

#: Ribbon button id -> (Lite script name, catalogue id of what it does: its docstring, which Lite's App Mode shows).
LITE_SCRIPTS = {
    "refresh_reports": ("refresh_reports", "lite.script.refresh_reports.doc"),
    "validate_data": ("validate_data", "lite.script.validate_data.doc"),
}
#: Ribbon button id -> why it has no Lite script.
NOT_IN_LITE = {
    "import_spend": "Lite cannot open files on your computer: paste the export into the Spend table instead.",
    "import_leads": "Lite cannot open files on your computer: paste the export into the Leads table instead.",
    "import_deals": "Lite cannot open files on your computer: paste the export into the Deals table instead.",
    "share_with_finance": "Lite cannot save a second file: use `cycle-roi share` (with --lite to keep this code).",
    "settings_help": "The Settings sheet and docs/lite.md are the help; Lite has no ribbon tab.",
}
EMPTY_MEANS_OWN_TABLE = re.compile(r"\s*Empty: this workbook's (\w+) table\.")


# --- which modules main.py carries ------------------------------------------------------------

def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    return None


def _imports(name: str, path: Path) -> set[str]:
    """Own-package modules that the module ``name`` (file ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # "from . import x" may name a module
    return {m for m in found if m.split(".")[0] in OWN_PACKAGES and _module_file(m) is not None}


def bundled_modules() -> dict[str, Path]:
    """{module name: file} of every own module the Excel functions need, with their packages."""
    todo, seen = list(ENTRY_MODULES), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        seen[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages run first on import
        todo += sorted(_imports(name, path))
    return dict(sorted(seen.items()))


def bundle_bytes() -> bytes:
    """The bundled modules as a deterministic zip (paths relative to the repository root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        files = {p for p in bundled_modules().values()}
        # a package's data files travel with it: calc's message catalogue (calc/messages/*.json) is read at run time
        files |= {data for p in files if p.name == "__init__.py" for data in p.parent.glob("*.json")}
        for path in sorted(files):
            info = zipfile.ZipInfo(path.relative_to(ROOT).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, path.read_bytes())
    return buffer.getvalue()


# --- main.py ------------------------------------------------------------------------------------

def lite_doc(doc: str) -> str:
    """An argument doc for Lite: a table left empty cannot fall back on the workbook's own table there."""
    def reword(match: re.Match) -> str:
        if match.group(1) == "Settings":
            return " Empty: the default settings (xlwings Lite cannot read the workbook's Settings table by itself)."
        return " In xlwings Lite pass it (or the CYCLE_DATA handle): Lite cannot read the workbook's tables by itself."

    return EMPTY_MEANS_OWN_TABLE.sub(reword, doc)


def required_in_lite(spec) -> list[str]:
    """The arguments a Lite function requires: its first table argument (a table or the CYCLE_DATA handle,
    which then stands for all the tables). Lite has no workbook tables to fall back on."""
    first = next(iter(inspect.signature(spec.adapter).parameters))
    return [first] if first in ("spend", "leads", "deals") else []


def _function_source(spec) -> str:
    from addin.udfs.registry import TABLE_ARGS

    params = [p for p in inspect.signature(spec.adapter).parameters.values() if p.name != "caller"]
    required = required_in_lite(spec)  # Lite has no workbook tables to fall back on
    pieces = [p.name if p.name in required or p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
              for p in params]
    decorators = ["@func"]
    for p in params:
        options = "ndim=2, " if p.name in TABLE_ARGS else ""
        decorators.append(f"@arg({p.name!r}, {options}doc={lite_doc(spec.arg_docs[p.name])!r})")
    doc = inspect.getdoc(spec.adapter) or spec.excel_name
    names = ", ".join(p.name for p in params)
    return "\n".join(decorators + [
        f"def {spec.excel_name}({', '.join(pieces)}):",
        textwrap.indent(repr(doc), "    "),
        f"    return _call({spec.excel_name!r}, {names})",
    ]) + "\n"


SCRIPT_SOURCE = '''
async def _formulas(rng):
    """The formulas of ``rng`` as rows. xlwings Lite does not send formulas with the workbook: they are
    fetched on demand (``Range.get_formula``, xlwings 0.37.0 or later)."""
    formulas = await rng.options(ndim=2).get_formula()
    if not isinstance(formulas, (list, tuple)):
        return [[formulas]]
    if formulas and not isinstance(formulas[0], (list, tuple)):
        return [formulas]
    return formulas


def _message(book, text):
    """Show a script's result beside the title of the first sheet (Start, B1) and in Lite's console."""
    print(text)
    book.sheets[0]["B1"].value = text


def _table_rows(book, name):
    for sheet in book.sheets:
        for table in sheet.tables:
            if table.name.casefold() == name.casefold():
                return table.range.options(ndim=2).value
    return None


def _language(settings_rows):
    """The workbook's language setting (its Settings table), else the language this code was made for."""
    from addin.convert import settings_from_rows
    from calc.messages import LANGUAGES

    language = settings_from_rows(settings_rows).get("language")
    return language if language in LANGUAGES else _LANGUAGE


def _validation(tables, settings_rows):
    """What validate_data shows, from the tables as Lite hands them over ({{name: rows, header first}}),
    in the workbook's language: the rows found and calc's notes, or the problem with its rows and the fix."""
    from addin.convert import frame_from_rows, settings_from_rows
    from calc.messages import Message, render, text
    import calc

    language = _language(settings_rows)
    try:
        frames = {{}}
        for name in ("Spend", "Leads", "Deals"):
            rows = tables.get(name)
            has_rows = bool(rows) and len(rows) > 1 and any(v not in (None, "") for row in rows[1:] for v in row)
            frames[name.lower()] = frame_from_rows(rows, table=name) if has_rows else None
        if all(f is None for f in frames.values()):
            raise calc.InputError(None, None, Message("lite.script.no_data"), fix=Message("lite.script.no_data.fix"))
        data = calc.prepare(**frames, settings=settings_from_rows(settings_rows))
    except calc.InputError as exc:
        return text("lite.script.problem", language, problem=render(exc, language))
    counts = [Message("lite.script.rows", table=n, count=len(f)) for n, f in
              (("Spend", data.spend), ("Leads", data.leads), ("Deals", data.deals)) if f is not None]
    return "\\n".join([text("lite.script.usable", language, counts=counts)] + data.messages(language))


@script{validate_options}
def validate_data(book: xw.Book):
    {validate_doc!r}
    tables = {{name: _table_rows(book, name) for name in ("Spend", "Leads", "Deals")}}
    _message(book, _validation(tables, _table_rows(book, "Settings")))


@script{refresh_options}
async def refresh_reports(book: xw.Book):
    {refresh_doc!r}
    from calc.messages import text

    names = "|".join(_FUNCTIONS)
    ours = re.compile(r"(?i)(?:_xldudf_)?\\b(" + names + r")\\(")
    entered = 0
    for sheet in book.sheets:
        used = sheet.used_range
        formulas = await _formulas(used)
        for i, row in enumerate(formulas):
            for j, formula in enumerate(row):
                if isinstance(formula, str) and formula.startswith("=") and ours.search(formula):
                    used[i, j].formula = ours.sub(lambda m: m.group(1).upper() + "(", formula)
                    entered += 1
    _message(book, text("lite.script.refreshed", _language(_table_rows(book, "Settings")), count=entered))
'''


def script_options(button_id: str, start_sheet: str | None) -> str:
    """The ``@script(...)`` arguments of a Lite script: its button on the Start sheet (``addin.lite.buttons``),
    and the task pane shown when the button runs it, where Lite prints what the script did. None for a
    workbook without the Start sheet's buttons (the self-test workbook): a bare ``@script``."""
    from .buttons import button_ref

    if start_sheet is None:
        return ""
    return f"(button={button_ref(start_sheet, button_id)!r}, show_taskpane=True)"


def main_py(language: str = "en", *, buttons: bool = True) -> str:
    """The text of Lite's ``main.py``: the bundled package, then one Lite function per registry entry.

    ``language``: the workbook's, whose Start sheet name the scripts' sheet buttons refer to; ``buttons``:
    False for a workbook that has no Start sheet with the buttons (the scripts then run from the task pane)."""
    from calc.messages import text

    start_sheet = text("sheet.start", language) if buttons else None
    import addin.udfs  # noqa: F401  (registers every function)
    from addin.udfs.registry import UDFS

    blob = base64.b64encode(bundle_bytes()).decode("ascii")
    digest = hashlib.sha256(blob.encode("ascii")).hexdigest()[:16]
    lines = [blob[i:i + 100] for i in range(0, len(blob), 100)]
    functions = sorted(UDFS)
    header = f'''"""Cycle ROI for xlwings Lite: the same Excel functions as the Windows add-in, in Python inside Excel.

Generated by `cycle-roi lite` from Cycle ROI's function registry — regenerate it, do not edit it here.
Functions: {", ".join(functions)}.
Table arguments are required here (e.g. =CONSULT_COST(Spend[#All],Leads[#All])): a Lite function cannot
read the workbook's tables by itself. Scripts: {", ".join(s for s, _ in LITE_SCRIPTS.values())}.
"""
import base64
import io
import os
import re
import sys
import tempfile
import zipfile

import xlwings as xw
from xlwings import arg, func, script

# calc and the function adapters of Cycle ROI, zipped (Lite keeps one main.py per workbook).
_BUNDLE = (
''' + "".join(f'    "{line}"\n' for line in lines) + f''')
_BUNDLE_ID = "{digest}"
_FUNCTIONS = {tuple(functions)!r}
_LANGUAGE = {language!r}  # the workbook's language when this code was made; its Settings table's language wins


def _unpack():
    """Unpack the bundle once per session into the (in-memory) temp folder and import from there."""
    folder = os.path.join(tempfile.gettempdir(), "cycle_roi_" + _BUNDLE_ID)
    if not os.path.exists(os.path.join(folder, "calc", "__init__.py")):
        with zipfile.ZipFile(io.BytesIO(base64.b64decode("".join(_BUNDLE)))) as bundle:
            bundle.extractall(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)


_unpack()
import addin.udfs  # noqa: E402  registers every adapter in addin.udfs.registry.UDFS
from addin.udfs import registry as _registry  # noqa: E402


def _call(name, *args):
    """The Windows route's adapter for ``name``, called with this function's arguments (no caller)."""
    return _registry.UDFS[name].adapter(*args)

'''
    body = "\n\n".join(_function_source(UDFS[name]) for name in functions)
    scripts = SCRIPT_SOURCE.format(
        validate_doc=text(LITE_SCRIPTS["validate_data"][1], language),
        refresh_doc=text(LITE_SCRIPTS["refresh_reports"][1], language),
        validate_options=script_options("validate_data", start_sheet),
        refresh_options=script_options("refresh_reports", start_sheet))
    return header + "\n" + body + "\n" + scripts


def requirements_txt() -> str:
    """Lite's ``requirements.txt``: Lite's own lines, then what the bundled modules import (floors of pyproject)."""
    return "\n".join([*LITE_REQUIRED, *third_party_requirements()]) + "\n"


def third_party_requirements() -> list[str]:
    """Requirement lines (with the pyproject floors) for the third-party modules the bundle imports."""
    import sys

    floors = _pyproject_floors()
    imported = set()
    for name, path in bundled_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # calc's own lazy imports (scipy) count: the numbers must be the Windows route's. Elsewhere only what a
        # module imports when it loads: a lazy import there serves a feature Lite cannot offer (a warehouse
        # source through Ibis, DuckDB or Spark needs local files or a network database).
        nodes = ast.walk(tree) if name.split(".")[0] == "calc" else _load_time_nodes(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    third = sorted(m for m in imported if m not in OWN_PACKAGES and m not in sys.stdlib_module_names
                   and m != "__future__")
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    out = []
    for module in third:
        if module == "xlwings":
            continue  # Lite provides it (its own pinned line above)
        dist = dists.get(module, [module])[0].lower()
        out.append(floors.get(dist, dist))
    return out


def _load_time_nodes(tree: ast.Module):
    """The statements that run when a module loads: its body, including if/try blocks, not function bodies."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))


def _pyproject_floors() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"dependencies = \[(.*?)\]", text, re.S).group(1)
    out = {}
    for spec in re.findall(r'"([^"]+)"', deps):
        name = re.split(r"[<>=!~ \[]", spec, 1)[0].lower()
        out[name] = spec
    return out


class CodeFolderError(ValueError):
    """The folder holds a main.py or requirements.txt that this command did not write."""


GENERATED_MARK = "Generated by `cycle-roi lite`"


def write_code(folder: str | Path, *, language: str = "en") -> list[Path]:
    """Write ``main.py`` and ``requirements.txt`` into ``folder`` (for pasting into Lite's editor).

    Files written by an earlier run are replaced; a main.py of anyone else's is never overwritten.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CodeFolderError(Message("lite.code_folder_is_file", folder=str(folder)))
    files = lite_files(language)
    existing = folder / "main.py"
    ours = not existing.exists() or GENERATED_MARK in existing.read_text(encoding="utf-8", errors="replace")[:2000]
    for name, text in files.items():
        path = folder / name
        if path.exists() and not ours and path.read_text(encoding="utf-8", errors="replace") != text:
            raise CodeFolderError(Message("lite.code_not_ours", path=str(path)))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = folder / name
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8", newline="\n")
        tmp.replace(path)
        written.append(path)
    return written


def lite_files(language: str = "en", *, buttons: bool = True) -> dict[str, str]:
    """main.py and requirements.txt for a workbook in ``language`` (its Start sheet holds the buttons, unless
    ``buttons`` is False)."""
    return {"main.py": main_py(language, buttons=buttons), "requirements.txt": requirements_txt()}
