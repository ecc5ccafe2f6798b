"""Cycle ROI benchmarks: every figure is a ratio to a baseline measured in the same run.

    python benchmarks/run.py                       # 100k, 1M and 5M consultations (needs polars for the reference)
    python benchmarks/run.py --sizes 100000 1000000 --reps 3

Data: ../shared/bench/make_data.py writes the standard workload into --data (made once, reused).
Results: printed, and saved as JSON in benchmarks/results/ so later changes can be compared.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(HERE))

import workload  # noqa: E402  (benchmarks/workload.py)
from engine import median_seconds, report_command  # noqa: E402  (benchmarks/engine.py)

TARGETS = {  # issue 6: the ratio each figure must stay within; issue 18 raised calc to 1.0 and the report to 5
    "calc_vs_polars": 1.0, "growth_5m_vs_1m": 5.5, "peak_memory_mib_1m": 1024,
    "udf_warm_vs_cold": 0.10, "xlsx_read_vs_calamine": 1.5, "report_process_vs_polars": 5.0,
}


def engine_seconds(kind: str, folder: Path, n: int, reps: int) -> float:
    """Median seconds of one engine's workload, timed in a fresh process (see engine.py for why)."""
    result = subprocess.run([sys.executable, str(HERE / "engine.py"), kind, str(folder), str(n), str(reps)],
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().split("=")[-1])


def ensure_data(folder: Path, sizes: list[int]) -> None:
    missing = [n for n in sizes if not (folder / f"leads_{n}.parquet").exists()]
    if missing or not (folder / "spend.parquet").exists():
        env = {**os.environ, "BENCH_DATA": str(folder)}
        subprocess.run([sys.executable, str(SHARED_BENCH / "make_data.py"), *map(str, missing or sizes[:1])],
                       check=True, env=env)


def peak_memory_mib(folder: Path, n: int) -> float:
    result = subprocess.run([sys.executable, str(HERE / "workload.py"), str(folder), str(n)],
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().split("=")[-1])


def excel_lists(folder: Path, n: int) -> list[list]:
    """What Excel hands Python for Leads[#All]: a header row, then rows of Python values (dates as datetimes)."""
    frame = workload.read_table(folder / f"leads_{n}.parquet", table="Leads")
    columns = [frame[c].astype(object).tolist() for c in frame.columns]
    columns[1] = [d.to_pydatetime() for d in frame["inquiry_date"]]
    return [list(frame.columns), *map(list, zip(*columns))]


def lists_to_calc(rows: list[list]) -> None:
    """The calc input from Excel-shaped rows: the work a UDF does before any figure."""
    import calc
    from addin.convert import frame_from_rows

    calc.prepare(leads=frame_from_rows(rows, table="Leads"))


def udf_cold_warm(folder: Path, n: int = 100_000, calls: int = 100) -> dict:
    """100 Excel-function calls over unchanged 100k-row tables: each re-parsing (cold) vs memoised (warm).

    As in Excel, every call gets its own fresh copy of the tables (new lists, so nothing can be
    recognised by identity); only the function call is timed. The calls cycle through five filters.
    """
    from addin import udfs
    from addin.udfs import registry

    leads = excel_lists(folder, n)
    deals_frame = workload.read_table(folder / f"deals_{n}.parquet", table="Deals").astype(object)
    deals = [list(deals_frame.columns), *map(list, deals_frame.itertuples(index=False, name=None))]
    filters = [None, "channel=Search", "channel=Social", "channel=Video", "channel=Display"]

    def timed(cold: bool) -> float:
        total = 0.0
        for i in range(calls):
            fresh_leads, fresh_deals = [list(r) for r in leads], [list(r) for r in deals]
            if cold:
                registry.clear_cache()
            start = time.perf_counter()
            udfs.INQUIRY_CONVERSION(fresh_leads, fresh_deals, None, None, filters[i % len(filters)])
            total += time.perf_counter() - start
        return total

    registry.clear_cache()
    cold_s = timed(cold=True)
    warm_s = timed(cold=False)
    return {"udf_cold_s": cold_s, "udf_warm_s": warm_s, "udf_warm_vs_cold": warm_s / cold_s}


def xlsx_read(folder: Path, n: int) -> dict:
    """Reading a 1M-row Leads sheet: Cycle ROI's reader vs python-calamine's raw read of the same file."""
    from python_calamine import CalamineWorkbook

    path = folder / f"leads_{n}.xlsx"
    if not path.exists():
        import xlsxwriter

        frame = workload.read_table(folder / f"leads_{n}.parquet", table="Leads")
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("Leads")
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, list(frame.columns))
        for r, row in enumerate(frame.astype(object).itertuples(index=False, name=None), start=1):
            sheet.write_number(r, 0, row[0])
            sheet.write_datetime(r, 1, row[1].to_pydatetime(), dates)
            sheet.write_row(r, 2, row[2:])
        book.close()
    raw = median_seconds(lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Leads").to_python(), 2)
    ours = median_seconds(lambda: workload.read_table(path, table="Leads"), 2)
    return {"calamine_raw_s": raw, "xlsx_read_s": ours, "xlsx_read_vs_calamine": ours / raw}


def report_process(folder: Path, n: int, out: Path, reps: int) -> float | None:
    """Median time of the whole `cycle-roi report` process (start-up and writing included), or None if
    the command is absent.

    The package's modules are byte-compiled first, as ``pip install`` does for an installed package;
    an editable checkout run with PYTHONDONTWRITEBYTECODE (as here) would otherwise recompile every
    module on every start.
    """
    command = [sys.executable, "-m", "addin.cli", *report_command(folder, n, out)]
    probe = subprocess.run([sys.executable, "-m", "addin.cli", "report", "--help"], capture_output=True)
    if probe.returncode != 0:
        return None
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "calc"), str(REPO / "addin")],
                   check=True, capture_output=True)

    def once() -> None:
        subprocess.run(command, check=True, capture_output=True)

    return median_seconds(once, reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--reps", type=int, default=3, help="timed runs per process (after one warm-up run)")
    parser.add_argument("--rounds", type=int, default=3, help="polars/Cycle ROI process pairs per size")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BENCH_DATA", REPO / "bench-data")))
    parser.add_argument("--extras-at", type=int, default=1_000_000, help="size for the Excel-side measurements")
    parser.add_argument("--no-extras", action="store_true",
                        help="only calc and the report process against polars (the Excel-side figures take minutes)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    ensure_data(args.data, args.sizes)
    rows, summary = [], {}
    for n in args.sizes:
        # alternate the engines over a few rounds: this machine's speed drifts by ±15 % over a minute
        rounds = [(engine_seconds("polars", args.data, n, args.reps), engine_seconds("calc", args.data, n, args.reps))
                  for _ in range(args.rounds)]
        polars_s = statistics.median(r[0] for r in rounds)
        calc_s = statistics.median(r[1] for r in rounds)
        row = {"n": n, "polars_s": polars_s, "calc_s": calc_s, "calc_vs_polars": calc_s / polars_s,
               # each round's pair too: the spread shows how far the verdict is from this machine's drift
               "rounds": [{"polars_s": p, "calc_s": c, "calc_vs_polars": c / p} for p, c in rounds],
               "peak_memory_mib": peak_memory_mib(args.data, n)}
        report_s = report_process(args.data, n, args.data / f"report_{n}.xlsx", args.reps)
        if report_s is not None:
            # where the report's time goes: the command's own work, run again in one warm process, and the
            # rest (Python's start, the imports, first-use set-up, exit), which no change to the work can cut
            warm_s = engine_seconds("report", args.data, n, args.reps)
            row.update(report_s=report_s, report_process_vs_polars=report_s / polars_s, report_warm_s=warm_s,
                       report_warm_vs_polars=warm_s / polars_s, report_fixed_s=report_s - warm_s,
                       report_fixed_vs_polars=(report_s - warm_s) / polars_s)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "rounds"}))
        ratios = [r["calc_vs_polars"] for r in row["rounds"]]
        print(f"  calc_vs_polars per round: {min(ratios):.2f}–{max(ratios):.2f} over {len(ratios)} rounds")
    by_n = {r["n"]: r for r in rows}
    if 1_000_000 in by_n and 5_000_000 in by_n:
        summary["growth_5m_vs_1m"] = by_n[5_000_000]["calc_s"] / by_n[1_000_000]["calc_s"]
    if 1_000_000 in by_n:
        summary["peak_memory_mib_1m"] = by_n[1_000_000]["peak_memory_mib"]
    if not args.no_extras:
        n = args.extras_at
        ensure_data(args.data, [n, 100_000])
        summary["excel_lists_to_calc_s"] = median_seconds(functools.partial(lists_to_calc, excel_lists(args.data, n)), 1)
        summary.update(udf_cold_warm(args.data))
        summary.update(xlsx_read(args.data, n))
    summary["load_average"] = os.getloadavg()  # 1, 5 and 15 minutes at the end: how busy the shared machine was
    result = {"date": dt.date.today().isoformat(), "python": platform.python_version(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "sizes": rows, "summary": summary,
              "targets": TARGETS}
    out = HERE / "results" / f"{dt.datetime.now():%Y-%m-%dT%H%M}.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(summary, indent=1))
    for key, limit in TARGETS.items():
        value = summary.get(key) if key in summary else (by_n.get(1_000_000, {}).get(key))
        if value is not None:
            verdict = "ok" if value <= limit else "MISSED"
            print(f"{key:28s} {value:10.3f}  target ≤ {limit:<8} {verdict}")
    print(f"saved {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
