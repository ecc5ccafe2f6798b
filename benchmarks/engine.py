"""Time one engine on the standard workload, in a process of its own.

    python benchmarks/engine.py polars DIR N REPS   ->  median_s=...
    python benchmarks/engine.py calc DIR N REPS
    python benchmarks/engine.py report DIR N REPS   (the `cycle-roi report` command run again in one warm process)

run.py times polars and Cycle ROI each in a fresh process so neither inherits the other's state:
measured in one process, the calc workload ran 25 % slower right after polars (0.53 s vs 0.43 s;
still 0.44 s a second later), polars' worker threads and allocator still busy with what it just did.
"""
from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_BENCH = HERE.parent.parent / "shared" / "bench"


def median_seconds(fn, reps: int) -> float:
    fn()  # warm-up: imports, caches, page cache
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference_module(folder: Path):
    spec = importlib.util.spec_from_file_location("reference_polars", SHARED_BENCH / "reference_polars.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.D = str(folder)
    return module


def reference_run(ref, n: int) -> None:
    data = ref.load(n)
    for step in ref.STEPS.values():
        step(*data)


def report_command(folder: Path, n: int, out: Path) -> list[str]:
    """The arguments of the benchmark's `cycle-roi report` run (run.py times it as a whole process too)."""
    return ["report", "--spend", str(folder / "spend.parquet"), "--leads", str(folder / f"leads_{n}.parquet"),
            "--deals", str(folder / f"deals_{n}.parquet"), "-o", str(out)]


def warm_report(folder: Path, n: int):
    """The `report` command as a no-argument function, run inside this process: after the warm-up run it
    measures the command's own work (reading to writing), without start-up, imports or exit."""
    from typer.testing import CliRunner

    from addin.cli import app

    args = [*report_command(folder, n, folder / f"report_{n}_warm.xlsx"), "--force"]

    def run() -> None:
        result = CliRunner().invoke(app, args)
        if result.exit_code != 0:
            raise RuntimeError(result.output)
    return run


def engine_run(kind: str, folder: Path, n: int):
    """The workload as a no-argument function: polars' reference, Cycle ROI's public API, or the report command."""
    if kind == "polars":
        ref = reference_module(folder)
        return lambda: reference_run(ref, n)
    if kind == "report":
        return warm_report(folder, n)
    sys.path.insert(0, str(HERE))
    import workload

    return lambda: workload.run(folder, n)


if __name__ == "__main__":
    kind, folder, n, reps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(f"median_s={median_seconds(engine_run(kind, folder, n), reps)}")
