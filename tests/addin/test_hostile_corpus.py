"""A generated corpus of hostile and unusual input files, run through every command (issue 16).

Every file is made here from one small business drawn with a fixed seed, so each case knows exactly
what its file holds and what the clean file's answer is. Each (case, command) run must end in one of:

* **right answer** — exit 0 and, for the commands that print JSON, exactly the JSON of the same
  business written cleanly (UTF-8, ISO dates, plain numbers);
* **good refusal** — exit 2, one ``error:`` line naming what was found and ``Fix:``, holding the
  case's message fragment;
* **warned** — exit 0 with a note holding the case's fragment (ids written differently in two tables:
  reported, never merged);

and never a traceback, another exit code, a hang or unbounded memory. Runs are in-process (typer's
CliRunner, peak Python memory by tracemalloc) except a sample run as real subprocesses under a
memory limit and a timeout: the cases that used to abort the process, hang or blow up memory.

``python tests/addin/test_hostile_corpus.py`` runs the whole corpus and prints the counts.
"""
from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.table import Table
from typer.testing import CliRunner

from addin.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = 16
runner = CliRunner()

#: Commands run on file inputs; the first four print JSON compared with the clean file's.
JSON_COMMANDS = ("kpi", "cohorts", "stability", "segments")
FILE_COMMANDS = JSON_COMMANDS + ("report",)
BOOK_COMMANDS = ("refresh", "share")
#: Peak Python memory of one in-process run (tracemalloc), and peak RSS of one subprocess run.
PEAK_BYTES_IN_PROCESS = 400 * 1024**2
PEAK_RSS_SUBPROCESS = 1024**3
#: Address-space limit and timeout of a subprocess run: an abort, a hang or a blow-up ends there.
SUBPROCESS_LIMIT_BYTES = 3 * 1024**3
SUBPROCESS_TIMEOUT = 120


# -- the business every case is made from --------------------------------------------------------

@dataclass(frozen=True)
class Business:
    spend: pd.DataFrame
    leads: pd.DataFrame
    deals: pd.DataFrame


def business(provinces: tuple[str, ...] = ("Guangdong", "Zhejiang", "Jiangsu"), leads: int = 300,
             seed: int = SEED) -> Business:
    """90 days of spend on two channels, ``leads`` consultations and about a fifth of them won (fixed seed)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=90)
    spend = pd.DataFrame({"date": np.repeat(days.strftime("%Y-%m-%d"), 2), "channel": ["Search", "Feed"] * 90,
                          "cost": rng.integers(50, 2000, 180)})
    lead_days = days[rng.integers(0, 90, leads)]
    lead_frame = pd.DataFrame({"lead_id": [f"L{i:04d}" for i in range(1, leads + 1)],
                               "date": lead_days.strftime("%Y-%m-%d"),
                               "channel": rng.choice(["Search", "Feed"], leads),
                               "province": rng.choice(list(provinces), leads)})
    won = np.sort(rng.choice(leads, leads // 5, replace=False))
    won_days = lead_days[won] + pd.to_timedelta(rng.integers(1, 60, len(won)), unit="D")
    deals = pd.DataFrame({"lead_id": lead_frame["lead_id"].to_numpy()[won], "date": won_days.strftime("%Y-%m-%d"),
                          "revenue": rng.integers(1000, 90000, len(won))})
    return Business(spend, lead_frame, deals)


BASE = business()


def csv(frame: pd.DataFrame, encoding: str = "utf-8", sep: str = ",", newline: str = "\n") -> bytes:
    return frame.to_csv(index=False, sep=sep, lineterminator=newline).encode(encoding)


def clean_files(b: Business = BASE) -> dict[str, tuple[str, bytes]]:
    return {"--spend": ("spend.csv", csv(b.spend)), "--leads": ("leads.csv", csv(b.leads)),
            "--deals": ("deals.csv", csv(b.deals))}


def xlsx(sheets: list[tuple[str, pd.DataFrame, str]], table: tuple[str, str, str] | None = None,
         extra_rows: list[list] | None = None) -> bytes:
    """A workbook: (sheet name, frame, state) per sheet; optionally an Excel Table (sheet, name, ref) and
    rows appended to the first visible sheet after the table."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, frame, state in sheets:
        ws = book.create_sheet(name)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append(list(row))
        ws.sheet_state = state
        if table and table[0] == name:
            ws.add_table(Table(displayName=table[1], ref=table[2]))
            for row in extra_rows or []:
                ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_shared(frame: pd.DataFrame, sheet: str = "Spend") -> bytes:
    """One sheet written by xlsxwriter: shared strings with their counts and a dimension, as Excel writes."""
    buffer = io.BytesIO()
    frame.to_excel(buffer, sheet_name=sheet, index=False, engine="xlsxwriter")
    return buffer.getvalue()


def rezip(content: bytes, change: Callable[[str, bytes], bytes | None] = lambda n, d: d,
          add: dict[str, bytes] | None = None) -> bytes:
    """The same zip with parts changed (None drops a part) and parts added (duplicates allowed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info.filename, data)
        for name, data in (add or {}).items():
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Duplicate name": what the case is about
                target.writestr(name, data)
    return out.getvalue()


def parquet(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


# -- the cases ---------------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    cls: str
    expect: str                              # answer | refuse | warn
    files: dict[str, tuple[str, bytes | None]]
    clean: dict[str, tuple[str, bytes]] | None = None  # the same business written cleanly (answer cases)
    message: str = ""                        # fragment of the refusal or the note
    args: tuple[str, ...] = ()
    commands: tuple[str, ...] = FILE_COMMANDS
    subprocess: bool = False                 # run as a real process under a memory limit and a timeout
    fifo: str | None = None                  # make this file a named pipe at run time


def _with(b: Business, **tables: pd.DataFrame) -> Business:
    return Business(**{**b.__dict__, **tables})


def _replace_col(frame: pd.DataFrame, column: str, values) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


def _encoding_cases() -> list[Case]:
    cases = []
    for encoding, provinces in (("big5", ("新竹", "台北", "高雄")), ("shift_jis", ("東京都", "大阪府", "京都府")),
                                ("euc_kr", ("서울", "부산", "대구")), ("gbk", ("广东", "浙江", "江苏")),
                                ("cp1252", ("São Paulo", "Brasília", "Goiânia")),
                                ("latin-1", ("Zürich", "Genève", "Besançon")), ("utf-16", ("广东", "서울", "São Paulo"))):
        b = business(provinces)
        cases.append(Case(f"encoding-{encoding}", "encoding", "answer",
                          {**clean_files(b), "--leads": ("leads.csv", csv(b.leads, encoding))}, clean_files(b)))
    b = business(("广东", "浙江", "江苏"))
    half = len(b.leads) // 2
    mixed = csv(b.leads.iloc[:half], "utf-8") + csv(b.leads.iloc[half:], "gbk").split(b"\n", 1)[1]
    cases.append(Case("encoding-half-utf8-half-gbk", "encoding", "refuse",
                      {**clean_files(b), "--leads": ("leads.csv", mixed)}, message="mixes two text encodings"))
    tiny = pd.DataFrame({"lead_id": ["A1"], "date": ["2024-01-05"], "province": ["广东"]})
    cases.append(Case("encoding-too-little-to-tell", "encoding", "refuse",
                      {**clean_files(b), "--leads": ("leads.csv", csv(tiny, "gbk"))},
                      message="encoding cannot be told for sure"))
    cases.append(Case("encoding-utf8-bom", "encoding", "answer",
                      {**clean_files(), "--spend": ("spend.csv", b"\xef\xbb\xbf" + csv(BASE.spend))}, clean_files()))
    return cases


def _number_cases() -> list[Case]:
    cost = BASE.spend["cost"].to_numpy()
    revenue = BASE.deals["revenue"].to_numpy()

    def dotted(values, decimals=""):  # 1500 -> '1.500' (Indonesian / European grouping)
        return [f"{v:,}".replace(",", ".") + decimals for v in values]

    big = _with(BASE, spend=_replace_col(BASE.spend, "cost", cost * 1000))  # rupiah-sized amounts
    cases = [
        Case("numbers-rupiah", "numbers", "answer",
             {**clean_files(big), "--spend": ("spend.csv", csv(_replace_col(big.spend, "cost",
                                                                              ["Rp " + t for t in dotted(cost * 1000)])))},
             clean_files(big)),
        Case("numbers-dot-thousands-decimal-comma", "numbers", "answer",
             {**clean_files(big), "--spend": ("spend.csv", csv(_replace_col(big.spend, "cost", dotted(cost * 1000, ",00")),
                                                               sep=";"))}, clean_files(big)),
        Case("numbers-dot-thousands-settled-by-another-column", "numbers", "answer",
             {**clean_files(big), "--spend": ("spend.csv", csv(big.spend.assign(
                 cost=dotted(cost * 1000), revenue=["0,5"] * len(cost)), sep=";"))},
             {**clean_files(big), "--spend": ("spend.csv", csv(big.spend.assign(revenue=[0.5] * len(cost))))}),
        Case("numbers-comma-thousands", "numbers", "answer",
             {**clean_files(big), "--deals": ("deals.csv", csv(_replace_col(
                 BASE.deals, "revenue", [f"{v * 1000:,}.00" for v in revenue])))},
             {**clean_files(big), "--deals": ("deals.csv", csv(_replace_col(BASE.deals, "revenue", revenue * 1000)))}),
        Case("numbers-decimal-comma-three-places", "numbers", "answer",
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(BASE.spend, "cost",
                                                                          [f"{v / 1000:.3f}".replace(".", ",") for v in cost]), sep=";"))},
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(BASE.spend, "cost", cost / 1000)))}),
        Case("numbers-either-way", "numbers", "refuse",
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(BASE.spend, "cost", dotted(cost + 1000))))},
             message="reads two ways"),
        Case("numbers-either-way-with-setting", "numbers", "answer",
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(BASE.spend, "cost", dotted(cost + 1000))))},
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(BASE.spend, "cost", cost + 1000)))},
             args=("--setting", "decimal_mark=comma")),
        Case("numbers-two-marks-in-one-column", "numbers", "refuse",
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(
                 BASE.spend, "cost", ["1,234.50", "1.234,50"] + [str(v) for v in cost[2:]])))},
             message="has a decimal point and"),
        Case("numbers-1e308", "numbers", "refuse",
             {**clean_files(), "--spend": ("spend.csv", csv(_replace_col(
                 BASE.spend, "cost", ["1e308", "1e308"] + [str(v) for v in cost[2:]])))},
             message="too large"),
    ]
    return cases


def _date_cases() -> list[Case]:
    days = pd.to_datetime(BASE.leads["date"])
    old = business(leads=400)
    old_leads = old.leads.copy()
    old_leads.loc[0, "date"] = "1950-06-01"
    without = _with(old, leads=old.leads.iloc[1:], deals=old.deals[old.deals["lead_id"] != old.leads["lead_id"][0]])
    return [
        Case("dates-utc-suffix", "dates", "answer",
             {**clean_files(), "--leads": ("leads.csv", csv(_replace_col(
                 BASE.leads, "date", (days + pd.Timedelta(hours=10)).dt.strftime("%Y-%m-%d %H:%M:%S UTC"))))},
             clean_files()),
        Case("dates-today", "dates", "refuse",
             {**clean_files(), "--leads": ("leads.csv", csv(_replace_col(
                 BASE.leads, "date", ["today"] + BASE.leads["date"].tolist()[1:])))}, message="'today'"),
        Case("dates-unix-days", "dates", "refuse",
             {**clean_files(), "--leads": ("leads.csv", csv(_replace_col(
                 BASE.leads, "date", (days - pd.Timestamp("1970-01-01")).dt.days)))}, message="days since 1970"),
        Case("dates-one-in-1950", "dates", "answer",
             {**clean_files(old), "--leads": ("leads.csv", csv(old_leads))}, clean_files(without),
             subprocess=True, commands=("cohorts", "kpi")),
    ]


def _id_cases() -> list[Case]:
    numeric = _with(BASE, leads=_replace_col(BASE.leads, "lead_id", range(1, len(BASE.leads) + 1)),
                    deals=_replace_col(BASE.deals, "lead_id", [int(i[1:]) for i in BASE.deals["lead_id"]]))
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    return [
        Case("ids-dot-zero", "ids", "answer",
             {**clean_files(numeric), "--deals": ("deals.csv", csv(_replace_col(
                 numeric.deals, "lead_id", [f"{i}.0" for i in numeric.deals["lead_id"]])))}, clean_files(numeric)),
        Case("ids-invisible-spaces", "ids", "answer",
             {**clean_files(), "--deals": ("deals.csv", csv(_replace_col(
                 BASE.deals, "lead_id", [("\u200b" if k % 2 else "\u00a0") + i for k, i in enumerate(BASE.deals["lead_id"])])))},
             clean_files()),
        Case("ids-full-width-digits", "ids", "answer",
             {**clean_files(), "--deals": ("deals.csv", csv(_replace_col(
                 BASE.deals, "lead_id", [i.translate(fw) for i in BASE.deals["lead_id"]])))}, clean_files()),
        Case("ids-case", "ids", "warn",
             {**clean_files(), "--deals": ("deals.csv", csv(_replace_col(
                 BASE.deals, "lead_id", [i.lower() for i in BASE.deals["lead_id"]])))},
             message="differ only in upper or lower case"),
        Case("ids-leading-zeros", "ids", "warn",
             {**clean_files(), "--leads": ("leads.csv", csv(_replace_col(
                 BASE.leads, "lead_id", [f"{k:06d}" for k in range(1, len(BASE.leads) + 1)]))),
              "--deals": ("deals.csv", csv(_replace_col(BASE.deals, "lead_id", [str(int(i[1:])) for i in BASE.deals["lead_id"]])))},
             message="differ only in leading zeros"),
        Case("ids-beyond-2-63-parquet", "ids", "answer",
             {**clean_files(), "--leads": ("leads.parquet", parquet(_replace_col(
                 BASE.leads, "lead_id", np.arange(1, len(BASE.leads) + 1, dtype=np.uint64) + np.uint64(2**63)))),
              "--deals": ("deals.parquet", parquet(_replace_col(
                  BASE.deals, "lead_id", np.array([int(i[1:]) for i in BASE.deals["lead_id"]], dtype=np.uint64)
                  + np.uint64(2**63))))},
             {**clean_files(), "--leads": ("leads.csv", csv(_replace_col(
                 BASE.leads, "lead_id", [str(2**63 + k) for k in range(1, len(BASE.leads) + 1)]))),
              "--deals": ("deals.csv", csv(_replace_col(BASE.deals, "lead_id", [str(2**63 + int(i[1:])) for i in BASE.deals["lead_id"]])))}),
    ]


def _column_cases() -> list[Case]:
    return [
        Case("columns-two-map-to-cost", "columns", "refuse",
             {**clean_files(), "--spend": ("spend.csv", csv(BASE.spend.rename(columns={"cost": "Spent"}).assign(
                 **{"Amount spent (USD)": BASE.spend["cost"] / 2})))}, message="more than one column could be 'cost'"),
        Case("columns-segments-named-like-fields", "columns", "answer",
             {**clean_files(), "--leads": ("leads.csv", csv(BASE.leads.assign(
                 revenue="a", days_to_close="b", deals="c", spend="d")))}, clean_files(),
             commands=("kpi", "cohorts", "stability", "report")),
        Case("columns-duplicate-header", "columns", "refuse",
             {**clean_files(), "--spend": ("spend.csv", csv(BASE.spend).replace(b"channel", b"cost", 1))},
             message="appears twice"),
    ]


def _workbook_cases() -> list[Case]:
    spend = BASE.spend
    stale = spend.assign(cost=spend["cost"] * 7)
    good = xlsx_shared(spend)  # as Excel writes it: shared strings, a dimension, numbers as <v>
    sheet = "xl/worksheets/sheet1.xml"

    def cell(name: str, data: bytes, pattern: bytes, replacement: bytes) -> bytes:
        if name != sheet:
            return data
        changed, count = re.subn(pattern, replacement, data, count=1)
        assert count == 1, f"the case's change did not apply: {pattern!r} not in the sheet"  # never a clean file in disguise
        return changed

    cases = [
        Case("xlsx-plain", "workbook", "answer", {**clean_files(), "--spend": ("spend.xlsx", good)}, clean_files()),
        Case("xlsx-hidden-stale-first-sheet", "workbook", "answer",
             {**clean_files(), "--spend": ("spend.xlsx", xlsx([("Old", stale, "hidden"), ("Data", spend, "visible")]))},
             clean_files()),
        Case("xlsx-named-table", "workbook", "answer",
             {**clean_files(), "--spend": ("spend.xlsx", xlsx([("Notes", stale, "visible"), ("Data", spend, "visible")],
                                                              table=("Data", "Spend", f"A1:C{len(spend) + 1}")))},
             clean_files()),
        Case("xlsx-rows-below-table", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", xlsx([("Data", spend, "visible")],
                                                              table=("Data", "Spend", f"A1:C{len(spend) + 1}"),
                                                              extra_rows=[["2024-03-31", "Search", 999]]))},
             message="not part of the table"),
        Case("xlsx-duplicate-zip-entry", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, add={sheet: zipfile.ZipFile(io.BytesIO(
                 xlsx_shared(stale))).read(sheet)}))}, message="twice"),
        Case("xlsx-claimed-dimension", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: cell(
                 n, d, rb'<dimension ref="[^"]+"/>', b'<dimension ref="A1:XFD1048576"/>')))},
             message="claims a range", subprocess=True, commands=("kpi",)),
        Case("xlsx-claimed-shared-strings", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: re.sub(
                 rb'uniqueCount="\d+"', b'uniqueCount="2147483648"', d) if n == "xl/sharedStrings.xml" else d))},
             message="claims 2,147,483,648 texts", subprocess=True, commands=("kpi",)),
        Case("xlsx-formulas-without-results", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: cell(
                 n, d, rb'<c r="C2"([^>]*)><v>[^<]*</v></c>', b'<c r="C2"><f>B2*2</f></c>')))},
             message="without a saved result"),
        Case("xlsx-truncated", "workbook", "refuse", {**clean_files(), "--spend": ("spend.xlsx", good[: len(good) // 2])},
             message="not a readable Excel workbook"),
        Case("xlsx-not-a-zip", "workbook", "refuse", {**clean_files(), "--spend": ("spend.xlsx", b"PK\x03\x04garbage" * 10)},
             message="spend.xlsx"),
        Case("xlsx-missing-workbook-part", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: None if n == "xl/workbook.xml" else d))},
             message="lacks its part xl/workbook.xml"),
        Case("xlsx-missing-sheet-part", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: None if n == sheet else d))},
             message="not a readable Excel workbook"),
        Case("xlsx-broken-xml", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: d[: len(d) // 2] if n == sheet else d))},
             message="not a readable Excel workbook"),
        Case("xlsx-shared-string-out-of-range", "workbook", "refuse",
             {**clean_files(), "--spend": ("spend.xlsx", rezip(good, lambda n, d: cell(
                 n, d, rb'<c r="A1"( s="\d+")? t="s"><v>0</v>', rb'<c r="A1"\1 t="s"><v>999999</v>')))},
             message="spend.xlsx"),
    ]
    return cases


def _crash_cases() -> list[Case]:
    header_only = BASE.leads.iloc[:0]
    wide = ",".join(f"c{j}" for j in range(100_000)).encode() + b"\n" + b",".join(b"1" for _ in range(100_000)) + b"\n"
    long_text = BASE.leads.assign(province=["x" * 10_000_000] + BASE.leads["province"].tolist()[1:])
    shifted = csv(BASE.leads.iloc[:150]) + csv(BASE.leads.iloc[150:], sep=";").split(b"\n", 1)[1]
    return [
        Case("csv-cr-line-ends", "crash", "answer",
             {**clean_files(), "--leads": ("leads.csv", csv(BASE.leads, newline="\r"))}, clean_files()),
        Case("csv-crlf-line-ends", "crash", "answer",
             {**clean_files(), "--leads": ("leads.csv", csv(BASE.leads, newline="\r\n"))}, clean_files()),
        Case("csv-semicolon-tab", "crash", "answer",
             {**clean_files(), "--spend": ("spend.csv", csv(BASE.spend, sep=";")),
              "--deals": ("deals.csv", csv(BASE.deals, sep="\t"))}, clean_files()),
        Case("csv-delimiter-changes", "crash", "refuse",
             {**clean_files(), "--leads": ("leads.csv", shifted)}, message="changes its separator"),
        Case("leads-header-only", "crash", "answer",
             {**clean_files(), "--leads": ("leads.csv", csv(header_only))},
             {**clean_files(), "--leads": ("leads.csv", csv(header_only))}, commands=("kpi", "report")),
        Case("parquet-zero-rows", "crash", "answer",
             {"--spend": ("spend.csv", csv(BASE.spend)), "--leads": ("leads.parquet", parquet(header_only))},
             {"--spend": ("spend.csv", csv(BASE.spend)), "--leads": ("leads.csv", csv(header_only))},
             commands=("kpi", "report")),
        Case("parquet-list-column", "crash", "refuse",
             {**clean_files(), "--leads": ("leads.parquet", parquet(BASE.leads.assign(tags=[["a", "b"]] * len(BASE.leads))))},
             message="holds lists or records"),
        Case("parquet-struct-column", "crash", "refuse",
             {**clean_files(), "--leads": ("leads.parquet", parquet(BASE.leads.assign(meta=[{"k": 1}] * len(BASE.leads))))},
             message="holds lists or records"),
        Case("input-is-a-pipe", "crash", "refuse", {**clean_files(), "--leads": ("leads.csv", b"")},
             message="not a regular file", fifo="leads.csv", subprocess=True, commands=("kpi",)),
        Case("header-100k-columns", "crash", "refuse", {**clean_files(), "--leads": ("leads.csv", wide)},
             message="more than 16,384 columns", subprocess=True, commands=("kpi",)),
        Case("text-field-10mb", "crash", "refuse", {**clean_files(), "--leads": ("leads.csv", csv(long_text))},
             message="longer than 32,767", subprocess=True, commands=("kpi", "report")),
        Case("missing-file", "crash", "refuse", {**clean_files(), "--leads": ("nothing-here.csv", None)},
             message="does not exist"),
        Case("empty-file", "crash", "refuse", {**clean_files(), "--leads": ("leads.csv", b"")}, message="is empty"),
        Case("pdf-named-csv", "crash", "refuse", {**clean_files(), "--leads": ("leads.csv", b"%PDF-1.7\n" + b"\x00" * 200)},
             message="a PDF document"),
    ]


def cycle_book(change: Callable[[openpyxl.Workbook], None] | None = None) -> bytes:
    """A Cycle ROI workbook holding the business in its Spend, Leads and Deals tables, optionally changed
    by openpyxl (as a user editing it would)."""
    import tempfile

    from addin.report.template import build_template

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.xlsx"
        build_template(path, tables={"Spend": BASE.spend, "Leads": BASE.leads, "Deals": BASE.deals})
        if change is not None:
            book = openpyxl.load_workbook(path)
            change(book)
            book.save(path)
        return path.read_bytes()


def _leads_sheet(book: openpyxl.Workbook):
    return next(ws for ws in book.worksheets if "Leads" in ws.tables)


def _book_cases() -> list[Case]:
    clean = cycle_book()

    def rows_below(book):
        ws = _leads_sheet(book)
        ws.append(["L9999", "2024-03-30", "Search", "Guangdong"])

    def formula(book):
        ws = _leads_sheet(book)
        ws["B3"] = "=B2+1"  # openpyxl saves no result: the value is unknown outside Excel

    def whole_column_ref(name: str, data: bytes) -> bytes:
        if name.startswith("xl/tables/") and b'name="Leads"' in data:
            return re.sub(rb'ref="A1:([A-Z]+)\d+"', rb'ref="A1:\g<1>1048576"', data)
        return data

    both = BOOK_COMMANDS + ("kpi",)
    leads_book = lambda content: {"book": ("book.xlsx", content), "--leads": ("book.xlsx", content),  # noqa: E731
                                  "--spend": ("spend.csv", csv(BASE.spend)), "--deals": ("deals.csv", csv(BASE.deals))}
    return [
        Case("book-clean", "book", "answer", leads_book(clean), clean_files(), commands=both),
        Case("book-rows-below-table", "book", "refuse", leads_book(cycle_book(rows_below)),
             message="not part of the table", commands=both),
        Case("book-formula-without-result", "book", "refuse", leads_book(cycle_book(formula)),
             message="without a saved result", commands=both),
        Case("book-table-ref-to-last-row", "book", "answer", leads_book(rezip(clean, whole_column_ref)),
             clean_files(), commands=("refresh", "kpi"), subprocess=True),
        Case("book-duplicate-zip-entry", "book", "refuse",
             leads_book(rezip(clean, add={"xl/workbook.xml": zipfile.ZipFile(io.BytesIO(clean)).read("xl/workbook.xml")})),
             message="twice", commands=both),
    ]


def cases() -> list[Case]:
    return (_encoding_cases() + _number_cases() + _date_cases() + _id_cases() + _column_cases()
            + _workbook_cases() + _crash_cases() + _book_cases())


# -- running ---------------------------------------------------------------------------------------

@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_bytes: int
    traceback: bool = False


def _argv(command: str, files: dict[str, tuple[str, bytes | None]], folder: Path, args: tuple[str, ...],
          fifo: str | None = None) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    argv = [command]
    for option, (name, content) in files.items():
        path = folder / name
        if fifo == name:
            if not path.exists():
                os.mkfifo(path)
        elif content is not None:
            path.write_bytes(content)
        if command in BOOK_COMMANDS and option == "book":
            return [command, str(path), "-o", str(folder / "out.xlsx"), *args]
        if option.startswith("--"):
            argv += [option, str(path)]
    if command == "report":
        argv += ["-o", str(folder / "report.xlsx")]
    elif command == "segments":
        argv += ["--by", "channel", "--json"]
    else:
        argv.append("--json")
    return argv + list(args)


def run_in_process(argv: list[str]) -> Run:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = runner.invoke(app, argv)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return Run(result.exit_code, result.stdout, result.stderr, time.perf_counter() - started, peak,
               traceback=crashed or "Traceback" in result.output)


def run_subprocess(argv: list[str]) -> Run:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (SUBPROCESS_LIMIT_BYTES, SUBPROCESS_LIMIT_BYTES))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "addin.cli", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=limit, env=env, cwd=ROOT)
    try:
        stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        return Run(-9, stdout.decode(errors="replace"), "hung: killed after the timeout", SUBPROCESS_TIMEOUT, 0, True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest child so far: an upper bound
    text = stderr.decode(errors="replace")
    return Run(process.returncode, stdout.decode(errors="replace"), text, time.perf_counter() - started, peak,
               traceback="Traceback" in text or process.returncode < 0)


_CLEAN_ANSWERS: dict[tuple[str, str, tuple], str] = {}


def clean_answer(case: Case, command: str, folder: Path) -> str:
    key = (command, json.dumps({k: (n, hash(c)) for k, (n, c) in case.clean.items()}, sort_keys=True), case.args)
    if key not in _CLEAN_ANSWERS:
        run = run_in_process(_argv(command, case.clean, folder / "clean", case.args))
        assert run.exit_code == 0 and not run.traceback, (case.name, command, run.stderr)
        _CLEAN_ANSWERS[key] = run.stdout
    return _CLEAN_ANSWERS[key]


def judge(case: Case, command: str, folder: Path) -> tuple[str, str]:
    """('right answer' | 'good refusal' | 'warned' | 'other', what was seen) of one run."""
    argv = _argv(command, case.files, folder / "case", case.args, case.fifo)
    run = run_subprocess(argv) if case.subprocess else run_in_process(argv)
    seen = f"exit {run.exit_code}, {run.seconds:.1f} s, peak {run.peak_bytes / 1024**2:.0f} MiB: {run.stderr[-600:]}"
    bound = PEAK_RSS_SUBPROCESS if case.subprocess else PEAK_BYTES_IN_PROCESS
    if run.traceback or run.peak_bytes > bound:
        return "other", seen
    if case.expect == "refuse":
        # the workbook commands show a progress bar on stderr before the error line
        message = " ".join(run.stderr[run.stderr.find("error:"):].split()) if "error:" in run.stderr else ""
        good = run.exit_code == 2 and message.startswith("error:") and "Fix:" in message and case.message in message
        return ("good refusal" if good else "other"), seen
    if run.exit_code != 0:
        return "other", seen
    if case.expect == "warn":  # the report shows its notes in the workbook, the others on stderr
        shown = run.stderr if command != "report" else _workbook_text(folder / "case" / "report.xlsx")
        return ("warned" if case.message in " ".join(shown.split()) else "other"), seen
    if command in JSON_COMMANDS and case.clean is not None:
        return ("right answer" if run.stdout == clean_answer(case, command, folder) else "other"), seen
    return "right answer", seen


def _workbook_text(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    return " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
                    if isinstance(v, str))


CASES = cases()
RUNS = [(case, command) for case in CASES for command in case.commands]


@pytest.mark.parametrize("case,command", RUNS, ids=[f"{c.name}-{m}" for c, m in RUNS])
def test_hostile_file(case: Case, command: str, tmp_path: Path):
    outcome, seen = judge(case, command, tmp_path)
    wanted = {"answer": "right answer", "refuse": "good refusal", "warn": "warned"}[case.expect]
    assert outcome == wanted, f"{case.name} / {command}: {outcome} ({seen})"


def test_corpus_covers_every_class_and_command():
    classes = {c.cls for c in CASES}
    assert classes >= {"encoding", "numbers", "dates", "ids", "columns", "workbook", "crash", "book"}
    assert {m for _, m in RUNS} >= set(FILE_COMMANDS) | set(BOOK_COMMANDS)
    assert len(CASES) >= 50


if __name__ == "__main__":  # the counts for the issue note
    import tempfile
    from collections import Counter

    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for number, (case, command) in enumerate(RUNS):
            outcome, seen = judge(case, command, Path(tmp) / str(number))
            counts[outcome] += 1
            if outcome == "other":
                print(f"OTHER {case.name} / {command}: {seen}")
    print(f"{len(CASES)} cases, {len(RUNS)} runs:", dict(counts))
