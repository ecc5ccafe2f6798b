"""``cycle-roi cohorts`` and ``cycle-roi backtest`` run as a user runs them."""
import json

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.cli.kpi import sample_paths

runner = CliRunner()


@pytest.fixture(scope="module")
def olist(shared):
    return ["--leads", str(shared("olist", "olist_marketing_qualified_leads_dataset.csv")),
            "--deals", str(shared("olist", "olist_closed_deals_dataset.csv"))]


def test_cohorts_table_marks_projected_cells(olist):
    result = runner.invoke(app, ["cohorts", *olist, "--measure", "deals", "--from", "2018-01-01",
                                 "--as-of", "2018-06-30"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "2018-0" in line]
    assert len(lines) == 5
    # January is observed to age 5; May only to age 1, so its ages 2–5 carry the '*'. 111.3 = 98 + May's share
    # of the deals older cohorts made per consultation (Bornhuetter–Ferguson, the default since issue 15's
    # rolling backtests; chain ladder alone said 108.0 = 98 · 1.1016)
    assert "*" not in lines[0] and lines[4].count("*") == 4 and "111.3*" in lines[4]
    assert "No Spend table" in result.stderr


def test_cohorts_json_keeps_numbers_and_the_projection_marker(olist):
    result = runner.invoke(app, ["cohorts", *olist, "--measure", "conversion", "--from", "2018-01-01",
                                 "--as-of", "2018-06-30", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["cohort"] for r in rows] == ["2018-01-01", "2018-02-01", "2018-03-01", "2018-04-01", "2018-05-01"]
    assert [r["projected_from_age"] for r in rows] == [None, 5, 4, 3, 2]
    # January at age 0: 64 of 1,141 consultations converted in the same month
    assert rows[0]["0"] == pytest.approx(64 / 1141)
    assert rows[0]["spend"] is None


def test_backtest_json_fields_and_error(olist):
    result = runner.invoke(app, ["backtest", *olist, "--as-of", "2018-06-30", "--from", "2018-01-01", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = payload["rows"]
    # truncated: issue 15 asks every output to flag cohorts that began before the Deals export did
    assert set(rows[0]) == {"cohort", "age_at_as_of", "observed_deals", "projected_deals", "actual_deals",
                            "projected_gross_profit", "actual_gross_profit", "truncated"}
    assert rows[1]["cohort"] == "2018-02-01" and rows[1]["actual_deals"] == 139
    assert rows[1]["projected_gross_profit"] is None  # Olist has no money: null, not 0
    # same figures as tests/calc/test_backtest.py: +0.65 % total, 2.15 % per cohort, −10.3 % if read as final
    assert payload["deals_error"] == pytest.approx(0.0065, abs=0.0005)
    assert payload["deals_abs_error"] == pytest.approx(0.0215, abs=0.0005)
    assert payload["horizon_periods"] == 5 and payload["gross_profit_error"] is None


def test_backtest_on_the_sample_with_money_and_weeks():
    paths = sample_paths()
    files = ["--spend", paths["spend"], "--leads", paths["leads"], "--deals", paths["deals"]]
    result = runner.invoke(app, ["backtest", *files, "--as-of", "2026-03-31", "--horizon-periods", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["cohorts"] >= 1 and payload["gross_profit_error"] is not None
    weekly = runner.invoke(app, ["backtest", *files, "--as-of", "2026-05-31", "--period", "week",
                                 "--horizon-periods", "4", "--json"])
    assert weekly.exit_code == 0, weekly.output
    assert json.loads(weekly.stdout)["period"] == "week"


def test_bad_options_end_with_a_message_not_a_traceback(olist):
    late = runner.invoke(app, ["backtest", *olist, "--as-of", "2019-01-01"])
    assert late.exit_code == 2 and "not before the data's own as-of date" in late.stderr
    assert "Traceback" not in late.output
    wrong = runner.invoke(app, ["cohorts", *olist, "--measure", "profit"])
    assert wrong.exit_code == 2


def test_backtest_as_the_readme_writes_it_needs_no_from(olist):
    """README: `cycle-roi backtest ... --as-of 2018-06-30`: the 2017 cohorts are truncated (Olist's deals start
    in December 2017) and left out by default, so the figures are those of the --from 2018-01-01 run above."""
    result = runner.invoke(app, ["backtest", *olist, "--as-of", "2018-06-30", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["deals_error"] == pytest.approx(0.0065, abs=0.0005)
    assert payload["deals_abs_error"] == pytest.approx(0.0215, abs=0.0005)
    assert payload["observed_deals_error"] == pytest.approx(-0.1028, abs=0.0005)
    assert [r["truncated"] for r in payload["rows"]] == [True] * 7 + [False] * 5


def test_cohorts_mark_truncated_cohorts(olist):
    result = runner.invoke(app, ["cohorts", *olist, "--measure", "deals"])
    assert result.exit_code == 0, result.output
    marked = [line for line in result.stdout.splitlines() if "†" in line and "2017-" in line]
    assert len(marked) == 7 and "truncated" in result.stdout
    assert "Deals are recorded only from 2017-12-05" in result.stderr


def test_a_bad_from_date_names_the_option(olist):
    result = runner.invoke(app, ["kpi", *olist, "--from", "2018-13-01"])
    assert result.exit_code == 2
    assert "option --from: '2018-13-01' is not a date" in result.stderr and "Fix:" in result.stderr
    assert "column" not in result.stderr


def test_rolling_backtest_on_olist(olist):
    """`cycle-roi backtest --rolling`: the terminal summary by months ahead, and JSON with the summary and every row
    (figures as in tests/calc/test_rolling.py)."""
    table = runner.invoke(app, ["backtest", *olist, "--rolling"])
    assert table.exit_code == 0, table.output
    assert "How far to trust" in table.stdout and "inside the 90% band" in table.stdout
    assert "MAPE plain chain ladder" in table.stdout and "MAPE observed as final" in table.stdout
    result = runner.invoke(app, ["backtest", *olist, "--rolling", "--band", "0.8", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["band_level"] == 0.8 and payload["period"] == "month"
    overall = {r["method"]: r for r in payload["summary"] if r["horizon"] == "all"}
    assert overall["product"]["mape"] < overall["plain_chain_ladder"]["mape"] < overall["observed_as_final"]["mape"]
    assert set(payload["rows"][0]) >= {"as_of", "cohort", "horizon", "projected", "low", "high", "actual"}


def test_backtest_without_as_of_or_rolling_names_the_option(olist):
    result = runner.invoke(app, ["backtest", *olist])
    assert result.exit_code == 2 and "option --as-of" in result.stderr and "--rolling" in result.stderr
