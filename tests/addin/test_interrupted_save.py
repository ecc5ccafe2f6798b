"""A save killed half-way never damages the file it replaces, leaves a temp file whose name says what
it is, and the next run in that folder removes it. A polite stop (SIGTERM) leaves nothing behind.

Real processes, real signals: ``cycle-roi refresh`` runs in a subprocess and is killed while its temp
file is being written (the moment the temp file appears, and a little later).
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from addin.outputs import UNFINISHED, clean_unfinished, temp_path
from addin.report.template import build_template, sample_tables

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("book")
    return build_template(folder / "book.xlsx", tables=sample_tables(until="2025-02-28"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unfinished(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if UNFINISHED in p.name)


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "addin.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_while_saving(process: subprocess.Popen, target: Path, sig: int, delay: float) -> bool:
    """Send ``sig`` once the save's temp file for ``target`` exists (plus ``delay``); False if the run
    ended first."""
    prefix = f"~{target.name}.{UNFINISHED}-{process.pid}-"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(prefix) for p in target.parent.iterdir()):
            time.sleep(delay)
            process.send_signal(sig)
            process.wait(60)
            return True
        time.sleep(0.002)
    return False


@pytest.mark.parametrize("command, delay", [("refresh", 0.0), ("refresh", 0.2), ("report", 0.0)])
def test_a_kill_mid_save_keeps_the_file_and_the_next_run_removes_the_temp_file(book, tmp_path, command, delay):
    target = tmp_path / "book.xlsx"
    target.write_bytes(book.read_bytes())
    before = digest(target)
    if command == "refresh":  # openpyxl rewrites the workbook in place
        process = start("refresh", str(target))
    else:  # xlsxwriter replaces an earlier report (the target holds the filled workbook: --force)
        data = REPO / "addin" / "sample_data"
        process = start("report", "--leads", str(data / "leads.csv"), "--deals", str(data / "deals.csv"),
                        "-o", str(target), "--force")
    assert kill_while_saving(process, target, signal.SIGKILL, delay), process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert digest(target) == before  # the workbook is exactly as it was
    left = unfinished(tmp_path)
    assert len(left) == 1 and left[0].name.startswith(f"~book.xlsx.{UNFINISHED}-{process.pid}-")
    assert left[0].suffix == ".tmp"  # never opened as a workbook, skipped by sync clients

    # the next run that writes into this folder cleans up and says so
    done = start("template", "-o", str(tmp_path / "other.xlsx"))
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert f"removed {left[0].name}" in " ".join(err.decode().split())
    assert unfinished(tmp_path) == [] and digest(target) == before


def test_a_polite_stop_mid_save_leaves_no_temp_file(book, tmp_path):
    target = tmp_path / "book.xlsx"
    target.write_bytes(book.read_bytes())
    before = digest(target)
    process = start("refresh", str(target))
    assert kill_while_saving(process, target, signal.SIGTERM, 0.0), process.communicate()
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in process.stderr.read().decode()
    assert digest(target) == before and unfinished(tmp_path) == []


def test_temp_files_of_a_running_save_are_left_alone(tmp_path):
    """Another run saving into the same folder right now keeps its temp file."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = tmp_path / f"~x.xlsx.{UNFINISHED}-{sleeper.pid}-0123abcd.tmp"
        theirs.write_bytes(b"half")
        ours = temp_path(tmp_path / "x.xlsx")
        ours.write_bytes(b"half")  # this process is alive too: its own saves are never removed
        user_file = tmp_path / "~x.xlsx.notes.tmp"  # a name that only looks similar
        user_file.write_bytes(b"mine")
        assert clean_unfinished(tmp_path) == []
        assert theirs.exists() and ours.exists() and user_file.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert clean_unfinished(tmp_path) == [theirs]
    assert user_file.read_bytes() == b"mine"


def test_temp_names_stay_within_the_name_limit_and_say_what_they_are(tmp_path):
    long = tmp_path / ("r" * 250 + ".xlsx")
    name = temp_path(long).name
    assert len(name.encode()) <= 255 and name.startswith("~rrr") and f".{UNFINISHED}-{os.getpid()}-" in name
