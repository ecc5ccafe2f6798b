"""``cycle-roi outcomes``: won and lost as competing outcomes — time to win and to lose, and by segment who
loses fast and often. A CRM export is given as it is: ``--leads F --deals F`` with the same file."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

import calc

from .common import (AsOfOpt, ByOpt, DealsOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, MapOpt, SettingOpt, SpendOpt,
                     ToOpt, app, emit, friendly, load_dataset, render_label)

DaysOpt = Annotated[Optional[str], typer.Option("--days", help="Days to read the shares at, e.g. 7,30,90,180.")]


@app.command()
@friendly
def outcomes(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, by: ByOpt = None,
             days: DaysOpt = None, start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None,
             map: MapOpt = None, setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Won and lost shares by day (Aalen–Johansen) beside Kaplan–Meier; with --by, loss rate and time to lose per segment."""
    data = load_dataset(spend, leads, deals, map, setting, as_of)
    if by:
        table = calc.outcome_segments(data, by=by, start=start, end=end, filter=filter)
        emit(table, as_json=json, title=render_label("cli.title.outcomes_by", dims=", ".join(table.attrs["dims"])))
        return
    options = {"days": [d.strip() for d in days.split(",") if d.strip()]} if days else {}
    table = calc.time_to_outcome(data, start=start, end=end, filter=filter, **options)
    emit(table, as_json=json, title=render_label("cli.title.outcomes"))
