"""A CRM opportunity export taken as it is: one table that is both Leads and Deals.

HubSpot, Salesforce, Zoho and the Maven CRM sample export one row per opportunity: its id, the day it
came in (engage / created date), its stage (won, lost, open), the day it closed and its value, and any
number of segment columns (sales agent, product, account …). :func:`split_pipeline` reads the header
once (``calc.schema.TABLES["Pipeline"]``) and hands ``prepare`` the two tables it already knows:

* Leads: every row — the opportunity id, the inquiry date, the segment columns;
* Deals: the rows that have an inquiry date — the id, the close date, the status and the money.

A row without an inquiry date cannot be put in a cohort: ``prepare`` reports it under Leads ("with no
inquiry date", with its rows) and it is left out of Deals too, so it is reported once and never guessed.
Without a status column every row with a close date is a won deal, as a Deals table is today.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from .errors import InputError
from .messages import Message
from .schema import TABLES, missing_required, resolve_columns

#: Pipeline columns that belong to Deals; every other non-canonical column is a segment of Leads.
_DEAL_COLUMNS = ("close_date", "status", "revenue", "gross_profit")


def same_table(leads: pd.DataFrame | None, deals: pd.DataFrame | None,
               mapping: Mapping[str, str] | None = None) -> bool:
    """The same export given as Leads and as Deals (``--leads F --deals F``): compared by content, cheaply first.

    >>> frame = pd.DataFrame({"opportunity_id": ["a"], "engage_date": ["2024-01-01"], "close_date": [None]})
    >>> same_table(frame, frame.copy()), same_table(frame, frame.assign(engage_date="2024-01-02"))
    (True, False)
    """
    if not isinstance(leads, pd.DataFrame) or not isinstance(deals, pd.DataFrame):
        return False
    if not len(leads) or not _looks_like_pipeline(leads, mapping):  # two header-only tables are not one export
        return False
    if leads is deals:
        return True
    return (leads.shape == deals.shape and list(map(str, leads.columns)) == list(map(str, deals.columns))
            and leads.reset_index(drop=True).equals(deals.reset_index(drop=True)))


def _looks_like_pipeline(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> bool:
    """An inquiry date and a close date in one header: an opportunity export, not a Leads or Deals table."""
    try:
        targets = set(resolve_columns("Pipeline", [str(c).strip() for c in frame.columns], mapping).values())
    except InputError:
        return False
    return {"lead_id", "date", "close_date"} <= targets


def split_pipeline(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Leads, Deals) with canonical headers from one opportunity table.

    >>> pipe = pd.DataFrame({"opportunity_id": ["a", "b", "c"], "sales_agent": ["X", "Y", "X"],
    ...                      "deal_stage": ["Won", "Lost", "Prospecting"],
    ...                      "engage_date": ["2024-01-02", "2024-01-05", None],
    ...                      "close_date": ["2024-02-01", "2024-01-20", None], "close_value": [100, 0, None]})
    >>> leads, deals = split_pipeline(pipe)
    >>> list(leads.columns), list(deals.columns), len(deals)
    (['lead_id', 'date', 'sales_agent'], ['lead_id', 'date', 'status', 'revenue'], 2)
    """
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    renames = resolve_columns("Pipeline", list(frame.columns), mapping)
    frame = frame.rename(columns=renames)
    missing = missing_required("Pipeline", set(frame.columns))
    if missing:
        col = missing[0]
        raise InputError("Pipeline", col.name, Message("error.column_not_found", have=", ".join(map(str, renames))),
                         fix=Message("error.column_not_found.fix", meaning=Message(f"meaning.Pipeline.{col.name}"),
                                     column=col.name, mapping=f"pipeline.{col.name}"))
    canonical = {c.name for c in TABLES["Pipeline"]}
    segments = [c for c in frame.columns if c not in canonical]
    leads = frame[["lead_id", "date", *segments]]
    if "close_date" not in frame.columns:
        raise InputError("Pipeline", "close_date", Message("error.column_not_found", have=", ".join(map(str, renames))),
                         fix=Message("error.column_not_found.fix", meaning=Message("meaning.Pipeline.close_date"),
                                     column="close_date", mapping="pipeline.close_date"))
    dated = frame["date"].notna().to_numpy()
    if frame["date"].dtype == object:
        dated &= frame["date"].astype(str).str.strip().ne("").to_numpy()
    deal_columns = ["lead_id", "close_date", *[c for c in _DEAL_COLUMNS[1:] if c in frame.columns]]
    deals = frame.loc[dated, deal_columns].rename(columns={"close_date": "date"})
    if "status" not in deals.columns:  # no stage: a close date is a won deal, as in a Deals table
        deals = deals.loc[deals["date"].notna().to_numpy()]
    return leads, deals
