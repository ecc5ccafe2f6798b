"""Outcome status and CRM pipeline exports: lost rows are outcomes with a date, never deals (issue 19)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.outcomes import LOST_WORDS, OPEN_WORDS, WON_WORDS, classify_status
from calc.schema import fold

MAVEN = Path(__file__).resolve().parents[3] / "shared" / "data" / "maven_crm" / "sales_pipeline.csv"
if not MAVEN.exists():  # the worktree layout (/work/wt/issue-N) sits one level deeper than a clone beside shared/
    MAVEN = Path("/work/shared/data/maven_crm/sales_pipeline.csv")


def maven() -> pd.DataFrame:
    return pd.read_csv(MAVEN)


def test_no_spelling_means_two_outcomes():
    folded = [{fold(w) for w in words} for words in (WON_WORDS, LOST_WORDS, OPEN_WORDS)]
    assert not (folded[0] & folded[1]) and not (folded[0] & folded[2]) and not (folded[1] & folded[2])


@pytest.mark.parametrize("value, code", [
    ("Won", 1), ("Closed Won", 1), ("赢单", 1), ("成交", 1), ("수주", 1), ("menang", 1),
    ("Lost", 2), ("Closed Lost", 2), ("输单", 2), ("丢单", 2), ("실주", 2), ("kalah", 2),
    ("Engaging", 0), ("Prospecting", 0), ("跟进中", 0), ("진행중", 0), ("negosiasi", 0), ("CLOSED_WON", 1)])
def test_status_spellings_in_four_languages_and_crms(value, code):
    assert classify_status(pd.Series([value]), table="Deals").tolist() == [code]


def test_unknown_status_lists_what_was_found_and_the_setting_to_add():
    with pytest.raises(InputError) as error:
        classify_status(pd.Series(["Won", "Verbal yes", "Verbal yes", "Parked"]), table="Deals", column="deal_stage")
    text = str(error.value)
    assert "'Verbal yes', 'Parked'" in text and "(rows 3, 4, 5)" in text and "won_status=Verbal yes" in text
    # the setting the message names does make it known
    codes = classify_status(pd.Series(["Verbal yes", "Parked"]), table="Deals", won="Verbal yes", open="parked")
    assert codes.tolist() == [1, 0]


def test_unknown_status_is_said_in_the_run_language():
    # the sentence and its fix come from the catalogue like every other error, not English in a zh run
    with pytest.raises(InputError) as error:
        classify_status(pd.Series(["Won", "Parked", None]), table="Deals")
    zh = error.value.render("zh")
    assert "含有不是已知赢单、输单或跟进中状态的值：'Parked', (blank)" in zh and "won_status=Parked" in zh
    assert "not a known" not in zh
    with pytest.raises(InputError) as error:
        classify_status(pd.Series(["Won", None]), table="Deals")
    assert error.value.render("ko").endswith("해결 방법: 모든 행의 상태를 입력하세요.")
    assert str(error.value).endswith("Fix: fill in the status of every row.")


def test_unknown_status_through_prepare_names_the_table_and_settings_fix_it():
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-01", "2024-01-02"]})
    deals = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-05", "2024-01-06"], "stage": ["Won", "Gone cold"]})
    with pytest.raises(InputError, match=r"^Deals: column 'status': .*'Gone cold'"):
        calc.prepare(leads=leads, deals=deals)
    data = calc.prepare(leads=leads, deals=deals, settings={"lost_status": "Gone cold"})
    assert len(data.deals) == 1 and data.leads["days_to_lose"].tolist()[1] == 4.0


def test_lost_rows_are_outcomes_never_deals_and_open_rows_neither():
    # hand-made: a won on day 9, b lost on day 3, c open, d lost after its own win (counts as won)
    leads = pd.DataFrame({"lead_id": ["a", "b", "c", "d"], "date": ["2024-01-01"] * 4})
    deals = pd.DataFrame({"lead_id": ["a", "b", "c", "d", "d"],
                          "date": ["2024-01-10", "2024-01-04", None, "2024-01-05", "2024-01-08"],
                          "status": ["Won", "Lost", "Engaging", "Won", "Closed Lost"], "revenue": [100, 0, None, 50, 0]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-01-31"})
    assert data.has_outcomes
    assert data.deals["lead_id"].tolist() == ["a", "d"]
    by_id = data.leads.set_index("lead_id")
    assert by_id["days_to_lose"].tolist()[:3] == [pytest.approx(np.nan, nan_ok=True), 3.0,
                                                  pytest.approx(np.nan, nan_ok=True)]
    assert str(by_id.loc["b", "lost_date"].date()) == "2024-01-04"
    assert np.isnan(by_id.loc["d", "days_to_lose"])
    assert any("1 lost rows belong to consultations that also won" in n for n in data.notes)
    # conversion counts the won only: 2 of 4
    assert calc.inquiry_conversion(data) == pytest.approx(0.5)


def test_lost_after_the_as_of_date_is_still_open_then():
    leads = pd.DataFrame({"lead_id": [1], "date": ["2024-01-01"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-03-01"], "status": ["Lost"]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-01"})
    assert np.isnan(data.leads["days_to_lose"].iloc[0])


def test_without_a_status_column_nothing_changes():
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-01", "2024-01-02"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-01-05"]})
    data = calc.prepare(leads=leads, deals=deals)
    assert not data.has_outcomes and "days_to_lose" not in data.leads.columns


def test_lost_rows_with_unknown_leads_or_before_the_inquiry_are_reported():
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-10", "2024-01-10"]})
    deals = pd.DataFrame({"lead_id": [1, 9, 2], "date": ["2024-01-05", "2024-01-12", "2024-01-12"],
                          "status": ["Lost", "Lost", "Lost"]})
    reasons = {e.reason: e.rows for e in calc.prepare(leads=leads, deals=deals).exclusions}
    assert reasons["lost, whose lead_id is not in Leads"] == [3]
    assert reasons["lost before their consultation came in"] == [2]


def test_maven_pipeline_as_leads_and_deals_is_read_as_it_is():
    frame = maven()
    data = calc.prepare(leads=frame, deals=frame)
    # the published sample: 8,800 opportunities, 500 Prospecting rows without engage_date
    assert len(data.leads) == 8_300
    no_date = [e for e in data.exclusions if e.table == "Leads" and e.reason == "with no inquiry date"]
    assert no_date[0].count == 500 and no_date[0].rows[0] == 8_302  # the first Prospecting row of the file
    counts = frame["deal_stage"].value_counts()  # Won 4,238, Lost 2,473, Engaging 1,589, Prospecting 500
    assert len(data.deals) == counts["Won"] == 4_238
    assert int(data.leads["days_to_lose"].notna().sum()) == counts["Lost"] == 2_473
    assert data.lead_dims == ("sales_agent", "product", "account")
    assert data.has_revenue and data.deals["revenue"].sum() == frame.loc[frame.deal_stage == "Won", "close_value"].sum()
    # the figures for the 2017-10 cohort: 52.6 % won, 39.8 % lost, 7.6 % open
    october = data.leads["date"].dt.strftime("%Y-%m") == "2017-10"
    won = data.leads.loc[october, "won_date"].notna().mean()
    lost = data.leads.loc[october, "days_to_lose"].notna().mean()
    assert (round(won, 3), round(lost, 3), round(1 - won - lost, 3)) == (0.526, 0.398, 0.076)


def test_pipeline_argument_equals_the_same_file_twice():
    frame = maven()
    once = calc.prepare(pipeline=frame)
    twice = calc.prepare(leads=frame, deals=frame.copy())
    pd.testing.assert_frame_equal(once.leads, twice.leads)
    pd.testing.assert_frame_equal(once.deals, twice.deals)
    with pytest.raises(InputError, match="together with Leads or Deals"):
        calc.prepare(pipeline=frame, leads=frame.head())


@pytest.mark.parametrize("header", ["opportunity_id", "Deal ID", "商机ID", "기회 ID"])
def test_crm_id_aliases(header):
    pipe = pd.DataFrame({header: ["x1", "x2"], "Created Date": ["2024-01-01", "2024-01-02"],
                         "Close Date": ["2024-01-09", None], "Stage": ["Closed Won", "Negotiation"]})
    data = calc.prepare(pipeline=pipe)
    assert data.leads["lead_id"].tolist() == ["x1", "x2"] and data.deals["lead_id"].tolist() == ["x1"]


def test_pipeline_without_close_date_is_refused_with_the_fix():
    pipe = pd.DataFrame({"opportunity_id": ["x1"], "engage_date": ["2024-01-01"], "stage": ["Won"]})
    with pytest.raises(InputError, match="Pipeline: column 'close_date': not found"):
        calc.prepare(pipeline=pipe)


def test_a_pipeline_with_its_own_headers_is_read_through_the_mapping():
    # headers no alias knows: the Leads mapping names the inquiry date, the Deals mapping the close date
    pipe = pd.DataFrame({"Ref": ["x1", "x2"], "Eingang": ["2024-01-01", "2024-01-02"],
                         "Abschluss": ["2024-01-09", "2024-01-05"], "Phase": ["Won", "Lost"]})
    mapping = {"Leads": {"lead_id": "Ref", "date": "Eingang"}, "Deals": {"lead_id": "Ref", "date": "Abschluss"},
               "Pipeline": {"status": "Phase"}}
    data = calc.prepare(leads=pipe, deals=pipe.copy(), mapping=mapping)
    assert data.has_outcomes and data.deals["lead_id"].tolist() == ["x1"]
    assert data.leads["days_to_lose"].tolist()[1] == 3.0


def test_leads_and_deals_without_status_get_no_missing_deals_note():
    # the lost-outcome link sits after the deals link and must not take over its "No Deals table" branch
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-01", "2024-01-02"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-01-05"]})
    assert not any(n.startswith("No Deals table") for n in calc.prepare(leads=leads, deals=deals).notes)
    assert any(n.startswith("No Deals table") for n in calc.prepare(leads=leads).notes)
