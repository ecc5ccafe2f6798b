"""The command line, run as a user runs it."""
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from addin.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, list(args))
    return result


def test_kpi_json_on_olist_by_origin(shared):
    result = run("kpi", "--leads", str(shared("olist", "olist_marketing_qualified_leads_dataset.csv")),
                 "--deals", str(shared("olist", "olist_closed_deals_dataset.csv")), "--by", "origin", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["origin"]: r for r in json.loads(result.stdout)}
    assert set(rows["email"]) == {"origin", "consultations", "spend", "consult_cost", "deals", "conversion_rate",
                                  "revenue", "gross_profit", "mean_days_to_close", "median_days_to_close",
                                  "max_consult_cost", "cycle_roi"}
    # methods.md: paid_search 195/1586; no Spend file, so money figures are null, not 0
    assert (rows["paid_search"]["deals"], rows["paid_search"]["consultations"]) == (195, 1586)
    assert rows["paid_search"]["spend"] is None and rows["paid_search"]["consult_cost"] is None
    assert rows["(blank)"]["consultations"] == 60  # missing origin grouped, not dropped
    assert rows["email"]["cycle_roi"] is None  # Olist has no spend and no gross profit: no ROI, not 0


def test_kpi_headerless_iso_copy_with_mapping_gives_same_numbers(shared):
    leads = str(shared("olist", "olist_mql_iso_noheader.csv"))
    deals = str(shared("olist", "olist_closed_deals_iso.csv"))
    unmapped = run("kpi", "--leads", leads, "--deals", deals)
    assert unmapped.exit_code == 2
    assert "no header row" in unmapped.stderr and "lead_id" in unmapped.stderr and "Traceback" not in unmapped.output
    mapped = run("kpi", "--leads", leads, "--deals", deals, "--map", "leads.lead_id=column1",
                 "--map", "leads.date=column2", "--map", "leads.origin=column4", "--by", "origin", "--json")
    assert mapped.exit_code == 0, mapped.output
    rows = {r["origin"]: r for r in json.loads(mapped.stdout)}
    assert (rows["paid_search"]["deals"], rows["paid_search"]["consultations"]) == (195, 1586)


def test_kpi_facebook_spend_report_alone(shared):
    result = run("kpi", "--spend", str(shared("facebook_ads", "KAG_conversion_data.csv")), "--by", "gender", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sum(r["consultations"] for r in rows) == 3264 and sum(r["deals"] for r in rows) == 1079
    assert all(r["consult_cost"] > 0 for r in rows) and all(r["median_days_to_close"] is None for r in rows)


def test_kpi_filter_range_and_settings_on_sample(tmp_path):
    from addin.cli.kpi import sample_paths
    paths = sample_paths()
    result = run("kpi", "--spend", paths["spend"], "--leads", paths["leads"], "--deals", paths["deals"],
                 "--by", "channel", "--from", "2025-03-01", "--to", "2025-03-31", "--filter", "province=Guangdong",
                 "--horizon", "90", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["channel"] for r in rows} == {"Search", "Marketplace", "Feed"}
    # the full-cycle columns agree with calc.segment_cycle_roi for the same selection
    import calc
    from addin.io import read_table
    data = calc.prepare(*(read_table(paths[t.lower()], table=t) for t in ("Spend", "Leads", "Deals")))
    cycle = calc.segment_cycle_roi(data, by="channel", start="2025-03-01", end="2025-03-31",
                                   filter="province=Guangdong").set_index("channel")
    for row in rows:
        assert row["cycle_roi"] == pytest.approx(cycle.loc[row["channel"], "cycle_roi"])
        assert row["max_consult_cost"] == pytest.approx(cycle.loc[row["channel"], "max_consult_cost"])
    table = run("kpi", "--spend", paths["spend"], "--leads", paths["leads"], "--by", "province")
    assert table.exit_code == 0 and "Guangdong" in table.stdout and "Consultation cost" in table.stdout
    # the headings come from the catalogue: in Chinese for a zh run, segments keep their own names
    zh = run("--language", "zh", "kpi", "--spend", paths["spend"], "--leads", paths["leads"], "--by", "province")
    assert zh.exit_code == 0 and "咨询成本" in zh.stdout and "province" in zh.stdout
    assert "Consultation cost" not in zh.stdout


@pytest.mark.parametrize("args, message", [
    (["kpi", "--leads", "missing.csv"], "does not exist"),
    (["kpi", "--map", "leads.date"], "is not TABLE.CANONICAL=SOURCE"),
    (["kpi", "--setting", "gross_margin=2", "--spend", "SAMPLE"], "setting 'gross_margin'"),
    (["kpi", "--spend", "SAMPLE", "--filter", "planet=Mars"], "not a column to filter by"),
])
def test_bad_input_exits_2_with_message(args, message):
    from addin.cli.kpi import sample_paths
    args = [sample_paths()["spend"] if a == "SAMPLE" else a for a in args]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_not_a_spreadsheet_is_refused(tmp_path):
    junk = tmp_path / "leads.xlsx"
    junk.write_bytes(b"PK\x03\x04 this is not really a workbook")
    result = run("kpi", "--leads", str(junk))
    assert result.exit_code == 2 and "not a readable Excel workbook" in result.stderr


def test_demo_runs_as_installed_command():
    result = subprocess.run([sys.executable, "-m", "addin.cli", "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "consultation cost" in result.stdout and "Search" in result.stdout
    assert "full-cycle ROI" in result.stdout and "short-term ROI" in result.stdout and "Which link to fix" in result.stdout
