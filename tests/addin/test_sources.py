"""The DuckDB route (``--source duckdb://``): the engine sums the tables where they lie, and every analysis
answers as the file route does — the same figures to 1e-9, the same notes, the same exclusions
counted (the engine has no sheet rows to name). Expected values are the file route's own answers.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import calc
from addin import sources
from addin.cli import app
from addin.io import read_inputs
from calc.synthetic import generate

_spec = importlib.util.spec_from_file_location("equal_answers", Path(__file__).parents[1] / "equal_answers.py")
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)


def _files_route(files: dict[str, Path | None], settings: dict) -> calc.Dataset:
    frames, _ = read_inputs(files.get("Spend"), files.get("Leads"), files.get("Deals"), {})
    return calc.prepare(frames["Spend"], frames["Leads"], frames["Deals"], settings=settings)


def _counted(data: calc.Dataset) -> list[tuple]:
    """Exclusions without their sheet rows, which only files have."""
    return [(e.table, e.reason, e.count, e.fix) for e in data.exclusions]


def _every_answer_alike(files: dict[str, Path | None], settings: dict, dims: tuple[str, ...],
                        source: str = "duckdb://") -> dict:
    rows = _files_route(files, settings)
    engine = sources.load(source, spend=files.get("Spend"), leads=files.get("Leads"), deals=files.get("Deals"),
                          settings=settings)
    assert _counted(engine) == _counted(rows)
    assert engine.notes == rows.notes and engine.as_of == rows.as_of
    answers = {}
    for name, question in _helpers.questions(rows, dims, rows.as_of).items():
        expected, got = _helpers.answer(question, rows), _helpers.answer(question, engine)
        if isinstance(expected, pd.DataFrame) and isinstance(got, pd.DataFrame):
            # the footer names sheet rows for files only: exclusions are compared above, without them
            expected.attrs["exclusions"] = got.attrs["exclusions"] = None
        _helpers.same(expected, got, name)
        answers[name] = expected
    return answers


@pytest.fixture(scope="module")
def synthetic_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("synthetic")
    s = generate()
    files = {}
    for table, frame in (("Spend", s.spend), ("Leads", s.leads), ("Deals", s.deals)):
        files[table] = folder / f"{table.lower()}.parquet"
        frame.to_parquet(files[table])
    return files


def test_duckdb_over_parquet_answers_like_the_files(synthetic_files):
    answers = _every_answer_alike(synthetic_files, {"gross_margin": 0.3, "as_of": "2026-06-30"},
                                  ("channel", "province"))
    assert not [n for n, a in answers.items() if isinstance(a, tuple)]


def test_duckdb_over_csv_with_dirty_rows_counts_the_same_exclusions(tmp_path):
    # every cause the engine counts, once or more (hand-made, so the counts are known)
    spend = pd.DataFrame({"date": ["2024-01-01", "2024-01-02", None, "2024-01-03", "2024-01-04"],
                          "cost": [100.0, 50.0, 20.0, None, -5.0], "channel": ["a", "b", "a", "a", "b"]})
    leads = pd.DataFrame({"lead_id": [1, 2, 3, None, 5, 5, 6, 7],
                          "date": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", None, "2024-01-03",
                                   "2024-01-03", "2024-01-04"],
                          "channel": ["a", "b", "a", "a", "b", "b", None, "a"]})
    deals = pd.DataFrame({"lead_id": [1, 2, 2, 2, 9, 3, None, 6],
                          "date": ["2024-01-05", "2024-01-03", "2024-01-09", "2024-01-09", "2024-01-05",
                                   "2024-01-01", "2024-01-06", None],
                          "revenue": [1000.0, 500.0, 200.0, 200.0, 300.0, 50.0, 10.0, 70.0]})
    files = {}
    for table, frame in (("Spend", spend), ("Leads", leads), ("Deals", deals)):
        files[table] = tmp_path / f"{table.lower()}.csv"
        frame.to_csv(files[table], index=False)
    engine = sources.load("duckdb://", **{t.lower(): p for t, p in files.items()}, settings={"gross_margin": 0.5})
    counted = {(e.table, e.reason.split(" (")[0]): e.count for e in engine.exclusions}
    assert counted == {("Spend", "with no date"): 1, ("Spend", "with a blank cost"): 1,
                       ("Spend", "with a negative cost"): 1, ("Leads", "with no lead_id"): 1,
                       ("Leads", "with no inquiry date"): 1,
                       ("Deals", "with no lead_id"): 1, ("Deals", "with no won date"): 1,
                       ("Deals", "repeating the same deal"): 1, ("Deals", "whose lead_id is not in Leads"): 1,
                       ("Deals", "won before their consultation came in"): 1}
    rows = _files_route(files, {"gross_margin": 0.5})
    assert _counted(engine) == _counted(rows)
    for by in (None, "channel"):
        expected, got = calc.kpi_table(rows, by=by), calc.kpi_table(engine, by=by)
        expected.attrs["exclusions"] = got.attrs["exclusions"] = None
        _helpers.same(expected, got, f"kpi by {by}")


def test_notes_are_the_catalogues_and_read_alike_in_every_language(tmp_path):
    # rows after the as-of date in each table, and revenue without gross profit or margin: the two notes the
    # engine words itself. The row route names the first sheet rows as well; an engine's rows have none.
    spend = pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-02-10"], "cost": [100.0, 50.0, 20.0],
                          "channel": ["a", "b", "a"]})
    leads = pd.DataFrame({"lead_id": [1, 2, 3, 4], "date": ["2024-01-01", "2024-01-02", "2024-02-11", "2024-02-12"],
                          "channel": ["a", "b", "a", "b"]})
    deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-20", "2024-02-15"], "revenue": [1000.0, 500.0]})
    files = {}
    for table, frame in (("Spend", spend), ("Leads", leads), ("Deals", deals)):
        files[table] = tmp_path / f"{table.lower()}.csv"
        frame.to_csv(files[table], index=False)
    settings = {"as_of": "2024-01-31"}
    engine = sources.load("duckdb://", **{t.lower(): p for t, p in files.items()}, settings=settings)
    rows = _files_route(files, settings)
    assert sorted(n.key for n in engine.notes) == ["note.after_as_of.counted"] * 3 + ["note.revenue_without_margin"]
    by_key = {}
    for note in rows.notes:
        by_key.setdefault(note.key, []).append(note)
    late_rows = {n.params["table"]: n for n in by_key["note.after_as_of"]}
    assert set(late_rows) == {"Spend", "Leads", "Deals"}  # one late row in each (built so above)
    for note in engine.notes:
        if note.key == "note.revenue_without_margin":
            assert by_key[note.key] == [note]
            continue
        row_note = late_rows[note.params["table"]]
        assert {k: v for k, v in row_note.params.items() if k != "rows"} == note.params
        for language in ("en", "zh", "ko", "id"):
            # the same sentence; the row route's goes on to name the sheet rows
            assert row_note.render(language).startswith(note.render(language)), language
            assert note.render(language) != note.render("en") or language == "en"


#: Spend exports as they come from our users' tools: each read by the file route's rules (calc.parsing) —
#: a decimal comma proven by 1.234,5, a point by 0.125, 1.500 undecidable alone, rupiah without cents.
_SPEND_TEXTS = {
    "decimal comma": "date;cost;channel\n2024-01-01;1.234,5;a\n2024-01-02;12,5;b\n2024-01-03;100;a\n",
    "decimal point proven": "date,cost,channel\n2024-01-01,1.500,a\n2024-01-02,0.125,b\n2024-01-03,100,a\n",
    "either way": "date,cost,channel\n2024-01-01,1.500,a\n2024-01-02,2.250,b\n2024-01-03,100,a\n",
    "two marks": "date;cost;channel\n2024-01-01;1.234,5;a\n2024-01-02;0.125;b\n",
    "rupiah": "date,cost,channel\n2024-01-01,Rp 1.500,a\n2024-01-02,Rp 2.250.000,b\n",
    "percent": "date,cost,channel\n2024-01-01,15%,a\n",
    "blank words": "date,cost,channel\n2024-01-01,NA,a\n2024-01-02,5,b\n",
}


def _both_routes(files: dict[str, Path], settings: dict) -> list:
    """What each route gives: (spend cost, lead segments, exclusion counts), or the refusal's table, column, fix."""
    out = []
    for route in ("files", "engine"):
        try:
            data = _files_route(files, settings) if route == "files" else sources.load(
                "duckdb://", **{t.lower(): p for t, p in files.items()}, settings=settings)
        except calc.InputError as refusal:  # the row numbers are the file's alone; the choice named is the same
            out.append(("refused", refusal.table, refusal.column, str(refusal.fix)))
            continue
        out.append((sorted(data.spend["cost"].tolist()), sorted(map(str, data.leads["channel"].unique())),
                    _counted(data)))
    return out


@pytest.mark.parametrize("case", sorted(_SPEND_TEXTS))
@pytest.mark.parametrize("decimal_mark", ["auto", "comma"])
def test_csv_numbers_and_encodings_read_as_the_file_route_reads_them(tmp_path, case, decimal_mark):
    files = {"Spend": tmp_path / "spend.csv", "Leads": tmp_path / "leads.csv"}
    files["Spend"].write_text(_SPEND_TEXTS[case], encoding="utf-8")
    # Korean segment names saved by Excel in CP949 (not UTF-8): the file route settles the encoding
    leads = "lead_id,date,channel\n" + "".join(f"{i},2024-01-0{1 + i % 3},{['검색 광고', '소셜 미디어', '동영상 광고'][i % 3]}\n"
                                                 for i in range(1, 60))
    files["Leads"].write_bytes(leads.encode("cp949"))
    by_files, by_engine = _both_routes(files, {"decimal_mark": decimal_mark})
    assert by_engine == by_files
    if by_files[0] != "refused":
        assert by_files[1] == ["검색 광고", "동영상 광고", "소셜 미디어"]
    refused = {c for c in _SPEND_TEXTS if c in ("two marks", "percent") or (c == "either way" and decimal_mark == "auto")}
    assert (by_files[0] == "refused") == (case in refused)
    if case == "either way":  # the refusal names the setting that settles it; with it set, the same numbers
        assert "decimal_mark" in by_files[-1] if decimal_mark == "auto" else by_files[0] == [100.0, 1500.0, 2250.0]
    if case == "decimal comma":
        assert by_files[0] == [12.5, 100.0, 1234.5]


def test_a_csv_whose_encoding_cannot_be_told_is_refused_alike(tmp_path):
    files = {"Leads": tmp_path / "leads.csv"}
    files["Leads"].write_bytes("lead_id,date,channel\n1,2024-01-01,검색\n2,2024-01-02,소셜\n".encode("cp949"))
    by_files, by_engine = _both_routes(files, {})
    assert by_files[0] == "refused" and by_engine == by_files


def _olist_files(shared, folder: Path) -> dict[str, Path]:
    """Olist as a warehouse holds it: dates typed as dates (the file route reads the day-first text)."""
    leads = pd.read_csv(shared("olist", "olist_marketing_qualified_leads_dataset.csv"), dtype=str)
    deals = pd.read_csv(shared("olist", "olist_closed_deals_dataset.csv"), dtype=str)
    leads = leads[["mql_id", "first_contact_date", "origin"]].assign(
        first_contact_date=pd.to_datetime(leads["first_contact_date"], dayfirst=True))
    deals = deals[["mql_id", "won_date", "declared_monthly_revenue"]].assign(
        won_date=pd.to_datetime(deals["won_date"], dayfirst=True),
        declared_monthly_revenue=pd.to_numeric(deals["declared_monthly_revenue"]))
    deals = deals.rename(columns={"declared_monthly_revenue": "revenue"})
    files = {"Leads": folder / "leads.parquet", "Deals": folder / "deals.parquet"}
    leads.to_parquet(files["Leads"])
    deals.to_parquet(files["Deals"])
    return files


def test_olist_through_duckdb_answers_like_the_files(shared, tmp_path):
    answers = _every_answer_alike(_olist_files(shared, tmp_path), {"gross_margin": 0.3}, ("origin",))
    assert answers["kpi total"]["deals"].iloc[0] == 841  # 842 closed deals, one won before its inquiry


def test_maven_crm_through_duckdb_answers_like_the_files(shared, tmp_path):
    pipeline = pd.read_csv(shared("maven_crm", "sales_pipeline.csv"), dtype=str)
    accounts = pd.read_csv(shared("maven_crm", "accounts.csv"), dtype=str)
    pipeline = pipeline.merge(accounts[["account", "sector"]], on="account", how="left")
    for column in ("engage_date", "close_date"):
        pipeline[column] = pd.to_datetime(pipeline[column], format="%m/%d/%Y")
    leads = pipeline[["opportunity_id", "engage_date", "product", "sector"]].rename(
        columns={"opportunity_id": "lead_id", "engage_date": "date"})
    won = pipeline.loc[pipeline["deal_stage"] == "Won"]
    deals = won[["opportunity_id", "close_date", "close_value"]].rename(
        columns={"opportunity_id": "lead_id", "close_date": "date", "close_value": "revenue"})
    deals = deals.assign(revenue=pd.to_numeric(deals["revenue"]))
    files = {"Leads": tmp_path / "leads.parquet", "Deals": tmp_path / "deals.parquet"}
    leads.to_parquet(files["Leads"])
    deals.to_parquet(files["Deals"])
    answers = _every_answer_alike(files, {"gross_margin": 0.6}, ("product", "sector"))
    assert isinstance(answers["budget"], tuple)  # no Spend: refused alike


def test_every_command_takes_a_duckdb_database_and_table_names(synthetic_files, tmp_path):
    database = tmp_path / "business.duckdb"
    con = duckdb.connect(str(database))
    for table, name in (("Spend", "ad_spend"), ("Leads", "crm_leads"), ("Deals", "crm_deals")):
        con.execute(f"create table {name} as select * from read_parquet('{synthetic_files[table]}')")
    con.close()
    runner = CliRunner()
    source = ["--source", f"duckdb:///{database}", "--spend-table", "ad_spend", "--leads-table", "crm_leads",
              "--deals-table", "crm_deals"]
    files = ["--spend", str(synthetic_files["Spend"]), "--leads", str(synthetic_files["Leads"]),
             "--deals", str(synthetic_files["Deals"])]
    commands = [["kpi", "--by", "channel"], ["cohorts"], ["backtest", "--as-of", "2026-01-31"],
                ["stability"], ["segments", "--by", "province"], ["diagnose", "--by", "channel"],
                ["budget", "--by", "channel"], ["portfolio"]]
    for command in commands:
        by_engine = runner.invoke(app, [*command, *source, "--json"])
        by_files = runner.invoke(app, [*command, *files, "--json"])
        assert by_engine.exit_code == 0, (command, by_engine.output)
        assert by_files.exit_code == 0, (command, by_files.output)
        assert _json_alike(json.loads(by_engine.stdout), json.loads(by_files.stdout)), command
    report = tmp_path / "report.xlsx"
    done = runner.invoke(app, ["report", "-o", str(report), *source])
    assert done.exit_code == 0, done.output
    assert report.stat().st_size > 0


def _json_alike(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_alike(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_alike(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return a == b


def test_a_source_that_cannot_be_reached_is_one_clear_message(tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["kpi", "--source", "duckdb://", "--leads", str(tmp_path / "missing.parquet")])
    assert done.exit_code != 0 and "not found" in done.output and "Traceback" not in done.output
    done = runner.invoke(app, ["kpi", "--source", "no-scheme-here"])
    assert done.exit_code != 0 and "is not a URL" in done.output
    # and in the run's language, from the catalogue: no English word but the names the user typed
    done = runner.invoke(app, ["--language", "zh", "kpi", "--source", "no-scheme-here"])
    assert done.exit_code != 0 and "不是 URL" in done.output and "Traceback" not in done.output
    done = runner.invoke(app, ["--language", "ko", "kpi", "--source", "duckdb://", "--leads",
                               str(tmp_path / "missing.parquet")])
    assert done.exit_code != 0 and "찾을 수 없습니다" in done.output and "not found" not in done.output


def test_local_spark_answers_like_the_files(tmp_path):
    """``spark://local``: pyspark's own local session (a Java runtime, which .ci/run installs from Debian).

    One Spark read (a few dozen small jobs) of the synthetic business with a few dirty rows added, so the
    exclusion counts go through Spark's SQL too; kept to one read so the test stays within a couple of minutes.
    """
    s = generate()
    # a lead without an id, and a second listing of lead 5 exactly as the first (kept alike by both routes)
    leads = pd.concat([s.leads, s.leads.iloc[[0]].assign(lead_id=None), s.leads.iloc[[5]]], ignore_index=True)
    deals = pd.concat([s.deals, s.deals.iloc[:1], s.deals.iloc[:1].assign(lead_id="no such lead")], ignore_index=True)
    files = {}
    for table, frame in (("Spend", s.spend), ("Leads", leads), ("Deals", deals)):
        files[table] = tmp_path / f"{table.lower()}.parquet"
        # Spark reads Parquet timestamps in micro- or milliseconds only (PARQUET_TYPE_ILLEGAL for nanoseconds);
        # pandas 2 writes nanoseconds, pandas 3 and Spark-written lakes microseconds: write what a lake holds
        frame.to_parquet(files[table], coerce_timestamps="us", allow_truncated_timestamps=True)
    answers = _every_answer_alike(files, {"gross_margin": 0.3, "as_of": "2026-06-30"}, ("channel", "province"),
                                  source="spark://local")
    assert answers["kpi total"]["consultations"].iloc[0] == len(s.leads)


def test_excel_source_setting_reads_the_warehouse_instead_of_sheet_tables(synthetic_files, tmp_path):
    # the Settings table names the source: the functions need no sheet tables, and answer as with them
    from addin import udfs
    from addin.convert import rows_from_frame
    from addin.udfs import registry

    database = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(database))
    for table in ("Spend", "Leads", "Deals"):
        con.execute(f"create table {table.lower()}_{table.lower()} as "
                    f"select * from read_parquet('{synthetic_files[table]}')")
    con.close()
    registry.clear_cache()
    sheet = {t: rows_from_frame(pd.read_parquet(synthetic_files[t])) for t in ("Spend", "Leads", "Deals")}
    plain = [["setting", "value"], ["gross_margin", 0.3]]
    source = [*plain, ["source", f"duckdb:///{database}"], ["spend_table", "spend_spend"],
              ["leads_table", "leads_leads"], ["deals_table", "deals_deals"]]
    from_sheet = udfs.KPI_TABLE(sheet["Spend"], sheet["Leads"], sheet["Deals"], plain, by="channel")
    from_source = udfs.KPI_TABLE(settings=source, by="channel")
    assert _json_alike(from_source, from_sheet)
    assert udfs.CONSULT_COST(settings=source) == pytest.approx(udfs.CONSULT_COST(sheet["Spend"], sheet["Leads"],
                                                                                 plain), rel=1e-9)
    assert udfs.INQUIRY_CONVERSION(settings=source, horizon_days=60) == pytest.approx(
        udfs.INQUIRY_CONVERSION(sheet["Leads"], sheet["Deals"], plain, horizon_days=60), rel=1e-9)
