"""1,000 Excel function calls in a row keep memory flat: every cache the UDFs use is bounded.

A workbook recalculates hundreds of formulas over the same tables, and a user editing a cell
makes every formula see a new table. Both must leave memory where it was once the caches are
full: growth after the warm-up is measured as the process's resident memory (Linux; elsewhere
Python's traced allocations, which is where tables, prepared datasets and results live).
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import tracemalloc
from pathlib import Path

from addin.udfs import registry

CHANNELS = ("Search", "Feed", "Marketplace")
DAY0 = dt.datetime(2024, 1, 1)


def tables(n_leads: int) -> tuple[list, list, list]:
    """Excel-shaped Spend, Leads and Deals (header row first), as a range hands them to a UDF."""
    leads = [["lead_id", "date", "channel"]] + [
        [f"L{i}", DAY0 + dt.timedelta(days=i % 180), CHANNELS[i % 3]] for i in range(n_leads)]
    deals = [["lead_id", "date", "revenue"]] + [
        [f"L{i}", DAY0 + dt.timedelta(days=i % 180 + 20), 100.0] for i in range(0, n_leads, 4)]
    spend = [["date", "cost", "channel"]] + [
        [DAY0 + dt.timedelta(days=d), 10.0, channel] for d in range(180) for channel in CHANNELS]
    return spend, leads, deals


def resident_bytes() -> int:
    """Memory the process holds now (Linux: resident set from /proc; elsewhere Python's traced allocations)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    return tracemalloc.get_traced_memory()[0]


def growth(warm_up, measured) -> int:
    """Bytes held after ``measured`` beyond those held after ``warm_up`` (caches full by then)."""
    try:
        warm_up()
        gc.collect()
        before = resident_bytes()
        measured()
        gc.collect()
        return resident_bytes() - before
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()


def test_a_thousand_calls_over_one_table_keep_memory_flat():
    spend, leads, deals = tables(2000)
    kpi_table = registry.UDFS["KPI_TABLE"].adapter

    def call(i: int):
        # every call a different start date (and every other one a filter): nothing repeats, so without
        # a bound each of the 1,000 results would be kept
        return kpi_table(spend, leads, deals, None, DAY0 - dt.timedelta(days=2000 - i), None,
                         None if i % 2 else "channel=Search", "channel")

    # hand check: start before all data, no filter -> all 2,000 leads; a third (i % 3 == 0: 667) are Search
    first = call(1)
    assert sum(row[1] for row in first[1:]) == 2000 and dict((r[0], r[1]) for r in first[1:])["Search"] == 667
    results = []
    extra = growth(lambda: [call(i) for i in range(100)],  # fills the 64 results kept per dataset
                   lambda: results.extend(call(i) for i in range(100, 1100)))
    assert len(results) == 1000 and results[-1] == call(1099)
    assert len(registry._cache) == 1, "one table set, one prepared dataset"
    assert all(len(r) <= registry._RESULTS_PER_DATASET for r in registry._results.values())
    # measured on this machine: 1.5 MiB with the bound, 7.8 MiB when every result is kept
    assert extra < 4 * 1024**2, f"memory grew by {extra / 1024**2:.1f} MiB over 1,000 calls"


def test_a_table_edited_between_calls_keeps_memory_bounded():
    spend, leads, deals = tables(1000)
    consult_volume = registry.UDFS["CONSULT_VOLUME"].adapter

    def edited(i: int) -> list:
        copy = [row[:] for row in leads]
        copy[1 + i % 1000][2] = f"Edited {i}"  # one cell changed: a new table, a new prepared dataset
        return copy

    counts = []
    extra = growth(lambda: [consult_volume(edited(i)) for i in range(40)],  # fills 16 tables, 8 datasets
                   lambda: counts.extend(consult_volume(edited(i)) for i in range(40, 340)))
    assert counts == [1000] * 300
    assert len(registry._seen) <= registry._TABLES_KEPT and len(registry._cache) <= registry._DATASETS_KEPT
    assert len(registry._results) <= registry._DATASETS_KEPT
    # measured on this machine: no growth with the bound; every prepared dataset kept grows it by MiBs
    assert extra < 2 * 1024**2, f"memory grew by {extra / 1024**2:.1f} MiB over 300 edits"
