"""The standard report workload (../shared/bench/README.md) through Cycle ROI's public API.

Same outputs as the polars reference: (a) daily volume, spend and consultation cost; (b) monthly by
province and by industry; (c) the monthly cohort development triangle to age 24; (d) conversion and
gross profit by province × industry and category × store × price tier; (e) XmR chart of daily volume.
Loading the files is part of the workload, as in the reference.
"""
from __future__ import annotations

import os
from pathlib import Path

import calc
from addin.io import read_table

SEGMENT_TABLES = {"d_pi": "province,industry", "d_csp": "category,store,price_tier"}


def load(folder: str | Path, n: int) -> calc.Dataset:
    folder = Path(folder)
    spend = read_table(folder / "spend.parquet", table="Spend")
    leads = read_table(folder / f"leads_{n}.parquet", table="Leads")
    deals = read_table(folder / f"deals_{n}.parquet", table="Deals")
    return calc.prepare(spend, leads, deals)


def analyses(data: calc.Dataset) -> dict:
    out = {
        "a_daily": calc.kpi_table(data, by="day"),
        "b_prov": calc.kpi_table(data, by="month,province"),
        "b_indu": calc.kpi_table(data, by="month,industry"),
        "c_tri": calc.cohort_development(data, period="month", horizon_periods=24, projected=False),
        "e_xmr": calc.stability(data, measure="volume", period="day"),
    }
    for name, by in SEGMENT_TABLES.items():
        out[name] = calc.kpi_table(data, by=by)
    return out


def run(folder: str | Path, n: int) -> dict:
    return analyses(load(folder, n))


def peak_rss_mib() -> float:
    """This process's peak resident memory.

    Linux's VmHWM belongs to the process's own address space. ``getrusage``'s ru_maxrss does not
    restart at exec: a child started by a big parent reports at least the parent's size at the fork
    (run.py, holding polars and earlier results, made the 1M workload look twice its size).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # no /proc (macOS): getrusage below, measured in a process not started by a big one
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, the fallback elsewhere


if __name__ == "__main__":  # a separate process, for peak memory: python benchmarks/workload.py DIR N
    import sys

    run(sys.argv[1], int(sys.argv[2]))
    print(f"peak_rss_mib={peak_rss_mib():.1f}")
    os._exit(0)
