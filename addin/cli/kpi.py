"""``cycle-roi kpi`` and ``cycle-roi demo``: the key indicators from files or the bundled sample."""
from __future__ import annotations

from importlib import resources
from typing import Annotated, Optional

import typer
from rich.text import Text

import calc
from calc.messages import Message, render

from .common import (DealsTableOpt, LeadsTableOpt, SourceOpt, SpendTableOpt,
                     AsOfOpt, ByOpt, DealsOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, MapOpt, SettingOpt, SpendOpt,
                     ToOpt, app, emit, friendly, language, load_dataset, out, print_frame, print_messages,
                     render_label)

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
    emit(with_cycle_columns(frame, data, start=start, end=end, filter=filter), as_json=json,
         title=render_label("dashboard.key_indicators"))


def with_cycle_columns(frame, data: calc.Dataset, **options):
    """kpi's table plus the full-cycle view per row: ``cycle_roi`` and ``max_consult_cost`` (projected cohorts)."""
    import numpy as np  # here, not at the top: --help builds this module's command without pandas
    import pandas as pd

    notes = list(frame.attrs.get("notes", []))
    dims = [c for c in frame.columns if c not in calc.KPI_COLUMNS]
    if data.leads is None or data.deals is None:
        cycle = None
    elif any(pd.api.types.is_datetime64_any_dtype(frame[d].dtype) for d in dims):
        cycle = None
        notes.append(Message("cli.cycle_per_segment"))
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
    T = render_label  # every line from the message catalogue, in the run's language
    money = {"currency": data.settings.currency}  # a currency symbol only when the settings give one
    out.print(Text.assemble((T("demo.title"), "bold"), " — ", T("demo.subtitle", as_of=data.as_of)))
    out.print("  " + T("demo.consultations", count=row.consultations))
    out.print("  " + T("demo.cost", cost=row.consult_cost, **money))
    out.print("  " + T("demo.conversion", rate=row.conversion_rate, deals=row.deals, days=row.median_days_to_close))
    cycle, short = calc.cycle_roi(data), calc.short_term_roi(data)
    out.print("  " + T("demo.roi", cycle=cycle, short=short))
    check = calc.cost_affordability(data)  # the one definition the stability verdict uses too
    verdict = {"within": "demo.within", "within_not_conservative": "demo.within_not_cautious",
               "above": "demo.above", "unknown": "demo.unknown"}[check["verdict"]]
    out.print("  " + T("demo.ceiling", ceiling=check["ceiling"], cautious=check["conservative"],
                       target=data.settings.target_roi, typical=check["typical"], verdict=T(verdict), **money))
    print_frame(with_cycle_columns(calc.kpi_table(data, by="channel"), data), title=T("demo.by_channel"))
    out.print(Text(T("stability.verdicts"), style="bold"))
    for measure in ("volume", "cost"):
        out.print("  " + render(calc.stability_verdict(data, measure=measure, period="week"), language()),
                  highlight=False)
    out.print(Text(T("demo.which_link"), style="bold"))
    for finding in calc.funnel_diagnosis(data, by="channel").itertuples():
        out.print("  " + T("demo.finding", segment=T("code.segment.All") if finding.segment == "All" else finding.segment,
                           link=finding.link, advice=finding.advice, certainty=finding.certainty), highlight=False)
    print_messages([*data.notes, *data.exclusions])
    out.print(T("demo.next"))
