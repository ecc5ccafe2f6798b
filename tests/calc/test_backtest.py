"""Backtest: freeze at an earlier date, project, compare with what happened."""
import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.backtest import BACKTEST_COLUMNS, backtest


def test_olist_backtest_2018_cohorts_as_of_june(olist_frames):
    """Olist, 2018 monthly cohorts frozen at 2018-06-30, projected to age 5 and compared with the data to 2018-11-14.

    Reached: total deals error +0.65 % (projected 606.9 vs 603 actual deals for the Feb–May cohorts),
    per-cohort absolute error 2.15 %; reading those cohorts as final would have been −10.3 % off.
    Cohort by cohort (projected / actual): Feb 139.4/139, Mar 151.8/156, Apr 186.0/178, May 129.7/130.
    Chain ladder alone reached −0.18 % and 3.86 % (Feb 139.9, Mar 152.1, Apr 188.2, May 121.7): issue 15
    asks for a per-cohort error below plain chain ladder's, which Bornhuetter–Ferguson for every
    developing cohort (the default since) gives.
    """
    leads, deals = olist_frames
    result = backtest(calc.prepare(leads=leads, deals=deals), as_of="2018-06-30", start="2018-01-01")
    assert list(result.columns) == list(BACKTEST_COLUMNS)
    summary = result.attrs["summary"]
    assert summary["horizon_periods"] == 5 and summary["cohorts"] == 4
    assert summary["deals_error"] == pytest.approx(0.0065, abs=0.0005)
    assert summary["deals_abs_error"] == pytest.approx(0.0215, abs=0.0005)
    assert summary["observed_deals_error"] == pytest.approx(-0.1028, abs=0.0005)
    assert result["actual_deals"].tolist() == [143, 139, 156, 178, 130]
    assert result["age_at_as_of"].tolist() == [5, 4, 3, 2, 1]
    # January is mature at the as-of date: projected = observed = actual, and it is not in the error
    assert result.loc[0, ["observed_deals", "projected_deals", "actual_deals"]].tolist() == [143, 143, 143]
    assert not result.loc[0, "immature"]
    # Olist has no money: gross profit columns and errors are empty, not 0
    assert result["projected_gross_profit"].isna().all() and np.isnan(summary["gross_profit_error"])


def test_cohorts_not_yet_at_the_horizon_in_the_full_data_are_left_out():
    leads = pd.DataFrame({"lead_id": range(1, 7), "date": ["2024-01-05"] * 3 + ["2024-02-05"] * 3})
    deals = pd.DataFrame({"lead_id": [1, 2, 4], "date": ["2024-01-10", "2024-02-11", "2024-02-20"]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-03-15"})
    result = backtest(data, as_of="2024-02-29", horizon_periods=2)
    # January at age 2 = March, still running on 15 March: no actual to compare with
    assert result["actual_deals"].isna().all()
    assert result.attrs["summary"]["cohorts"] == 0 and np.isnan(result.attrs["summary"]["deals_error"])
    assert any("not reached age 2" in n for n in result.attrs["notes"])


def test_as_of_must_be_before_the_data():
    leads = pd.DataFrame({"lead_id": [1], "date": ["2024-01-05"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-01-10"]})
    data = calc.prepare(leads=leads, deals=deals)
    with pytest.raises(InputError, match="not before the data's own as-of date"):
        backtest(data, as_of="2024-02-01")
    with pytest.raises(InputError, match="as_of"):
        backtest(data, as_of=None)


def test_as_of_before_every_consultation_is_refused_not_an_empty_table():
    # olist's 2018-06-30 typed against data that starts in 2024: nothing was known then, so no table can answer
    leads = pd.DataFrame({"lead_id": [1, 2], "date": ["2024-01-05", "2024-03-05"]})
    deals = pd.DataFrame({"lead_id": [1], "date": ["2024-01-10"]})
    data = calc.prepare(leads=leads, deals=deals)
    with pytest.raises(InputError, match=r"no consultation \(in this selection\) is dated on or before") as error:
        backtest(data, as_of="2018-06-30")
    assert "Jun 30, 2018" in str(error.value) and "pick a later date" in str(error.value)
    assert len(backtest(data, as_of="2024-02-01")) == 1  # one cohort known then: answered as before
