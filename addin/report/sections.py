"""The report sections registry: which sheets a report has, what each needs, how its blocks are built.

One registry (``SECTIONS``) drives the report writer, the template, the refresh and the tests.
Each section turns calc results into blocks (``blocks.py``); numbers come only from calc.
A section whose input tables are missing becomes a sheet that says which table to add, instead
of failing the whole report.

Sections are added here as their calc functions exist; a section is never filled with
placeholder numbers.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

import calc
from calc import Dataset
from calc.coverage import table_coverage

from .blocks import Block, Card, Cards, Chart, Column, Highlight, Notes, Sheet, Table, Title
from .labels import Labels

#: Preferred dimension for the Dashboard's segment table, in order; else the first segment column.
PREFERRED_DIMS = ("channel", "origin", "source", "campaign", "province", "region")
MAX_SEGMENTS = 30


@dataclass(frozen=True)
class Context:
    data: Dataset
    labels: Labels
    by: str | None
    #: full tables whose report sheet shows a summary; the Data sheet (built last) lists them in full
    details: list = dataclasses.field(default_factory=list)

    @property
    def currency(self) -> str | None:
        return self.data.settings.currency


@dataclass(frozen=True)
class TemplateContext:
    """What a template section needs: labels and the Excel table references of the inputs."""

    labels: Labels
    by: str = "channel"
    spend: str = "Spend[#All]"
    leads: str = "Leads[#All]"
    deals: str = "Deals[#All]"
    settings: str = "Settings[#All]"

    data: str | None = "CycleData"             # the CYCLE_DATA handle's name; None: pass the tables themselves

    def udf(self, name: str, **options: object) -> str:
        """A registered Excel function over the template's data: the handle in its first table argument
        (Excel tracks tables -> handle -> formula), else every table it takes, Settings included."""
        from addin.udfs.registry import TABLE_ARGS, UDFS, udf_formula

        if self.data:
            first = next(a for a in UDFS[name].arg_docs if a in TABLE_ARGS)
            return udf_formula(name, {first: self.data}, **options)
        tables = {"spend": self.spend, "leads": self.leads, "deals": self.deals, "settings": self.settings}
        return udf_formula(name, tables, **options)


@dataclass(frozen=True)
class Section:
    key: str                                   # sheet key; its tab name is label "sheet.<key>"
    needs: tuple[str, ...]                     # input tables: "spend", "leads", "deals"
    build: Callable[[Context], list[Block]]
    template: Callable[[TemplateContext], list[Block]] | None = None


def main_dimension(data: Dataset) -> str | None:
    """The segment column the Dashboard and Segments split by.

    A preferred name (channel, origin, ...) if present, else the first column with 2 to 30 distinct
    values (an id-like column with a value per row makes no readable table), else none.
    """
    frame = data.leads if data.leads is not None else data.spend
    dims = data.lead_dims if data.leads is not None else data.spend_dims
    sizes: dict[str, int] = {}

    def readable(dim: str) -> bool:  # each column counted only when the answer depends on it (a pass over its rows)
        if dim not in sizes:
            sizes[dim] = _distinct(frame[dim])
        return 2 <= sizes[dim] <= MAX_SEGMENTS

    for name in PREFERRED_DIMS:
        for dim in dims:
            if dim.casefold() == name and readable(dim):
                return dim
    return next((dim for dim in dims if readable(dim)), None)


def _distinct(column: pd.Series) -> int:
    """``column.nunique()``; a category column's by counting its codes (a million rows: ~1.3 ms, not ~4.5)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if codes.dtype.itemsize <= 2:  # a missing value's -1 read unsigned lands past the categories
            counts = np.bincount(codes.view(f"uint{8 * codes.dtype.itemsize}"))
            return int(np.count_nonzero(counts[:len(column.cat.categories)]))
    return column.nunique()


def messages(L: Labels, data: Dataset, *frames: pd.DataFrame) -> tuple[str, ...]:
    """The data notes and exclusions behind these results, in the report's language."""
    lines = list(data.notes)
    for frame in frames:
        lines += list(frame.attrs.get("notes", []))
    lines += list(data.exclusions)
    return L.render_all(lines)


# --- Dashboard --------------------------------------------------------------------------------

KPI_FORMATS = {"consultations": "int", "spend": "money", "consult_cost": "money", "deals": "int",
               "conversion_rate": "pct", "revenue": "money", "gross_profit": "money",
               "mean_days_to_close": "days", "median_days_to_close": "days"}
DASHBOARD_CARDS = ("consultations", "spend", "consult_cost", "deals", "conversion_rate", "revenue",
                   "gross_profit", "median_days_to_close")
#: Consultation cost as an ordinary formula over the row's spend and consultations (recalculates anywhere).
COST_FORMULA = '=IF(AND(ISNUMBER({spend}),{consultations}>0),{spend}/{consultations},"")'
SEGMENT_COLUMNS = ("consultations", "spend", "consult_cost", "deals", "conversion_rate", "gross_profit",
                   "median_days_to_close")


def kpi_columns(L: Labels, keys) -> tuple[Column, ...]:
    return tuple(Column(k, L(f"col.{k}"), KPI_FORMATS[k], formula=COST_FORMULA if k == "consult_cost" else None)
                 for k in keys)


def _monthly(data: Dataset) -> pd.DataFrame | None:
    """Key indicators per inquiry month (a few dozen calc calls, one per month)."""
    dates = data.leads["date"] if data.leads is not None else (data.spend["date"] if data.spend_dated else None)
    if dates is None or dates.dropna().empty:
        return None
    if data.spend is not None and not data.spend_dated:
        # a dateless spend export cannot be split by month; the monthly table shows leads and deals only
        data = dataclasses.replace(data, spend=None, memo={})
    months = pd.period_range(dates.min(), dates.max(), freq="M")
    # one grouped call; months with no inquiries and no spend still get their row (of zeros)
    table = calc.kpi_table(data, by="month").set_index("month")
    table = table.reindex(months.to_timestamp())
    known_zero = {"consultations": data.leads is not None, "spend": data.spend is not None,
                  "deals": data.leads is not None and data.deals is not None}
    for column, known in known_zero.items():
        if known:  # an empty month had none of these; otherwise the figure stays "not computable"
            table[column] = table[column].fillna(0.0)
    table.index = [m.strftime("%Y-%m") for m in months]
    return table.rename_axis("month").reset_index()


def _verdicts(data: Dataset, L: Labels) -> tuple[str, ...]:
    """Weekly stability verdicts of volume and cost (and whether cost is affordable), in words."""
    from calc.stability import stability_verdict

    if data.leads is None:
        return ()
    out = []
    for measure in ("volume", "cost") if data.spend_dated else ("volume",):
        try:
            out.append(L.render(stability_verdict(data, measure=measure, period="week")))
        except calc.InputError as exc:  # e.g. fewer than two weeks of data
            out.append(L.render(exc))
    return tuple(out)


def dashboard(ctx: Context) -> list[Block]:
    data, L = ctx.data, ctx.labels
    total = calc.kpi_table(data)
    row = total.iloc[0]
    # the inquiries' own dates (calc.coverage): Deals running on after the last lead do not stretch them
    cover = table_coverage(data)
    span = cover.leads or (cover.spend if data.spend_dated else None)
    subtitle = (L("dashboard.subtitle", first=span[0], last=span[1])
                if span is not None else L("dashboard.subtitle_undated"))
    if ctx.currency:  # a currency code only when the settings give one
        subtitle += L("dashboard.amounts_in", currency=ctx.currency)
    cards = [Card(k, L(f"col.{k}"), row[k], KPI_FORMATS[k]) for k in DASHBOARD_CARDS]
    if data.leads is not None and data.deals is not None:
        within = calc.inquiry_conversion(data, horizon_days=90)
        cards.append(Card("conversion_90", L("dashboard.conversion_90"), within, "pct"))
        if data.spend is not None:
            cards.append(Card("max_consult_cost", L("col.max_consult_cost"), calc.max_consult_cost(data), "money"))
    blocks: list[Block] = [
        Title(L("sheet.dashboard"), subtitle),
        Cards(tuple(cards), L("dashboard.key_indicators")),
    ]
    verdicts = _verdicts(data, L)
    if verdicts:
        blocks.append(Notes(verdicts, L("stability.verdicts"), tone="finding"))
    if ctx.by:
        seg = calc.kpi_table(data, by=ctx.by)
        columns = (Column(ctx.by, L.column(ctx.by), "text"), *kpi_columns(L, SEGMENT_COLUMNS))
        blocks += [
            Table("by_segment", L("dashboard.by_segment", dim=ctx.by), seg, columns,
                  highlights=(Highlight("conversion_rate"), Highlight("consult_cost", low_good=True))),
            Chart("by_segment", "bar", L("dashboard.chart_segment", dim=ctx.by), category=ctx.by,
                  series=("consultations",), secondary=()),
        ]
        if seg["conversion_rate"].notna().any():
            blocks.append(Chart("by_segment", "bar", L("dashboard.chart_conversion", dim=ctx.by), category=ctx.by,
                                series=("conversion_rate",), y_format="pct"))
    monthly = _monthly(data)
    if monthly is not None:
        keys = ["consultations", "spend", "consult_cost", "deals", "conversion_rate"]
        columns = (Column("month", L("col.month"), "text"), *kpi_columns(L, keys))
        blocks += [
            Table("monthly", L("dashboard.monthly"), monthly, columns),
            Chart("monthly", "column", L("dashboard.chart_monthly"), category="month", series=("consultations",),
                  secondary=("consult_cost",) if monthly["consult_cost"].notna().any() else ()),
        ]
    notes = L.render_all([*cover.notes(data.as_of), *messages(L, data, total)])
    blocks.append(Notes(tuple(notes) or (L("notes.none"),), L("notes.title")))
    return blocks


def dashboard_template(ctx: TemplateContext) -> list[Block]:
    """The template's Dashboard: the same cards and segment table as live UDF formulas."""
    L = ctx.labels
    kpi = ctx.udf("KPI_TABLE")
    card_formulas = {
        "consultations": ctx.udf("CONSULT_VOLUME"),
        "spend": f"INDEX({kpi},2,2)",
        "consult_cost": ctx.udf("CONSULT_COST"),
        "deals": f"INDEX({kpi},2,4)",
        "conversion_rate": ctx.udf("INQUIRY_CONVERSION"),
        "revenue": f"INDEX({kpi},2,6)",
        "gross_profit": f"INDEX({kpi},2,7)",
        "median_days_to_close": f"INDEX({kpi},2,9)",
    }
    cards = [Card(k, L(f"col.{k}"), None, KPI_FORMATS[k], formula=f"={card_formulas[k]}") for k in DASHBOARD_CARDS]
    cards.append(Card("conversion_90", L("dashboard.conversion_90"), None, "pct",
                      formula=f"={ctx.udf('INQUIRY_CONVERSION', horizon_days=90)}"))
    cards.append(Card("max_consult_cost", L("col.max_consult_cost"), None, "money",
                      formula=f"={ctx.udf('MAX_CONSULT_COST')}"))
    header = pd.DataFrame(columns=[ctx.by, *calc.KPI_COLUMNS])
    columns = (Column(ctx.by, L.column(ctx.by), "text"),
               *(Column(k, L(f"col.{k}"), KPI_FORMATS[k]) for k in calc.KPI_COLUMNS))
    return [
        Title(L("sheet.dashboard"), L("template.subtitle")),
        Cards(tuple(cards), L("dashboard.key_indicators")),
        Table("by_segment", L("dashboard.by_segment", dim=ctx.by), header, columns,
              formula=f"=_xlfn.DROP({ctx.udf('KPI_TABLE', by=ctx.by)},1)",
              highlights=(Highlight("conversion_rate"),)),
        Chart("by_segment", "bar", L("dashboard.chart_conversion", dim=ctx.by), category=ctx.by,
              series=("conversion_rate",), y_format="pct"),
        Notes((L("template.dashboard_note"),), L("notes.title")),
    ]


#: Rows a long table shows on its report sheet; all rows go to the Data sheet.
SUMMARY_ROWS = 26


def summarised(ctx: Context, table: Table, *, rows: int = SUMMARY_ROWS, keep: str = "tail") -> list[Block]:
    """A long table as its first/last ``rows`` rows on the report sheet (a chart over it then shows those
    rows) and a line saying where the rest is; the whole table goes to the Data sheet."""
    total = len(table.frame)
    if total <= rows:
        return [table]
    L = ctx.labels
    ctx.details.append(table)
    part = table.frame.tail(rows) if keep == "tail" else table.frame.head(rows)
    projected = None if table.projected is None else table.projected.loc[part.index]
    note = L("data.latest_rows" if keep == "tail" else "data.first_rows", shown=rows, count=total,
             sheet=L("sheet.data"))
    return [dataclasses.replace(table, frame=part.reset_index(drop=True),
                                projected=None if projected is None else projected.reset_index(drop=True)),
            Notes((note,))]


def data_section(ctx: Context) -> list[Block]:
    """The Data sheet: every table a report sheet shows only in part, in full."""
    L = ctx.labels
    return [Title(L("sheet.data"), L("data.subtitle")), *(ctx.details or [Notes((L("data.none"),))])]


def data_template(ctx: TemplateContext) -> list[Block]:
    L = ctx.labels
    return [Title(L("sheet.data"), L("data.subtitle")), Notes((L("data.template"),))]


def _register() -> dict[str, Section]:
    from . import analyses as a

    return {
        "dashboard": Section("dashboard", (), dashboard, dashboard_template),
        "cycle_roi": Section("cycle_roi", ("leads", "deals"), a.cycle_roi_section, a.cycle_roi_template),
        "stability": Section("stability", ("leads",), a.stability_section, a.stability_template),
        "segments": Section("segments", ("leads",), a.segments_section, a.segments_template),
        "diagnosis": Section("diagnosis", ("leads",), a.diagnosis_section, a.diagnosis_template),
        "portfolio": Section("portfolio", ("leads", "deals"), a.portfolio_section, a.portfolio_template),
        "data": Section("data", (), data_section, data_template),  # last: it gathers the other sheets' long tables
    }

_TABLE_NAMES = {"spend": "Spend", "leads": "Leads", "deals": "Deals"}


def missing_tables(section: Section, data: Dataset) -> list[str]:
    return [_TABLE_NAMES[t] for t in section.needs if getattr(data, t) is None]


def build_sheets(data: Dataset, *, language: str | None = None, sections: list[str] | None = None,
                 progress: Callable[[str], None] | None = None) -> list[Sheet]:
    """Every report sheet for ``data``, in registry order; ``progress(key)`` is called before each."""
    L = Labels(language or data.settings.language)
    ctx = Context(data, L, main_dimension(data))
    sheets = []
    for key in sections or list(SECTIONS):
        section = SECTIONS[key]
        if progress:
            progress(key)
        lacking = missing_tables(section, data)
        if lacking:
            blocks: list[Block] = [Title(L(f"sheet.{key}")),
                                   Notes((L("missing.tables", tables=", ".join(lacking)),), tone="missing")]
        else:
            try:
                blocks = section.build(ctx)
            except calc.InputError as exc:  # the data cannot answer this section's question: say why, in place
                blocks = [Title(L(f"sheet.{key}")), Notes((L.render(exc),), tone="missing")]
        blocks = placeholders(blocks, L, data)
        sheets.append(Sheet(key, L(f"sheet.{key}"), tuple(localise(block, L) for block in blocks)))
    return sheets


def placeholders(blocks: list[Block], L: Labels, data: Dataset) -> list[Block]:
    """A chart whose series hold no number becomes one line saying so (not an empty 0–1200 % frame);
    a card without a value says what it needs instead of staying blank."""
    tables = {b.key: b for b in blocks if isinstance(b, Table)}
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Chart) and block.table in tables and tables[block.table].formula is None:
            frame = tables[block.table].frame
            columns = [c for c in (*block.series, *block.secondary) if c in frame.columns]
            if not any(pd.to_numeric(frame[c], errors="coerce").notna().any() for c in columns):
                out.append(Notes((L("chart.no_data", title=block.title,
                                    needs=L(f"needs.{_needs(columns, data)}")),), tone="missing"))
                continue
        if isinstance(block, Cards):
            block = dataclasses.replace(block, cards=tuple(
                dataclasses.replace(c, missing=L(f"tile.{_needs([c.key], data)}"))
                if c.formula is None and (c.value is None or (isinstance(c.value, float) and pd.isna(c.value)))
                else c for c in block.cards))
        out.append(block)
    return out


def _needs(columns, data: Dataset) -> str:
    """Why a figure cannot be computed, from what the data lacks (the catalogue's ``needs.*`` / ``tile.*``)."""
    no_spend, no_gp = data.spend is None, not data.has_gross_profit
    no_deals = data.deals is None and (data.spend is None or "deals" not in data.spend.columns)
    for column in columns:
        if column in ("spend", "consult_cost") and no_spend:
            return "spend"
        if column in ("short_term_roi", "cycle_roi", "payback_days"):
            if no_spend or no_gp:
                return "spend_gross_profit" if no_spend and no_gp else "spend" if no_spend else "gross_profit"
        if column == "max_consult_cost" and no_gp:
            return "gross_profit"
        if column == "revenue" and not data.has_revenue:
            return "revenue"
        if column == "gross_profit" and no_gp:
            return "gross_profit"
        if column in ("deals", "conversion_rate", "conversion_90", "median_days_to_close", "mean_days_to_close",
                      "max_consult_cost") and no_deals:
            return "deals"
    return "data"


def localise(block: Block, L: Labels) -> Block:
    """A table's cells in the report's language: calc's sentences (Messages) rendered, codes such as
    ``no_clear_problem`` or ``beyond_3_sigma`` shown as the catalogue's words (``code.<column>.<code>``)."""
    if not isinstance(block, Table):
        return block
    if block.formula is not None:
        return dataclasses.replace(block, frame=pd.DataFrame(block.frame, copy=False))
    # the same columns without the frame's attrs (calc's notes, triangles): pandas deep-copies them into
    # every column it hands out, here and when the layout reads the cells
    frame = pd.DataFrame(block.frame, copy=False)
    changed = {}
    for column, dtype in frame.dtypes.items():  # the dtypes at once: a column looked up is a new Series each time
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        if column == "signals":  # several run-rule codes in one cell
            changed[column] = frame[column].map(
                lambda cell: L("code.list_gap").join(L.code("signals", c) for c in str(cell).split(", ") if c)
                if isinstance(cell, str) else cell)
        else:
            changed[column] = frame[column].map(lambda cell, c=column: L.render(cell) if hasattr(cell, "render")
                                                else L.code(c, cell))
    highlights = tuple(dataclasses.replace(h, value=L.code(h.column, h.value)) if h.kind == "equals" else h
                       for h in block.highlights)
    return dataclasses.replace(block, frame=frame.assign(**changed) if changed else frame, highlights=highlights)


SECTIONS: dict[str, Section] = _register()


def empty_sheets(language: str = "en") -> list[Sheet]:
    """Every report sheet of a workbook with no data yet: each says which tables to add."""
    L = Labels(language)
    return [Sheet(key, L(f"sheet.{key}"), (Title(L(f"sheet.{key}")), Notes(
        (L("missing.tables", tables=", ".join(_TABLE_NAMES[t] for t in (section.needs or ("spend", "leads", "deals")))),),
        tone="missing"))) for key, section in SECTIONS.items()]


def template_sheets(language: str = "en", *, data_handle: bool = True) -> list[Sheet]:
    """The template's report sheets: UDF formulas instead of values, for live Excel (over the data
    handle; ``data_handle=False`` passes the tables to every formula, as benchmarks/excel_recalc.py compares)."""
    ctx = TemplateContext(Labels(language), data="CycleData" if data_handle else None)
    return [Sheet(key, ctx.labels(f"sheet.{key}"), tuple(section.template(ctx)))
            for key, section in SECTIONS.items() if section.template is not None]
