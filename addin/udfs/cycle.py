"""Excel functions for the full cycle: cycle and short-term ROI, cohort triangle, payback, maximum consultation cost."""
from __future__ import annotations

import calc

from .registry import call, dataset, udf


@udf(calc.cycle_roi)
def CYCLE_ROI(spend=None, leads=None, deals=None, cohort_start=None, cohort_end=None, filter=None, projected=True,
              caller=None):
    """Full-cycle ROI of the cohorts' consultations: (gross profit − spend) ÷ spend, young cohorts projected."""
    return call(calc.cycle_roi, dataset(spend, leads, deals, caller=caller), start=cohort_start, end=cohort_end,
                filter=filter, projected=projected)


@udf(calc.short_term_roi)
def SHORT_TERM_ROI(spend=None, deals=None, start=None, end=None, filter=None, caller=None):
    """Short-term ROI: (gross profit of deals won in the dates − spend of the dates) ÷ that spend."""
    return call(calc.short_term_roi, dataset(spend, deals=deals, caller=caller, needs=("spend", "deals")),
                start=start, end=end, filter=filter)


@udf(calc.cohort_triangle)
def COHORT_TRIANGLE(spend=None, leads=None, deals=None, measure="conversion", period="month", filter=None,
                    caller=None):
    """Cohorts × ages (spills with a header row); ages from each row's projected_from_age on are projections."""
    return call(calc.cohort_triangle, dataset(spend, leads, deals, caller=caller), measure=measure, period=period,
                filter=filter)


@udf(calc.payback_days)
def PAYBACK_DAYS(spend=None, leads=None, deals=None, start=None, end=None, filter=None, caller=None):
    """Days after inquiry until the consultations' gross profit covers their spend (empty if not yet)."""
    return call(calc.payback_days, dataset(spend, leads, deals, caller=caller), start=start, end=end, filter=filter)


@udf(calc.max_consult_cost)
def MAX_CONSULT_COST(leads=None, deals=None, target_roi=None, filter=None, caller=None):
    """Highest consultation cost that still earns the target ROI over the full cycle."""
    return call(calc.max_consult_cost, dataset(leads=leads, deals=deals, caller=caller, needs=("leads", "deals")),
                target_roi=target_roi, filter=filter)


@udf(calc.cohort_roi)
def COHORT_ROI(spend=None, leads=None, deals=None, period="month", filter=None, caller=None):
    """Per inquiry cohort (spills): short-term ROI beside cycle ROI, whether it is projected, and payback."""
    return call(calc.cohort_roi, dataset(spend, leads, deals, caller=caller), period=period, filter=filter)
