"""``cycle-roi cohorts`` and ``cycle-roi backtest``: the cohort triangle and how far its projections can be trusted."""
from __future__ import annotations

import json as _json
import math
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

import calc
from calc.messages import Message, render

from .common import (AsOfOpt, DealsOpt, DealsTableOpt, FilterOpt, FromOpt, JsonOpt, LeadsOpt, LeadsTableOpt, MapOpt,
                     SettingOpt, SourceOpt, SpendOpt, SpendTableOpt, ToOpt, app, emit, friendly, jsonable, language,
                     load_dataset, print_frame, print_messages, records, render_label)

# pandas is imported by the functions that use it: --help builds these commands without loading it
if TYPE_CHECKING:
    import pandas as pd


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
    import pandas as pd

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
    legend = "cli.cohorts_title_truncated" if table["truncated"].any() else "cli.cohorts_title"
    print_frame(marked_triangle(table), title=render_label(f"{legend}.{period.value}", measure=measure.value))
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
        raise calc.InputError("options", "--as-of", Message("error.backtest_needs_as_of"),
                              fix=Message("error.backtest_needs_as_of.fix"))
    data = load_dataset(spend, leads, deals, map, setting,
                        source=(source, spend_table, leads_table, deals_table))  # all the data: the later truth
    if rolling:
        _rolling(data, period=period.value, start=start, filter=filter, band=band, as_json=json)
        return
    result = calc.backtest(data, as_of=as_of, period=period.value, horizon_periods=horizon_periods, start=start,
                           filter=filter)
    import pandas as pd

    summary = {k: jsonable(v) for k, v in result.attrs["summary"].items()}
    frame = result[BACKTEST_FIELDS]
    frame.attrs = result.attrs
    emit(frame, as_json=json, extra=summary,
         title=render_label("cli.backtest_title", as_of=pd.Timestamp(summary["as_of"]),
                            horizon=summary["horizon_periods"]))


def _rolling(data: calc.Dataset, *, period: str, start: str | None, filter: str | None, band: float,
             as_json: bool) -> None:
    """The rolling-origin backtest: summary by horizon (terminal), or summary and rows (JSON); labels and notes
    from the message catalogue in the run's language."""
    import pandas as pd

    from calc.rolling import by_horizon

    result = calc.rolling_backtest(data, period=period, start=start, filter=filter, band_level=band)
    summary = result.attrs["summary"]
    if as_json:
        payload = {"band_level": result.attrs["band_level"], "period": period,
                   "summary": records(summary), "rows": records(result)}
        sys.stdout.write(_json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    else:
        table = by_horizon(result)
        level = result.attrs["band_level"]
        pct = lambda values: [f"{v:.1%}" if v == v else "" for v in values.astype(float)]  # noqa: E731
        label = render_label
        shown = pd.DataFrame({
            label("col.horizon" if period == "month" else "col.horizon.week"):
                [render(h, language()) for h in table["horizon"]],
            label("col.compared"): table["compared"], label("col.cohorts"): table["cohorts"],
            label("col.mape"): pct(table["mape"]), label("col.mape_plain"): pct(table["mape_plain_chain_ladder"]),
            label("col.mape_observed"): pct(table["mape_observed_as_final"]), label("col.bias"): pct(table["bias"]),
            label("cli.inside_band", level=level): pct(table["band_coverage"]),
            label("cli.inside_plain_band", level=level): pct(table["band_coverage_plain_chain_ladder"]),
            label("col.mape_vs_plain_with_interval", level=level): [
                (label("cli.difference_interval", difference=d, low=lo, high=hi) if lo == lo
                 else label("cli.difference_one_cohort", difference=d)) if d == d else ""
                for d, lo, hi in zip(table["mape_vs_plain"], table["mape_vs_plain_low"], table["mape_vs_plain_high"])]})
        as_of_dates = result["as_of"].drop_duplicates()
        title = (render_label(f"rolling.title.{period}", first=as_of_dates.min(), last=as_of_dates.max(),
                              level=result.attrs["band_level"]) if len(as_of_dates) else render_label("rolling.title.none"))
        print_frame(shown, title=title)
    print_messages(list(result.attrs["notes"]) + list(result.attrs["exclusions"]))
