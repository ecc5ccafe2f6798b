"""Report sections beyond the Dashboard: Cycle ROI, Stability, Segments, Diagnosis, Portfolio.

Each function turns calc results into blocks; the registry in ``sections.py`` lists them. Numbers
are calc's, shown as returned (rates 0–1 in percent format, NaN as empty cells); projected
triangle cells are styled apart so an immature cohort is never shown as final.
"""
from __future__ import annotations

import pandas as pd

import calc
from calc.budget import budget_shift
from calc.diagnosis import funnel_diagnosis
from calc.portfolio import portfolio
from calc.segments import segment_table
from calc.stability import stability, stability_verdict

from .blocks import Block, Card, Cards, Chart, Column, Highlight, Notes, Table, Title
from .sections import Context, TemplateContext, messages, summarised

#: Number format of each calc column the report shows (anything else: text).
FORMATS = {
    "consultations": "int", "spend": "money", "consult_cost": "money", "deals": "int", "converted": "int",
    "conversion_rate": "pct", "conversion_low": "pct", "conversion_high": "pct", "shrunk_conversion": "pct",
    "shrunk_low": "pct", "shrunk_high": "pct", "full_cycle_conversion": "pct", "cycle_roi": "pct",
    "cycle_roi_low": "pct", "cycle_roi_high": "pct", "cycle_roi_observed": "pct", "short_term_roi": "pct",
    "max_consult_cost": "money", "max_consult_cost_conservative": "money", "gross_profit_projected": "money",
    "gross_profit_observed": "money", "won_gross_profit": "money", "payback_age": "int", "rank": "int",
    "amount": "money", "share_of_from_spend": "pct", "share_of_to_spend": "pct", "consultations_change": "ratio",
    "gross_profit_change": "money", "gross_profit_change_conservative": "money", "from_cycle_roi": "pct",
    "to_cycle_roi": "pct", "to_cycle_roi_low": "pct", "value": "ratio", "centre": "ratio", "lcl": "ratio",
    "ucl": "ratio", "date": "date", "cohort": "date", "conversion": "pct", "cost_allocated": "money",
}


def columns(ctx: Context, keys, *, formats: dict[str, str] | None = None) -> tuple[Column, ...]:
    fmts = {**FORMATS, **(formats or {})}
    return tuple(Column(k, ctx.labels.column(k), fmts.get(k, "text")) for k in keys)


# --- Cycle ROI ----------------------------------------------------------------------------------

def cycle_roi_section(ctx: Context) -> list[Block]:
    data, L = ctx.data, ctx.labels
    cards = Cards((
        Card("cycle_roi", L("col.cycle_roi"), calc.cycle_roi(data), "pct"),
        Card("short_term_roi", L("col.short_term_roi"), calc.short_term_roi(data), "pct"),
        Card("max_consult_cost", L("col.max_consult_cost"), calc.max_consult_cost(data), "money"),
        Card("consult_cost", L("col.consult_cost"), calc.consult_cost(data), "money"),
        Card("payback_days", L("cycle.payback_days"), calc.payback_days(data), "days"),
    ), L("dashboard.key_indicators"))
    cohorts = calc.cohort_roi(data)
    # months as "2025-01" text: chart axes then show the month, not a date serial number
    cohorts = cohorts.assign(projected=cohorts["projected"].map({True: L("cycle.projected"), False: L("cycle.observed")}),
                             cohort=cohorts["cohort"].dt.strftime("%Y-%m"))
    cohort_cols = ("cohort", "consultations", "spend", "short_term_roi", "cycle_roi_observed", "cycle_roi",
                   "projected", "payback_age")
    triangle = calc.cohort_triangle(data, measure="conversion", projected=True)
    ages = [c for c in triangle.columns if not isinstance(c, str)]  # age columns are the integers 0..horizon
    mask = triangle.attrs.get("projected")
    triangle = triangle.assign(cohort=triangle["cohort"].dt.strftime("%Y-%m"))
    tri_columns = (Column("cohort", L.column("cohort"), "text"), Column("consultations", L.column("consultations"), "int"),
                   *(Column(a, L("cycle.age", age=a), "pct") for a in ages))
    blocks: list[Block] = [
        Title(L("sheet.cycle_roi"), L("cycle.subtitle", horizon=cohorts.attrs.get("horizon_periods", len(ages) - 1))),
        cards,
        Table("cohorts", L("cycle.cohorts"), cohorts, columns(ctx, cohort_cols, formats={"cohort": "text"}),
              highlights=(Highlight("cycle_roi"),)),
        Chart("cohorts", "line", L("cycle.chart_roi"), category="cohort", series=("short_term_roi", "cycle_roi"),
              y_format="pct"),
        Table("triangle", L("cycle.triangle"), triangle, tri_columns,
              highlights=(Highlight(ages[0], through=ages[-1]),) if ages else (),
              projected=mask if isinstance(mask, pd.DataFrame) else None),
    ]
    observed = calc.cohort_triangle(data, measure="conversion", projected=False)
    recent = observed.tail(6)
    if len(recent) and ages:
        curves = pd.DataFrame({"age": ages})
        names = []
        for _, row in recent.iterrows():
            name = f"{row['cohort']:%Y-%m}"
            curves[name] = [row[a] for a in ages]
            names.append(name)
        blocks += [
            Table("maturation", L("cycle.maturation"), curves,
                  (Column("age", L("cycle.age_column"), "int"), *(Column(n, n, "pct") for n in names))),
            Chart("maturation", "line", L("cycle.chart_maturation"), category="age", series=tuple(names), y_format="pct"),
        ]
    blocks += trust_blocks(ctx)
    from .outcomes import outcome_blocks  # won, lost and open: only when Deals carry a status

    blocks += outcome_blocks(ctx)
    blocks.append(Notes((L("cycle.projected_note"),) + messages(L, data, cohorts, triangle), L("notes.title")))
    return blocks


def trust_blocks(ctx: Context) -> list[Block]:
    """"How far to trust": the rolling backtest by months ahead, beside plain chain ladder and the observed-as-final
    reading, with the bands' coverage and the paired difference from plain chain ladder (calc.rolling_backtest)."""
    from calc.rolling import by_horizon

    data, L = ctx.data, ctx.labels
    if data.leads is None or data.deals is None:
        return []
    try:
        result = calc.rolling_backtest(data)
    except calc.InputError:
        return []
    table = by_horizon(result)
    if table.empty:
        return []
    frame = pd.DataFrame({
        "horizon": [L.render(h) if not isinstance(h, (int, float)) else str(h) for h in table["horizon"]],
        "compared": table["compared"], "cohorts": table["cohorts"], "mape": table["mape"],
        "mape_plain": table["mape_plain_chain_ladder"], "mape_observed": table["mape_observed_as_final"],
        "bias": table["bias"], "band_coverage": table["band_coverage"],
        "band_coverage_plain": table["band_coverage_plain_chain_ladder"], "mape_vs_plain": table["mape_vs_plain"],
        "finding": [L.render(f) for f in table["finding"]]})
    columns = (Column("horizon", L("col.horizon"), "text"), Column("compared", L("col.compared"), "int"),
               Column("cohorts", L("col.cohorts"), "int"),
               *(Column(key, L(f"col.{key}"), "pct") for key in ("mape", "mape_plain", "mape_observed", "bias",
                                                                 "band_coverage", "band_coverage_plain",
                                                                 "mape_vs_plain")),
               Column("finding", L("col.finding"), "text"))
    as_of = result["as_of"]
    note = L("cycle.trust_note", first=as_of.min(), last=as_of.max(), rows=len(result), level=result.attrs["band_level"])
    worse = [n for n in result.attrs["notes"] if getattr(n, "key", "").startswith("note.rolling_worse")]
    return [Table("trust", L("cycle.trust"), frame, columns), Notes((note, *L.render_all(worse)), L("cycle.trust"))]


# --- Stability ----------------------------------------------------------------------------------

#: Weeks of each control chart shown on the Stability sheet (a quarter); every week is on the Data sheet.
STABILITY_ROWS = 13


def stability_section(ctx: Context) -> list[Block]:
    data, L = ctx.data, ctx.labels
    measures = ["volume"] + (["cost"] if data.spend_dated else []) + (["conversion"] if data.deals is not None else [])
    blocks: list[Block] = [Title(L("sheet.stability"), L("stability.subtitle"))]
    verdicts, notes = [], []
    for measure in measures:
        try:
            chart = stability(data, measure=measure, period="week")
            verdicts.append(L.render(stability_verdict(data, measure=measure, period="week")))
        except calc.InputError as exc:
            notes.append(L.render(exc))
            continue
        fmt = {"volume": "int", "cost": "money", "conversion": "pct"}[measure]
        keys = ("date", "value", "centre", "lcl", "ucl", "signals")
        blocks += [
            *summarised(ctx, Table(f"xmr_{measure}", L(f"stability.{measure}"), chart,
                                   columns(ctx, keys, formats={"value": fmt, "centre": fmt, "lcl": fmt, "ucl": fmt})),
                        rows=STABILITY_ROWS),
            Chart(f"xmr_{measure}", "line", L(f"stability.chart_{measure}"), category="date", series=("value",),
                  limits=("centre", "lcl", "ucl"), y_format=fmt),
        ]
        notes += L.render_all(chart.attrs.get("notes", []))
    blocks.insert(1, Notes(tuple(verdicts), L("stability.verdicts"), tone="finding"))
    blocks.append(Notes(tuple(dict.fromkeys(notes)) or (L("notes.none"),), L("notes.title")))
    return blocks


# --- Segments -----------------------------------------------------------------------------------

def segments_section(ctx: Context) -> list[Block]:
    data, L, by = ctx.data, ctx.labels, ctx.by
    if by is None:
        return [Title(L("sheet.segments")), Notes((L("segments.no_dims"),), tone="missing")]
    table = segment_table(data, by=by)
    keys = (by, "rank", "consultations", "deals", "conversion_rate", "conversion_low", "conversion_high",
            "shrunk_conversion", "consult_cost", "cycle_roi", "max_consult_cost")
    keys = tuple(k for k in keys if k in table.columns)
    blocks: list[Block] = [
        Title(L("sheet.segments"), L("segments.subtitle", dim=by)),
        Table("segments", L("segments.ranked", dim=by), table, columns(ctx, keys),
              highlights=(Highlight("shrunk_conversion"), Highlight("cycle_roi"))),
        Chart("segments", "bar", L("segments.chart", dim=by), category=by,
              series=("conversion_rate", "shrunk_conversion"), y_format="pct"),
    ]
    notes = list(messages(L, data, table))
    try:
        shift = budget_shift(data, by=by)
    except calc.InputError as exc:
        notes.append(L.render(exc))
    else:
        shift_keys = ("from_segment", "to_segment", "amount", "share_of_from_spend", "consultations_change",
                      "gross_profit_change", "gross_profit_change_conservative")
        if len(shift):
            blocks.append(Table("budget", L("segments.budget"), shift, columns(ctx, shift_keys)))
        summary = shift.attrs.get("summary")
        blocks.append(Notes((L.render(summary) if summary else L("segments.no_shift"),), L("segments.budget"), tone="finding"))
        notes += L.render_all(shift.attrs.get("notes", []))
    blocks.append(Notes(tuple(dict.fromkeys(notes)) or (L("notes.none"),), L("notes.title")))
    return blocks


# --- Diagnosis ----------------------------------------------------------------------------------

def diagnosis_section(ctx: Context) -> list[Block]:
    data, L = ctx.data, ctx.labels
    findings = funnel_diagnosis(data, by=ctx.by)
    lines = tuple(L("diagnosis.line", segment=L.code("segment", row.segment), advice=row.advice, evidence=row.evidence,
                    certainty=row.certainty) for row in findings.itertuples())
    keys = ("segment", "finding", "link", "certainty", "consultations", "conversion", "consult_cost", "cycle_roi")
    # one row per segment (a segment can have several findings) for the chart of the compared numbers
    units = findings.drop_duplicates("segment")[["segment", "consultations", "conversion", "cycle_roi"]]
    blocks: list[Block] = [
        Title(L("sheet.diagnosis"), L("diagnosis.subtitle", dim=ctx.by or "-")),
        Notes(lines or (L("diagnosis.none"),), L("diagnosis.findings"), tone="finding"),
        Table("findings", L("diagnosis.table"), findings, columns(ctx, keys)),
    ]
    if len(units):
        blocks += [Table("units", L("diagnosis.units"), units, columns(ctx, units.columns)),
                   Chart("units", "bar", L("diagnosis.chart"), category="segment", series=("conversion",),
                         y_format="pct")]
    blocks.append(Notes(messages(L, data, findings) or (L("notes.none"),), L("notes.title")))
    return blocks


# --- Portfolio ----------------------------------------------------------------------------------

VERDICT_TONES = {"replicate": "good", "watch": "warn", "fix or stop": "bad"}  # calc.portfolio verdicts


def portfolio_section(ctx: Context) -> list[Block]:
    data, L = ctx.data, ctx.labels
    try:
        units = portfolio(data)
    except calc.InputError:
        if ctx.by is None:
            raise
        units = portfolio(data, dims=ctx.by)  # no category/store/price tier columns: the main dimension
    dims = list(units.columns[:list(units.columns).index("consultations")])  # the dimensions come first
    text = units[dims].astype(str)  # one label per unit, joined in Python: a row-wise agg costs ~10 ms at 200 units
    units = units.assign(unit=pd.Series([" / ".join(parts) for parts in zip(*(text[d] for d in dims))],
                                        index=units.index))
    keys = ("unit", "verdict", "consultations", "consult_cost", "conversion_rate", "cycle_roi", "cycle_roi_low",
            "stability", "reason")
    keys = tuple(k for k in dict.fromkeys(keys) if k in units.columns)
    tones = tuple(Highlight("verdict", "equals", value, tone) for value, tone in VERDICT_TONES.items()
                  if value in set(units["verdict"]))
    return [
        Title(L("sheet.portfolio"), L("portfolio.subtitle", dims=" × ".join(dims))),
        *summarised(ctx, Table("portfolio", L("portfolio.matrix"), units, columns(ctx, keys),
                               highlights=(*tones, Highlight("cycle_roi"))), rows=20, keep="head"),
        Chart("portfolio", "bar", L("portfolio.chart"), category="unit", series=("cycle_roi",), y_format="pct"),
        Notes(messages(L, data, units) or (L("notes.none"),), L("notes.title")),
    ]


# --- the template's live versions (UDF formulas that spill in Excel 365) --------------------------

def _spill(ctx: TemplateContext, key: str, title: str, formula: str, keys, rows: int, **options) -> Table:
    """A table filled by a UDF that spills its own header row; ``keys`` are calc's column names."""
    frame = pd.DataFrame(columns=list(keys))
    cols = tuple(Column(k, ctx.labels.column(str(k)), FORMATS.get(k, "pct" if not isinstance(k, str) else "text"))
                 for k in keys)
    return Table(key, title, frame, cols, formula=formula, formula_header=True, spill_rows=rows, **options)


#: What =COHORT_ROI() spills (calc.cohort_roi's columns, in order).
COHORT_ROI_COLUMNS = ("cohort", "spend", "consultations", "won_gross_profit", "short_term_roi", "gross_profit_observed",
                      "cycle_roi_observed", "gross_profit_projected", "cycle_roi", "projected", "payback_age",
                      "payback_projected", "truncated")


def cycle_roi_template(ctx: TemplateContext) -> list[Block]:
    L = ctx.labels
    ages = list(range(24))
    return [
        Title(L("sheet.cycle_roi"), L("template.subtitle")),
        Cards((Card("cycle_roi", L("col.cycle_roi"), None, "pct", formula="=" + ctx.udf("CYCLE_ROI")),
               Card("short_term_roi", L("col.short_term_roi"), None, "pct", formula="=" + ctx.udf("SHORT_TERM_ROI")),
               Card("max_consult_cost", L("col.max_consult_cost"), None, "money", formula="=" + ctx.udf("MAX_CONSULT_COST")),
               Card("payback_days", L("cycle.payback_days"), None, "days", formula="=" + ctx.udf("PAYBACK_DAYS"))),
              L("dashboard.key_indicators")),
        _spill(ctx, "cohorts", L("cycle.cohorts"), "=" + ctx.udf("COHORT_ROI", period="month"), COHORT_ROI_COLUMNS, 36),
        Chart("cohorts", "line", L("cycle.chart_roi"), category="cohort", series=("short_term_roi", "cycle_roi"),
              y_format="pct"),
        _spill(ctx, "triangle", L("cycle.triangle"), "=" + ctx.udf("COHORT_TRIANGLE", measure="conversion", period="month"),
               ["cohort", "consultations", "spend", *ages], 24, highlights=(Highlight(0, through=ages[-1]),)),
    ]


def stability_template(ctx: TemplateContext) -> list[Block]:
    from calc.stability import CHART_COLUMNS

    L = ctx.labels
    return [
        Title(L("sheet.stability"), L("template.subtitle")),
        Cards((Card("volume", L("stability.volume"), None, "text",
                    formula="=" + ctx.udf("STABILITY_VERDICT", measure="volume", period="week")),
               Card("cost", L("stability.cost"), None, "text",
                    formula="=" + ctx.udf("STABILITY_VERDICT", measure="cost", period="week"))), L("stability.verdicts")),
        _spill(ctx, "xmr_volume", L("stability.volume"), "=" + ctx.udf("STABILITY", measure="volume", period="week"), CHART_COLUMNS, 60),
        Chart("xmr_volume", "line", L("stability.chart_volume"), category="date", series=("value",),
              limits=("centre", "lcl", "ucl")),
    ]


def segments_template(ctx: TemplateContext) -> list[Block]:
    from calc.budget import SHIFT_COLUMNS
    from calc.segments import SEGMENT_COLUMNS

    L, by = ctx.labels, ctx.by
    return [
        Title(L("sheet.segments"), L("template.subtitle")),
        _spill(ctx, "segments", L("segments.ranked", dim=by), "=" + ctx.udf("SEGMENT_TABLE", by=by),
               [by, *SEGMENT_COLUMNS], 20),
        Chart("segments", "bar", L("segments.chart", dim=by), category=by,
              series=("conversion_rate", "shrunk_conversion"), y_format="pct"),
        _spill(ctx, "budget", L("segments.budget"), "=" + ctx.udf("BUDGET_SHIFT", by=by), SHIFT_COLUMNS, 10),
    ]


def diagnosis_template(ctx: TemplateContext) -> list[Block]:
    from calc.diagnosis import FINDING_COLUMNS

    L = ctx.labels
    return [
        Title(L("sheet.diagnosis"), L("template.subtitle")),
        _spill(ctx, "findings", L("diagnosis.findings"),
               "=" + ctx.udf("FUNNEL_DIAGNOSIS", by=ctx.by), FINDING_COLUMNS, 30),
    ]


def portfolio_template(ctx: TemplateContext) -> list[Block]:
    L = ctx.labels
    keys = ["channel", "campaign", "consultations", "spend", "consult_cost", "cost_allocated", "conversion_rate",
            "conversion_low", "conversion_high", "shrunk_conversion", "full_cycle_conversion", "cycle_roi",
            "cycle_roi_low", "cycle_roi_high", "stable", "stability", "verdict", "reason"]
    tones = tuple(Highlight("verdict", "equals", value, tone) for value, tone in VERDICT_TONES.items())
    return [
        Title(L("sheet.portfolio"), L("template.subtitle")),
        _spill(ctx, "portfolio", L("portfolio.matrix"),
               "=" + ctx.udf("PORTFOLIO", dims="channel,campaign"), keys, 30,
               highlights=(*tones, Highlight("cycle_roi"))),
    ]
