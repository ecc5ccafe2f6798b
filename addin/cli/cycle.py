"""``cycle-roi cohorts`` and ``cycle-roi backtest``: the cohort triangle and how far its projections can be trusted."""
from __future__ import annotations

import json as _json
import math
import sys
from enum import Enum
from typing import Annotated, Any, Optional

import pandas as pd
import typer

import calc

from .common import (AsOfOpt, DealsOpt, DealsTableOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, LeadsTableOpt, MapOpt,
                     SettingOpt, SourceOpt, SpendOpt, SpendTableOpt, ToOpt, app, emit, friendly, jsonable,
                     load_dataset, print_frame, print_messages, records)


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
BacktestAsOfOpt = Annotated[Optional[str], typer.Option(
    "--as-of", help="Freeze the data at this date (YYYY-MM-DD): project from what was known then.")]
RollingOpt = Annotated[bool, typer.Option(
    "--rolling", help="Freeze the data at every period end with later truth; MAPE, bias and band coverage by horizon.")]
BandOpt = Annotated[float, typer.Option("--band", min=0.51, max=0.99, help="Level of the projection band (--rolling).")]

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
            end: ToOpt = None, filter: FilterOpt = None, map: MapOpt = None,
            source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
            deals_table: DealsTableOpt = None,
            setting: SettingOpt = None,
            as_of: AsOfOpt = None, json: JsonOpt = False) -> None:
    """Cohort triangle: inquiry cohorts × age in periods; projected cells marked * (JSON: projected_from_age)."""
    data = load_dataset(spend, leads, deals, map, setting, as_of,
                        source=(source, spend_table, leads_table, deals_table))
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
def backtest(as_of: BacktestAsOfOpt = None, spend: SpendOpt = None, leads: LeadsOpt = None, deals: DealsOpt = None,
             period: PeriodOpt = Period.month, horizon_periods: HorizonOpt = None, start: FromOpt = None,
             filter: FilterOpt = None, map: MapOpt = None,
             source: SourceOpt = None, spend_table: SpendTableOpt = None, leads_table: LeadsTableOpt = None,
             deals_table: DealsTableOpt = None,
             setting: SettingOpt = None, rolling: RollingOpt = False,
             band: BandOpt = 0.9, json: JsonOpt = False) -> None:
    """Freeze the data at --as-of, project each cohort to age H, compare with what really happened;
    --rolling: freeze it at every period end, and summarise the errors and the band's coverage by horizon."""
    if not rolling and not as_of:
        raise calc.InputError("options", "--as-of", "is needed for a single backtest",
                              fix="give --as-of YYYY-MM-DD, or use --rolling to backtest at every period end")
    data = load_dataset(spend, leads, deals, map, setting,
                        source=(source, spend_table, leads_table, deals_table))  # all the data: the later truth
    if rolling:
        _rolling(data, period=period.value, start=start, filter=filter, band=band, as_json=json)
        return
    result = calc.backtest(data, as_of=as_of, period=period.value, horizon_periods=horizon_periods, start=start,
                           filter=filter)
    summary = {k: jsonable(v) for k, v in result.attrs["summary"].items()}
    frame = result[BACKTEST_FIELDS]
    frame.attrs = result.attrs
    emit(frame, as_json=json, title=f"Backtest as of {summary['as_of']}, projected to age {summary['horizon_periods']}",
         extra=summary)


def _rolling(data: calc.Dataset, *, period: str, start: str | None, filter: str | None, band: float,
             as_json: bool) -> None:
    """The rolling-origin backtest: summary by horizon and method (terminal), or summary and rows (JSON)."""
    result = calc.rolling_backtest(data, period=period, start=start, filter=filter, band_level=band)
    summary = result.attrs["summary"]
    level = f"{result.attrs['band_level']:.0%}"
    if as_json:
        payload = {"band_level": result.attrs["band_level"], "period": period,
                   "summary": records(summary), "rows": records(result)}
        sys.stdout.write(_json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    else:
        wide = summary.pivot(index="horizon", columns="method", values="mape")
        shown = pd.DataFrame({
            "horizon": [str(h) for h in wide.index],
            "compared": summary.loc[summary["method"] == "product"].set_index("horizon")["n"].reindex(wide.index),
            "MAPE": wide.get("product"), "MAPE plain chain ladder": wide.get("plain_chain_ladder"),
            "MAPE observed as final": wide.get("observed_as_final"),
            "bias": summary.loc[summary["method"] == "product"].set_index("horizon")["bias"].reindex(wide.index),
            f"inside the {level} band": summary.loc[summary["method"] == "product"].set_index("horizon")["coverage"]
            .reindex(wide.index)})
        as_of_dates = result["as_of"].drop_duplicates()
        span = f"{as_of_dates.min():%Y-%m-%d} – {as_of_dates.max():%Y-%m-%d}" if len(as_of_dates) else "none"
        for column in shown.columns[2:]:
            shown[column] = [f"{v:.1%}" if v == v else "" for v in shown[column].astype(float)]
        print_frame(shown,
                    title=f"How far to trust the projections: rolling backtest, as of every {period} end {span} "
                          f"(horizon = {period}s ahead)")
    print_messages(list(result.attrs["notes"]) + list(result.attrs["exclusions"]))
