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

import functools
import itertools
import os
import sys
import threading
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

    The calling thread works too: it and ``cores - 1`` waiting threads take the tasks in order from
    one shared counter. Starting fresh threads for every call, and handing each task over while the
    caller waits, cost more than small tasks take: each hand-over can wait out the interpreter's
    switch interval (5 ms) for the GIL.

    >>> run_together([lambda: 1, lambda: 2], rows=10)
    [1, 2]
    """
    workers = min(len(tasks), _cores())
    if rows < MIN_ROWS or workers < 2 or not threads_available():
        return [task() for task in tasks]
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException | None] = [None] * len(tasks)
    taken = itertools.count()  # next() on a count is atomic under the GIL: each task is taken once
    done = threading.Semaphore(0)

    def work() -> None:
        for i in iter(taken.__next__, None):
            if i >= len(tasks):
                return
            try:
                results[i] = tasks[i]()
            except BaseException as exc:  # raised below, in task order, as if the tasks had run in turn
                errors[i] = exc
            done.release()

    for _ in range(workers - 1):
        _pool().submit(work)
    work()
    # wait for the tasks, not for the helpers: a helper still queued (the pool busy, or this call itself
    # running on the pool's thread, nested) finds nothing left to take and ends at once
    for _ in tasks:
        done.acquire()
    for error in errors:
        if error is not None:
            raise error
    return results


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """The waiting threads, started once per process (on first use) and shared by every call."""
    return ThreadPoolExecutor(max_workers=max(_cores() - 1, 1), thread_name_prefix="calc")
