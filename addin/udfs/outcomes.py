"""Excel functions for won, lost and open as competing outcomes (issue 19): time to win and to lose, and
which segments lose fast and often. A CRM export pasted as one Pipeline table serves as Leads and Deals."""
from __future__ import annotations

import calc

from .registry import call, dataset, udf

_DAYS = "Days to read the shares at, e.g. 30 or a range of 7, 30, 90, 180. Empty: 7, 30, 90 and 180."
_BY = 'Segment columns, e.g. "sales_agent" or "product". Empty (TIME_TO_OUTCOME): one curve for everything.'
_LEADS = ("Leads table with its header (Leads[#All]), or a CRM export (Pipeline[#All]) given as both leads and "
          "deals; left empty with Deals, a Pipeline table is read. Empty: this workbook's Leads table.")
_DEALS = ("Deals table with its header (Deals[#All]); a status column (Won / Lost / Engaging …) marks lost "
          "outcomes. Empty: this workbook's Deals table.")


def _flat(value):
    for item in value if isinstance(value, (list, tuple)) else [value]:
        yield from _flat(item) if isinstance(item, (list, tuple)) else [item]


@udf(calc.time_to_outcome, leads=_LEADS, deals=_DEALS, days=_DAYS, by=_BY)
def TIME_TO_OUTCOME(leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
                    by=None, days=None, caller=None):
    """Won and lost shares by day (Aalen–Johansen) beside Kaplan–Meier, with the median days to win and to lose."""
    data = dataset(leads=leads, deals=deals, settings=settings, caller=caller, needs=("leads", "deals"))
    options = {} if days is None else {"days": list(_flat(days))}  # a row, a column or one cell of days
    return call(calc.time_to_outcome, data, start=start_date, end=end_date, filter=segment_filter, by=by, **options)


@udf(calc.outcome_segments, example={"by": "channel"}, leads=_LEADS, deals=_DEALS, by=_BY)
def OUTCOME_SEGMENTS(leads=None, deals=None, settings=None, start_date=None, end_date=None, segment_filter=None,
                     by=None, caller=None):
    """Per segment: won, lost, open, win and loss rates, median days to win and to lose, and who loses fast and often."""
    data = dataset(leads=leads, deals=deals, settings=settings, caller=caller, needs=("leads", "deals"))
    return call(calc.outcome_segments, data, start=start_date, end=end_date, filter=segment_filter, by=by)
