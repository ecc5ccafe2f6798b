"""Time one engine on the standard workload, in a process of its own.

    python benchmarks/engine.py polars DIR N REPS   ->  median_s=...
    python benchmarks/engine.py calc DIR N REPS

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


def engine_run(kind: str, folder: Path, n: int):
    """The workload as a no-argument function: polars' reference, or Cycle ROI's public API."""
    if kind == "polars":
        ref = reference_module(folder)
        return lambda: reference_run(ref, n)
    sys.path.insert(0, str(HERE))
    import workload

    return lambda: workload.run(folder, n)


if __name__ == "__main__":
    kind, folder, n, reps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(f"median_s={median_seconds(engine_run(kind, folder, n), reps)}")
