"""calc under xlwings Lite's limits: Pyodide (``sys.platform == "emscripten"``) has no threads.

The platform is patched at the one place calc asks (``calc.parallel.threads_available`` reads
``sys.platform``), thread pools are made to fail, and the whole of prepare and the analyses must still
give the same numbers, one task after another.
"""
from __future__ import annotations

import sys

import pytest

import calc
from calc import parallel
from calc.synthetic import generate


class NoThreads:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a thread pool was started where there are no threads")


@pytest.fixture
def business():
    return generate(seed=3, start="2025-10-01", daily_spend=300.0)


def outputs(business):
    data = calc.prepare(business.spend, business.leads, business.deals)
    return (calc.kpi_table(data, by="channel"), calc.cohort_triangle(data, measure="deals"),
            calc.segment_table(data, by="province"))


def test_pyodide_runs_every_task_in_turn_with_the_same_results(business, monkeypatch):
    # Make side-by-side work eligible everywhere (any size, several cores), then compare both runs.
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    monkeypatch.setattr(parallel, "_cores", lambda: 4)
    started = []

    class Recording(parallel.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            started.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(parallel, "ThreadPoolExecutor", Recording)
    parallel._pool.cache_clear()  # the waiting threads are started once per process: start them anew here
    threaded = outputs(business)
    parallel._pool.cache_clear()  # and not keep the recording pool for the tests after this one
    assert started, "with threads available the pool is used (else this test would prove nothing)"

    monkeypatch.setattr(sys, "platform", "emscripten")
    monkeypatch.setattr(parallel, "ThreadPoolExecutor", NoThreads)
    assert not parallel.threads_available()
    serial = outputs(generate(seed=3, start="2025-10-01", daily_spend=300.0))  # a fresh dataset: nothing memoised
    for a, b in zip(threaded, serial):
        assert a.equals(b)
    assert parallel.run_together([lambda: 1, lambda: 2], rows=10**9) == [1, 2]
