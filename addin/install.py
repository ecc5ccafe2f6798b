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

from calc.messages import Message

ADDIN_NAME = "cycle_roi.xlam"
UDF_MODULES = "addin.udfs"  # xlwings' import_udfs takes ONE string, modules separated by ";"
CONFIG_KEYS = ("INTERPRETER_WIN", "UDF MODULES", "USE UDF SERVER")

#: said on any system but Windows (catalogue Messages: the CLI renders them in the run's language)
NOT_WINDOWS = Message("install.not_windows")
TRUST_VBA = Message("install.trust_vba")


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
        return Status(True, path, False, {}, Message("install.status.not_installed"))
    try:
        config = read_conf_sheet(path) or {}
    except Exception as exc:  # a damaged or foreign file: say so, do not crash
        return Status(True, path, True, {}, Message("install.status.unreadable", path=str(path), error=str(exc)))
    config = {k: v for k, v in config.items() if k in CONFIG_KEYS}
    missing = [k for k in CONFIG_KEYS if not config.get(k)]
    if missing:
        return Status(True, path, True, config, Message("install.status.incomplete", path=str(path), sheet=CONF_SHEET,
                                                        keys=", ".join(missing)))
    if not Path(config["INTERPRETER_WIN"]).exists():
        return Status(True, path, True, config, Message("install.status.interpreter_gone", path=str(path),
                                                        interpreter=config["INTERPRETER_WIN"]))
    return Status(True, path, True, config, Message("install.status.installed", path=str(path),
                                                    interpreter=config["INTERPRETER_WIN"],
                                                    modules=config["UDF MODULES"]))


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
            raise RuntimeError(Message("install.trust_vba_said", advice=TRUST_VBA, error=str(exc))) from None
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
    return Message("install.installed", path=str(target))


def uninstall(platform: str = sys.platform) -> str:
    if platform != "win32":
        return NOT_WINDOWS
    from .outputs import product_kind

    target = xlstart_folder() / ADDIN_NAME
    if target.exists() and product_kind(target) != "add-in":
        return Message("install.not_ours", path=str(target))
    if target.exists():
        target.unlink()
        return Message("install.removed", path=str(target))
    return Message("install.not_installed")
