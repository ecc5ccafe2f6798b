"""``cycle-roi stability|diagnose|segments|budget|portfolio``: is it stable, which link, where to put money, what to copy."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

import calc

from .common import (DealsTableOpt, LeadsTableOpt, SourceOpt, SpendTableOpt,
                     AsOfOpt, ByOpt, DealsOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, MapOpt, SettingOpt, SpendOpt,
                     ToOpt, app, emit, friendly, load_dataset, render_label)

MeasureOpt = Annotated[str, typer.Option("--measure", help="volume (consultations), cost (spend ÷ consultations) or conversion.")]
PeriodOpt = Annotated[str, typer.Option("--period", help="day or week.")]
HorizonOpt = Annotated[int, typer.Option("--horizon", help="For conversion: deals within N days of inquiry count.")]
MethodOpt = Annotated[str, typer.Option("--method", help="Control limits: nelson (drop outlier moving ranges) or median.")]
RankOpt = Annotated[str, typer.Option("--rank-by", help="shrunk_conversion, shrunk_low or conversion_low.")]
ShiftOpt = Annotated[Optional[float], typer.Option("--max-shift", help="Largest share of a segment's spend one step moves (default: setting budget_max_shift).")]
DimsOpt = Annotated[Optional[str], typer.Option("--dims", help="Unit columns, e.g. category,store,price_tier (the default).")]

#: The JSON shapes of the issue: exactly these keys per object.
STABILITY_KEYS = ("date", "value", "centre", "lcl", "ucl", "signals")
SEGMENT_KEYS = ("consultations", "deals", "conversion_rate", "conversion_low", "conversion_high", "shrunk_conversion",
                "consult_cost", "cycle_roi", "rank")


@app.command()
@friendly
def stability(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, measure: MeasureOpt = "volume",
              period: PeriodOpt = "day", horizon: HorizonOpt = 30, method: MethodOpt = "nelson",
              start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None, map: MapOpt = None,
              source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
              deals_table: DealsTableOpt = None,
              setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """XmR / Laney p′ control chart of volume, cost or conversion with run-rule signals, and the verdict."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    options = dict(measure=measure, period=period, start=start, end=end, filter=filter, horizon_days=horizon,
                   method=method)
    chart = calc.stability(data, **options)
    verdict = calc.stability_verdict(data, **options)
    points = chart[list(STABILITY_KEYS)].copy()
    if json:
        points["signals"] = [s.split(", ") if s else [] for s in points["signals"]]
    points.attrs = chart.attrs
    # the chart's values in the measure's own kind: rates as percentages, costs as money, counts to 2 decimals
    kind = {"conversion": "pct", "cost": "money"}.get(chart.attrs.get("measure"), "num")
    emit(points, as_json=json, title=render_label("cli.title.stability", measure=measure, period=period), extra={"verdict": verdict},
         kinds={c: kind for c in ("value", "centre", "lcl", "ucl")})


@app.command()
@friendly
def diagnose(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, by: ByOpt = None,
             start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None, map: MapOpt = None,
             source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
             deals_table: DealsTableOpt = None,
             setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Which link to optimise (ads, sales, channel, or keep investing), for the business and each segment."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    findings = calc.funnel_diagnosis(data, by=by, start=start, end=end, filter=filter)
    shown = findings if json else findings[["segment", "finding", "link", "certainty", "evidence"]]
    shown.attrs = findings.attrs
    emit(shown, as_json=json, title=render_label("sheet.diagnosis"))


@app.command()
@friendly
def segments(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, by: ByOpt = None,
             rank_by: RankOpt = "shrunk_conversion", start: FromOpt = None, end: ToOpt = None,
             filter: FilterOpt = None, map: MapOpt = None,
             source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
             deals_table: DealsTableOpt = None,
             setting: SettingOpt = None, as_of: AsOfOpt = None,
             json: JsonOpt = False) -> None:
    """Segments with Wilson intervals, shrunk conversion, cost and cycle ROI, ranked without trusting tiny ones."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    import pandas as pd  # here, not at the top: --help builds this module's commands without pandas

    table = calc.segment_table(data, by=by, start=start, end=end, filter=filter, rank_by=rank_by)
    shown = table[[*table.attrs["dims"], *SEGMENT_KEYS]].copy()
    shown["rank"] = pd.array([None if pd.isna(r) else int(r) for r in shown["rank"]], dtype=object)
    shown.attrs = table.attrs
    emit(shown, as_json=json, title=render_label("cli.title.segments_by", dims=", ".join(table.attrs["dims"])))


@app.command()
@friendly
def budget(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, by: ByOpt = None,
           max_shift: ShiftOpt = None, start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None,
           map: MapOpt = None,
           source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
           deals_table: DealsTableOpt = None,
           setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Bounded budget moves from low- to high-ROI segments, with the expected change in consultations and profit."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    moves = calc.budget_shift(data, by=by, max_shift=max_shift, start=start, end=end, filter=filter)
    emit(moves, as_json=json, title=render_label("segments.budget"), extra={"summary": moves.attrs["summary"]})


@app.command()
@friendly
def portfolio(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None, dims: DimsOpt = None,
              start: FromOpt = None, end: ToOpt = None, filter: FilterOpt = None, map: MapOpt = None,
              source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
              deals_table: DealsTableOpt = None,
              setting: SettingOpt = None, as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Units to replicate, watch, fix or stop: consultations, cost, conversion, cycle ROI and stability."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
    units = calc.portfolio(data, dims=dims, start=start, end=end, filter=filter)
    shown = units if json else units[[*units.attrs["dims"], "consultations", "consult_cost", "conversion_rate",
                                      "cycle_roi", "verdict", "reason"]]
    shown.attrs = units.attrs
    emit(shown, as_json=json, title=render_label("portfolio.matrix"))
