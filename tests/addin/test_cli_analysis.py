"""``cycle-roi stability|diagnose|segments|budget|portfolio`` run as a user runs them."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.cli.analysis import SEGMENT_KEYS, STABILITY_KEYS
from addin.cli.kpi import sample_paths
from calc.stability import RUN_RULES

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def sample(*tables):
    paths = sample_paths()
    return [arg for table in tables for arg in (f"--{table}", paths[table])]


def test_stability_json_is_one_object_per_point_plus_the_verdict():
    result = run("stability", *sample("spend", "leads", "deals"), "--measure", "cost", "--period", "week", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"verdict", "rows"}
    assert payload["verdict"].startswith("Consultation cost (weekly) is") and "Cost acceptable?" in payload["verdict"]
    points = payload["rows"]
    assert len(points) > 50
    for point in points:
        assert tuple(point) == STABILITY_KEYS
        assert isinstance(point["signals"], list) and set(point["signals"]) <= set(RUN_RULES)
        assert point["lcl"] <= point["centre"] <= point["ucl"]
    assert any(point["signals"] for point in points) or "no sustained" in payload["verdict"]


@pytest.mark.parametrize("measure, period", [("volume", "day"), ("conversion", "week")])
def test_stability_other_measures_and_table_output(measure, period):
    result = run("stability", *sample("leads", "deals"), "--measure", measure, "--period", period)
    assert result.exit_code == 0, result.output
    # headings and the verdict's label in the run's language (the catalogue's col.* labels; the JSON keeps the keys)
    assert "Verdict:" in result.stdout and "Upper limit" in result.stdout


def test_segments_json_on_olist_origins(shared):
    result = run("segments", "--leads", str(shared("olist", "olist_marketing_qualified_leads_dataset.csv")),
                 "--deals", str(shared("olist", "olist_closed_deals_dataset.csv")), "--by", "origin", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(tuple(row) == ("origin", *SEGMENT_KEYS) for row in rows)
    by_origin = {row["origin"]: row for row in rows}
    paid = by_origin["paid_search"]
    # docs/methods.md: 195/1586, 12.3 %, Wilson 10.8–14.0 %
    assert (paid["deals"], paid["consultations"]) == (195, 1586)
    assert (round(paid["conversion_low"], 3), round(paid["conversion_high"], 3)) == (0.108, 0.140)
    blank = by_origin["(blank)"]
    assert blank["shrunk_conversion"] < blank["conversion_rate"] == pytest.approx(14 / 60)
    assert sorted(row["rank"] for row in rows) == list(range(1, 12))
    assert paid["consult_cost"] is None and paid["cycle_roi"] is None  # no Spend: null, not 0


def test_diagnose_budget_and_portfolio_on_the_sample():
    diagnosis = run("diagnose", *sample("spend", "leads", "deals"), "--by", "channel", "--json")
    assert diagnosis.exit_code == 0, diagnosis.output
    findings = json.loads(diagnosis.stdout)
    assert findings[0]["segment"] == "All" and {f["segment"] for f in findings} == {"All", "Search", "Marketplace", "Feed"}
    assert all(f["certainty"] in {"confident", "probable", "too little data"} for f in findings)
    shift = run("budget", *sample("spend", "leads", "deals"), "--by", "channel",
                "--max-shift", "0.1", "--json")
    assert shift.exit_code == 0, shift.output
    moves = json.loads(shift.stdout)
    assert moves["summary"].startswith("Move ") and moves["rows"]
    assert all(m["share_of_from_spend"] <= 0.1 + 1e-9 and m["share_of_to_spend"] <= 0.1 + 1e-9 for m in moves["rows"])
    units = run("portfolio", *sample("spend", "leads", "deals"), "--json")
    assert units.exit_code == 0, units.output
    rows = json.loads(units.stdout)
    assert {"category", "store", "price_tier", "verdict", "reason"} <= set(rows[0])
    assert {r["verdict"] for r in rows} <= {"replicate", "watch", "fix or stop", "ROI unknown", "too little data"}


def test_bad_options_exit_2_with_the_fix():
    result = run("stability", *sample("leads"), "--measure", "revenue")
    assert result.exit_code == 2
    assert "measure" in result.stderr and "volume, cost, conversion" in result.stderr and "Traceback" not in result.output
    result = run("segments", *sample("leads", "deals"))
    assert result.exit_code == 2 and "by" in result.stderr
