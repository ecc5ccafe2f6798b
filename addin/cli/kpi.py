"""``cycle-roi kpi`` and ``cycle-roi demo``: the key indicators from files or the bundled sample."""
from __future__ import annotations

from importlib import resources
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

import calc

from .common import (AsOfOpt, ByOpt, DealsOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, MapOpt, SettingOpt, SpendOpt,
                     ToOpt, app, emit, friendly, load_dataset, out, print_frame, print_messages)

HorizonOpt = Annotated[Optional[int], typer.Option("--horizon", help="Count only deals won within N days of the inquiry.")]


@app.command()
@friendly
def kpi(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, by: ByOpt = None,
        start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None, horizon: HorizonOpt = None,
        map: MapOpt = None, setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Consultations, spend, consultation cost, deals, conversion rate, revenue, gross profit, days to close."""
    data = load_dataset(spend, leads, deals, map, setting, as_of)
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
    """Headline indicators of the bundled sample business (no files needed)."""
    paths = sample_paths()
    data = load_dataset(paths["spend"], paths["leads"], paths["deals"])
    total = calc.kpi_table(data)
    row = total.iloc[0]
    out.print(f"[bold]Cycle ROI demo[/bold] — sample business, inquiries up to {data.as_of:%Y-%m-%d}")
    out.print(f"  consultations      {row.consultations:,.0f}")
    out.print(f"  consultation cost  {row.consult_cost:,.2f} {data.settings.currency} per consultation")
    out.print(f"  inquiry conversion {row.conversion_rate:.1%} ({row.deals:,.0f} deals so far)")
    out.print(f"  median days to close {row.median_days_to_close:,.0f}")
    print_frame(calc.kpi_table(data, by="channel"), title="By channel")
    print_messages(data.messages())
    out.print("Next: cycle-roi kpi --spend FILE --leads FILE --deals FILE --by province")
