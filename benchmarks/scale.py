"""Past one machine's memory: the standard workload through the DuckDB route, against polars, as ratios.

    python benchmarks/scale.py --data /tmp/bench --sizes 1000000 5000000 20000000     # one run per size
    python benchmarks/scale.py --data /tmp/bench --sizes 50000000 --report-only        # the big one, alone

For each size, each in a fresh process (see engine.py for why): polars' reference workload (loading
included), the same workload through ``--source duckdb://`` (DuckDB sums the Parquet files where they
lie, calc answers from the aggregates; ``workload.analyses``) with the peak memory of that process,
and the whole ``cycle-roi report --source duckdb://`` process (start-up, summing, every sheet, writing)
with its peak memory. Ratios are to polars in the same run; growth is each size's time ÷ the first
size's, against the size ratio (linear growth = the same number). Results go to
``benchmarks/results/scale-<time>.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from run import SHARED_BENCH, engine_seconds  # noqa: E402  (same process launcher as run.py)


def ensure_data(folder: Path, n: int) -> None:
    if not (folder / f"leads_{n}.parquet").exists() or not (folder / "spend.parquet").exists():
        subprocess.run([sys.executable, str(SHARED_BENCH / "make_data.py"), str(n)], check=True,
                       env={**os.environ, "BENCH_DATA": str(folder)})


def duckdb_workload(folder: Path, n: int) -> dict:
    """Seconds and peak memory (VmHWM, MiB) of one process summing through DuckDB and answering the workload."""
    code = ("import sys, time; sys.path.insert(0, %r); import workload; from addin import sources; "
            "from pathlib import Path; f = Path(%r); t = time.perf_counter(); "
            "data = sources.load('duckdb://', spend=f / 'spend.parquet', leads=f / 'leads_%d.parquet', "
            "deals=f / 'deals_%d.parquet'); loaded = time.perf_counter() - t; workload.analyses(data); "
            "print(f'seconds={time.perf_counter() - t} summed={loaded} peak={workload.peak_rss_mib()} "
            "rows={len(data.leads)}')") % (str(HERE), str(folder), n, n)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    fields = dict(item.split("=") for item in result.stdout.split())
    return {"seconds": float(fields["seconds"]), "summing_seconds": float(fields["summed"]),
            "peak_mib": float(fields["peak"]), "aggregate_lead_rows": int(fields["rows"])}


def report_process(folder: Path, n: int, out: Path, reps: int = 1) -> dict:
    """Seconds (median of ``reps`` runs) and peak memory of the whole ``cycle-roi report --source duckdb://``
    process."""
    command = [sys.executable, "-m", "addin.cli", "report", "--source", "duckdb://",
               "--spend", str(folder / "spend.parquet"), "--leads", str(folder / f"leads_{n}.parquet"),
               "--deals", str(folder / f"deals_{n}.parquet"), "-o", str(out), "--force"]
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    # a small launcher of its own, so the children's peak is the report's alone (not this script's)
    runs = []
    for _ in range(reps):
        result = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, check=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        runs.append(tuple(map(float, result.stdout.split())))
    return {"seconds": statistics.median(r[0] for r in runs), "peak_mib": max(r[1] for r in runs),
            "runs_s": [r[0] for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BENCH_DATA", REPO / "bench-data")))
    parser.add_argument("--reps", type=int, default=3, help="timed polars runs per size (after a warm-up)")
    parser.add_argument("--report-reps", type=int, default=3, help="report processes per size (median)")
    parser.add_argument("--report-only", action="store_true", help="only the report process (the 50M run)")
    parser.add_argument("--no-polars", action="store_true",
                        help="leave polars out (50M: its reference alone would hold the whole tables in memory)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "calc"), str(REPO / "addin")],
                   check=True, capture_output=True)
    rows = []
    for n in args.sizes:
        ensure_data(args.data, n)
        row = {"consultations": n, "load_average_before": os.getloadavg()}
        if not args.no_polars:
            row["polars_s"] = engine_seconds("polars", args.data, n, args.reps)
        if not args.report_only:
            row["duckdb_workload"] = duckdb_workload(args.data, n)
            if "polars_s" in row:
                row["workload_vs_polars"] = row["duckdb_workload"]["seconds"] / row["polars_s"]
        row["report"] = report_process(args.data, n, args.data / f"report_{n}.xlsx", args.report_reps)
        row["load_average_after"] = os.getloadavg()  # 1, 5 and 15 minutes: how busy the shared machine was
        if "polars_s" in row:
            row["report_vs_polars"] = row["report"]["seconds"] / row["polars_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    first = rows[0]
    for row in rows[1:]:
        size = row["consultations"] / first["consultations"]
        row["growth"] = {"size": size, "report": row["report"]["seconds"] / first["report"]["seconds"]}
        if "polars_s" in row and "polars_s" in first:
            row["growth"]["polars"] = row["polars_s"] / first["polars_s"]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H%M")
    out = HERE / "results" / f"scale-{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "sizes": args.sizes, "rows": rows}, indent=1))
    print(f"saved {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
