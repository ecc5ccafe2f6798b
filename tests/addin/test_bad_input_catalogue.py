"""The bad-input catalogue: every case is one record here, run as a test and rendered as docs/bad_input.md.

Each case states its exact outcome:

* ``error`` — an InputError (or the CLI's exit code 2, or a ``#INPUT!`` cell) whose message
  contains ``user_sees`` and ``Fix: <fix>``; for calc-level errors also the table, column and rows;
* ``exclusion`` — the rows are left out, counted in ``Dataset.exclusions`` with table, count,
  sheet rows, reason and fix, and the figure without them is ``expected``;
* ``note`` — a note containing ``user_sees`` and the figure ``expected``;
* ``number`` — the bad-looking input is read correctly: the figure is ``expected``.

The shared base business (hand-checked): Spend 100 + 200 + 300 = 600 over 2024-03-01..03;
Leads L1..L4 (4 consultations); Deals L1 (1,000) and L3 (500): 2 of 4 converted = 0.5,
consultation cost 600 ÷ 4 = 150, revenue 1,500.

``python tests/addin/test_bad_input_catalogue.py`` rewrites docs/bad_input.md from the records;
``test_doc_matches_catalogue`` fails when the two differ.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import calc
from addin import safety
from addin.cli import app
from addin.convert import frame_from_rows
from addin.io import read_table
from calc import InputError
from calc.errors import describe_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "bad_input.md"
runner = CliRunner()

SPEND = {"date": ["2024-03-01", "2024-03-02", "2024-03-03"], "cost": [100.0, 200.0, 300.0],
         "channel": ["Search", "Feed", "Search"]}
LEADS = {"lead_id": ["L1", "L2", "L3", "L4"], "date": ["2024-03-01", "2024-03-01", "2024-03-02", "2024-03-03"],
         "channel": ["Search", "Feed", "Search", "Search"]}
DEALS = {"lead_id": ["L1", "L3"], "date": ["2024-03-10", "2024-03-20"], "revenue": [1000.0, 500.0]}


@dataclass
class Got:
    """What a user gets back from one run: an error, or data and the figure the case checks."""

    message: str = ""
    error: InputError | None = None
    data: calc.Dataset | None = None
    value: Any = None


@dataclass(frozen=True)
class Case:
    key: str
    table: str                  # Spend, Leads, Deals, Settings, Options, CLI, UDF
    bad_input: str              # what the user gave (one line in the doc)
    outcome: str                # error | exclusion | note | number
    user_sees: str              # message fragment asserted (error, exclusion reason, note) or what the figure is
    fix: str                    # the fix the message gives (asserted for error and exclusion)
    run: Callable[[Path], Got]
    column: str | None = None   # the column an InputError names
    rows: tuple[int, ...] = ()  # the sheet rows the error or exclusion names
    count: int | None = None    # rows excluded
    expected: Any = None        # the figure (number, note, exclusion outcomes)
    error_table: str | None = None  # the table an InputError names, when not ``table``


def frame(base: dict, **changes) -> pd.DataFrame:
    return pd.DataFrame({**base, **changes})


def prepared(spend: Any = "base", leads: Any = "base", deals: Any = "base", *, settings=None, mapping=None,
             figure: Callable[[calc.Dataset], Any] | None = None, **query) -> Got:
    """prepare + kpi_table on the given tables ("base" = the shared business, None = left out)."""
    tables = {"spend": frame(SPEND) if isinstance(spend, str) else spend,
              "leads": frame(LEADS) if isinstance(leads, str) else leads,
              "deals": frame(DEALS) if isinstance(deals, str) else deals}
    try:
        data = calc.prepare(**tables, settings=settings, mapping=mapping)
        row = calc.kpi_table(data, **query).iloc[0]
    except InputError as exc:
        return Got(str(exc), exc)
    return Got(data=data, value=figure(data) if figure else row)


def _with_note(got: Got, note: str) -> Got:
    """The run, after checking that its dataset carries a note holding ``note``."""
    assert got.data is not None and any(note in n for n in got.data.notes), got.message or got.data.notes
    return got


def kpi(column: str, **kwargs) -> Callable[[Path], Got]:
    """A run whose figure is one kpi_table column of the first row."""
    def run(_: Path) -> Got:
        got = prepared(**kwargs)
        if got.error is None:
            got.value = got.value[column]
        return got
    return run


def cli(*args: str, files: dict[str, tuple[str, bytes]] | None = None, figure: str | None = None
        ) -> Callable[[Path], Got]:
    """A cycle-roi run; files are {option: (file name, bytes)}; figure = a JSON column of the first row."""
    def run(tmp: Path) -> Got:
        argv = list(args)
        for option, (name, content) in (files or {}).items():
            path = tmp / name
            if content is None:
                path.mkdir()
            else:
                path.write_bytes(content)
            argv += [option, str(path)]
        result = runner.invoke(app, argv)
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert result.exit_code == 2, result.output
            return Got(result.stderr)
        rows = json.loads(result.stdout)
        return Got(result.stderr, value=rows[0][figure] if figure else rows)
    return run


def csv_bytes(base: dict, encoding: str = "utf-8", sep: str = ",", **changes) -> bytes:
    return frame(base, **changes).to_csv(index=False, sep=sep).encode(encoding)


def udf(name: str, *args: Any) -> Callable[[Path], Got]:
    def run(_: Path) -> Got:
        from addin.udfs import registry

        text = registry.UDFS[name].adapter(*args)
        assert isinstance(text, str) and text.startswith("#INPUT! "), text
        return Got(text)
    return run


def rows_of(base: dict) -> list[list[Any]]:
    return [list(base)] + [list(r) for r in zip(*base.values())]


def xlsx_with_hidden_row(tmp: Path) -> Got:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Spend"
    for row in rows_of(SPEND):
        sheet.append(row)
    sheet.row_dimensions[3].hidden = True  # the 200 of 2024-03-02, hidden, not deleted
    book.save(tmp / "spend.xlsx")
    return prepared(read_table(tmp / "spend.xlsx", table="Spend"), figure=lambda d: d.spend["cost"].sum())


def merged_header(_: Path) -> Got:
    # 'channel' merged across two columns: Excel hands the second header cell as empty
    rows = [["date", "cost", "channel", None], ["2024-03-01", 100, "Search", "Brand"]]
    try:
        frame_from_rows(rows, table="Spend")
    except InputError as exc:
        return Got(str(exc), exc)
    raise AssertionError("a blank header over data was accepted")


NUMBER_TEXT = dict(figure=lambda d: d.spend["cost"].sum())
TITLE_ROW = b"Spend report March 2024,,\ndate,cost,channel\n2024-03-01,100,Search\n"

CASES: list[Case] = [
    # --- Spend ----------------------------------------------------------------------------------
    Case("spend-no-cost", "Spend", "no cost column (headers date, Betrag, channel)", "error",
         "column 'cost': not found (have: date, Betrag, channel)",
         "rename the column holding money spent on ads that day to 'cost', or map it (spend.cost=<your header>)",
         lambda t: prepared(frame(SPEND).rename(columns={"cost": "Betrag"})), column="cost"),
    Case("spend-cost-mapped", "Spend", "cost under an unknown header, mapped with spend.cost=Betrag", "number",
         "spend 600, as if the column were called cost", "",
         kpi("spend", spend=frame(SPEND).rename(columns={"cost": "Betrag"}), mapping={"Spend": {"cost": "Betrag"}}),
         expected=600.0),
    Case("spend-cost-alias", "Spend", "headers in Chinese (日期, 花费, 渠道)", "number",
         "spend 600: built-in aliases recognise the headers", "",
         kpi("spend", spend=frame(SPEND).rename(columns={"date": "日期", "cost": "花费", "channel": "渠道"})),
         expected=600.0),
    Case("spend-duplicate-header", "Spend", "two columns 'cost' and 'Cost'", "error",
         "appears twice in the header (also as 'cost')", "rename or delete one of the two columns",
         lambda t: prepared(pd.DataFrame([["2024-03-01", 1, 2]], columns=["date", "cost", "Cost"])), column="Cost"),
    Case("spend-no-columns", "Spend", "a table with no columns at all", "error",
         "Spend: has no columns", "paste Spend with its header row",
         lambda t: prepared(pd.DataFrame(index=range(3)))),
    Case("spend-header-only", "Spend", "a header and no rows", "note",
         "Spend has a header but no rows, so it adds nothing to the figures", "",
         kpi("spend", spend=frame(SPEND).iloc[:0]), expected=0.0),
    Case("spend-thousands", "Spend", "cost as text with thousands separators ('1,000.00', '2,000.50', '3 000')",
         "number", "1,000.00 reads 1000 and 2,000.50 reads 2000.5", "",
         kpi("spend", spend=frame(SPEND, cost=["1,000.00", "2,000.50", "3 000"])), expected=6000.5),
    # issue 16: this column used to be read value by value (1000 + 2000.5); one column written two ways is
    # now refused like dates written in two orders
    Case("spend-two-decimal-marks", "Spend", "a decimal point and a decimal comma in one column ('1,000.00', '2.000,50')",
         "error", "reads two ways: '1,000.00' has a decimal point and '2.000,50' a decimal comma",
         "write every number of the column the same way",
         lambda t: prepared(frame(SPEND, cost=["1,000.00", "2.000,50", "3 000"])), column="cost", rows=(2, 3)),
    Case("spend-dot-thousands", "Spend", "Indonesian amounts with dot thousands and a decimal comma "
         "('1.500', '2.000,50', '2.500.000')", "number", "1.500 reads 1500 (the column's decimal comma settles it)", "",
         kpi("spend", spend=frame(SPEND, cost=["1.500", "2.000,50", "2.500.000"])), expected=2503500.5),
    Case("spend-rupiah", "Spend", "rupiah amounts ('Rp 1.500', 'Rp 2.000', 'Rp 3.000')", "number",
         "Rp 1.500 reads 1500 (rupiah have no cents)", "",
         kpi("spend", spend=frame(SPEND, cost=["Rp 1.500", "Rp 2.000", "Rp 3.000"])), expected=6500.0),
    Case("spend-decimal-comma", "Spend", "three decimals after a comma ('0,125', '1,5', '2')", "number",
         "0,125 reads 0.125 (a group of thousands never starts with 0)", "",
         kpi("spend", spend=frame(SPEND, cost=["0,125", "1,5", "2"])), expected=3.625),
    Case("spend-either-way", "Spend", "every amount reads two ways ('1.500', '2.000', '3.000')", "error",
         "reads two ways: '1.500' is 1.5 with a decimal point or 1,500 with a dot between thousands",
         "set the decimal_mark setting to dot (1,234.5) or comma (1.234,5)",
         lambda t: prepared(frame(SPEND, cost=["1.500", "2.000", "3.000"])), column="cost", rows=(2,)),
    Case("spend-either-way-setting", "Spend", "the same amounts with the decimal_mark setting 'comma'", "number",
         "1.500 reads 1500", "",
         kpi("spend", spend=frame(SPEND, cost=["1.500", "2.000", "3.000"]), settings={"decimal_mark": "comma"}),
         expected=6500.0),
    Case("spend-counts-either-way", "Spend", "clicks written with thousands separators ('1,200', '1.300', '900')",
         "number", "a count has no decimals: 1,200 reads 1200", "",
         lambda t: prepared(frame(SPEND, clicks=["1,200", "1.300", "900"]),
                            figure=lambda d: float(d.spend["clicks"].sum())), expected=3400.0),
    Case("spend-huge-number", "Spend", "an amount of 1e308 (two of them sum to infinity)", "error",
         "holds a number too large to be an amount or a count ('1e308')", "replace it with the real amount",
         lambda t: prepared(frame(SPEND, cost=["1e308", "1e308", "1"])), column="cost", rows=(2, 3)),
    Case("spend-currency", "Spend", "cost with currency symbols and codes ('¥100', '$200', 'Rp 300')", "number",
         "the symbols are dropped: 600", "",
         kpi("spend", spend=frame(SPEND, cost=["¥100", "$200", "Rp 300"])), expected=600.0),
    Case("spend-full-width", "Spend", "cost in full-width digits ('１００')", "number",
         "full-width digits read as 100, 200, 300", "",
         kpi("spend", spend=frame(SPEND, cost=["１００", "２００", "３００"])), expected=600.0),
    Case("spend-percent", "Spend", "a percentage in the cost column ('15%')", "error",
         "holds percentages ('15%'), not amounts or counts",
         "put the amount or count itself here (e.g. 1500), not a share",
         lambda t: prepared(frame(SPEND, cost=[100, "15%", 300])), column="cost", rows=(3,)),
    Case("spend-excel-error", "Spend", "Excel error values in cost (#N/A, #DIV/0!)", "error",
         "holds Excel error values (#DIV/0!, #N/A)", "fix the formulas that give these errors, or clear those cells",
         lambda t: prepared(frame(SPEND, cost=["#N/A", 200, "#DIV/0!"])), column="cost", rows=(2, 4)),
    Case("spend-text-cost", "Spend", "words in the cost column ('twelve')", "error",
         "holds text that is not a number: 'twelve'", "put plain numbers here (1234.5); delete totals or notes rows",
         lambda t: prepared(frame(SPEND, cost=[100, 200, "twelve"])), column="cost", rows=(4,)),
    Case("spend-negative-cost", "Spend", "a negative cost (a refund typed as spend)", "exclusion",
         "with a negative cost", "correct the amount",
         kpi("spend", spend=frame(SPEND, cost=[100, -200, 300])), rows=(3,), count=1, expected=400.0),
    Case("spend-blank-cost", "Spend", "a blank cost cell", "exclusion", "with a blank cost",
         "type 0 where nothing was spent", kpi("spend", spend=frame(SPEND, cost=[100, None, 300])),
         rows=(3,), count=1, expected=400.0),
    Case("spend-zero-cost", "Spend", "zero cost every day (free traffic)", "number",
         "consultation cost 0 (0 ÷ 4 consultations)", "",
         kpi("consult_cost", spend=frame(SPEND, cost=[0, 0, 0])), expected=0.0),
    Case("spend-no-consultations", "Spend", "spend on a day with no consultations (range 2024-03-04)", "number",
         "consultation cost empty (NaN), never a division error or infinity", "",
         kpi("consult_cost", spend=pd.concat([frame(SPEND), pd.DataFrame(
             {"date": ["2024-03-04"], "cost": [50.0], "channel": ["Feed"]})]), start="2024-03-04", end="2024-03-04"),
         expected=math.nan),
    Case("spend-negative-count", "Spend", "a negative consultations count from an ad platform", "error",
         "holds negative values", "counts and revenue cannot be below zero; correct them",
         lambda t: prepared(frame(SPEND, consultations=[3, -1, 2])), column="consultations", rows=(3,)),
    Case("spend-date-formats", "Spend", "dates typed in several formats (2024/03/01, 2 March 2024, 2024年3月3日)",
         "number", "all read as 2024-03-01..03: spend of 2024-03-02 is 200", "",
         kpi("spend", spend=frame(SPEND, date=["2024/03/01", "2 March 2024", "2024年3月3日"]),
             start="2024-03-02", end="2024-03-02"), expected=200.0),
    Case("spend-excel-serials", "Spend", "dates as Excel serial numbers (45352 = 2024-03-01)", "number",
         "serials read as dates: spend of 2024-03-01 is 100", "",
         kpi("spend", spend=frame(SPEND, date=[45352, 45353, 45354]), start="2024-03-01", end="2024-03-01"),
         expected=100.0),
    Case("spend-mixed-order", "Spend", "day-first and month-first dates in one column (13/03/2024, 03/14/2024)",
         "error", "mixes day-first and month-first dates ('13/03/2024' and '03/14/2024')",
         "use one order in the whole column, best ISO such as 2024-03-01",
         lambda t: prepared(frame(SPEND, date=["13/03/2024", "03/14/2024", "2024-03-03"])), column="date",
         rows=(2, 3)),
    Case("spend-ambiguous-order", "Spend", "dates that read either way (01/03/2024 … 03/03/2024)", "note",
         "reads either way; read as day-first (dd-mm-yyyy) by the ambiguous_dates setting", "",
         kpi("spend", spend=frame(SPEND, date=["01/03/2024", "02/03/2024", "03/03/2024"]),
             start="2024-03-01", end="2024-03-01"), expected=100.0),
    Case("spend-future-date", "Spend", "a row dated after the as-of date (2024-12-31 with as_of 2024-03-31)", "note",
         "1 row dated after the as-of date Mar 31, 2024 is not counted (row 5)", "",
         kpi("spend", spend=pd.concat([frame(SPEND), pd.DataFrame({"date": ["2024-12-31"], "cost": [999.0],
                                                                    "channel": ["Feed"]})]),
             settings={"as_of": "2024-03-31"}), expected=600.0),
    Case("spend-typo-year", "Spend", "a date with a typo year (3024-03-01)", "error",
         "1 value is not a date: '3024-03-01'", "type dates between 1950 and 2150 as 2024-03-01",
         lambda t: prepared(frame(SPEND, date=["2024-03-01", "3024-03-01", "2024-03-03"])), column="date",
         rows=(3,)),
    Case("leads-typo-year-date-cell", "Leads", "a date cell (not text) with a typo year, 3024-03-02, as Parquet "
         "or a typed Excel date brings it", "error",
         "1 value is not a date: '3024-03-02'", "type dates between 1950 and 2150 as 2024-03-01",
         lambda t: prepared(leads=frame(LEADS, date=np.array(["2024-03-01", "2024-03-01", "3024-03-02", "2024-03-03"],
                                                            dtype="datetime64[ms]"))), column="date", rows=(4,)),
    Case("spend-totals-row", "Spend", "a totals row pasted at the bottom (Total, 600)", "exclusion",
         "that are totals rows at the bottom", "delete totals and summary rows",
         kpi("spend", spend=pd.concat([frame(SPEND), pd.DataFrame({"date": ["Total"], "cost": [600.0],
                                                                    "channel": [None]})])),
         rows=(5,), count=1, expected=600.0),
    Case("spend-totals-label-elsewhere", "Spend", "a totals row labelled 合计 in the channel column, date blank",
         "exclusion", "that are totals rows at the bottom", "delete totals and summary rows",
         kpi("spend", spend=pd.concat([frame(SPEND), pd.DataFrame({"date": [None], "cost": [600.0],
                                                                    "channel": ["合计"]})])),
         rows=(5,), count=1, expected=600.0),
    Case("spend-hidden-rows", "Spend", "hidden rows in an .xlsx", "number",
         "hidden rows count like any row (hiding is not deleting): 600", "", xlsx_with_hidden_row,
         expected=600.0),
    Case("spend-merged-header", "Spend", "merged header cells (one header over two columns)", "error",
         "has data under an empty header in column 4", "give every column a header in the first row",
         merged_header),
    Case("spend-title-row", "Spend", "a title row (or merged title cells) above the column names", "error",
         "the column names are in row 2, below the header row", "delete the rows above the column names",
         lambda t: prepared(pd.read_csv(__import__("io").BytesIO(TITLE_ROW))), rows=(2,)),
    Case("spend-no-dates-with-range", "Spend", "a dateless ad-platform report with a date range asked", "error",
         "is missing, so spend cannot be limited to a date range", "add a date column to Spend",
         lambda t: prepared(frame(SPEND).drop(columns="date"), start="2024-03-01"), column="date"),
    # --- Leads ----------------------------------------------------------------------------------
    Case("leads-no-id", "Leads", "no lead id column", "error", "column 'lead_id': not found",
         "rename the column holding the consultation's own id, also used in Deals to 'lead_id'",
         lambda t: prepared(leads=frame(LEADS).drop(columns="lead_id")), column="lead_id"),
    Case("leads-no-date", "Leads", "no inquiry date column (renamed 'when')", "error", "column 'date': not found",
         "or map it (leads.date=<your header>)",
         lambda t: prepared(leads=frame(LEADS).rename(columns={"date": "when"})), column="date"),
    Case("leads-duplicate-id", "Leads", "the same lead_id twice", "exclusion",
         "repeating a lead_id already listed (the first is kept)", "give each consultation its own id",
         kpi("consultations", leads=frame(LEADS, lead_id=["L1", "L1", "L3", "L4"])), rows=(3,), count=1,
         expected=3),
    Case("leads-blank-id", "Leads", "a consultation without an id", "exclusion", "with no lead_id",
         "give every consultation an id", kpi("consultations", leads=frame(LEADS, lead_id=["L1", None, "L3", "L4"])),
         rows=(3,), count=1, expected=3),
    Case("leads-blank-date", "Leads", "a consultation without a date", "exclusion", "with no inquiry date",
         "fill in the date the consultation came in",
         kpi("consultations", leads=frame(LEADS, date=["2024-03-01", "", "2024-03-02", "2024-03-03"])),
         rows=(3,), count=1, expected=3),
    Case("leads-bad-date", "Leads", "text that is no date ('soon') in the date column", "error",
         "1 value is not a date: 'soon'", "clear text such as totals or notes",
         lambda t: prepared(leads=frame(LEADS, date=["2024-03-01", "soon", "2024-03-02", "2024-03-03"])),
         column="date", rows=(3,)),
    Case("leads-id-excel-error", "Leads", "#N/A in lead_id (a lookup that found nothing)", "error",
         "column 'lead_id': holds Excel error values (#N/A)", "fix the formulas that give these errors",
         lambda t: prepared(leads=frame(LEADS, lead_id=["L1", "#N/A", "L3", "#N/A"])), column="lead_id",
         rows=(3, 5)),
    Case("leads-mixed-date-types", "Leads", "dates as datetimes, Excel serials and text in one column", "number",
         "all read: 4 consultations from 2024-03-01 to 2024-03-03", "",
         kpi("consultations", leads=frame(LEADS, date=[dt.datetime(2024, 3, 1), 45352, "2024-03-02", "3/3/2024"]),
             start="2024-03-01", end="2024-03-03"), expected=4),
    Case("leads-far-future-typo", "Leads", "one date typed 2042 for 2024 among 150 consultations, no as_of set",
         "exclusion", "dated more than a year after every other date (after May 29, 2024; a year typed wrong?)",
         "correct the year; if these dates are right, set the as_of setting",
         kpi("consultations", spend=None, deals=None, leads=pd.DataFrame(
             {"lead_id": [f"L{i}" for i in range(151)],
              "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(150)] + ["2042-03-01"]})),
         rows=(152,), count=1, expected=150),
    Case("leads-totals-row", "Leads", "a totals row at the bottom (lead_id 'Total', no date)", "exclusion",
         "that are totals rows at the bottom", "delete totals and summary rows",
         kpi("consultations", leads=pd.concat([frame(LEADS), pd.DataFrame({"lead_id": ["Total"], "date": [None],
                                                                            "channel": ["4"]})])),
         rows=(6,), count=1, expected=4),
    Case("leads-header-only", "Leads", "a header and no rows", "note",
         "Leads has a header but no rows, so it adds nothing to the figures", "",
         kpi("consultations", leads=frame(LEADS).iloc[:0], deals=None), expected=0),
    Case("leads-numeric-ids", "Leads", "ids as numbers in Leads (123.0 from Excel) and text in Deals ('123')",
         "number", "they match: conversion 0.5", "",
         kpi("conversion_rate", leads=frame(LEADS, lead_id=[123.0, 124.0, 125.0, 126.0]),
             deals=frame(DEALS, lead_id=["123", "125"])), expected=0.5),
    Case("leads-utc-suffix", "Leads", "dates with a time and a UTC suffix ('2024-03-02 10:00:00 UTC')", "number",
         "read year-month-day as written: 2024-03-02, not 3 February", "",
         kpi("consultations", leads=frame(LEADS, date=["2024-03-01 09:00:00 UTC", "2024-03-01 23:00:00 UTC",
                                                       "2024-03-02 10:00:00 UTC", "2024-03-03 10:00:00 UTC"]),
             start="2024-03-02", end="2024-03-02"), expected=1),
    Case("leads-today", "Leads", "'today' typed as a date", "error", "1 value is not a date: 'today'",
         "type dates between 1950 and 2150 as 2024-03-01",
         lambda t: prepared(leads=frame(LEADS, date=["2024-03-01", "today", "2024-03-02", "2024-03-03"])),
         column="date", rows=(3,)),
    Case("leads-unix-days", "Leads", "dates as days since 1970 (19783 = 2024-03-01), as databases write them",
         "error", "reads two ways: the number 19783 is 1954-02-28 as an Excel date or 2024-03-01 as days since 1970",
         "turn the numbers into dates before pasting",
         lambda t: prepared(leads=frame(LEADS, date=[19783, 19783, 19784, 19785])), column="date", rows=(2, 3)),
    Case("leads-far-past-typo", "Leads", "one date typed 1950 for 2024 among 150 consultations, no as_of set",
         "exclusion", "dated more than a year before every other date (before Jan 1, 2024; a year typed wrong?)",
         "correct the year",
         kpi("consultations", spend=None, deals=None, leads=pd.DataFrame(
             {"lead_id": [f"L{i}" for i in range(151)],
              "date": ["1950-03-01"] + [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(150)]})),
         rows=(2,), count=1, expected=150),
    Case("leads-invisible-id-marks", "Leads", "ids with a zero-width space, a non-breaking space or full-width "
         "digits ('L1\u200b', '\u00a0L3', 'Ｌ１')", "number", "they match their deals: conversion 0.5", "",
         kpi("conversion_rate", leads=frame(LEADS, lead_id=["Ｌ１", "L2", "\u00a0L3", "L4"]),
             deals=frame(DEALS, lead_id=["L1\u200b", "L3"])), expected=0.5),
    Case("deals-ids-written-differently", "Deals", "Leads ids with leading zeros ('00123'), Deals ids without; "
         "besides the exclusion a note says: only 0 of 2 deal ids match a lead; Leads ids look like '00123', "
         "'00124', '00125', Deals ids like '123', '125'; some differ only in leading zeros (never merged: 0123 "
         "and 123 may be two leads)", "exclusion", "whose lead_id is not in Leads",
         "add the missing consultations to Leads, or correct the ids",
         lambda t: _with_note(prepared(leads=frame(LEADS, lead_id=["00123", "00124", "00125", "00126"]),
                                       deals=frame(DEALS, lead_id=["123", "125"]), figure=lambda d: 0.0),
                              "some differ only in leading zeros"), rows=(2, 3), count=2, expected=0.0),
    Case("leads-segment-named-revenue", "Leads", "a segment column called 'revenue' (or deals, days_to_close)",
         "note", "kept as segment 'revenue (segment)'", "",
         kpi("revenue", leads=frame(LEADS, revenue=["big", "small", "big", "big"])), expected=1500.0),
    # --- Deals ----------------------------------------------------------------------------------
    Case("deals-before-inquiry", "Deals", "a deal won before its consultation came in", "exclusion",
         "won before their consultation came in", "check the won date and the lead's inquiry date",
         kpi("conversion_rate", deals=frame(DEALS, date=["2024-02-01", "2024-03-20"])),
         rows=(2,), count=1, expected=0.25),
    Case("deals-unknown-lead", "Deals", "a deal whose lead_id is not in Leads", "exclusion",
         "whose lead_id is not in Leads", "add the missing consultations to Leads, or correct the ids",
         kpi("revenue", deals=frame(DEALS, lead_id=["L1", "X9"])), rows=(3,), count=1, expected=1000.0),
    Case("deals-repeated", "Deals", "the same deal pasted twice", "exclusion",
         "repeating the same deal (same lead, date and amount)", "delete the repeated rows",
         kpi("revenue", deals=pd.concat([frame(DEALS), frame(DEALS).iloc[:1]])), rows=(4,), count=1,
         expected=1500.0),
    Case("deals-revenue-error", "Deals", "#DIV/0! in revenue", "error", "holds Excel error values (#DIV/0!)",
         "fix the formulas that give these errors", lambda t: prepared(deals=frame(DEALS, revenue=[1000, "#DIV/0!"])),
         column="revenue", rows=(3,)),
    Case("deals-revenue-text", "Deals", "revenue with currency and thousands ('¥1,000', 'RMB 500')", "number",
         "revenue 1,500", "", kpi("revenue", deals=frame(DEALS, revenue=["¥1,000", "RMB 500"])), expected=1500.0),
    Case("deals-no-date", "Deals", "no won-date column", "error", "Deals: column 'date': not found",
         "or map it (deals.date=<your header>)",
         lambda t: prepared(deals=frame(DEALS).rename(columns={"date": "stage"})), column="date"),
    Case("deals-without-leads-filtered", "Deals", "Deals without Leads, filtered by a segment", "error",
         "without Leads cannot be split by segment", "add the Leads table",
         lambda t: prepared(spend=None, leads=None, filter="channel=Search")),
    # --- Settings -------------------------------------------------------------------------------
    Case("settings-unknown", "Settings", "a misspelt setting (gross_margn)", "error",
         "setting 'gross_margn': extra inputs are not permitted", "use one of: gross_margin",
         lambda t: prepared(settings={"gross_margn": 0.3}), column="gross_margn"),
    Case("settings-margin-range", "Settings", "gross_margin 1.5 (above 100 %)", "error",
         "setting 'gross_margin': input should be less than or equal to 1", "give gross_margin a valid value",
         lambda t: prepared(settings={"gross_margin": 1.5}), column="gross_margin"),
    Case("settings-margin-percent", "Settings", "gross_margin typed as '35%'", "error",
         "setting 'gross_margin': input should be a valid number", "give gross_margin a valid value",
         lambda t: prepared(settings={"gross_margin": "35%"}), column="gross_margin"),
    Case("settings-as-of", "Settings", "as_of that is no date ('yesterday')", "error",
         "setting 'as_of': input should be a valid date", "give as_of a valid value",
         lambda t: prepared(settings={"as_of": "yesterday"}), column="as_of"),
    Case("settings-choice", "Settings", "ambiguous_dates 'dd/mm' (not a choice)", "error",
         "setting 'ambiguous_dates': input should be 'day_first' or 'month_first'", "give ambiguous_dates a valid value",
         lambda t: prepared(settings={"ambiguous_dates": "dd/mm"}), column="ambiguous_dates"),
    Case("settings-target-roi", "Settings", "target_roi of -2 (below -100 %)", "error",
         "setting 'target_roi': input should be greater than -1", "give target_roi a valid value",
         lambda t: prepared(settings={"target_roi": -2}), column="target_roi"),
    # --- Options (CLI flags and Excel function arguments) -----------------------------------------
    Case("filter-unknown-column", "Options", "filter on a column that does not exist (planet=Mars)", "error",
         "Leads: column 'planet': is not a column to filter by (have: channel)", "use one of the columns listed",
         lambda t: prepared(filter="planet=Mars"), column="planet", error_table="Leads"),
    Case("filter-unknown-value", "Options", "filter on a value that does not occur (channel=Radio)", "error",
         "has no value 'Radio' (values: (blank), Feed, Search)", "check the spelling or pick a listed value",
         lambda t: prepared(filter="channel=Radio"), column="channel", error_table="filter"),
    Case("filter-syntax", "Options", "filter without '=' ('channel')", "error", "'channel' is not column=value",
         "write it as province=Guangdong;industry=Medical|Education", lambda t: prepared(filter="channel"),
         error_table="filter"),
    Case("start-after-end", "Options", "start 2024-03-31 after end 2024-03-01", "error",
         "option 'start': Mar 31, 2024 is after end Mar 1, 2024", "swap start and end",
         lambda t: prepared(start="2024-03-31", end="2024-03-01"), column="start", error_table="options"),
    Case("start-not-a-date", "Options", "start 'last monday'", "error", "'last monday' is not a date",
         "give a date such as 2024-03-01", lambda t: prepared(start="last monday"), column="start",
         error_table="options"),
    Case("horizon-zero", "Options", "horizon_days 0", "error", "option 'horizon_days': input should be greater than",
         "horizon_days is a whole number of days from 1 to 3660", lambda t: prepared(horizon_days=0),
         column="horizon_days", error_table="options"),
    Case("horizon-negative", "Options", "horizon_days -30", "error", "(got -30)",
         "horizon_days is a whole number of days from 1 to 3660", lambda t: prepared(horizon_days=-30),
         column="horizon_days", error_table="options"),
    Case("horizon-fraction", "Options", "horizon_days 7.5", "error", "option 'horizon_days'",
         "horizon_days is a whole number of days from 1 to 3660", lambda t: prepared(horizon_days=7.5),
         column="horizon_days", error_table="options"),
    Case("by-unknown-column", "Options", "group by a column that does not exist (by=region)", "error",
         "column 'region': is not a column to group by", "add a 'region' column to Leads",
         lambda t: prepared(by="region"), column="region", error_table="Leads"),
    # --- Files and the command line -------------------------------------------------------------
    Case("cli-map-syntax", "CLI", "--map leads.date (no '=')", "error", "'leads.date' is not TABLE.CANONICAL=SOURCE",
         "write it like leads.date=first_contact_date", cli("kpi", "--map", "leads.date")),
    Case("cli-missing-file", "CLI", "--spend naming a file that does not exist", "error", "does not exist",
         "check the path", cli("kpi", "--spend", "no-such-file.csv")),
    Case("cli-folder", "CLI", "--spend naming a folder", "error", "is a folder, not a file", "give the file's path",
         cli("kpi", files={"--spend": ("exports", None)})),
    Case("cli-empty-file", "CLI", "an empty CSV file (0 bytes)", "error", "is empty",
         "export Spend again with its header row", cli("kpi", files={"--spend": ("spend.csv", b"")})),
    Case("cli-not-a-spreadsheet", "CLI", "a PDF renamed spend.xlsx", "error", "is a PDF document, not a CSV",
         "export Spend from the ad platform or CRM as CSV or XLSX",
         cli("kpi", files={"--spend": ("spend.xlsx", b"%PDF-1.7\n1 0 obj")})),
    Case("cli-csv-duplicate-header", "CLI", "a CSV with 'cost' twice in its header", "error",
         "appears twice in the header of spend.csv (also as 'cost')", "rename or delete one of the two columns",
         cli("kpi", files={"--spend": ("spend.csv", b"date,cost,cost\n2024-03-01,1,2\n")})),
    Case("cli-csv-gbk", "CLI", "a CSV saved in GBK with Chinese headers", "number", "spend 600", "",
         cli("kpi", "--json", figure="spend", files={"--spend": ("spend.csv", csv_bytes(
             {"日期": SPEND["date"], "花费": SPEND["cost"], "渠道": ["搜索", "信息流", "搜索"]}, "gbk"))}),
         expected=600),
    Case("cli-csv-utf16", "CLI", "a CSV saved as UTF-16 (Excel's 'Unicode text')", "number", "spend 600", "",
         cli("kpi", "--json", figure="spend", files={"--spend": ("spend.csv", csv_bytes(SPEND, "utf-16", "\t"))}),
         expected=600),
    Case("cli-csv-utf16-no-bom", "CLI", "a CSV in UTF-16 without a byte-order mark", "number", "spend 600", "",
         cli("kpi", "--json", figure="spend", files={"--spend": ("spend.csv", csv_bytes(SPEND, "utf-16-le"))}),
         expected=600),
    Case("cli-csv-bom", "CLI", "a CSV in UTF-8 with a byte-order mark", "number", "spend 600 (header 'date' found)", "",
         cli("kpi", "--json", figure="spend", files={"--spend": ("spend.csv", csv_bytes(SPEND, "utf-8-sig"))}),
         expected=600),
    Case("cli-csv-semicolon", "CLI", "a CSV with ';' separators and decimal commas (European Excel)", "number",
         "spend 600.75", "", cli("kpi", "--json", figure="spend", files={"--spend": ("spend.csv", csv_bytes(
             SPEND, sep=";", cost=["100,25", "200,50", "300"]))}), expected=600.75),
    Case("cli-csv-big5", "CLI", "a CSV saved in Big5 (traditional Chinese Windows)", "number",
         "segments spelt right (新竹, not 穝λ): spend 600", "", cli("kpi", "--json", figure="spend", files={
             "--spend": ("spend.csv", (("date,cost,city\n" + "".join(f"2024-03-0{d},{c},{city}\n" for d, c, city in
                                        [(1, 100, "新竹"), (2, 200, "台北"), (3, 300, "高雄")] * 1)) * 1).encode("big5")
                         + "".join(f"2024-03-0{d},0,{city}\n" for d in (1, 2, 3) for city in
                                   ("新竹市", "台北市", "高雄市", "台中市", "台南市")).encode("big5"))}), expected=600),
    Case("cli-csv-two-encodings", "CLI", "a CSV whose first rows are UTF-8 and the rest GBK (two exports pasted)",
         "error", "mixes two text encodings: row 2 is UTF-8, row 4 is not", "save each export as CSV UTF-8",
         cli("kpi", "--json", files={"--spend": ("spend.csv", csv_bytes(SPEND, channel=["搜索", "信息流", "搜索"])[:-19]
                                                  + "2024-03-03,300.0,搜索\n".encode("gbk"))})),
    Case("cli-csv-cr-only", "CLI", "a CSV with old Mac line ends (CR only)", "number", "spend 600", "",
         cli("kpi", "--json", figure="spend", files={"--spend": ("spend.csv", csv_bytes(SPEND).replace(b"\n", b"\r"))}),
         expected=600),
    Case("cli-csv-separator-changes", "CLI", "a CSV that changes from ',' to ';' half-way", "error",
         "changes its separator: 1 rows are separated by ';', the header by ','", "save the whole table again",
         cli("kpi", "--json", files={"--spend": ("spend.csv", b"date,cost,channel\n2024-03-01,100.0,Search\n"
                                                  b"2024-03-02,200.0,Feed\n2024-03-03;300.0;Search\n")})),
    Case("cli-two-columns-one-field", "CLI", "an ad export with both 'Amount spent (USD)' and 'Spent'", "error",
         "more than one column could be 'cost': Amount spent (USD), Spent", "map 'cost' to the one you mean",
         cli("kpi", "--json", files={"--spend": ("spend.csv", pd.DataFrame(
             {"date": SPEND["date"], "Amount spent (USD)": SPEND["cost"], "Spent": [50.0, 100.0, 150.0]}
         ).to_csv(index=False).encode())})),
    Case("cli-horizon-text", "CLI", "--horizon abc", "error", "Invalid value for '--horizon'", "",
         cli("kpi", "--horizon", "abc")),
    # --- Excel functions ------------------------------------------------------------------------
    Case("udf-not-a-range", "UDF", "a single value where a table is expected (=CONSULT_COST(5))", "error",
         "#INPUT! Spend: must be a range with a header row, e.g. Spend[#All]",
         "pass the whole Spend table including its header", udf("CONSULT_COST", 5, rows_of(LEADS))),
    Case("udf-bad-filter", "UDF", "an Excel function with an unknown filter column", "error",
         "#INPUT! Leads: column 'planet': is not a column to filter by", "use one of the columns listed",
         udf("CONSULT_VOLUME", rows_of(LEADS), None, None, None, "planet=Mars")),
    Case("udf-horizon-zero", "UDF", "INQUIRY_CONVERSION with horizon_days 0", "error",
         "#INPUT! option 'horizon_days'", "horizon_days is a whole number of days from 1 to 3660",
         udf("INQUIRY_CONVERSION", rows_of(LEADS), rows_of(DEALS), None, None, None, None, 0)),
]


def test_catalogue_is_large_and_keys_are_unique():
    assert len(CASES) >= 40 and len({c.key for c in CASES}) == len(CASES)
    assert {c.table for c in CASES} >= {"Spend", "Leads", "Deals", "Settings", "Options", "CLI", "UDF"}


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(value, float) and math.isnan(value)
    return value == pytest.approx(expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key)
def test_case(case: Case, tmp_path: Path):
    got = case.run(tmp_path)
    if case.outcome == "error":
        assert case.user_sees in got.message, got.message
        if case.fix:
            assert "Fix: " in got.message and case.fix in got.message.split("Fix: ", 1)[1], got.message
        if got.error is not None:  # calc-level: the error object names table, column and rows
            assert got.error.table == (case.error_table or case.table), got.error.table
            assert got.error.column == case.column and got.error.rows == list(case.rows), got.message
        return
    assert got.error is None and "error" not in got.message.lower(), got.message
    assert _same(got.value, case.expected), (got.value, case.expected)
    exclusions = list(got.data.exclusions) if got.data is not None else []
    if case.outcome == "exclusion":
        [exclusion] = exclusions
        assert (exclusion.table, exclusion.count, exclusion.rows) == (case.table, case.count, list(case.rows))
        assert case.user_sees in exclusion.reason and case.fix in exclusion.fix
    else:
        assert exclusions == []
    if case.outcome == "note":
        assert any(case.user_sees in n for n in got.data.notes), got.data.notes


# --- the documentation is rendered from the same records ----------------------------------------

OUTCOME_WORDS = {"error": "error (nothing computed)", "exclusion": "rows excluded, counted",
                 "note": "note, figure correct", "number": "read correctly"}


def render() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["# Bad input: what Cycle ROI does with it", "",
             "Generated from `tests/addin/test_bad_input_catalogue.py` (`python tests/addin/test_bad_input_catalogue.py`",
             "rewrites it; a test fails when this file and the cases differ). Every case below is a test.", "",
             "Outcomes: **error** — nothing is computed; the message names the table, the column, the rows (as",
             "numbered in the sheet, header = row 1) and the fix, in the terminal (exit code 2) or in the cell",
             "(`#INPUT! …`), never a traceback. **rows excluded** — the rows are left out of every figure and the",
             "report lists how many, which rows, why and the fix. **note** — the figure is right and a note says",
             "what was assumed. **read correctly** — the input looks wrong but is read as meant.", ""]
    for table in dict.fromkeys(c.table for c in CASES):
        lines += [f"## {table}", "", "| # | Bad input | Outcome | What the user sees | Fix |", "|---|---|---|---|---|"]
        for case in (c for c in CASES if c.table == table):
            if case.outcome == "exclusion":  # the sentence the report and the terminal show
                sees = str(calc.Exclusion(case.table, case.user_sees, case.count, list(case.rows))).rstrip(".")
            else:
                sees = case.user_sees + (f" ({describe_rows(list(case.rows))})" if case.rows else "")
            lines.append(f"| `{case.key}` | {cell(case.bad_input)} | {OUTCOME_WORDS[case.outcome]} | "
                         f"{cell(sees)} | {cell(case.fix) or '—'} |")
        lines.append("")
    lines += [
        "## Hostile files (tests/addin/test_hostile_files.py)", "",
        "Every .xlsx is checked before anything unpacks it (`addin/safety.py`):", "",
        f"- more than {safety.MAX_ENTRIES:,} parts, more than {safety.MAX_TOTAL_BYTES / 1024**3:.0f} GiB declared "
        f"unpacked, or a part over {safety.RATIO_MIN_BYTES // 1024**2} MiB inflating more than {safety.MAX_RATIO} "
        "times its packed size: refused as a possible zip bomb, read from the zip directory before unpacking;",
        "- a part that inflates past the size it declares: refused while streaming, one chunk in memory at most;",
        "- a DOCTYPE or ENTITY declaration in any XML part (entity bombs, external entities): refused — no real "
        "workbook has one;",
        "- macros (VBA), links to other workbooks and data connections: noted, never run, followed or refreshed; "
        "the values the sender last saved are read;",
        "- PDFs, pictures, archives and other binary files under a spreadsheet's name: refused, saying what the "
        "file is;",
        "- a part name twice in the zip, or a missing workbook or content-types part: refused (which copy a reader "
        "takes differs between readers);",
        f"- a sheet whose dimension claims more than {safety.MAX_CLAIMED_CELLS:,} cells and more cells than its XML "
        "has bytes, or shared strings claiming more texts than their part can hold: refused before any reader "
        "allocates for the claim;",
        "- formulas saved without their results (written by a program, never calculated): refused with the fix "
        "(open and save in Excel, or export values), in the file readers and in refresh and share alike;",
        "- the Excel Table named like the input (Spend, Leads, Deals) is what is read, else the visible sheet named "
        "like it, else the first visible sheet; filled rows right below a table's range are refused by every reader;",
        "- inputs that are not regular files (pipes, devices) are refused before anything reads them; CSVs wider "
        "than 16,384 columns and cells longer than 32,767 characters (Excel's limits) are refused; Parquet list, "
        "struct and map columns are refused, ids beyond 2^63 are kept as text.", "",
        "A generated corpus of hostile and unusual files (`tests/addin/test_hostile_corpus.py`, fixed seed: "
        "encodings, number and date conventions, ids, columns, broken workbooks and Cycle ROI books, crashes) "
        "runs through kpi, cohorts, stability, segments, report, refresh and share; every run must end in the "
        "clean file's answer, a refusal with its fix, or a note — never a traceback, an abort, a hang or "
        "unbounded memory.", "",
        "Text from the inputs that starts with `=`, `+`, `-`, `@` (or a tab or carriage return) is written as "
        "text, never as a formula, in every workbook and CSV Cycle ROI writes.", ""]
    return "\n".join(lines)


def test_doc_matches_catalogue():
    assert DOC.read_text(encoding="utf-8") == render(), "run: python tests/addin/test_bad_input_catalogue.py"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC} ({len(CASES)} cases)")
