"""Which link of the funnel to work on: rules kept as data, applied to the whole business and each segment.

Every unit (the whole business, then each segment of ``by``) gets these metrics:

* ``volume_ratio`` = its consultations ÷ the average segment's (empty for the whole business);
* ``conversion`` = the shrunk observed conversion (:mod:`calc.segments`), ``conversion_ratio`` = that
  ÷ the whole business's conversion, with the ratio's band from the shrunk interval;
* ``cost_ratio`` = its consultation cost ÷ the whole business's; for the whole business the
  yardstick is the maximum affordable consultation cost instead (:mod:`calc.roi`);
* ``cycle_roi`` (full cycle, projected) with a band from the full-cycle conversion band; compared
  with ``Settings.target_roi``.

The rules (:data:`DIAGNOSIS_RULES`) are data: each names its link, its advice and the conditions
(metric, comparison, the Settings field holding the threshold). A finding carries the numbers, the
comparisons that triggered it and how sure it is: ``confident`` when every condition with a band
(conversion, ROI) still holds at the unfavourable end of the band, ``probable`` when it holds on the
point estimate only. Units with fewer than ``Settings.min_consultations`` consultations are not
judged: they get a ``too_little_data`` finding that says so. ``keep_investing`` applies only when no
other rule fired.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .dataset import Dataset
from .messages import Message
from .query import make_query
from .segments import segment_figures

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Condition:
    """``metric op Settings.<threshold>``; metrics with a band are checked at its unfavourable end for certainty."""

    metric: str
    op: str
    threshold: str


@dataclass(frozen=True)
class DiagnosisRule:
    """A rule; its advice is the catalogue's ``diagnosis.advice.<name>``, its link's words ``code.link.<link>``."""

    name: str
    link: str
    conditions: tuple[Condition, ...]
    only_if_nothing_else: bool = False


#: The funnel rules, in the order findings are listed. Thresholds are Settings fields.
DIAGNOSIS_RULES: tuple[DiagnosisRule, ...] = (
    DiagnosisRule(
        "few_consultations_good_conversion", "ads",
        (Condition("volume_ratio", "<", "diagnosis_low_volume_ratio"),
         Condition("conversion_ratio", ">=", "diagnosis_good_conversion_ratio"))),
    DiagnosisRule(
        "many_consultations_low_conversion", "sales",
        (Condition("volume_ratio", ">=", "diagnosis_high_volume_ratio"),
         Condition("conversion_ratio", "<", "diagnosis_low_conversion_ratio"))),
    DiagnosisRule(  # needs a status column in Deals (lost outcomes); the metrics are empty without one
        "loses_fast_and_often", "sales",
        (Condition("loss_rate_ratio", ">=", "diagnosis_high_loss_ratio"),
         Condition("lose_days_ratio", "<=", "diagnosis_fast_loss_ratio"))),
    DiagnosisRule(
        "high_cost_low_roi", "channel",
        (Condition("cost_ratio", ">", "diagnosis_high_cost_ratio"), Condition("cycle_roi", "<", "target_roi"))),
    DiagnosisRule(
        "keep_investing", "keep",
        (Condition("cycle_roi", ">=", "target_roi"),), only_if_nothing_else=True),
)
#: metric -> (low column, high column) of its band
_BANDS = {"conversion_ratio": ("conversion_ratio_low", "conversion_ratio_high"),
          "cycle_roi": ("cycle_roi_low", "cycle_roi_high")}
FINDING_COLUMNS = ("segment", "finding", "link", "advice", "evidence", "certainty", "consultations",
                   "volume_ratio", "conversion", "conversion_ratio", "consult_cost", "cost_ratio", "cycle_roi",
                   "cycle_roi_low", "cycle_roi_high")
_LABEL = {"volume_ratio": "consultations {value:.2f}× the average segment",
          "conversion_ratio": "conversion {value:.2f}× the business's",
          "cost_ratio": "consultation cost {value:.2f}× {yardstick}",
          "cycle_roi": "cycle ROI {value:.0%}",
          "loss_rate_ratio": "loss rate {value:.2f}× the business's",
          "lose_days_ratio": "median days to lose {value:.2f}× the business's"}


def _metric(metric: str, value: float, is_whole: bool, band: tuple[float, float] | None = None) -> Message:
    """'consultation cost 2.34× the business's (band 1.90–2.80)' as a catalogue message."""
    key = f"diagnosis.metric.{metric}" + ("_whole" if metric == "cost_ratio" and is_whole else "")
    text = Message(key, value=value)
    if band is None:
        return text
    return Message("diagnosis.band_pct" if metric == "cycle_roi" else "diagnosis.band_ratio",
                   text=text, low=band[0], high=band[1])


def _metrics(figures: pd.DataFrame, whole: pd.Series, *, is_whole: bool) -> pd.DataFrame:
    m = pd.DataFrame(index=figures.index)
    m["consultations"] = figures["consultations"].astype("float64")
    segments = len(figures)
    base = whole["consultations"] / segments if segments else np.nan
    m["volume_ratio"] = np.nan if is_whole else m["consultations"] / base
    m["conversion"] = figures["shrunk_conversion"] if not is_whole else figures["conversion_rate"]
    pooled = whole["conversion_rate"]
    low = figures["shrunk_low"] if not is_whole else figures["conversion_low"]
    high = figures["shrunk_high"] if not is_whole else figures["conversion_high"]
    m["conversion_ratio"] = m["conversion"] / pooled if pooled > 0 else np.nan
    m["conversion_ratio_low"] = low / pooled if pooled > 0 else np.nan
    m["conversion_ratio_high"] = high / pooled if pooled > 0 else np.nan
    m["consult_cost"] = figures["consult_cost"]
    yardstick = figures["max_consult_cost"] if is_whole else whole["consult_cost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        m["cost_ratio"] = m["consult_cost"] / yardstick.where(yardstick > 0) if is_whole else \
            m["consult_cost"] / (yardstick if yardstick > 0 else np.nan)
        cost = figures["consult_cost"].where(figures["consult_cost"] > 0)
        per_deal = figures["gross_profit_per_deal"]
        m["cycle_roi"] = figures["cycle_roi"]
        m["cycle_roi_low"] = figures["full_cycle_conversion_low"] * per_deal / cost - 1
        m["cycle_roi_high"] = figures["full_cycle_conversion_high"] * per_deal / cost - 1
    return m


def _loss_metrics(data: Dataset, metrics: pd.DataFrame, figures: pd.DataFrame, dims: list[str], start: Any,
                  end: Any, filter: Any) -> pd.DataFrame:
    """Loss rate and median days to lose against the whole business's (calc.competing), when lost outcomes are known."""
    metrics = metrics.assign(loss_rate_ratio=np.nan, lose_days_ratio=np.nan)
    if not data.has_outcomes or not dims or any(pd.api.types.is_datetime64_any_dtype(figures[d]) for d in dims):
        return metrics
    from .competing import outcome_segments  # lazily: the cohort machinery is not needed without outcomes

    losses = outcome_segments(data, by=dims, start=start, end=end, filter=filter).iloc[1:]
    keyed = figures[dims].astype(str).merge(losses[[*dims, "loss_rate_ratio", "lose_days_ratio"]], on=dims, how="left")
    metrics["loss_rate_ratio"] = keyed["loss_rate_ratio"].to_numpy()
    metrics["lose_days_ratio"] = keyed["lose_days_ratio"].to_numpy()
    return metrics


def _check(value: float, op: str, threshold: float) -> bool:
    return bool(pd.notna(value) and _OPS[op](value, threshold))


def _summary(row: pd.Series, is_whole: bool) -> Message:
    """The unit's numbers in words, for findings that no threshold triggered."""
    parts = []
    for metric in ("volume_ratio", "conversion_ratio", "cost_ratio", "cycle_roi"):
        if pd.notna(row[metric]):
            band = tuple(row[c] for c in _BANDS[metric]) if metric in _BANDS and pd.notna(row[_BANDS[metric][0]]) \
                else None
            parts.append(_metric(metric, row[metric], is_whole, band))
    return Message("diagnosis.clauses", parts=parts) if parts else Message("diagnosis.no_figures")


def _unknown_because(data: Dataset, missing: list[str]) -> Message:
    """Why conversion or cycle ROI cannot be computed, naming what the data lacks (not a fixed guess)."""
    needs = []
    if data.spend is None:
        needs.append(Message("diagnosis.needs_spend"))
    if "cycle_roi" in missing and (data.leads is None or data.deals is None):
        needs.append(Message("diagnosis.needs_leads_and_deals"))  # the full cycle follows each consultation
    elif data.deals is None and (data.spend is None or "deals" not in data.spend.columns):
        needs.append(Message("diagnosis.needs_deals"))
    if "cycle_roi" in missing and not data.has_gross_profit:
        needs.append(Message("diagnosis.needs_gross_profit"))
    what = [Message(f"diagnosis.unknown.{m}") for m in missing]
    if not needs:  # everything is there but the figure is still empty, e.g. no deals or no spend in range
        needs.append(Message("diagnosis.needs_more_data"))
    return Message("diagnosis.unknown", what=what, needs=needs)


def _evaluate(row: pd.Series, data: Dataset, is_whole: bool) -> list[dict[str, Any]]:
    settings = data.settings
    if row["consultations"] < settings.min_consultations:
        return [{"finding": "too_little_data", "link": Message("code.link.not_judged"),
                 "advice": Message("diagnosis.advice.too_little_data", minimum=settings.min_consultations),
                 "evidence": Message("diagnosis.too_few", count=row["consultations"],
                                     minimum=settings.min_consultations),
                 "certainty": Message("code.certainty.too_little_data")}]
    found = []
    for rule in DIAGNOSIS_RULES:
        if rule.only_if_nothing_else and found:
            continue
        evidence, confident = [], True
        for cond in rule.conditions:
            threshold = float(getattr(settings, cond.threshold))
            if not _check(row[cond.metric], cond.op, threshold):
                break
            band = None
            if cond.metric in _BANDS:
                low, high = (row[c] for c in _BANDS[cond.metric])
                worst = high if cond.op in ("<", "<=") else low  # the band end least favourable to the condition
                held = _check(worst, cond.op, threshold)
                confident &= held
                band = (low, high)
            evidence.append(Message("diagnosis.condition_pct" if cond.metric == "cycle_roi" else "diagnosis.condition",
                                    text=_metric(cond.metric, row[cond.metric], is_whole, band), op=cond.op,
                                    threshold=threshold, setting=cond.threshold))
        else:
            found.append({"finding": rule.name, "link": Message(f"code.link.{rule.link}"),
                          "advice": Message(f"diagnosis.advice.{rule.name}"),
                          "evidence": Message("diagnosis.clauses", parts=evidence),
                          "certainty": Message("code.certainty.confident" if confident else "code.certainty.probable")})
    if not found:
        missing = [m for m in ("conversion_ratio", "cycle_roi") if pd.isna(row[m])]
        why = _unknown_because(data, missing) if missing else Message("diagnosis.no_threshold_crossed")
        found.append({"finding": "no_clear_problem", "link": Message("code.link.none"),
                      "advice": Message("diagnosis.advice.no_clear_problem"),
                      "evidence": Message("diagnosis.clauses", parts=[why, _summary(row, is_whole)]),
                      "certainty": Message("code.certainty.probable")})
    return found


def funnel_diagnosis(data: Dataset, *, by: Any = None, start: Any = None, end: Any = None,
                     filter: Any = None) -> pd.DataFrame:
    """Findings for the whole business (first rows, ``segment`` = "All") and each segment of ``by``.

    One row per finding: ``segment``, ``finding`` (rule name, a code), then as catalogue Messages (text
    in English, rendered in any language by the report) ``link`` to optimise, ``advice``, ``evidence``
    (the numbers and the comparisons that triggered it) and ``certainty`` (confident /
    probable / too little data), then the metrics ``consultations``, ``volume_ratio``,
    ``conversion``, ``conversion_ratio``, ``consult_cost``, ``cost_ratio``, ``cycle_roi``,
    ``cycle_roi_low``, ``cycle_roi_high``. Rules and thresholds: :data:`DIAGNOSIS_RULES` and the
    ``diagnosis_*`` fields of Settings.
    """
    query = make_query(by=by, start=start, end=end, filter=filter)
    settings = data.settings
    whole_figures = segment_figures(data, by=None, start=start, end=end, filter=filter)
    whole = whole_figures.iloc[0]
    notes = list(whole_figures.attrs["notes"])
    # the business is its own yardstick for losses: its ratios stay empty
    units = [("All", _metrics(whole_figures, whole, is_whole=True).assign(loss_rate_ratio=np.nan, lose_days_ratio=np.nan)
              .iloc[0], True)]
    dims: list[str] = []
    if query.by:
        figures = segment_figures(data, by=list(query.by), start=start, end=end, filter=filter)
        dims = figures.attrs["dims"]
        notes.extend(figures.attrs["notes"])
        metrics = _loss_metrics(data, _metrics(figures, whole, is_whole=False), figures, dims, start, end, filter)
        labels = figures[dims].astype(str).agg(" / ".join, axis=1)
        units += [(labels[i], metrics.loc[i], False) for i in figures.index]
    rows = []
    for label, row, is_whole in units:
        for finding in _evaluate(row, data, is_whole):
            rows.append({"segment": label, **finding,
                         **{c: row[c] for c in FINDING_COLUMNS if c in row.index}})
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    for column in ("link", "advice", "evidence", "certainty"):  # object columns keep the Messages (pandas 3
        out[column] = pd.Series([r[column] for r in rows], index=out.index, dtype=object)  # makes str of them)
    out.attrs.update(notes=list(dict.fromkeys(notes)), exclusions=whole_figures.attrs["exclusions"], dims=dims)
    return out
