"""Excel functions for the full cycle: cycle and short-term ROI, cohort triangle, payback, maximum consultation cost,
and how far to trust the projections (the rolling backtest by horizon)."""
from __future__ import annotations

import calc

from .registry import call, dataset, udf

COHORT_DATES = {
    "start_date": "First inquiry date of the cohorts to count (a date). Empty: from the first cohort.",
    "end_date": "Last inquiry date of the cohorts to count (a date). Empty: up to the as-of date.",
}


@udf(calc.cycle_roi, **COHORT_DATES)
def CYCLE_ROI(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
              projected=True, caller=None):
    """Full-cycle ROI of the cohorts' consultations: (gross profit − spend) ÷ spend, young cohorts projected."""
    return call(calc.cycle_roi, dataset(spend, leads, deals, settings, caller=caller), start=start_date, end=end_date,
                filter=segment_filter, projected=projected)


@udf(calc.short_term_roi)
def SHORT_TERM_ROI(spend=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
                   caller=None):
    """Short-term ROI: (gross profit of deals won in the dates − spend of the dates) ÷ that spend."""
    data = dataset(spend, deals=deals, settings=settings, caller=caller, needs=("spend", "deals"))
    return call(calc.short_term_roi, data, start=start_date, end=end_date, filter=segment_filter)


@udf(calc.cohort_triangle, example={"measure": "conversion", "period": "month"})
def COHORT_TRIANGLE(spend=None, leads=None, deals=None, settings=None, segment_filter=None, measure="conversion",
                    period="month", caller=None):
    """Cohorts × ages (spills with a header row); ages from each row's projected_from_age on are projections."""
    return call(calc.cohort_triangle, dataset(spend, leads, deals, settings, caller=caller), measure=measure,
                period=period, filter=segment_filter)


@udf(calc.payback_days)
def PAYBACK_DAYS(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None,
                 segment_filter=None, caller=None):
    """Days after inquiry until the consultations' gross profit covers their spend (empty if not yet)."""
    return call(calc.payback_days, dataset(spend, leads, deals, settings, caller=caller), start=start_date,
                end=end_date, filter=segment_filter)


@udf(calc.max_consult_cost)
def MAX_CONSULT_COST(leads=None, deals=None, settings=None, segment_filter=None, target_roi=None, caller=None):
    """Highest consultation cost that still earns the target ROI over the full cycle."""
    data = dataset(leads=leads, deals=deals, settings=settings, caller=caller, needs=("leads", "deals"))
    return call(calc.max_consult_cost, data, target_roi=target_roi, filter=segment_filter)


@udf(calc.cohort_roi, example={"period": "month"})
def COHORT_ROI(spend=None, leads=None, deals=None, settings=None, segment_filter=None, period="month", caller=None):
    """Per inquiry cohort (spills): short-term ROI beside cycle ROI, whether it is projected, and payback."""
    return call(calc.cohort_roi, dataset(spend, leads, deals, settings, caller=caller), period=period,
                filter=segment_filter)


@udf(calc.rolling_backtest_summary, example={"period": "month", "band_level": 0.9},
     band_level="Level of the projection bands and of the paired comparison's interval, e.g. 0.9 = 90 % (default).")
def ROLLING_BACKTEST_SUMMARY(leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
                             period="month", band_level=None, caller=None):
    """How far to trust the projections (spills): rolling backtest by horizon, beside plain chain ladder and the
    observed read as final — MAPE, bias, band coverage, the band level and the paired difference."""
    data = dataset(leads=leads, deals=deals, settings=settings, caller=caller, needs=("leads", "deals"))
    return call(calc.rolling_backtest_summary, data, start=start_date, end=end_date, filter=segment_filter,
                period=period, band_level=band_level)
