"""Every command that writes a file refuses a bad output path before any work, with a message that
names the path and the fix, exit code 2 and no traceback — and no file in the folder changes.

The table ``WRITERS`` must name every CLI command that has an ``-o/--output`` option: a new
command without an entry here fails ``test_every_writing_command_is_covered``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from addin.cli import app
from addin.outputs import OutputError, check_output, product_kind, same_file
from addin.report.template import build_template, sample_tables

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Two months of the bundled sample as a Leads workbook and Deals CSV, and a filled workbook."""
    folder = tmp_path_factory.mktemp("inputs")
    tables = sample_tables(until="2025-02-28")
    tables["Leads"].to_excel(folder / "leads.xlsx", index=False)
    tables["Deals"].to_csv(folder / "deals.csv", index=False)
    build_template(folder / "book.xlsx", tables=tables)
    return folder


def writers(folder: Path) -> dict[str, tuple[list[str], list[Path], str]]:
    """command -> (arguments before -o, its input files, the suffix it writes)."""
    leads, deals, book = folder / "leads.xlsx", folder / "deals.csv", folder / "book.xlsx"
    return {
        "report": (["report", "--leads", str(leads), "--deals", str(deals)], [leads, deals], ".xlsx"),
        "template": (["template"], [], ".xlsx"),
        "refresh": (["refresh", str(book)], [book], ".xlsx"),
        "share": (["share", str(book)], [book], ".xlsx"),
        "addin build": (["addin", "build"], [], ".xlam"),
        "selftest": (["selftest"], [], ".xlsx"),
        "lite": (["lite"], [], ".xlsx"),
    }


def writing_commands() -> set[str]:
    def walk(command, prefix: str) -> set[str]:
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            return set().union(*(walk(c, f"{prefix} {n}".strip()) for n, c in command.commands.items()))
        return {prefix} if any(p.name == "output" for p in command.params) else set()

    return walk(typer.main.get_command(app), "")


def test_every_writing_command_is_covered(tmp_path):
    assert writing_commands() == set(writers(tmp_path)), "add the new command to writers() in this test"


def fingerprint(folder: Path) -> dict[str, str]:
    """Every entry of a folder tree: its kind, and a hash of the bytes of regular files."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[str(path)] = stat.filemode(mode)
    return out


def run(command: str, folder: Path, output: str | Path, *extra: str):
    args, _, _ = writers(folder)[command]
    return runner.invoke(app, [*args, "-o", str(output), *extra])


def refused(result, *needles: str) -> None:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in text, (needle, result.output)


def copied_writer(command: str, inputs: Path, tmp_path: Path) -> tuple[list[str], list[Path], str]:
    """The inputs copied to ``tmp_path/inputs_copy`` beside an empty ``tmp_path/out`` folder, and the command's
    writer over the copy: (arguments, the input files it reads, the output's suffix)."""
    shutil.copytree(inputs, tmp_path / "inputs_copy")
    (tmp_path / "out").mkdir()
    return writers(tmp_path / "inputs_copy")[command]


def bad_targets(folder: Path, suffix: str) -> dict[str, tuple[Path, tuple[str, ...]]]:
    """case -> (output path, words the message must contain). Builds the special files."""
    (folder / "a folder").mkdir()
    (folder / f"folder{suffix}").mkdir()
    os.mkfifo(folder / f"fifo{suffix}")
    device = folder / f"device{suffix}"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    except (PermissionError, AttributeError):
        device = Path("/dev/null")  # refused before anything is written, like the private copy
    short = Path(tempfile.mkdtemp(prefix="s", dir="/tmp"))  # AF_UNIX paths are limited to ~100 bytes
    sock_path = short / f"sock{suffix}"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    readonly = folder / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    locked = folder / f"locked{suffix}"
    shutil.copy(folder.parent / "inputs_copy" / "book.xlsx", locked)
    (folder / f"~${locked.name}").write_bytes(b"")
    ro_file = folder / f"ro{suffix}"
    shutil.copy(folder.parent / "inputs_copy" / "book.xlsx", ro_file)
    ro_file.chmod(0o444)
    (folder / "plainfile").write_text("x")
    long_name = "r" * 252 + suffix
    return {
        "folder": (folder / "a folder", ("a folder", "is a folder", "give a file name")),
        "folder with the suffix": (folder / f"folder{suffix}", (f"folder{suffix}", "is a folder")),
        "fifo": (folder / f"fifo{suffix}", (f"fifo{suffix}", "FIFO", "not a regular file")),
        "device": (device, (device.name, "a device", "not a regular file")),
        "socket": (sock_path, (sock_path.name, "a socket")),
        "missing folder": (folder / "no" / "such" / f"out{suffix}", ("does not exist", "mkdir -p")),
        "parent is a file": (folder / "plainfile" / f"out{suffix}", ("plainfile", "not a folder")),
        "name too long": (folder / long_name, ("bytes long", "choose a shorter name")),
        "read-only folder": (readonly / f"out{suffix}", ("readonly", "read-only", "choose another folder")),
        "locked file": (locked, (locked.name, "open in another program", "close it")),
        "read-only file": (ro_file, (ro_file.name, "read-only")),
        "empty": (Path(""), ("is a folder",)),
    }


@pytest.mark.parametrize("command", ["report", "template", "refresh", "share", "addin build", "selftest", "lite"])
def test_bad_output_paths_are_refused_before_any_work_and_nothing_changes(command, inputs, tmp_path):
    _, _, suffix = copied_writer(command, inputs, tmp_path)
    folder = tmp_path / "out"
    targets = bad_targets(folder, suffix)
    try:  # noqa: SIM105
        before = fingerprint(tmp_path)
        for case, (target, needles) in targets.items():
            result = run(command, tmp_path / "inputs_copy", target if case != "empty" else "")
            refused(result, *needles)
            assert fingerprint(tmp_path) == before, case
        assert stat.S_ISFIFO(os.stat(folder / f"fifo{suffix}").st_mode)
        assert stat.S_ISCHR(os.stat(targets["device"][0]).st_mode)
    finally:
        (folder / "readonly").chmod(0o755)
        shutil.rmtree(targets["socket"][0].parent, ignore_errors=True)


@pytest.mark.parametrize("command", ["report", "refresh", "share"])
def test_an_input_as_output_is_refused_in_every_spelling(command, inputs, tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(inputs, folder)
    _, sources, _ = writers(folder)[command]
    source = sources[0]
    (folder / "sub").mkdir()
    (folder / "link.xlsx").symlink_to(source)
    os.link(source, folder / "hardlink.xlsx")
    spellings = {
        "as given": source,
        "with ..": folder / "sub" / ".." / source.name,
        "relative": Path(os.path.relpath(source)),
        "symbolic link": folder / "link.xlsx",
        "hard link": folder / "hardlink.xlsx",
    }
    before = fingerprint(tmp_path)
    for how, spelling in spellings.items():
        result = run(command, folder, spelling, "--force")  # --force never allows destroying an input
        refused(result, "is the input file", "same file", "would destroy it")
        assert fingerprint(tmp_path) == before, how


def test_the_issue_example_report_over_the_leads_workbook(inputs, tmp_path):
    """`report --leads leads.xlsx --deals deals.csv -o leads.xlsx` replaced the Leads workbook (issue 12)."""
    shutil.copytree(inputs, tmp_path / "in")
    leads = tmp_path / "in" / "leads.xlsx"
    before = fingerprint(tmp_path)
    result = runner.invoke(app, ["report", "--leads", str(leads), "--deals", str(tmp_path / "in" / "deals.csv"),
                                 "-o", str(leads)])
    refused(result, "leads.xlsx is the input file", "Give -o a new file name")
    assert fingerprint(tmp_path) == before


def test_refresh_o_naming_the_book_itself_is_refused_with_the_in_place_hint(inputs, tmp_path):
    shutil.copytree(inputs, tmp_path / "in")
    book = tmp_path / "in" / "book.xlsx"
    before = fingerprint(tmp_path)
    refused(runner.invoke(app, ["refresh", str(book), "-o", str(tmp_path / "in" / "." / "book.xlsx")]),
            "Leave out -o to refresh it in place")
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize("command", ["report", "template", "refresh", "share", "addin build", "selftest", "lite"])
def test_a_file_the_product_did_not_write_is_replaced_only_with_force(command, inputs, tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(inputs, folder)
    _, _, suffix = writers(folder)[command]
    theirs = tmp_path / f"theirs{suffix}"
    openpyxl.Workbook().save(theirs)  # someone's own workbook (no Cycle ROI mark)
    before = fingerprint(tmp_path)
    result = run(command, folder, theirs)
    refused(result, f"theirs{suffix}", "already exists and was not written by Cycle ROI", "--force")
    assert fingerprint(tmp_path) == before
    result = run(command, folder, theirs, "--force")
    assert result.exit_code == 0, result.output
    assert product_kind(theirs) is not None
    # what the product wrote it may replace again without --force — except a refreshed copy, which
    # holds the user's own tables (they may have edited them since)
    result = run(command, folder, theirs)
    if command == "refresh":
        refused(result, "holding your own Spend/Leads/Deals rows", "--force")
    else:
        assert result.exit_code == 0, result.output


def test_a_cycle_roi_workbook_holding_the_users_rows_needs_force(inputs, tmp_path):
    """The template is the user's working file once its tables hold rows: `template -o` over it asks."""
    book = tmp_path / "book.xlsx"
    shutil.copy(inputs / "book.xlsx", book)
    before = fingerprint(tmp_path)
    refused(runner.invoke(app, ["template", "-o", str(book)]), "holding your own Spend/Leads/Deals rows", "--force")
    assert fingerprint(tmp_path) == before
    empty = build_template(tmp_path / "empty.xlsx")
    assert product_kind(empty) == "template"
    assert runner.invoke(app, ["template", "-o", str(empty)]).exit_code == 0  # nothing of the user's in it


def test_marks_of_each_kind(inputs, tmp_path):
    assert product_kind(inputs / "book.xlsx") == "template"
    assert product_kind(inputs / "leads.xlsx") is None  # pandas wrote it, not Cycle ROI
    assert runner.invoke(app, ["share", str(inputs / "book.xlsx"), "-o", str(tmp_path / "f.xlsx")]).exit_code == 0
    assert product_kind(tmp_path / "f.xlsx") == "finance copy"
    assert runner.invoke(app, ["refresh", str(inputs / "book.xlsx"), "-o", str(tmp_path / "r.xlsx")]).exit_code == 0
    assert product_kind(tmp_path / "r.xlsx") == "template"  # a refreshed copy still holds the user's tables


def test_same_file_compares_identity_not_text(tmp_path):
    a = tmp_path / "a.xlsx"
    a.write_bytes(b"x")
    os.link(a, tmp_path / "b.xlsx")
    (tmp_path / "c.xlsx").symlink_to(a)
    assert same_file(a, tmp_path / "b.xlsx") and same_file(a, tmp_path / "c.xlsx")
    assert same_file(a, tmp_path / "." / "a.xlsx")
    assert not same_file(a, tmp_path / "d.xlsx")


def test_a_dangling_link_as_output_is_refused(tmp_path):
    (tmp_path / "out.xlsx").symlink_to(tmp_path / "gone" / "x.xlsx")
    with pytest.raises(OutputError, match="link to .* which does not exist"):
        check_output(tmp_path / "out.xlsx")


def test_wrong_suffix_is_refused_before_work(tmp_path):
    refused(runner.invoke(app, ["template", "-o", str(tmp_path / "t.csv")]), "must end in .xlsx", "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_addin_install_and_uninstall_leave_an_add_in_that_is_not_ours(tmp_path, monkeypatch):
    """XLSTART may hold someone else's cycle_roi.xlam: install refuses before starting Excel, uninstall keeps it."""
    from addin import install
    from addin.ribbon.xlam import build_xlam

    monkeypatch.setenv("APPDATA", str(tmp_path))
    target = install.xlstart_folder() / install.ADDIN_NAME
    target.parent.mkdir(parents=True)
    openpyxl.Workbook().save(target)
    original = target.read_bytes()
    with pytest.raises(OutputError, match="was not written by Cycle ROI"):
        install.install(platform="win32")
    assert "left as it is" in install.uninstall(platform="win32") and target.read_bytes() == original
    target.unlink()
    build_xlam(target)
    assert product_kind(target) == "add-in"
    assert install.uninstall(platform="win32").startswith("Removed") and not target.exists()


def test_temp_files_of_earlier_versions_are_removed_too(tmp_path):
    from addin.outputs import clean_unfinished

    old = tmp_path / ".~report-k2j4x9_q.xlsx"  # tempfile.mkstemp's names before this rule
    old.write_bytes(b"half")
    mine = tmp_path / ".~report notes.xlsx"  # a user's file that merely starts the same way
    mine.write_bytes(b"mine")
    assert clean_unfinished(tmp_path) == [old] and mine.exists()


@pytest.mark.parametrize("custom_xml", [
    # as xlsxwriter and openpyxl without lxml write it
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="CycleROI">'
    b'<vt:lpwstr>template</vt:lpwstr></property></Properties>',
    # as openpyxl writes it when lxml is installed (captured from openpyxl 3.1.5 with lxml 6.1): the same
    # property, the vt namespace declared on the value
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"><property '
    b'name="CycleROI" fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2"><vt:lpwstr xmlns:vt="http://'
    b'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">template</vt:lpwstr></property></Properties>',
])
def test_the_mark_is_read_however_the_xml_spells_it(custom_xml, tmp_path):
    import zipfile

    from addin.outputs import product_kind

    book = tmp_path / "book.xlsx"
    with zipfile.ZipFile(book, "w") as out:
        out.writestr("docProps/custom.xml", custom_xml)
    assert product_kind(book) == "template"


#: Words a translated refusal may keep: the product, programs, options and commands the user types.
KEPT_WORDS = {"Cycle", "ROI", "Excel", "WPS", "FIFO", "mkdir", "force", "o", "p", "xlsx", "xlam", "csv", "Spend",
              "Leads", "Deals", "language"}


def english_words(output: str, paths: list[Path]) -> set[str]:
    """The Latin-letter words of ``output`` once the paths and file names it names are taken out."""
    import re

    text = " ".join(output.split())
    names = {s for p in paths for s in (str(p), p.name, p.name[:40], *map(str, p.parents))}  # [:40]: a long name is cut
    for path in sorted(names, key=len, reverse=True):
        if path not in ("", "."):
            text = text.replace(path, " ")
    text = re.sub(r"[\w/.~-]*\.(?:xlsx|xlam|xlsm|csv|txt)\b", " ", text)  # example file names (report.xlsx)
    return set(re.findall(r"[A-Za-z]+", text)) - KEPT_WORDS


@pytest.mark.parametrize("command", ["report", "template", "refresh", "share", "addin build", "selftest", "lite"])
def test_output_path_refusals_in_chinese_hold_no_english_sentence(command, inputs, tmp_path):
    # the same refusals as above, run with --language zh: the whole message comes from the catalogue
    args, sources, suffix = copied_writer(command, inputs, tmp_path)
    folder = tmp_path / "out"
    targets = {case: target for case, (target, _) in bad_targets(folder, suffix).items()}
    theirs = tmp_path / f"theirs{suffix}"
    openpyxl.Workbook().save(theirs)  # exists and not written by Cycle ROI: needs --force
    targets.update({"not ours": theirs, "wrong suffix": tmp_path / "t.txt"})
    if sources:
        targets["an input"] = sources[0]
    try:
        for case, target in targets.items():
            result = runner.invoke(app, ["--language", "zh", *args, "-o", str(target) if case != "empty" else ""])
            assert result.exit_code == 2 and "Traceback" not in result.output, (case, result.output)
            assert "错误" in result.output, (case, result.output)
            assert english_words(result.output, [target, *sources, tmp_path]) == set(), (case, result.output)
    finally:
        (folder / "readonly").chmod(0o755)
        shutil.rmtree(targets["socket"].parent, ignore_errors=True)
