"""Report blocks for won, lost and open (issue 19): shown on the Cycle ROI sheet when Deals carry a status.

Without a status column nothing is added, so reports of data without lost outcomes stay as they were.
"""
from __future__ import annotations

import calc

from .blocks import Block, Chart, Notes, Table
from .sections import Context

FORMATS = {"days": "int", "won_share": "pct", "lost_share": "pct", "open_share": "pct", "km_converted_share": "pct",
           "at_risk": "int", "win_rate": "pct", "loss_rate": "pct", "loss_rate_ratio": "ratio", "won": "int",
           "lost": "int", "open": "int", "consultations": "int", "median_days_to_win": "int",
           "median_days_to_lose": "int", "lose_days_ratio": "ratio", "loses_fast_and_often": "text"}
CURVE = ("days", "won_share", "lost_share", "open_share", "km_converted_share", "at_risk")
SEGMENT = ("consultations", "won", "lost", "open", "win_rate", "loss_rate", "median_days_to_win",
           "median_days_to_lose", "loses_fast_and_often")


def outcome_blocks(ctx: Context) -> list[Block]:
    """The Aalen–Johansen curve beside Kaplan–Meier, and per segment loss rate and time to lose."""
    data, L = ctx.data, ctx.labels
    if not data.has_outcomes:
        return []
    from .analyses import columns  # the report's shared column builder (analyses imports sections, not this)

    curve = calc.time_to_outcome(data, days=(7, 14, 30, 60, 90, 180))
    blocks: list[Block] = [
        Table("outcomes", L("outcomes.curve"), curve, columns(ctx, CURVE, formats=FORMATS)),
        Chart("outcomes", "line", L("outcomes.chart"), category="days", series=("won_share", "lost_share"),
              y_format="pct"),
    ]
    lines = [L("outcomes.method")]
    if ctx.by:
        table = calc.outcome_segments(data, by=ctx.by)
        shown = table.assign(loses_fast_and_often=table["loses_fast_and_often"].map({True: "✔", False: ""}))
        blocks.append(Table("outcome_segments", L("outcomes.segments", dim=ctx.by), shown,
                            columns(ctx, (ctx.by, *SEGMENT), formats=FORMATS)))
        if table.attrs["fast_losers"]:
            lines.append(L("outcomes.fast_losers", names=", ".join(table.attrs["fast_losers"])))
    blocks.append(Notes(tuple(lines), tone="finding"))
    return blocks
