"""``cycle-roi addin install|status|uninstall|build``: put the Cycle ROI add-in into Excel.

Windows (Excel desktop):

* install: builds the .xlam (``addin.ribbon.xlam.build_xlam``) into Excel's XLSTART folder,
  opens it in a hidden Excel, imports the VBA callbacks (``addin/ribbon/CycleROI.bas``) and the
  UDFs (``addin.udfs``) into it, saves it, and writes xlwings' user config (interpreter = this
  Python, ``UDF Modules`` = addin.udfs, UDF server on) so user workbooks stay plain .xlsx;
* status: what is installed and configured; uninstall: removes the .xlam and the config keys.

Other systems: the .xlam can be built (``build``) but not installed — importing VBA needs Excel
for Windows; every headless command (report, refresh, share, template) works everywhere.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ADDIN_NAME = "cycle_roi.xlam"
UDF_MODULES = "addin.udfs"
CONFIG_KEYS = ("INTERPRETER_WIN", "UDF MODULES", "USE UDF SERVER")

NOT_WINDOWS = (
    "The Excel add-in (ribbon and =CONSULT_COST(...)-style functions) installs on Windows with Excel desktop only: "
    "it imports VBA callbacks and registers functions through Excel's COM interface. On this system you can:\n"
    "  - build the add-in file: cycle-roi addin build -o cycle_roi.xlam (copy it to a Windows PC and run "
    "cycle-roi addin install there)\n"
    "  - use everything headless: cycle-roi report / refresh / share / template\n"
    "macOS Excel can run xlwings add-ins, but this installer does not set them up; see docs/troubleshooting.md."
)


@dataclass(frozen=True)
class Status:
    supported: bool
    addin_path: Path | None
    addin_present: bool
    config: dict[str, str]
    message: str


def xlstart_folder() -> Path:
    return Path(os.environ.get("APPDATA", str(Path.home()))) / "Microsoft" / "Excel" / "XLSTART"


def user_config() -> dict[str, str]:
    """xlwings' user config (~/.xlwings/xlwings.conf) as {key: value}."""
    import xlwings as xw

    path = Path(xw.USER_CONFIG_FILE)
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "," in line:
            key, value = line.split(",", 1)
            out[key.strip('"')] = value.strip().strip('"')
    return out


def interpreter() -> str:
    """pythonw.exe beside this python.exe (no console window flashing on each click)."""
    exe = Path(sys.executable)
    windowless = exe.with_name("pythonw.exe")
    return str(windowless if windowless.exists() else exe)


def status(platform: str = sys.platform) -> Status:
    config = {k: v for k, v in user_config().items() if k in CONFIG_KEYS}
    if platform != "win32":
        return Status(False, None, False, config, NOT_WINDOWS)
    path = xlstart_folder() / ADDIN_NAME
    present = path.exists()
    missing = [k for k in CONFIG_KEYS if k not in config]
    if present and not missing:
        message = f"Installed: {path}; interpreter {config['INTERPRETER_WIN']}; UDF modules {config['UDF MODULES']}."
    elif present:
        message = f"The add-in is at {path} but xlwings is not configured ({', '.join(missing)}): run cycle-roi addin install."
    else:
        message = "Not installed: run cycle-roi addin install."
    return Status(True, path, present, config, message)


def install(platform: str = sys.platform) -> str:
    if platform != "win32":
        return NOT_WINDOWS
    import xlwings as xw
    from xlwings.cli import update_user_config

    from .ribbon.customui import VBA_FILE
    from .ribbon.xlam import build_xlam

    target = xlstart_folder() / ADDIN_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    build_xlam(target)
    app = xw.App(visible=False, add_book=False)
    try:
        book = app.books.open(str(target))
        try:
            book.api.VBProject.VBComponents.Import(str(VBA_FILE))
        except Exception as exc:  # COM error when VBA project access is not trusted
            raise RuntimeError(
                "Excel refused to import the ribbon callbacks. In Excel: File > Options > Trust Center > "
                "Trust Center Settings > Macro Settings > tick 'Trust access to the VBA project object model', "
                f"then run cycle-roi addin install again ({exc})") from None
        from xlwings.udfs import import_udfs

        import_udfs([UDF_MODULES], book.api)
        book.save()
        book.close()
    finally:
        app.quit()
    update_user_config("INTERPRETER_WIN", interpreter())
    update_user_config("UDF MODULES", UDF_MODULES)
    update_user_config("USE UDF SERVER", "True")
    return (f"Installed {target}. Restart Excel: the Cycle ROI tab appears and =CONSULT_COST(...) works in any "
            f"workbook. Check with docs/windows_smoke.md.")


def uninstall(platform: str = sys.platform) -> str:
    if platform != "win32":
        return NOT_WINDOWS
    from xlwings.cli import update_user_config

    target = xlstart_folder() / ADDIN_NAME
    removed = target.exists()
    if removed:
        target.unlink()
    for key in CONFIG_KEYS:
        update_user_config(key, action="remove")
    return f"Removed {target}." if removed else "The add-in was not installed; xlwings settings of Cycle ROI removed."
