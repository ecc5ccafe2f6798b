"""Which dates each table covers, found from the data: where Spend, Leads and Deals start and end.

Exports are cut at different dates. A CRM may hold inquiries from June while its deals were only
recorded from December; leads may stop in May while deals run on to November. Each question must
then be answered only where its table has data: a week after the last lead is "no data", not a
week with zero consultations, and a cohort whose early deals fell before the Deals export began is
*truncated* — its early ages read as zero although deals happened.

**Deals starting late.** Let S be the first won date. Leads that came in before S had days to
close before S, yet none did. How many should have? From the leads on or after S, the share that
converts within t days, F(t) = (first deals closed within t days of their inquiry) ÷ (leads from
S on); the leads before S would have given λ = Σ_i F(S − 1 − d_i) first deals before S (d_i their
inquiry days). F is not corrected for censoring, so λ is on the low side. Zero deals where λ ≥
:data:`EXPECTED_MISSING_DEALS` (Poisson P(0) = e^−λ < 1 %) means the export starts at S: every
cohort whose period starts before S is truncated. An ordinary business, whose first deal simply
follows its first inquiries, has λ of about one.

**Deals ending early.** Likewise, with E the last won date before the as-of date A, the leads
would have given λ = Σ_i F(A − d_i) − F(E − d_i) first deals in (E, A] (F from all leads); none
where λ ≥ :data:`EXPECTED_MISSING_DEALS` means the Deals export ends at E, and cohort cells after
E are unknown rather than zero. This is looked for only when A is the data's own latest date: an
``as_of`` setting is the user's word that every table is complete up to it.

Leads and Spend end where their last dated row is: nothing after it is known.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .daily import all_dated, day_totals
from .dataset import DAY, FIRST_DEAL, LEAD_DAY, NO_DAY, Dataset, weights_of
from .messages import Message
from .memo import kept

#: Deals a gap should have held before it is read as the export's edge rather than chance (e^−5 < 1 %).
EXPECTED_MISSING_DEALS = 5.0


@dataclass(frozen=True)
class Coverage:
    """First and last day (as Timestamps, None without the table or without dates) of each table, and
    the days the Deals export really covers when it starts later or ends earlier than its leads imply."""

    spend: tuple[pd.Timestamp, pd.Timestamp] | None
    leads: tuple[pd.Timestamp, pd.Timestamp] | None
    deals: tuple[pd.Timestamp, pd.Timestamp] | None
    deals_start: pd.Timestamp | None  # deals recorded only from this day (None: from the first inquiry)
    deals_end: pd.Timestamp | None    # deals recorded only up to this day (None: up to the as-of date)
    missing_before: float             # λ: first deals the leads should have given before deals_start
    missing_after: float              # λ: first deals expected after deals_end

    def notes(self, as_of: pd.Timestamp | None) -> list[str]:
        """Which table ends where, in words; the edges that change answers first."""
        out = []
        if self.deals_start is not None and self.leads is not None:
            # dates as ISO text: the tables' own edges, the same in every language
            out.append(Message("note.deals_start", start=f"{self.deals_start:%Y-%m-%d}",
                               leads=f"{self.leads[0]:%Y-%m-%d}", missing=self.missing_before))
        if self.deals_end is not None:
            out.append(Message("note.deals_end", end=f"{self.deals_end:%Y-%m-%d}", as_of=f"{as_of:%Y-%m-%d}",
                               missing=self.missing_after))
        if as_of is not None:
            ends = [f"{name} {span[0]:%Y-%m-%d} – {span[1]:%Y-%m-%d}" for name, span in
                    (("Spend", self.spend), ("Leads", self.leads), ("Deals", self.deals)) if span is not None]
            if any(span is not None and span[1] < as_of.normalize() for span in (self.spend, self.leads)):
                out.append(Message("note.data_covers", ends="; ".join(ends), as_of=f"{as_of:%Y-%m-%d}"))
        return out


def _span(frame: pd.DataFrame | None) -> tuple[int, int] | None:
    if frame is None or not len(frame):
        return None
    days = frame[DAY].to_numpy()
    if (days == NO_DAY).any():
        days = days[days != NO_DAY]
    return (int(days.min()), int(days.max())) if len(days) else None


def _span_of_totals(first: int, totals: np.ndarray) -> tuple[int, int]:
    """First and last day of a table every row of which is dated, from its day totals (first to last day)."""
    return first, first + len(totals) - 1


def _stamp(day: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(day), "D"))


def _share_within(close_days: np.ndarray, leads: float, weights: np.ndarray | None = None):
    """F(t): share of ``leads`` leads whose first deal closed within t days, as a function of an array t.
    ``weights``: the first deals each close day stands for (the aggregated form); None: one each.

    Close days are whole days, so F is a running count per day (one bincount, no sort of the deals);
    the counts are whole numbers, exact in float64."""
    if not len(close_days) or not leads:
        return lambda t: np.zeros(len(t))
    low = int(close_days.min())
    running = np.concatenate([[0.0], np.cumsum(np.bincount(close_days - low, weights=weights))])

    def share(t: np.ndarray) -> np.ndarray:
        # running[k] counts close days below low + k, so close days <= t are running[t - low + 1]
        return running[np.clip(t - low + 1, 0, len(running) - 1)] / leads
    return share


def table_coverage(data: Dataset) -> Coverage:
    """Each table's first and last day, and the Deals export's real edges (see the module docstring).

    Hand check: 20 leads a day in January and February; deals only for February's leads, one in
    five closing 3 days after its inquiry, so the first deal is won on February 4 and F(t) = 0.2
    for t ≥ 3. Every January lead had at least 3 days before February 4: λ = 620 × 0.2 = 124
    deals should have been won before it, none were, so the export starts on February 4.

    >>> from calc import prepare
    >>> days = pd.date_range("2024-01-01", "2024-02-29").repeat(20)
    >>> leads = pd.DataFrame({"lead_id": range(len(days)), "date": days})
    >>> won = leads.loc[leads["date"] >= "2024-02-01"].iloc[::5]
    >>> deals = pd.DataFrame({"lead_id": won["lead_id"], "date": won["date"] + pd.Timedelta(days=3)})
    >>> cover = table_coverage(prepare(leads=leads, deals=deals, settings={"as_of": "2024-03-03"}))
    >>> str(cover.deals_start.date()), round(cover.missing_before)
    ('2024-02-04', 124)
    """
    return kept(data.memo, ("table_coverage",), lambda: _coverage(data))


def _coverage(data: Dataset) -> Coverage:
    # Spend and Leads by their day totals (kept from prepare: ~1,000 days, not millions of rows)
    spans = {name: _span(getattr(data, name)) if name == "deals" or not all_dated(data, name)
             else _span_of_totals(*day_totals(data, name)) for name in ("spend", "leads", "deals")}
    start = end = None
    before = after = 0.0
    deals = data.deals
    if spans["leads"] is not None and spans["deals"] is not None and LEAD_DAY in deals.columns:
        # leads per inquiry day (weighted in the aggregated form, calc.aggregates): F is a function of the
        # inquiry day, so λ sums ~1,000 days instead of a million leads; counts are whole, so exact
        first_day, per_day = day_totals(data, "leads")
        lead_days = np.arange(first_day, first_day + len(per_day), dtype=np.int64)
        first_deals = deals.loc[deals[FIRST_DEAL].to_numpy()]
        deal_n = weights_of(first_deals)
        close = (first_deals[DAY].to_numpy() - first_deals[LEAD_DAY].to_numpy()).astype(np.int64)
        first_won, last_won = spans["deals"]
        if spans["leads"][0] < first_won:
            later = first_deals[LEAD_DAY].to_numpy() >= first_won
            share = _share_within(close[later], float(per_day[lead_days >= first_won].sum()),
                                  None if deal_n is None else deal_n[later])
            early = lead_days < first_won
            before = float((share(first_won - 1 - lead_days[early]) * per_day[early]).sum())
            if before >= EXPECTED_MISSING_DEALS:
                start = _stamp(first_won)
        as_of_day = data.as_of_day
        # an as_of setting is the user's word that every table is complete up to it
        if as_of_day is not None and last_won < as_of_day and data.settings.as_of is None:
            share = _share_within(close, float(per_day.sum()), deal_n)
            after = float(((share(as_of_day - lead_days) - share(last_won - lead_days)) * per_day).sum())
            if after >= EXPECTED_MISSING_DEALS:
                end = _stamp(last_won)
    stamps = {name: (_stamp(s[0]), _stamp(s[1])) if s is not None else None for name, s in spans.items()}
    return Coverage(spend=stamps["spend"], leads=stamps["leads"], deals=stamps["deals"], deals_start=start,
                    deals_end=end, missing_before=before, missing_after=after)


def truncated_cohorts(cohorts: pd.DatetimeIndex, coverage: Coverage) -> np.ndarray:
    """Cohorts (first days of their periods) that began before the Deals export did: their early deals are missing."""
    if coverage.deals_start is None:
        return np.zeros(len(cohorts), dtype=bool)
    return np.asarray(cohorts < coverage.deals_start, dtype=bool)
