"""prepare(): what is excluded is counted and explained, never silently dropped or miscounted."""
import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError


def leads_frame():
    return pd.DataFrame({"lead_id": ["a", "b", "c", "c", None],
                         "date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
                         "channel": ["Search", None, "Feed", "Feed", "Feed"]})


def deals_frame():
    return pd.DataFrame({"lead_id": ["a", "b", "zzz", "a", "a"],
                         "date": ["2024-01-10", "2023-12-25", "2024-01-10", "2024-02-01", "2024-02-01"],
                         "revenue": [1000, 500, 700, 300, 300]})


def test_every_exclusion_is_reported_with_rows_and_fix():
    data = calc.prepare(leads=leads_frame(), deals=deals_frame())
    reasons = {e.reason: e for e in data.exclusions}
    # Leads row 6 (no id), row 5 (repeats 'c'); Deals row 6 (same deal twice), row 4 (unknown lead), row 3 (before inquiry)
    assert reasons["with no lead_id"].rows == [6]
    assert reasons["repeating a lead_id already listed (the first is kept)"].rows == [5]
    assert reasons["repeating the same deal (same lead, date and amount)"].rows == [6]
    assert reasons["whose lead_id is not in Leads"].rows == [4]
    assert reasons["won before their consultation came in"].rows == [3]
    assert all(e.fix for e in data.exclusions)
    assert len(data.leads) == 3 and len(data.deals) == 2
    # 'a' has two deals (a repeat order): both count as deals and revenue, once in conversion.
    a = data.leads.set_index("lead_id").loc["a"]
    assert (a.n_deals, a.revenue, a.days_to_close) == (2, 1300.0, 9.0)


def test_blank_dimension_values_are_grouped_as_blank():
    data = calc.prepare(leads=leads_frame())
    assert list(data.leads["channel"]) == ["Search", "(blank)", "Feed"]


def test_negative_cost_excluded_and_blank_cost_reported():
    spend = pd.DataFrame({"date": ["2024-01-01"] * 3, "cost": [100, -20, None]})
    data = calc.prepare(spend=spend)
    assert data.spend["cost"].sum() == 100
    assert {e.reason: e.rows for e in data.exclusions} == {"with a blank cost": [4], "with a negative cost": [3]}


def test_gross_profit_from_margin_setting_or_left_empty():
    leads = pd.DataFrame({"lead_id": [1], "date": ["2024-01-01"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-01-05"], "revenue": [1000.0]})
    without = calc.prepare(leads=leads, deals=deals)
    assert np.isnan(without.deals["gross_profit"]).all()
    assert any("gross_margin" in n for n in without.notes)
    with_margin = calc.prepare(leads=leads, deals=deals, settings={"gross_margin": 0.35})
    assert with_margin.deals["gross_profit"].tolist() == [350.0]


def test_as_of_ignores_later_rows_and_says_so():
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-01", "2024-03-01"]})
    deals = pd.DataFrame({"lead_id": [1, 1], "date": ["2024-01-20", "2024-02-20"], "revenue": [1, 2]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-01"})
    assert list(data.leads.lead_id) == [1] and list(data.deals.revenue) == [1.0]
    assert any("after the as-of date Feb 1, 2024" in n for n in data.notes)  # dates written per locale (CLDR en_US)


def test_numeric_ids_from_excel_match_text_ids():
    # Excel gives 123.0 where a CSV gives '123'
    data = calc.prepare(leads=pd.DataFrame({"lead_id": [123.0], "date": ["2024-01-01"]}),
                        deals=pd.DataFrame({"lead_id": ["123"], "date": ["2024-01-02"]}))
    assert data.deals["lead_id"].tolist() == ["123"] and not data.exclusions


@pytest.mark.parametrize("kwargs, match", [
    ({}, "no table was given"),
    ({"leads": "leads.csv"}, "must be a table"),
    ({"leads": pd.DataFrame()}, "has no columns"),
    ({"spend": pd.DataFrame({"date": ["2024-01-01"], "cost": [1]}), "settings": {"gross_margin": 2}}, "gross_margin"),
    ({"spend": pd.DataFrame({"date": ["2024-01-01"], "cost": [1]}), "settings": {"margin": 0.2}}, "setting 'margin'"),
])
def test_bad_calls_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        calc.prepare(**kwargs)


def test_empty_tables_with_headers_give_zero_not_error():
    data = calc.prepare(spend=pd.DataFrame({"date": [], "cost": []}), leads=pd.DataFrame({"lead_id": [], "date": []}),
                        deals=pd.DataFrame({"lead_id": [], "date": []}))
    row = calc.kpi_table(data).iloc[0]
    assert row.consultations == 0 and row.spend == 0 and np.isnan(row.consult_cost) and np.isnan(row.conversion_rate)


def test_a_deals_table_given_is_never_noted_as_missing():
    # Regression: the lost-outcome branch once added "No Deals table" whenever Leads were present,
    # even with a Deals table of won deals (seen on the bundled sample: 571 deals and the note).
    leads = pd.DataFrame({"lead_id": ["a", "b"], "date": ["2025-01-02", "2025-01-03"]})
    deals = pd.DataFrame({"lead_id": ["a"], "date": ["2025-01-20"], "revenue": [100.0]})
    assert "note.no_deals" not in [getattr(n, "key", n) for n in calc.prepare(leads=leads, deals=deals).notes]
    assert "note.no_deals" in [getattr(n, "key", n) for n in calc.prepare(leads=leads).notes]
