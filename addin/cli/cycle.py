"""``cycle-roi cohorts`` and ``cycle-roi backtest``: the cohort triangle and how far its projections can be trusted."""
from __future__ import annotations

import math
from enum import Enum
from typing import Annotated, Any, Optional

import pandas as pd
import typer

import calc

from .common import (AsOfOpt, DealsOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, MapOpt, SettingOpt, SpendOpt, ToOpt,
                     app, emit, friendly, jsonable, load_dataset, print_frame, print_messages)


class Period(str, Enum):
    month = "month"
    week = "week"


class Measure(str, Enum):
    roi = "roi"
    roas = "roas"
    conversion = "conversion"
    deals = "deals"
    gross_profit = "gross_profit"


PeriodOpt = Annotated[Period, typer.Option("--period", help="Cohorts by calendar month or week.")]
MeasureOpt = Annotated[Measure, typer.Option("--measure", help="What each cell shows (cumulative by age).")]
HorizonOpt = Annotated[Optional[int], typer.Option(
    "--horizon-periods", min=0, help="Project each cohort to this age. Default: the oldest age observed at --as-of.")]
BacktestAsOfOpt = Annotated[str, typer.Option(
    "--as-of", help="Freeze the data at this date (YYYY-MM-DD): project from what was known then.")]

BACKTEST_FIELDS = ["cohort", "age_at_as_of", "observed_deals", "projected_deals", "actual_deals",
                   "projected_gross_profit", "actual_gross_profit", "truncated"]


def _format(value: Any, measure: str) -> str:
    """One triangle cell as text; conversion in %, ROI/ROAS with 2 decimals, counts and money whole."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if measure == "conversion":
        return f"{value:.1%}"
    if measure in ("roi", "roas"):
        return f"{value:.2f}"
    return f"{value:,.1f}" if measure == "deals" and value != int(value) else f"{value:,.0f}"


def marked_triangle(table: pd.DataFrame) -> pd.DataFrame:
    """The triangle as text with projected cells marked '*', for the terminal."""
    measure, mask = table.attrs["measure"], table.attrs["projected"]
    # † marks a truncated cohort (began before the Deals export did), as the title's legend says
    truncated = table["truncated"] if "truncated" in table.columns else pd.Series(False, index=table.index)
    shown = pd.DataFrame({"cohort": table["cohort"].dt.strftime("%Y-%m-%d") + truncated.map({True: " †", False: ""}),
                          "consultations": table["consultations"], "spend": table["spend"]})
    for age in (c for c in table.columns if isinstance(c, int)):
        shown[f"age {age}"] = [_format(v, measure) + ("*" if flag else "")
                               for v, flag in zip(table[age].tolist(), mask[age].tolist())]
    return shown


@app.command()
@friendly
def cohorts(spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None,
            period: PeriodOpt = Period.month, measure: MeasureOpt = Measure.conversion, start: FromOpt = None,
            end: ToOpt = None, filter: FilterOpt = None, map: MapOpt = None, setting: SettingOpt = None,
            as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Cohort triangle: inquiry cohorts × age in periods; projected cells marked * (JSON: projected_from_age)."""
    data = load_dataset(spend, leads, deals, map, setting, as_of)
    table = calc.cohort_triangle(data, measure=measure.value, period=period.value, start=start, end=end,
                                 filter=filter)
    if json:
        emit(table, as_json=True)
        return
    legend = ", † = truncated: began before the Deals export, early deals missing" if table["truncated"].any() else ""
    print_frame(marked_triangle(table), title=f"Cohorts by {period.value}: {measure.value} (* = projected{legend})")
    print_messages(list(table.attrs["notes"]) + list(table.attrs["exclusions"]))


@app.command()
@friendly
def backtest(as_of: BacktestAsOfOpt, spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None,
             period: PeriodOpt = Period.month, horizon_periods: HorizonOpt = None, start: FromOpt = None,
             filter: FilterOpt = None, map: MapOpt = None, setting: SettingOpt = None, json: JsonOpt = False) -> None:
    """Freeze the data at --as-of, project each cohort to age H, compare with what really happened."""
    data = load_dataset(spend, leads, deals, map, setting)  # all the data: the later truth is the point
    result = calc.backtest(data, as_of=as_of, period=period.value, horizon_periods=horizon_periods, start=start,
                           filter=filter)
    summary = {k: jsonable(v) for k, v in result.attrs["summary"].items()}
    frame = result[BACKTEST_FIELDS]
    frame.attrs = result.attrs
    emit(frame, as_json=json, title=f"Backtest as of {summary['as_of']}, projected to age {summary['horizon_periods']}",
         extra=summary)
