"""Asking every analysis the same questions of two datasets and comparing the answers (1e-9, same notes).

Shared by the aggregated-form tests (tests/calc) and the engine tests (tests/addin).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

import calc
from calc import InputError


def questions(data: calc.Dataset, dims: tuple[str, ...], as_of: pd.Timestamp) -> dict:
    """Every analysis, with the options that take different paths through it."""
    one, two = dims[0], ",".join(dims[:2])
    values = data.leads[one].cat.categories
    keep = f"{one}={values[-1]}"
    start = (as_of - pd.Timedelta(days=300)).date().isoformat()
    end = (as_of - pd.Timedelta(days=40)).date().isoformat()
    back = (as_of - pd.Timedelta(days=120)).date().isoformat()
    return {
        "kpi total": lambda d: calc.kpi_table(d),
        "kpi by segment": lambda d: calc.kpi_table(d, by=one),
        "kpi by two segments and month": lambda d: calc.kpi_table(d, by=f"{two},month"),
        "kpi by week in a range, filtered": lambda d: calc.kpi_table(d, by="week", start=start, end=end, filter=keep),
        "kpi by day, 30-day horizon": lambda d: calc.kpi_table(d, by="day", horizon_days=30),
        "kpi by segment, 60-day horizon": lambda d: calc.kpi_table(d, by=one, horizon_days=60),
        "consultations": lambda d: calc.consult_volume(d, start=start),
        "consultation cost": lambda d: calc.consult_cost(d, filter=keep),
        "conversion": lambda d: calc.inquiry_conversion(d, horizon_days=45),
        "cohorts by month": lambda d: calc.cohort_development(d),
        "cohorts by week and segment": lambda d: calc.cohort_development(d, by=one, period="week", horizon_periods=8),
        "triangle of conversion": lambda d: calc.cohort_triangle(d, measure="conversion"),
        "triangle of gross profit, filtered": lambda d: calc.cohort_triangle(d, measure="gross_profit", filter=keep),
        "chain ladder cycle ROI": lambda d: calc.cycle_roi(d),
        "segment cycle ROI": lambda d: calc.segment_cycle_roi(d, by=one),
        "cohort ROI": lambda d: calc.cohort_roi(d),
        "short-term ROI": lambda d: calc.short_term_roi(d, start=start, end=end),
        "payback days": lambda d: calc.payback_days(d),
        "affordable consultation cost": lambda d: calc.max_consult_cost(d),
        "Kaplan-Meier time to close": lambda d: calc.time_to_close(d),
        "time to close by segment": lambda d: calc.time_to_close(d, by=one, days=(7, 30, 90)),
        "stability of volume by day": lambda d: calc.stability(d),
        "stability of volume by week": lambda d: calc.stability(d, period="week", filter=keep),
        "stability of cost by week": lambda d: calc.stability(d, measure="cost", period="week"),
        "stability of conversion by week": lambda d: calc.stability(d, measure="conversion", period="week"),
        "stability verdict": lambda d: calc.stability_verdict(d, period="week"),
        "segments": lambda d: calc.segment_table(d, by=one),
        "segments of two dimensions": lambda d: calc.segment_table(d, by=two),
        "diagnosis": lambda d: calc.funnel_diagnosis(d, by=one),
        "budget": lambda d: calc.budget_shift(d, by=one),
        "portfolio": lambda d: calc.portfolio(d, dims=two),
        "backtest": lambda d: calc.backtest(d, as_of=back),
        "rolling backtest": lambda d: calc.rolling_backtest(d),
    }


def answer(question, data):
    try:
        return question(data)
    except InputError as error:
        return ("refused", str(error))


def same(row, agg, name: str) -> None:
    if isinstance(row, pd.DataFrame):
        assert isinstance(agg, pd.DataFrame), name
        assert list(agg.columns) == list(row.columns), name
        assert len(agg) == len(row), name
        for column in row.columns:
            a, b = row[column], agg[column]
            if pd.api.types.is_numeric_dtype(a.dtype) and not pd.api.types.is_bool_dtype(a.dtype):
                np.testing.assert_allclose(b.to_numpy(dtype=float), a.to_numpy(dtype=float), rtol=1e-9, atol=1e-9,
                                           equal_nan=True, err_msg=f"{name}: {column}")
            else:
                assert b.astype(str).tolist() == a.astype(str).tolist(), f"{name}: {column}"
        for key in ("notes", "exclusions"):
            assert agg.attrs.get(key) == row.attrs.get(key), f"{name}: {key}"
    elif isinstance(row, float) and not isinstance(agg, tuple):
        assert agg is not None and (math.isclose(agg, row, rel_tol=1e-9, abs_tol=1e-9)
                                    or (math.isnan(agg) and math.isnan(row))), name
    elif hasattr(row, "__dataclass_fields__"):  # a verdict: compared field by field
        for field in row.__dataclass_fields__:
            same(getattr(row, field), getattr(agg, field), f"{name}.{field}")
    else:
        assert agg == row, name
