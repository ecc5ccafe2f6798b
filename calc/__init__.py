"""Cycle ROI calculations: pure functions on pandas DataFrames, no I/O, no Excel.

Start with :func:`prepare` (validates Spend, Leads and Deals once) — or, for data that stays in a
warehouse, :func:`from_aggregates` over its totals (:mod:`calc.aggregates`) — then ask questions of the
:class:`Dataset` it returns: the key indicators, the full-cycle view of cohorts, stability,
segments and the portfolio.
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "Aggregates", "Dataset", "Exclusion", "InputError", "Settings", "aggregate", "from_aggregates", "prepare",
    "KPI_COLUMNS", "consult_cost", "consult_volume", "inquiry_conversion", "kpi_table",
    "SEGMENT_COLUMNS", "age_to_age_factors", "backtest", "chain_ladder", "cohort_development", "cohort_roi",
    "cohort_triangle", "cost_affordability", "cycle_roi", "kaplan_meier", "max_consult_cost", "payback_days",
    "rolling_backtest", "rolling_backtest_summary", "segment_cycle_roi", "short_term_roi", "time_to_close", "aalen_johansen", "outcome_segments",
    "time_to_outcome",
    "DIAGNOSIS_RULES", "budget_shift", "fit_beta_prior", "funnel_diagnosis", "portfolio", "segment_table",
    "shrink_rates", "stability", "stability_verdict", "wilson_interval", "xmr_limits",
]


def _public() -> dict[str, Any]:
    """Every public name of calc, from the module that defines it (all imported together, in this order)."""
    from .aggregates import Aggregates, aggregate, from_aggregates
    from .dataset import Dataset, prepare
    from .errors import Exclusion, InputError
    from .settings import Settings

    # the three key indicators (issue 2)
    from .indicators import KPI_COLUMNS, consult_cost, consult_volume, inquiry_conversion, kpi_table

    # full-cycle ROI: cohorts, projection, time to close, payback, affordable cost (issue 3)
    from .backtest import backtest
    from .rolling import rolling_backtest, rolling_backtest_summary
    from .chainladder import age_to_age_factors, chain_ladder
    from .cohorts import cohort_development, cohort_triangle
    from .roi import (SEGMENT_COLUMNS, cohort_roi, cost_affordability, cycle_roi, max_consult_cost, payback_days,
                      segment_cycle_roi, short_term_roi)
    from .survival import kaplan_meier, time_to_close

    # won, lost and open: competing outcomes (issue 19)
    from .competing import aalen_johansen, outcome_segments, time_to_outcome

    # stability, diagnosis, segments, budget shift, portfolio (issue 4)
    from .budget import budget_shift
    from .diagnosis import DIAGNOSIS_RULES, funnel_diagnosis
    from .portfolio import portfolio
    from .segments import segment_table
    from .shrinkage import fit_beta_prior, shrink_rates, wilson_interval
    from .stability import stability, stability_verdict, xmr_limits

    return {name: value for name, value in locals().items() if name in __all__}


def __getattr__(name: str) -> Any:
    # ``import calc`` by itself loads none of the calculations (with pandas, numpy and pydantic ~0.35 s), so that
    # what needs only the message catalogue (``calc.messages``: the command line's --help) does not pay for them.
    # The first public name asked for loads them all, as ``import calc`` did before (PEP 562); a submodule asked
    # for as an attribute (``calc.memo``) is imported as it would have been by then.
    if name in __all__:
        globals().update(_public())
        return globals()[name]
    if not name.startswith("__"):
        import importlib

        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
