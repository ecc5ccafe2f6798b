"""``cycle-roi kpi`` and ``cycle-roi demo``: the key indicators from files or the bundled sample."""
from __future__ import annotations

from importlib import resources
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

import calc

from .common import (DealsTableOpt, LeadsTableOpt, SourceOpt, SpendTableOpt,
                     AsOfOpt, ByOpt, DealsOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, MapOpt, SettingOpt, SpendOpt,
                     ToOpt, app, emit, friendly, load_dataset, out, print_frame, print_messages)

HorizonOpt = Annotated[Optional[int], typer.Option("--horizon", help="Count only deals won within N days of the inquiry.")]


@app.command()
@friendly
def kpi(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, by: ByOpt = None,
        start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None, horizon: HorizonOpt = None,
        map: MapOpt = None,
        source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
        deals_table: DealsTableOpt = None,
        setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Consultations, spend, consultation cost, deals, conversion rate, revenue, gross profit, days to close."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    frame = calc.kpi_table(data, by=by, start=start, end=end, filter=filter, horizon_days=horizon)
    emit(with_cycle_columns(frame, data, start=start, end=end, filter=filter), as_json=json, title="Key indicators")


def with_cycle_columns(frame, data: calc.Dataset, **options):
    """kpi's table plus the full-cycle view per row: ``cycle_roi`` and ``max_consult_cost`` (projected cohorts)."""
    notes = list(frame.attrs.get("notes", []))
    dims = [c for c in frame.columns if c not in calc.KPI_COLUMNS]
    if data.leads is None or data.deals is None:
        cycle = None
    elif any(pd.api.types.is_datetime64_any_dtype(frame[d].dtype) for d in dims):
        cycle = None
        notes.append("cycle_roi and max_consult_cost are per segment, not per period: see cycle-roi cohorts")
    else:
        cycle = calc.segment_cycle_roi(data, by=dims or None, **options)
        notes += cycle.attrs.get("notes", [])
    if cycle is None:
        out = frame.assign(max_consult_cost=np.nan, cycle_roi=np.nan)
    elif dims:
        out = frame.merge(cycle[[*dims, "max_consult_cost", "cycle_roi"]], on=dims, how="left")
    else:
        out = frame.assign(max_consult_cost=cycle["max_consult_cost"].iloc[0], cycle_roi=cycle["cycle_roi"].iloc[0])
    out.attrs = {**frame.attrs, "notes": list(dict.fromkeys(notes))}
    return out


def sample_paths() -> dict[str, str]:
    """The bundled sample's files (a small synthetic made-to-order business, see calc.synthetic)."""
    folder = resources.files("addin") / "sample_data"
    return {name: str(folder / f"{name}.csv") for name in ("spend", "leads", "deals")}


@app.command()
@friendly
def demo() -> None:
    """The whole picture for the bundled sample business (no files needed)."""
    paths = sample_paths()
    data = load_dataset(paths["spend"], paths["leads"], paths["deals"])
    row = calc.kpi_table(data).iloc[0]
    money = data.settings.currency
    out.print(f"[bold]Cycle ROI demo[/bold] — a sample made-to-order business, inquiries up to {data.as_of:%Y-%m-%d}")
    out.print(f"  consultations        {row.consultations:,.0f}")
    out.print(f"  consultation cost    {row.consult_cost:,.2f} {money} per consultation")
    out.print(f"  inquiry conversion   {row.conversion_rate:.1%} so far ({row.deals:,.0f} deals, median "
              f"{row.median_days_to_close:,.0f} days to close)")
    cycle, short = calc.cycle_roi(data), calc.short_term_roi(data)
    out.print(f"  full-cycle ROI       {cycle:.0%} (projected)  vs  short-term ROI {short:.0%} — judge ads on the first")
    check = calc.cost_affordability(data)  # the one definition the stability verdict uses too
    ceiling, cautious = check["ceiling"], check["conservative"]
    verdict = {"within": "within it", "within_not_conservative": "within it, but above the cautious ceiling",
               "above": "ABOVE it", "unknown": "not known"}[check["verdict"]]
    out.print(f"  max affordable cost  {ceiling:,.2f} {money} per consultation at the {data.settings.target_roi:.0%} "
              f"target ({cautious:,.2f} cautious): the typical cost {check['typical']:,.2f} is {verdict}")
    print_frame(with_cycle_columns(calc.kpi_table(data, by="channel"), data), title="By channel")
    out.print("[bold]Is it stable?[/bold]")
    for measure in ("volume", "cost"):
        out.print("  " + calc.stability_verdict(data, measure=measure, period="week"), highlight=False)
    out.print("[bold]Which link to fix[/bold]")
    for finding in calc.funnel_diagnosis(data, by="channel").itertuples():
        out.print(f"  {finding.segment}: {finding.link} — {finding.advice} ({finding.certainty})", highlight=False)
    print_messages(data.messages())
    out.print("Next: cycle-roi kpi|cohorts|stability|segments|diagnose|portfolio --spend F --leads F --deals F; "
              "cycle-roi --help")
