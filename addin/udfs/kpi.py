"""Excel functions for the three key indicators."""
from __future__ import annotations

import calc

from ..convert import text_list
from .registry import call, dataset, make_handle, udf


@udf(calc.consult_volume)
def CONSULT_VOLUME(leads=None, settings=None, start_date=None, end_date=None, segment_filter=None, caller=None):
    """Number of consultations (inquiries) in the date range that match the filter."""
    return call(calc.consult_volume, dataset(leads=leads, settings=settings, caller=caller, needs=("leads",)),
                start=start_date, end=end_date, filter=segment_filter)


@udf(calc.consult_cost)
def CONSULT_COST(spend=None, leads=None, settings=None, start_date=None, end_date=None, segment_filter=None,
                 caller=None):
    """Consultation cost: spend ÷ consultations for the same dates and filter (currency per consultation)."""
    return call(calc.consult_cost, dataset(spend, leads, settings=settings, caller=caller, needs=("spend", "leads")),
                start=start_date, end=end_date, filter=segment_filter)


@udf(calc.inquiry_conversion)
def INQUIRY_CONVERSION(leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
                       horizon_days=None, caller=None):
    """Inquiry conversion rate (0–1): consultations that became deals ÷ consultations."""
    data = dataset(leads=leads, deals=deals, settings=settings, caller=caller, needs=("leads", "deals"))
    return call(calc.inquiry_conversion, data, start=start_date, end=end_date, filter=segment_filter,
                horizon_days=horizon_days)


@udf(calc.kpi_table, example={"by": "channel"})
def KPI_TABLE(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
              by=None, caller=None):
    """Key indicators per segment as a spilling table with a header row."""
    return call(calc.kpi_table, dataset(spend, leads, deals, settings, caller=caller), by=text_list(by),
                start=start_date, end=end_date, filter=segment_filter)


@udf(calc.prepare, spend="Spend table with its header (Spend[#All]).", leads="Leads table with its header (Leads[#All]).",
     deals="Deals table with its header (Deals[#All]).", settings="Settings table with its header (Settings[#All]).")
def CYCLE_DATA(spend=None, leads=None, deals=None, settings=None, caller=None):
    """The tables, read once: a short handle every Cycle ROI function takes in place of its tables."""
    return make_handle(spend, leads, deals, settings, caller)
