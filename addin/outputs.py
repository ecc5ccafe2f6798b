"""Where the product writes: the one output-path guard, the product's mark on what it writes, and
the temp files of an atomic save.

Every writer (``report``, ``template``, ``refresh``, ``share``, ``addin build``, the ribbon's
Share, and any new command) calls :func:`check_output` on its target **before any work is done**.
It refuses, with a message that names the path and the fix (:class:`OutputError`):

* a target that is one of the run's inputs — compared by resolved path (links, ``..``, other
  spellings) and by file identity (hard links, case-insensitive file systems);
* a target that exists but is not a regular file: a folder, FIFO, device or socket (writing
  would replace the special file, or block forever on a FIFO);
* a missing folder, a "folder" that is a file, a name longer than the file system allows, a
  read-only folder or file, a file another program holds open (Excel's ``~$name`` lock);
* overwriting an existing file the product did not write, unless ``force`` — the CLI's
  ``--force``, the ribbon's "Replace it?" question (:class:`NeedsConsent`).

What the product wrote is known by a mark it writes into the file (:data:`MARK_PROPERTY`, a
custom document property that Excel and LibreOffice keep), not by the file's name; likewise each
report sheet carries :data:`SHEET_MARK`. A Cycle ROI
*workbook* (the template, possibly filled with the user's own tables) counts as the user's once
its input tables hold data: replacing it needs consent too.

Saves go to a temp file beside the target, then ``os.replace``: a kill mid-save leaves the old
file intact and a temp file named ``~<name>.cycle-roi-unfinished-<pid>-<random>.tmp``, which
says what it is, is ignored by sync clients (``~`` and ``.tmp``), and is removed by the next
run in that folder once the process that made it is gone (:func:`clean_unfinished`). A normal
error removes its own temp file at once.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import sys
import zipfile
from xml.etree import ElementTree
from pathlib import Path
from typing import Any, Iterable

from calc.messages import Message, render

#: Custom document property that marks a file as written by Cycle ROI; its value is the kind.
MARK_PROPERTY = "CycleROI"
#: Kinds the product writes. Only "template" may hold the user's own tables.
KINDS = ("report", "template", "finance copy", "add-in", "self-test")
#: Sheet-scoped defined name on every report sheet the product writes; its value is the section key
#: (``="dashboard"``). It moves with the sheet when the user renames it, and a refresh replaces only
#: sheets that carry it — never a sheet because of its name.
SHEET_MARK = "CycleROI_report"
#: Marker of temp files of a save in progress (see the module docstring).
UNFINISHED = "cycle-roi-unfinished"
_UNFINISHED_NAME = re.compile(r"^~(?P<name>.+)\.%s-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$" % UNFINISHED)
#: Temp files of the versions before this rule (mkstemp: ``.~<stem>-<8 random chars><suffix>``).
_LEGACY_NAME = re.compile(r"^\.~(?P<stem>.+)-[a-z0-9_]{8}(?P<suffix>\.xls[xm]|\.xlam)$")
#: Longest file name most file systems take (bytes: ext4, APFS, NTFS count UTF-16 units up to 255).
NAME_MAX = 255


class OutputError(OSError):
    """The output path cannot be written as asked; the message (a catalogue :class:`~calc.messages.Message`)
    names the path and the fix. ``str()`` is the English text; :meth:`render` writes it in any language."""

    def render(self, language: str = "en") -> str:
        return render(self.args[0], language) if self.args else ""


class TargetLockedError(OutputError):
    """The target file is open in another program or read-only."""


class NeedsConsent(OutputError):
    """The target exists and holds something the product did not write: replacing it needs consent
    (``--force`` in the CLI, a Yes in Excel). ``question`` is the sentence to ask."""

    def __init__(self, message: Any, *, path: Path, question: Any) -> None:
        super().__init__(message)
        self.path, self.question = path, question


def check_output(target: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = (),
                 force: bool = False, in_place: bool = False, suffixes: tuple[str, ...] | None = None,
                 option: str = "-o", same_as_input_fix: str | None = None,
                 notes: list[str] | None = None) -> Path:
    """Check ``target`` before any work; return its absolute path (links resolved) or raise.

    ``inputs``: every file the run reads (None entries are skipped). ``in_place``: the target is
    the workbook being edited on purpose (refresh without ``-o``): no input or consent check.
    ``suffixes``: endings the file must have (the writer makes that kind of file). ``force``:
    the user agreed to replace a file the product did not write. ``notes`` gets a sentence per
    temp file of an interrupted earlier save that was removed from the folder. Raises :class:`OutputError`
    (:class:`TargetLockedError` for locks, :class:`NeedsConsent` when only consent is missing).
    """
    raw = os.fspath(target)
    if not raw.strip():
        raise OutputError(Message("output.empty", option=option))
    path = Path(raw).expanduser()
    shown = raw
    if path.name in ("", ".", ".."):
        raise OutputError(Message("output.folder", path=shown, option=option, example=str(path / "report.xlsx")))
    _check_name(path, shown, option)
    folder = _check_folder(path, shown)
    if path.is_symlink() and not path.exists():
        raise OutputError(Message("output.dangling_link", path=shown, target=os.readlink(path), option=option))
    final = path.resolve()
    if path.exists():
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise OutputError(Message("output.folder", path=shown, option=option, example=str(path / "report.xlsx")))
        if not stat.S_ISREG(mode):
            raise OutputError(Message("output.special", path=shown, kind=_special_kind(mode), option=option))
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(Message("output.suffix" if len(suffixes) == 1 else "output.suffixes", path=shown,
                                  first=suffixes[0], second=suffixes[-1], example=path.with_suffix(suffixes[0]).name))
    if not in_place:
        for source in inputs:
            if source is not None and same_file(path, source):
                raise OutputError(Message("output.is_input", path=shown, source=os.fspath(source),
                                          fix=same_as_input_fix or Message("output.is_input.fix", option=option)))
    check_writable(final, option=option)
    _check_folder_writable(folder, shown, option)
    if path.exists() and not in_place and not force:
        reason = why_not_replaceable(final)
        if reason:
            raise NeedsConsent(Message("output.exists", path=shown, reason=reason, option=option),
                               path=final, question=Message("output.exists.question", name=final.name, reason=reason))
    for removed in clean_unfinished(final.parent):
        if notes is not None:
            notes.append(Message("output.removed_unfinished", name=removed.name))
    return final


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True if two paths name one file: the same resolved path, or the same file identity.

    >>> same_file("a/../b.xlsx", "b.xlsx")
    True
    """
    a, b = Path(a).expanduser(), Path(b).expanduser()
    if os.path.normcase(a.resolve()) == os.path.normcase(b.resolve()):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive or mounted-twice spellings
    except OSError:
        return False


def _check_name(path: Path, shown: str, option: str) -> None:
    limit = NAME_MAX
    try:
        limit = os.pathconf(path.parent if path.parent.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # Windows has no pathconf
        pass
    size = len(path.name.encode(sys.getfilesystemencoding(), "surrogateescape"))
    if size > limit:
        raise OutputError(Message("output.name_too_long", name=path.name[:40], size=str(size), limit=str(limit),
                                  option=option))


def _check_folder(path: Path, shown: str) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        # the first missing folder on the way tells the user what to create
        missing = folder
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        raise OutputError(Message("output.no_folder", folder=str(folder), missing=str(missing)))
    if not folder.is_dir():
        raise OutputError(Message("output.folder_is_file", path=shown, folder=str(folder)))
    return folder


def _check_folder_writable(folder: Path, shown: str, option: str) -> None:
    """Refuse a folder without write permission (its write bits, as for files: an administrator may
    write anything, but a read-only folder is meant to stay), then prove it by creating a temp file."""
    if not os.stat(folder).st_mode & 0o222 or not os.access(folder, os.W_OK | os.X_OK):
        raise TargetLockedError(Message("output.folder_read_only", folder=str(folder.resolve()), path=shown,
                                        option=option))
    probe = temp_path(folder / "probe")
    try:
        with open(probe, "xb"):
            pass
    except OSError as exc:
        raise TargetLockedError(Message("output.cannot_create", folder=str(folder.resolve()),
                                        detail=str(exc.strerror or exc), option=option)) from None
    finally:
        if probe.exists():
            probe.unlink()


def _special_kind(mode: int) -> Message:
    if stat.S_ISFIFO(mode):
        return Message("output.kind.fifo")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Message("output.kind.device")
    if stat.S_ISSOCK(mode):
        return Message("output.kind.socket")
    return Message("output.kind.special")


def check_writable(final: str | os.PathLike, *, option: str = "-o") -> None:
    """Raise TargetLockedError if ``final`` is open in Excel/WPS/LibreOffice or read-only."""
    final = Path(final)
    for lock in (final.with_name(f"~${final.name}"), final.with_name(f".~lock.{final.name}#")):
        if lock.exists():  # Excel/WPS (~$) and LibreOffice (.~lock) mark files they have open
            raise TargetLockedError(Message("output.open_elsewhere", path=str(final), lock=lock.name, option=option))
    # the write bits, not os.access: an administrator may write anything, but a read-only file is meant to stay
    if final.exists() and not final.stat().st_mode & 0o222:
        raise TargetLockedError(Message("output.read_only", path=str(final), option=option))


# --- the product's mark -------------------------------------------------------------------------

def product_kind(path: str | os.PathLike) -> str | None:
    """The kind the product wrote into ``path`` (see :data:`KINDS`), or None for anything else."""
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            if "docProps/custom.xml" in names and book.getinfo("docProps/custom.xml").file_size < 1 << 20:
                kind = _marked_kind(book.read("docProps/custom.xml"))
                if kind in KINDS:
                    return kind
            if "customUI/customUI.xml" in names and b'id="CycleROITab"' in book.read("customUI/customUI.xml"):
                return "add-in"  # the .xlam is xlwings' template with our ribbon part
    except (OSError, zipfile.BadZipFile, ValueError, KeyError):
        return None
    return None


_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_VTYPES = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"


def _marked_kind(custom_xml: bytes) -> str | None:
    """The value of the mark property in a docProps/custom.xml part, read by namespace rather than by
    prefix: writers spell the same XML differently (openpyxl with lxml declares ``vt`` on the value)."""
    try:
        root = ElementTree.fromstring(custom_xml)
    except ElementTree.ParseError:
        return None
    for prop in root.iter(f"{_CUSTOM}property"):
        if prop.get("name") == MARK_PROPERTY:
            value = prop.find(f"{_VTYPES}lpwstr")
            return value.text if value is not None else None
    return None


def why_not_replaceable(path: Path) -> Message | None:
    """Why replacing the existing file ``path`` needs consent, or None when the product wrote it
    and it holds nothing of the user's."""
    kind = product_kind(path)
    if kind is None:
        return Message("output.reason.not_ours")
    if kind == "template" and _holds_input_rows(path):
        return Message("output.reason.holds_rows")
    return None


def _holds_input_rows(path: Path) -> bool:
    try:
        from addin.workbook.files import FilePort
        from addin.workbook.port import has_data

        port = FilePort(path)
        return any(has_data(port.read_table(name)) for name in ("Spend", "Leads", "Deals"))
    except Exception:  # unreadable: treat as the user's, never replace it silently
        return True


# --- temp files of a save in progress -----------------------------------------------------------

def temp_path(final: Path) -> Path:
    """A temp file name beside ``final`` that says what it is, kept within the name limit."""
    tail = f".{UNFINISHED}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    name = final.name
    room = NAME_MAX - 1 - len(tail)
    while len(name.encode("utf-8", "surrogateescape")) > room:
        name = name[:-1]
    return final.with_name(f"~{name}{tail}")


def clean_unfinished(folder: str | os.PathLike) -> list[Path]:
    """Remove temp files of interrupted saves in ``folder`` whose process is gone; return them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _UNFINISHED_NAME.match(entry.name)
        legacy = _LEGACY_NAME.match(entry.name)
        if not (match or legacy) or not entry.is_file(follow_symlinks=False):
            continue
        if match and _process_alive(int(match.group("pid"))):
            continue  # another run is saving right now
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:  # Windows: still open in a running process — it is not ours to remove
            pass
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process may be saving it right now (the ribbon's long-lived Python)
    if os.name == "nt":
        return True  # os.kill(pid, 0) would terminate it on Windows; unlink fails on open files instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
