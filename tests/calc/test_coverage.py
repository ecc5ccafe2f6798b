"""Each table's coverage found from the data; truncated cohorts flagged and kept out of factors and backtests."""
import numpy as np
import pandas as pd
import pytest

import calc
from calc import synthetic
from calc.backtest import backtest
from calc.coverage import table_coverage


@pytest.fixture(scope="module")
def olist(olist_frames):
    leads, deals = olist_frames
    return calc.prepare(leads=leads, deals=deals)


def test_olist_deals_start_in_december_and_2017_cohorts_are_truncated(olist):
    """The data README: Olist deals are recorded only from December 2017, inquiries from June 2017."""
    cover = table_coverage(olist)
    assert cover.deals_start == pd.Timestamp("2017-12-05") and cover.deals_end is None
    assert cover.leads == (pd.Timestamp("2017-06-14"), pd.Timestamp("2018-05-31"))
    # ~2,000 leads before December should have closed ~179 deals by then at the 2018 leads' pace; none did
    assert cover.missing_before > 100
    tri = calc.cohort_triangle(olist, measure="deals")
    assert tri.loc[tri["truncated"], "cohort"].dt.strftime("%Y-%m").tolist() == [
        "2017-06", "2017-07", "2017-08", "2017-09", "2017-10", "2017-11", "2017-12"]
    notes = " ".join(tri.attrs["notes"])
    assert "Deals are recorded only from 2017-12-05" in notes and "include_truncated_cohorts" in notes
    assert "Leads 2017-06-14 – 2018-05-31" in notes


def test_olist_january_2018_is_projected_within_its_flat_range(olist):
    """The 2018-01 cohort has been flat at 149–152 deals for months (ages 7–10): with the 2017 cohorts
    kept out of the late factors it stays there (≤ 170); letting them in gives the old 301."""
    tri = calc.cohort_triangle(olist, measure="deals")
    january = tri.loc[tri["cohort"] == "2018-01-01"].iloc[0]
    ages = [c for c in tri.columns if isinstance(c, int)]
    assert january[10] == 152 and january[ages[-1]] <= 170
    with_truncated = calc.prepare(*_frames(olist), settings={"include_truncated_cohorts": True})
    old = calc.cohort_triangle(with_truncated, measure="deals")
    assert old.loc[old["cohort"] == "2018-01-01", ages[-1]].iloc[0] > 250
    assert any("include_truncated_cohorts is on" in n for n in old.attrs["notes"])


def _frames(data):
    return None, data.leads[["lead_id", "date"]], data.deals[["lead_id", "date"]]


def test_readme_backtest_line_without_from_gives_the_readme_figures(olist):
    """README: as of 2018-06-30 the cohorts' deals within +0.7 % in total, 2.2 % per cohort, −10.3 % read as final;
    the same figures as tests/calc/test_backtest.py's run restricted to 2018 with start=2018-01-01."""
    result = backtest(olist, as_of="2018-06-30")
    summary = result.attrs["summary"]
    assert summary["horizon_periods"] == 5 and summary["cohorts"] == 4
    assert summary["deals_error"] == pytest.approx(0.0065, abs=0.0005)
    assert summary["deals_abs_error"] == pytest.approx(0.0215, abs=0.0005)
    assert summary["observed_deals_error"] == pytest.approx(-0.1028, abs=0.0005)
    assert result.loc[result["truncated"], "cohort"].min() == pd.Timestamp("2017-06-01")


def test_an_ordinary_export_is_not_truncated():
    """The synthetic business records deals from its first day: no edge is found, nothing is flagged."""
    for seed in (1, 2, 3):
        s = synthetic.generate(seed=seed)
        cover = table_coverage(calc.prepare(s.spend, s.leads, s.deals))
        assert cover.deals_start is None and cover.deals_end is None and cover.missing_before < 5


def test_deals_cut_at_the_start_are_found_and_give_the_factors_of_the_untruncated_cohorts():
    s = synthetic.generate(seed=2)
    cut = s.deals.loc[s.deals["date"] >= "2025-06-01"]
    data = calc.prepare(s.spend, s.leads, cut)
    cover = table_coverage(data)
    assert cover.deals_start == pd.Timestamp("2025-06-01")  # a deal was won on the cut's first day
    tri = calc.cohort_triangle(data, measure="deals")
    assert tri.loc[tri["truncated"], "cohort"].tolist() == list(pd.date_range("2025-01-01", periods=5, freq="MS"))
    # the cohorts from June on, alone, project exactly as when the truncated ones are shown beside them
    alone = calc.cohort_triangle(data, measure="deals", start="2025-06-01")
    later = tri.loc[tri["cohort"] >= "2025-06-01"].reset_index(drop=True)
    ages = [c for c in alone.columns if isinstance(c, int)]
    np.testing.assert_allclose(later[ages].to_numpy(float), alone[ages].to_numpy(float), rtol=1e-9)


def test_deals_ending_early_leave_later_cells_unknown_not_zero():
    s = synthetic.generate(seed=3)
    data = calc.prepare(s.spend, s.leads, s.deals.loc[s.deals["date"] <= "2026-03-31"])
    cover = table_coverage(data)
    assert cover.deals_end == pd.Timestamp("2026-03-31") and data.as_of == pd.Timestamp("2026-06-30")
    dev = calc.cohort_development(data, projected=False)
    april = dev.loc[dev["cohort"] == "2026-04-01"]
    assert not april["observed"].any() and april["deals"].isna().all()
    projected = calc.cohort_triangle(data, measure="deals")
    # April's leads are projected from what older cohorts earned per consultation, not read as 0 deals
    assert projected.loc[projected["cohort"] == "2026-04-01", 0].iloc[0] > 5
    assert any("Deals end on 2026-03-31" in n for n in projected.attrs["notes"])


def test_olist_weekly_volume_ends_with_the_leads_not_at_the_as_of_date(olist):
    """Issue 15: the as-of date is the last won date (2018-11-14) but Leads end on 2018-05-31; the weekly volume
    series used to run on with 23 weeks of zeros (rolling CV 282.8 %)."""
    chart = calc.stability(olist, measure="volume", period="week")
    assert chart["date"].max() == pd.Timestamp("2018-05-21")  # the last whole week before 2018-05-31
    assert (chart["value"] > 0).all()
    assert any("Leads ends on 2018-05-31" in n for n in chart.attrs["notes"])
    verdict = calc.stability_verdict(olist, measure="volume", period="week")
    assert "Rolling 8-week CV 5.2%" in verdict  # percentages written by Babel (CLDR en: no space)
    assert olist.as_of == pd.Timestamp("2018-11-14")  # still one as-of date for the whole analysis


def test_cohort_roi_flags_truncated_cohorts(olist):
    table = calc.cohort_roi(olist)
    assert table.loc[table["truncated"], "cohort"].dt.strftime("%Y-%m").tolist()[-1] == "2017-12"
    assert not table.loc[table["cohort"] >= "2018-01-01", "truncated"].any()
