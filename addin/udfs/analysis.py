"""Excel functions for the owner's next questions: is it stable, which link is broken, where to put
the next yuan, what to copy."""
from __future__ import annotations

from typing import Any

import calc

from ..convert import frame_from_rows, text_list
from .registry import call, dataset, udf

__all__ = ["BUDGET_SHIFT", "FUNNEL_DIAGNOSIS", "PORTFOLIO", "SEGMENT_TABLE", "STABILITY", "STABILITY_VERDICT"]

DOCS = {
    "measure": "volume (default: consultations per period), cost (spend ÷ consultations) or conversion.",
    "period": "day (default) or week.",
    "horizon_days": "For conversion: count deals within this many days of inquiry (default 30).",
    "method": "nelson (default: drop moving ranges above 3.5× average) or median (limits from the median moving range).",
    "rank_by": "shrunk_conversion (default), shrunk_low or conversion_low.",
    "max_shift": "Largest share of a segment's spend one step moves, e.g. 0.2. Empty: the Settings table's budget_max_shift.",
    "dims": 'Unit columns, e.g. "category,store,price_tier" (the default, those present).',
}
SERIES_DOCS = {
    **DOCS,
    "spend": "Spend table with its header (Spend[#All]), or a series table with date and value columns (and n for "
             "rates with their counts). Empty: this workbook's Spend table.",
    "leads": "Leads table with its header (Leads[#All]), or a series table with date and value columns. "
             "Empty: this workbook's Leads table.",
}


def _series_or_data(spend: Any, leads: Any, deals: Any, settings: Any, caller: Any) -> Any:
    """A pasted series (a 'value' column, no lead ids) is charted as given; anything else is prepared data."""
    for table in (spend, leads):
        if isinstance(table, (list, tuple)) and table and isinstance(table[0], (list, tuple)):
            header = {str(h).strip().casefold().replace(" ", "_") for h in table[0] if h is not None}
            if "value" in header and not header & {"lead_id", "mql_id", "leadid"}:
                return frame_from_rows(table, table="series")
    return dataset(spend, leads, deals, settings, caller=caller)


@udf(calc.stability, example={"measure": "volume", "period": "week"}, **SERIES_DOCS)
def STABILITY(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
              measure="volume", period="day", horizon_days=30, method="nelson", caller=None):
    """Control chart data (spills): date, value, centre, lcl, ucl, σ, moving range, rolling CV and run-rule signals."""
    return call(calc.stability, _series_or_data(spend, leads, deals, settings, caller), measure=measure, period=period,
                start=start_date, end=end_date, filter=segment_filter, horizon_days=horizon_days, method=method)


@udf(calc.stability_verdict, example={"measure": "cost", "period": "week"}, **SERIES_DOCS)
def STABILITY_VERDICT(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None,
                      segment_filter=None, measure="volume", period="day", horizon_days=30, method="nelson",
                      caller=None):
    """Stable or unstable, why and when, the rolling CV and (for cost) whether the cost is affordable, in words."""
    return call(calc.stability_verdict, _series_or_data(spend, leads, deals, settings, caller), measure=measure,
                period=period, start=start_date, end=end_date, filter=segment_filter, horizon_days=horizon_days,
                method=method)


@udf(calc.funnel_diagnosis, example={"by": "channel"}, **DOCS)
def FUNNEL_DIAGNOSIS(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None,
                     segment_filter=None, by=None, caller=None):
    """Which link to optimise, for the whole business and each segment, with the numbers and how sure (spills)."""
    return call(calc.funnel_diagnosis, dataset(spend, leads, deals, settings, caller=caller), by=text_list(by),
                filter=segment_filter, start=start_date, end=end_date)


@udf(calc.segment_table, example={"by": "channel"}, **DOCS)
def SEGMENT_TABLE(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None,
                  segment_filter=None, by=None, rank_by="shrunk_conversion", caller=None):
    """Segments with conversion intervals, shrunk conversion, cost and cycle ROI, best first (spills)."""
    return call(calc.segment_table, dataset(spend, leads, deals, settings, caller=caller), by=text_list(by),
                filter=segment_filter, rank_by=rank_by, start=start_date, end=end_date)


@udf(calc.budget_shift, example={"by": "channel"}, **DOCS)
def BUDGET_SHIFT(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None,
                 segment_filter=None, by=None, max_shift=None, caller=None):
    """Suggested budget moves between segments, each bounded, with the expected change in consultations and profit."""
    return call(calc.budget_shift, dataset(spend, leads, deals, settings, caller=caller), by=text_list(by),
                max_shift=max_shift, filter=segment_filter, start=start_date, end=end_date)


@udf(calc.portfolio, example={"dims": "channel,campaign"}, **DOCS)
def PORTFOLIO(spend=None, leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
              dims=None, caller=None):
    """Units (category × store × price tier by default) to replicate, watch, fix or stop (spills)."""
    return call(calc.portfolio, dataset(spend, leads, deals, settings, caller=caller), dims=text_list(dims),
                filter=segment_filter, start=start_date, end=end_date)
