"""Excel functions for the three key indicators."""
from __future__ import annotations

import calc

from ..convert import text_list
from .registry import call, dataset, udf


@udf(calc.consult_volume)
def CONSULT_VOLUME(leads=None, start=None, end=None, filter=None, caller=None):
    """Number of consultations (inquiries) in the date range that match the filter."""
    return call(calc.consult_volume, dataset(leads=leads, caller=caller, needs=("leads",)),
                start=start, end=end, filter=filter)


@udf(calc.consult_cost)
def CONSULT_COST(spend=None, leads=None, start=None, end=None, filter=None, caller=None):
    """Consultation cost: spend ÷ consultations for the same dates and filter (currency per consultation)."""
    return call(calc.consult_cost, dataset(spend, leads, caller=caller, needs=("spend", "leads")),
                start=start, end=end, filter=filter)


@udf(calc.inquiry_conversion)
def INQUIRY_CONVERSION(leads=None, deals=None, start=None, end=None, filter=None, horizon_days=None, caller=None):
    """Inquiry conversion rate (0–1): consultations that became deals ÷ consultations."""
    return call(calc.inquiry_conversion, dataset(leads=leads, deals=deals, caller=caller, needs=("leads", "deals")),
                start=start, end=end, filter=filter, horizon_days=horizon_days)


@udf(calc.kpi_table)
def KPI_TABLE(spend=None, leads=None, deals=None, by=None, start=None, end=None, filter=None, caller=None):
    """Key indicators per segment as a spilling table with a header row."""
    return call(calc.kpi_table, dataset(spend, leads, deals, caller=caller), by=text_list(by), start=start, end=end,
                filter=filter)
