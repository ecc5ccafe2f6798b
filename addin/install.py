"""``cycle-roi addin install|status|uninstall|build``: put the Cycle ROI add-in into Excel.

Windows (Excel desktop):

* install: builds the .xlam (``addin.ribbon.xlam.build_xlam``) into Excel's XLSTART folder with its
  own conf sheet (``myaddin.conf``: this Python as the interpreter, ``UDF Modules`` = addin.udfs, the
  UDF server on), opens it in a hidden Excel, imports the VBA callbacks (``addin/ribbon/CycleROI.bas``)
  and the function wrappers (xlwings' ``import_udfs``) into it and saves it. User workbooks stay .xlsx.
* status reads that same conf sheet from the installed file; uninstall removes the file.

Neither writes xlwings' user config (``~/.xlwings/xlwings.conf``): the add-in's VBA never reads it
(it reads its PROJECT_NAME's conf, see ``addin/ribbon/xlam.py``) and its keys belong to the user's
other xlwings projects.

Other systems: the .xlam can be built (``build``) but not installed — importing VBA needs Excel
for Windows; every headless command (report, refresh, share, template) works everywhere.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADDIN_NAME = "cycle_roi.xlam"
UDF_MODULES = "addin.udfs"  # xlwings' import_udfs takes ONE string, modules separated by ";"
CONFIG_KEYS = ("INTERPRETER_WIN", "UDF MODULES", "USE UDF SERVER")

NOT_WINDOWS = (
    "The Excel add-in (ribbon and =CONSULT_COST(...)-style functions) installs on Windows with Excel desktop only: "
    "it imports VBA callbacks and registers functions through Excel's COM interface. On this system you can:\n"
    "  - build the add-in file: cycle-roi addin build -o cycle_roi.xlam (copy it to a Windows PC and run "
    "cycle-roi addin install there)\n"
    "  - use everything headless: cycle-roi report / refresh / share / template\n"
    "macOS Excel can run xlwings add-ins, but this installer does not set them up; see docs/troubleshooting.md."
)

TRUST_VBA = ("Excel refused to import the add-in's VBA. In Excel: File > Options > Trust Center > Trust Center "
             "Settings > Macro Settings > tick 'Trust access to the VBA project object model', then run "
             "cycle-roi addin install again (see docs/troubleshooting.md)")


@dataclass(frozen=True)
class Status:
    supported: bool
    addin_path: Path | None
    addin_present: bool
    config: dict[str, str]
    message: str


def xlstart_folder() -> Path:
    return Path(os.environ.get("APPDATA", str(Path.home()))) / "Microsoft" / "Excel" / "XLSTART"


def interpreter() -> str:
    """pythonw.exe beside this python.exe (no console window flashing on each click)."""
    exe = Path(sys.executable)
    windowless = exe.with_name("pythonw.exe")
    return str(windowless if windowless.exists() else exe)


def status(platform: str = sys.platform, folder: Path | None = None) -> Status:
    """What is installed, read from the add-in's own conf sheet (the place its VBA reads)."""
    from .ribbon.xlam import CONF_SHEET, read_conf_sheet

    if platform != "win32":
        return Status(False, None, False, {}, NOT_WINDOWS)
    path = (folder or xlstart_folder()) / ADDIN_NAME
    if not path.exists():
        return Status(True, path, False, {}, "Not installed: run cycle-roi addin install.")
    try:
        config = read_conf_sheet(path) or {}
    except Exception as exc:  # a damaged or foreign file: say so, do not crash
        return Status(True, path, True, {}, f"{path} cannot be read ({exc}): run cycle-roi addin install.")
    config = {k: v for k, v in config.items() if k in CONFIG_KEYS}
    missing = [k for k in CONFIG_KEYS if not config.get(k)]
    if missing:
        return Status(True, path, True, config, f"The add-in is at {path} but its {CONF_SHEET} sheet lacks "
                                                f"{', '.join(missing)}: run cycle-roi addin install.")
    if not Path(config["INTERPRETER_WIN"]).exists():
        return Status(True, path, True, config, f"The add-in at {path} names the interpreter "
                                                f"{config['INTERPRETER_WIN']}, which no longer exists: run "
                                                "cycle-roi addin install from the Python where Cycle ROI is installed.")
    return Status(True, path, True, config, f"Installed: {path}; interpreter {config['INTERPRETER_WIN']}; "
                                            f"UDF modules {config['UDF MODULES']}.")


def build_for_install(target: Path, language: str = "en") -> Path:
    """The add-in file with its conf sheet naming this Python (before Excel opens it: no lock on the file)."""
    from .ribbon.xlam import build_xlam, default_config

    return build_xlam(target, default_config(interpreter()), language=language)


def install_into(excel: Any, target: Path, import_udfs: Any) -> None:
    """Import the VBA into the built add-in at ``target`` through ``excel`` (Excel's COM Application).

    ``import_udfs`` is xlwings' own (``xlwings.udfs.import_udfs``): it writes the function wrappers,
    imports them into the add-in and sets each function's category and argument docs.
    """
    from .ribbon.customui import VBA_FILE

    book = excel.Workbooks.Open(str(target))
    try:
        try:
            book.VBProject.VBComponents.Import(str(VBA_FILE))
        except Exception as exc:  # COM error when VBA project access is not trusted
            raise RuntimeError(f"{TRUST_VBA} ({exc})") from None
        import_udfs(UDF_MODULES, book)
        book.Save()
    finally:
        book.Close(False)


def install(platform: str = sys.platform, language: str = "en") -> str:
    if platform != "win32":
        return NOT_WINDOWS
    from .outputs import check_output

    target = xlstart_folder() / ADDIN_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    check_output(target, suffixes=(".xlam",))  # an add-in of that name that is not ours stays (OutputError)
    import xlwings as xw
    from xlwings.udfs import import_udfs

    build_for_install(target, language)
    app = xw.App(visible=False, add_book=False)  # started by automation: it does not open XLSTART's files
    try:
        install_into(app.api, target, import_udfs)
    finally:
        app.quit()
    return (f"Installed {target}. Restart Excel: the Cycle ROI tab appears and =CONSULT_COST(...) works in any "
            f"workbook. Check it with cycle-roi selftest -o selftest.xlsx (docs/windows_smoke.md).")


def uninstall(platform: str = sys.platform) -> str:
    if platform != "win32":
        return NOT_WINDOWS
    from .outputs import product_kind

    target = xlstart_folder() / ADDIN_NAME
    if target.exists() and product_kind(target) != "add-in":
        return f"{target} was not written by Cycle ROI, so it was left as it is."
    if target.exists():
        target.unlink()
        return f"Removed {target} (its settings lived inside it; xlwings' own settings were never changed)."
    return "The add-in was not installed."
