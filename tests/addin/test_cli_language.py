"""The command line in the user's language, and the issue-17 fixes seen from the command line."""
from __future__ import annotations

import re

import pytest

from typer.testing import CliRunner

from addin.cli import app
from addin.cli.kpi import sample_paths
from calc.messages import catalogue

runner = CliRunner()


def sample(*tables):
    paths = sample_paths()
    return [arg for table in tables for arg in (f"--{table}", paths[table])]


def test_errors_and_notes_come_in_the_chosen_language():
    bad = runner.invoke(app, ["--language", "zh", "kpi", *sample("leads"), "--filter", "channel"])
    assert bad.exit_code == 2
    assert "错误" in bad.stderr and "修正方法" in bad.stderr and "Traceback" not in bad.output
    # the language setting chooses too, and it also reaches the notes on stderr
    ok = runner.invoke(app, ["kpi", *sample("leads"), "--setting", "language=ko"])
    assert ok.exit_code == 0
    assert catalogue("ko")["note.no_deals"] in ok.stderr and "No Deals table" not in ok.stderr


def test_an_unknown_language_is_one_clear_message():
    result = runner.invoke(app, ["--language", "fr", "kpi", *sample("leads")])
    assert result.exit_code == 2 and "en, zh, ko, id" in result.stderr and "Traceback" not in result.output


def test_stability_of_conversion_prints_rates_as_percentages():
    result = runner.invoke(app, ["stability", *sample("leads", "deals"), "--measure", "conversion", "--period", "week"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if re.match(r"[│|] 20\d\d-", line)]
    # every value, centre and limit of a rate is a percentage (not 0, 0, 1 as whole numbers)
    assert rows and all(len(re.findall(r"\d+\.\d%", row)) >= 4 for row in rows), rows[:3]


def test_report_prints_the_data_notes_on_stderr(tmp_path):
    result = runner.invoke(app, ["report", *sample("leads", "deals"), "-o", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    assert "No Spend table" in result.stderr  # as the Dashboard says it


def test_refresh_prints_the_data_notes_on_stderr(tmp_path):
    from addin.report.template import build_template, sample_tables

    tables = sample_tables(until="2025-02-28")
    book = build_template(tmp_path / "b.xlsx", tables={**tables, "Spend": None})
    result = runner.invoke(app, ["refresh", str(book)])
    assert result.exit_code == 0, result.output
    assert "No Spend table" in result.stderr


def test_diagnose_on_an_ad_platform_export_names_what_is_missing(shared):
    result = runner.invoke(app, ["diagnose", "--spend", str(shared("facebook_ads", "KAG_conversion_data.csv")),
                                 "--json"])
    assert result.exit_code == 0, result.output
    evidence = " ".join(row["evidence"] for row in __import__("json").loads(result.stdout))
    # Spend was given: the reason is the missing Leads/Deals link and gross profit, never "needs Spend"
    assert "needs the Leads and Deals tables" in evidence and "gross profit" in evidence
    assert "Spend table" not in evidence


def test_every_help_text_is_in_the_catalogue_in_english_as_written():
    # the help texts are written beside their options; the catalogue holds the same English and the
    # translations (its own test checks every language has every id), so a new or changed help text fails here
    import typer

    from addin.cli import app as typer_app, help_texts

    english = {v for k, v in catalogue("en").items() if k.startswith("cli.help.")}
    missing = sorted({text for _, _, text in help_texts(typer.main.get_command(typer_app))} - english)
    assert missing == []


@pytest.mark.parametrize("language, command, args", [("zh", "kpi", ["--language", "zh", "kpi", "--help"]),
                                                     ("ko", "report", ["report", "--language", "ko", "--help"]),
                                                     ("id", "root", ["--language=id", "--help"])])
def test_help_speaks_the_language_given_on_the_command_line(language, command, args):
    import subprocess
    import sys

    from calc.messages import text

    done = subprocess.run([sys.executable, "-m", "addin.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", env={**__import__("os").environ, "COLUMNS": "200"}, timeout=120)
    assert done.returncode == 0, done.stderr
    first_line = text(f"cli.help.command.{command}", language).splitlines()[0]
    assert first_line in " ".join(done.stdout.split()) or first_line.replace(" ", "") in done.stdout.replace(" ", "")
    assert text(f"cli.help.command.{command}", "en").splitlines()[0] not in done.stdout


@pytest.mark.parametrize("command", ["template", "lite"])
def test_the_global_language_option_also_chooses_the_workbooks_language(tmp_path, command):
    from python_calamine import CalamineWorkbook

    out = tmp_path / f"{command}.xlsx"
    done = runner.invoke(app, ["--language", "ko", command, "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert CalamineWorkbook.from_path(str(out)).sheet_names[0] == catalogue("ko")["sheet.start"]


def test_the_run_language_reaches_the_report_workbook(tmp_path):
    # `cycle-roi --language zh report …` writes a Chinese workbook, as `report --language zh` does; the
    # report's own option still wins over the run's
    from python_calamine import CalamineWorkbook

    zh = tmp_path / "zh.xlsx"
    result = runner.invoke(app, ["--language", "zh", "report", *sample("spend", "leads", "deals"), "-o", str(zh)])
    assert result.exit_code == 0, result.output
    assert CalamineWorkbook.from_path(str(zh)).sheet_names[0] == catalogue("zh")["sheet.dashboard"]
    ko = tmp_path / "ko.xlsx"
    result = runner.invoke(app, ["--language", "zh", "report", *sample("spend", "leads", "deals"), "-o", str(ko),
                                 "--language", "ko"])
    assert result.exit_code == 0, result.output
    assert CalamineWorkbook.from_path(str(ko)).sheet_names[0] == catalogue("ko")["sheet.dashboard"]


def test_brackets_in_values_and_messages_are_printed_as_they_are(tmp_path):
    # rich would read '[Brand]' or 'ibis-framework[snowflake]' as a style and drop it: the CLI prints no markup
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,date,channel\n1,2025-01-02,[Brand] Search\n2,2025-01-03,Feed\n", encoding="utf-8")
    table = runner.invoke(app, ["kpi", "--leads", str(leads), "--by", "channel"])
    assert table.exit_code == 0, table.output
    assert "[Brand] Search" in table.stdout
    bad = runner.invoke(app, ["kpi", "--leads", str(leads), "--filter", "channel=[x]"])
    assert bad.exit_code == 2 and "has no value '[x]'" in bad.stderr and "[Brand] Search" in bad.stderr
