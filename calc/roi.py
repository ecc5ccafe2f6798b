"""Full-cycle ROI per segment, the maximum affordable consultation cost, short-term ROI and payback.

Definitions (``docs/methods.md``, "ROI, ROAS, payback" and "Maximum affordable consultation cost"):

* consultations: leads whose inquiry date is in the range; spend: spend dated in the range, same
  filters; consult_cost = spend ÷ consultations;
* every deal is attributed to its consultation's inquiry cohort (month or week); immature cohorts
  are projected to their ultimate value by chain ladder (:mod:`calc.chainladder`; Bornhuetter–
  Ferguson for cohorts less than ``Settings.bornhuetter_ferguson_below`` developed), with pooled
  factors standing in where a segment has too few deals for its own;
* full-cycle conversion = projected ultimate converted consultations ÷ consultations; its band at
  ``Settings.confidence`` covers both the unknown future of young cohorts (Mack's standard error)
  and the sampling noise of a finite segment (binomial), as a Wilson interval on the effective
  sample size n_eff = p(1−p) ÷ [(SE_Mack/n)² + p(1−p)/n], at the projection bands' one quantile
  (:func:`calc.chainladder.band_quantile`: Student's t on the degrees of freedom of the σ² behind
  SE_Mack, normal when nothing is projected);
* gross_profit_per_deal = projected gross profit ÷ projected converted consultations: gross profit
  per *won consultation*, its repeat orders included, so that conversion × gross_profit_per_deal is
  the gross profit one consultation brings (a segment with no deal yet borrows the pooled figure,
  so its maximum consultation cost is 0 rather than unknown);
* cycle ROI = (projected gross profit − spend) ÷ spend; cycle_roi_observed uses only gross profit
  already won (what the books show today);
* maximum affordable consultation cost CPL_max = full-cycle conversion × gross profit per deal ÷
  (1 + target ROI); the conservative version uses the lower end of the conversion band; the
  actual consultation cost is within it when consult_cost ≤ CPL_max (equivalently cycle ROI ≥ the
  target);
* short-term ROI = (gross profit of deals *won* in the range − spend of the range) ÷ spend, whoever
  the deals came from — the figure a monthly report usually shows, and the misleading one;
* payback = the smallest age (days) at which cumulative gross profit per consultation covers the
  consultation cost.

Every ratio is NaN (an empty cell), never inf, when its denominator is 0 or unknown; without
Spend the money outputs are NaN and ``attrs["notes"]`` says why.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .chainladder import band_quantile
from .cohorts import CycleAnalysis, analyse_cycle, make_cycle_options, period_number
from .dataset import DAY, Dataset, rows_in, weights_of
from .memo import remembered
from .errors import InputError
from .messages import Message
from .query import make_query, select
from .settings import Settings

SEGMENT_COLUMNS = ("consultations", "spend", "consult_cost", "deals_observed", "deals_projected",
                   "full_cycle_conversion", "full_cycle_conversion_low", "full_cycle_conversion_high",
                   "gross_profit_observed", "gross_profit_projected", "gross_profit_per_deal", "cycle_roi",
                   "cycle_roi_observed", "max_consult_cost", "max_consult_cost_conservative", "cost_within_max")


def _divide(numerator: Any, denominator: Any) -> np.ndarray:
    """numerator ÷ denominator, NaN (never inf) where the denominator is 0 or NaN."""
    numerator = np.asarray(numerator, dtype="float64")
    denominator = np.asarray(denominator, dtype="float64")
    ok = np.isfinite(denominator) & (denominator != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, numerator / np.where(ok, denominator, 1.0), np.nan)


def conversion_band(converted: np.ndarray, se: np.ndarray, consultations: np.ndarray,
                    confidence: float, dof: np.ndarray | float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval of converted ÷ consultations on the effective sample size (see module docstring),
    at :func:`calc.chainladder.band_quantile` with ``dof`` degrees of freedom (normal when infinite).

    With no projection error (se = 0) it is the plain Wilson interval: 12 of 100 at 95 % gives
    [7.00 %, 19.81 %] (by hand, z² = 3.8415: centre (0.12 + 3.8415/200)/1.038415 = 0.13406,
    half-width 1.96·√(0.12·0.88/100 + 3.8415/40000)/1.038415 = 0.06406).

    >>> low, high = conversion_band(np.array([12.0]), np.array([0.0]), np.array([100.0]), 0.95)
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.07, 0.1981)
    """
    z = band_quantile(confidence, np.where(np.asarray(se, dtype="float64") > 0, dof, np.inf))
    n = np.asarray(consultations, dtype="float64")
    p = np.clip(_divide(converted, n), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = (np.asarray(se, dtype="float64") / n) ** 2 + p * (1 - p) / n
        n_eff = np.where((p > 0) & (p < 1) & (variance > 0), p * (1 - p) / variance, n)
        centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
        half = z * np.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff ** 2)) / (1 + z * z / n_eff)
    valid = n > 0
    return np.where(valid, np.clip(centre - half, 0, 1), np.nan), np.where(valid, np.clip(centre + half, 0, 1), np.nan)


#: The projections a segment's full-cycle figures read (the pooled-factor note is the same without revenue's:
#: revenue pools exactly where deals do).
SEGMENT_MEASURES = ("deals", "converted", "gross_profit")


def _segment_frame(analysis: CycleAnalysis, target_roi: float) -> pd.DataFrame:
    dev, proj = analysis.development, analysis.projections
    settings = analysis.settings
    consultations = dev.consultations.sum(axis=1)
    spend = dev.spend.sum(axis=1) if not np.isnan(dev.spend).all() else np.full(len(consultations), np.nan)
    converted_ultimate = proj["converted"].ultimate.sum(axis=1)
    converted_se = np.sqrt(proj["converted"].total_mse)
    low, high = conversion_band(converted_ultimate, converted_se, consultations, settings.confidence,
                                dof=proj["converted"].total_dof)
    conversion = _divide(converted_ultimate, consultations)
    gp_observed = proj["gross_profit"].latest.sum(axis=1)
    gp_projected = proj["gross_profit"].ultimate.sum(axis=1)
    gp_per_deal = _divide(gp_projected, converted_ultimate)
    # a segment without any deal yet still has a maximum cost (conversion 0 × any margin = 0):
    # borrow the pooled gross profit per deal rather than leave it unknown
    no_deals = (converted_ultimate == 0) & (consultations > 0)
    if no_deals.any() and len(consultations) > 1:
        gp_per_deal = np.where(no_deals, _divide(np.nansum(gp_projected), np.nansum(converted_ultimate)), gp_per_deal)
    consult_cost = _divide(spend, consultations)
    max_cost = conversion * gp_per_deal / (1 + target_roi)
    out = dev.segments.copy().reset_index(drop=True)
    columns = {
        "consultations": consultations, "spend": spend, "consult_cost": consult_cost,
        "deals_observed": proj["deals"].latest.sum(axis=1), "deals_projected": proj["deals"].ultimate.sum(axis=1),
        "full_cycle_conversion": conversion, "full_cycle_conversion_low": low, "full_cycle_conversion_high": high,
        "gross_profit_observed": gp_observed, "gross_profit_projected": gp_projected,
        "gross_profit_per_deal": gp_per_deal,
        "cycle_roi": _divide(gp_projected - spend, spend), "cycle_roi_observed": _divide(gp_observed - spend, spend),
        "max_consult_cost": max_cost, "max_consult_cost_conservative": low * gp_per_deal / (1 + target_roi),
        "cost_within_max": np.where(np.isnan(consult_cost) | np.isnan(max_cost), np.nan,
                                    (consult_cost <= max_cost).astype("float64")),
    }
    # every column in one frame, joined once (a column at a time re-blocks the frame 16 times)
    figures = pd.DataFrame({name: np.asarray(columns[name], dtype="float64") for name in SEGMENT_COLUMNS})
    return pd.concat([out, figures], axis=1) if len(out.columns) else figures


@remembered
def segment_cycle_roi(data: Dataset, *, by: Any = None, start: Any = None, end: Any = None, filter: Any = None,
                      period: Any = "month", horizon_periods: Any = None, target_roi: Any = None) -> pd.DataFrame:
    """Full-cycle ROI and the maximum affordable consultation cost, one row per segment of ``by``.

    Columns, in order: the ``by`` dimensions, then ``consultations``, ``spend``, ``consult_cost``,
    ``deals_observed`` (won by the as-of date), ``deals_projected`` (ultimate, chain ladder),
    ``full_cycle_conversion`` (projected converted consultations ÷ consultations, 0–1),
    ``full_cycle_conversion_low`` / ``_high`` (band at ``Settings.confidence``),
    ``gross_profit_observed``, ``gross_profit_projected``, ``gross_profit_per_deal`` (per won
    consultation), ``cycle_roi`` ((projected gross profit − spend) ÷ spend), ``cycle_roi_observed``,
    ``max_consult_cost`` (conversion × gross profit per deal ÷ (1 + target ROI)),
    ``max_consult_cost_conservative`` (same with the low conversion) and ``cost_within_max``
    (1.0 / 0.0, NaN when not computable). Definitions in the module docstring. One row when
    ``by`` is empty. Segments with too few deals for their own age-to-age factors use pooled ones
    (``attrs["notes"]`` says which). ``target_roi`` defaults to ``Settings.target_roi``;
    ``horizon_periods`` (age to project to) defaults to the oldest age observed.

    Hand check: 4 January consultations, 1 deal won in January (gross profit 600) and 1 in
    February (400); spend 500. As of 2024-02-29 both ages are observed, so nothing is projected:
    conversion 2/4, gross profit per deal 1000/2 = 500, cycle ROI (1000 − 500)/500 = 1.0, and
    max cost = 0.5 · 500 / 1.3 = 192.31 ≥ consultation cost 125.

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-01-02"], "cost": [500]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-05"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-10"], "gross_profit": [600, 400]})
    >>> row = segment_cycle_roi(prepare(spend, leads, deals, settings={"as_of": "2024-02-29"})).iloc[0]
    >>> columns = ["consult_cost", "full_cycle_conversion", "cycle_roi", "max_consult_cost", "cost_within_max"]
    >>> row[columns].round(2).tolist()
    [125.0, 0.5, 1.0, 192.31, 1.0]
    """
    query = make_query(by=by, start=start, end=end, filter=filter)
    options = make_cycle_options(period=period, horizon_periods=horizon_periods)
    target = _target(data, target_roi)
    # revenue is not among these figures: its projection is left to whoever asks for it
    analysis = analyse_cycle(data, query, period=options.period, horizon_periods=options.horizon_periods,
                             measures=SEGMENT_MEASURES)
    out = _segment_frame(analysis, target)
    out.attrs["notes"] = list(analysis.notes)
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    out.attrs["horizon_periods"] = analysis.horizon
    out.attrs["period"] = options.period
    return out


def _target(data: Dataset, target_roi: Any) -> float:
    """Target ROI from the argument, else the settings; validated like the setting itself."""
    if target_roi is None or (isinstance(target_roi, str) and not target_roi.strip()):
        return data.settings.target_roi
    return Settings.parse({"target_roi": target_roi}).target_roi


def _scalar(value: Any) -> float | None:
    value = float(value)
    return None if not np.isfinite(value) else value


def cycle_roi(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None, projected: Any = True,
              period: Any = "month") -> float | None:
    """Full-cycle ROI of the consultations that came in between start and end: (gross profit − spend) ÷ spend.

    With ``projected`` (default) immature cohorts count at their chain-ladder ultimate; without,
    only gross profit already won counts. None when spend is 0 or unknown.

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-01-02"], "cost": [500]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-05"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-10"], "gross_profit": [600, 400]})
    >>> cycle_roi(prepare(spend, leads, deals, settings={"as_of": "2024-02-29"}))  # (1000 − 500) / 500
    1.0
    """
    options = make_cycle_options(projected=projected, period=period)
    row = segment_cycle_roi(data, start=start, end=end, filter=filter, period=options.period).iloc[0]
    return _scalar(row["cycle_roi"] if options.projected else row["cycle_roi_observed"])


def max_consult_cost(data: Dataset, *, target_roi: Any = None, start: Any = None, end: Any = None,
                     filter: Any = None, conservative: Any = False, period: Any = "month") -> float | None:
    """Highest consultation cost that still earns the target ROI over the full cycle (currency per consultation).

    = full-cycle conversion × gross profit per deal ÷ (1 + target ROI); ``conservative`` uses the
    lower end of the conversion band. Needs Leads and Deals with gross profit, not Spend.
    Reference (``docs/methods.md``): gross profit per lead 50.63 at target 0.3 → 50.63 / 1.3 = 38.94.

    >>> from calc import prepare
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-05"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-10"],
    ...                       "gross_profit": [101.26, 101.26]})
    >>> data = prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-29"})
    >>> round(max_consult_cost(data), 3)  # 0.5 · 101.26 / 1.3
    38.946
    """
    conservative = make_cycle_options(projected=conservative).projected
    row = segment_cycle_roi(data, start=start, end=end, filter=filter, period=period, target_roi=target_roi).iloc[0]
    return _scalar(row["max_consult_cost_conservative"] if conservative else row["max_consult_cost"])


def cost_affordability(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None) -> dict[str, Any]:
    """The one answer to "is the consultation cost affordable?", used by every output (demo, stability
    verdict, Dashboard, segment tables).

    * **typical consultation cost** = spend ÷ consultations of the selected cohorts (the key
      indicator's ratio of totals, :func:`segment_cycle_roi`'s ``consult_cost``), never an average
      of weekly ratios;
    * **within the affordable cost** when typical ≤ the maximum affordable consultation cost
      (``cost_within_max``); ``"within, above the conservative ceiling"`` when it is within the
      maximum but above the one computed from the low end of the conversion band.

    Returns ``typical``, ``ceiling``, ``conservative`` (NaN when unknown) and ``verdict``: one of
    ``within``, ``within_not_conservative``, ``above``, ``unknown``.

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-01-05"], "cost": [40.0]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-05"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-10"],
    ...                       "gross_profit": [101.26, 101.26]})
    >>> check = cost_affordability(prepare(spend, leads, deals, settings={"as_of": "2024-02-29"}))
    >>> round(check["typical"], 2), round(check["ceiling"], 2), check["verdict"]  # 40/4 = 10 ≤ 38.95
    (10.0, 38.95, 'within')
    """
    row = segment_cycle_roi(data, start=start, end=end, filter=filter).iloc[0]
    typical, ceiling = float(row["consult_cost"]), float(row["max_consult_cost"])
    conservative = float(row["max_consult_cost_conservative"])
    if np.isnan(typical) or np.isnan(ceiling):
        verdict = "unknown"
    elif typical > ceiling:
        verdict = "above"
    elif not np.isnan(conservative) and typical > conservative:
        verdict = "within_not_conservative"
    else:
        verdict = "within"
    return {"typical": typical, "ceiling": ceiling, "conservative": conservative, "verdict": verdict}


def short_term_roi(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None) -> float | None:
    """(Gross profit of deals *won* between start and end − spend of the same dates) ÷ that spend.

    The figure a monthly report usually shows: it mixes deals from old consultations with this
    period's spend, so it swings with the sales cycle rather than with ad quality. Compare it with
    :func:`cycle_roi`. Works without Leads (deals by won date; no filter then).

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-01-02", "2024-02-02"], "cost": [500, 500]})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-10"], "gross_profit": [600, 400]})
    >>> short_term_roi(prepare(spend, deals=deals), start="2024-02-01", end="2024-02-29")  # (400 − 500) / 500
    -0.2
    """
    window = make_query(start=start, end=end)
    if make_query(filter=filter).filter and data.leads is None:
        # deals carry segments only through their consultations; filtering spend alone would mismatch
        raise InputError("Leads", None, Message("error.filter_needs_leads"), fix=Message("error.filter_needs_leads.fix"))
    sel = select(data, make_query(filter=filter))
    spend_sel = select(data, make_query(start=start, end=end, filter=filter))
    if spend_sel.spend is None:
        return None
    deals = sel.deals
    if deals is None or not data.has_gross_profit:
        return None
    won = np.ones(len(deals), dtype=bool)
    if window.start is not None:
        won &= (deals["date"] >= pd.Timestamp(window.start)).to_numpy()
    if window.end is not None:
        won &= (deals["date"] < pd.Timestamp(window.end) + pd.Timedelta(days=1)).to_numpy()
    gross_profit = float(deals.loc[won, "gross_profit"].sum())
    spend = float(spend_sel.spend["cost"].sum())
    return _scalar(_divide(gross_profit - spend, spend))


def cohort_roi(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None, period: Any = "month",
               horizon_periods: Any = None) -> pd.DataFrame:
    """Per cohort period: short-term ROI beside cycle ROI, and the payback age.

    Columns: ``cohort`` (first day of the period), ``spend``, ``consultations``,
    ``won_gross_profit`` (deals *won* in the period, any cohort), ``short_term_roi``,
    ``gross_profit_observed`` / ``cycle_roi_observed`` (the cohort's own deals so far),
    ``gross_profit_projected`` / ``cycle_roi`` (at the horizon, chain ladder), ``projected`` (True
    when the cohort has not reached the horizon, so its cycle ROI is a projection), ``payback_age``
    (first age, in periods, whose cumulative gross profit ≥ spend; NaN if not within the horizon)
    ``payback_projected`` (that age is projected, not observed) and ``truncated`` (the cohort began
    before the Deals export did: its early deals are missing, :mod:`calc.coverage`).

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-01-02", "2024-02-02"], "cost": [500, 500]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3], "date": ["2024-01-05", "2024-01-06", "2024-02-05"]})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-10"], "gross_profit": [600, 400]})
    >>> cohort_roi(prepare(spend, leads, deals, settings={"as_of": "2024-02-29"}))[
    ...     ["cohort", "short_term_roi", "cycle_roi_observed", "payback_age"]]
          cohort  short_term_roi  cycle_roi_observed  payback_age
    0 2024-01-01             0.2                 1.0          0.0
    1 2024-02-01            -0.2                -1.0          NaN
    """
    query = make_query(start=start, end=end, filter=filter)
    options = make_cycle_options(period=period, horizon_periods=horizon_periods)
    analysis = analyse_cycle(data, query, period=options.period, horizon_periods=options.horizon_periods)
    dev, gp = analysis.development, analysis.projections["gross_profit"]
    spend = dev.spend[0]
    won = np.full(len(dev.cohorts), np.nan)
    sel = select(data, make_query(filter=filter))
    if sel.deals is not None and data.has_gross_profit and len(dev.cohorts):
        first = period_number(pd.Series(dev.cohorts[:1]), options.period, data.settings.week_start)[0]
        number = period_number(sel.deals["date"], options.period, data.settings.week_start) - first
        inside = (number >= 0) & (number < len(dev.cohorts))
        won = np.bincount(number[inside], weights=sel.deals["gross_profit"].fillna(0.0).to_numpy()[inside],
                          minlength=len(dev.cohorts)).astype("float64")
    values, flags = gp.values[0], gp.projected[0]
    covered = values >= spend[:, None]
    first_age = np.where(covered.any(axis=1), covered.argmax(axis=1), -1)
    rows = np.arange(len(dev.cohorts))
    out = pd.DataFrame({
        "cohort": dev.cohorts, "spend": spend, "consultations": dev.consultations[0], "won_gross_profit": won,
        "short_term_roi": _divide(won - spend, spend),
        "gross_profit_observed": gp.latest[0], "cycle_roi_observed": _divide(gp.latest[0] - spend, spend),
        "gross_profit_projected": values[:, -1] if values.size else np.zeros(0),
        "cycle_roi": _divide((values[:, -1] if values.size else np.zeros(0)) - spend, spend),
        "projected": flags[:, -1] if flags.size else np.zeros(0, bool),
        "payback_age": np.where((first_age >= 0) & (spend > 0), first_age, np.nan),
        "payback_projected": (first_age >= 0) & (spend > 0) & flags[rows, np.maximum(first_age, 0)]
        if flags.size else np.zeros(0, bool),
        "truncated": dev.truncated_cohorts})
    out.attrs["notes"] = list(analysis.notes)
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    out.attrs["horizon_periods"] = analysis.horizon
    return out


def payback_days(data: Dataset, *, start: Any = None, end: Any = None, filter: Any = None) -> float | None:
    """Days after inquiry until the gross profit of the range's consultations covers their spend.

    Censoring-aware: gross profit per consultation by day t is the mean cumulative function
    M(t) = Σ_{s ≤ t} GP(s) ÷ N(s), GP(s) = gross profit of deals won s days after inquiry, N(s) =
    consultations watched at least s days by the as-of date (so young consultations only count
    for the days they have lived). Payback is the first t with M(t) ≥ spend ÷ consultations.
    None when there is no spend, or when it is not reached within the days observed.

    Hand check: 4 consultations on 2024-01-01, spend 400 (100 each); deals of gross profit 200 on
    day 10 and 300 on day 40: M(10) = 50, M(40) = 125 ≥ 100 → 40 days.

    >>> from calc import prepare
    >>> spend = pd.DataFrame({"date": ["2024-01-01"], "cost": [400]})
    >>> leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-01"] * 4})
    >>> deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-11", "2024-02-10"], "gross_profit": [200, 300]})
    >>> payback_days(prepare(spend, leads, deals, settings={"as_of": "2024-03-31"}))
    40.0
    """
    sel = select(data, make_query(start=start, end=end, filter=filter))
    if sel.leads is None or sel.deals is None or sel.spend is None or not data.has_gross_profit:
        return None
    spend, n = float(sel.spend["cost"].sum()), rows_in(sel.leads)
    if spend <= 0 or n == 0:
        return None
    watched = data.as_of_day - sel.leads[DAY].to_numpy(dtype=np.int64)  # whole days, from the day numbers
    horizon = int(watched.max()) + 1
    at_risk = n - np.concatenate([[0], np.cumsum(np.bincount(watched, weights=weights_of(sel.leads),
                                                             minlength=horizon))[:-1]])
    day = sel.deals["days_to_close"].to_numpy().astype("int64")
    gained = np.bincount(day, weights=sel.deals["gross_profit"].fillna(0.0).to_numpy(), minlength=horizon)
    per_consultation = np.cumsum(np.nan_to_num(_divide(gained[:horizon], at_risk)))
    reached = np.flatnonzero(per_consultation >= spend / n)
    return float(reached[0]) if len(reached) else None
