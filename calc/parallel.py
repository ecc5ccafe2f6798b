"""Independent pieces of array work run side by side on the machine's cores.

numpy and pandas release the GIL inside their loops (gathers, ``bincount``, comparisons,
category recoding), so threads give real parallelism for the per-table work of ``prepare`` and of
each analysis — Spend, Leads and Deals are coded and counted independently — without the copying
a process pool would need. Small inputs run one after another: starting threads would cost more
than it saves. Pyodide (xlwings Lite, ``sys.platform == "emscripten"``) cannot start threads, so
there every task runs one after another. Results come back in the order of the tasks, and when tasks fail, the first
failing task's error is raised, as if they had run in order.
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

#: Below this many rows in all, tasks run one after another.
MIN_ROWS = 200_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # Windows and macOS have no affinity call
        return os.cpu_count() or 1


def threads_available() -> bool:
    """False on Pyodide (xlwings Lite), whose Python has no threads."""
    return sys.platform != "emscripten"


def run_together(tasks: list[Callable[[], Any]], *, rows: int) -> list[Any]:
    """Each task's result, in order; side by side when there are ``rows`` enough and cores to spare.

    >>> run_together([lambda: 1, lambda: 2], rows=10)
    [1, 2]
    """
    workers = min(len(tasks), _cores())
    if rows < MIN_ROWS or workers < 2 or not threads_available():
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
