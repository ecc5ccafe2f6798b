"""One projection band everywhere (issue 15): the chain_ladder() band, the rolling backtest's band and the
full-cycle conversion band behind the conservative maximum affordable cost all use the same quantile —
Student's t on the degrees of freedom of the σ² behind the projection (calc.chainladder.band_quantile)."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import calc
from calc import synthetic
from calc.chainladder import band_quantile, chain_ladder, lognormal_band, mack_dof
from calc.cohorts import analyse_cycle
from calc.query import make_query
from calc.roi import conversion_band
from calc.rolling import frozen_development, rolling_backtest


def test_band_quantile_is_students_t_and_normal_when_nothing_is_estimated():
    # reference library: scipy.stats.t / norm
    for level in (0.8, 0.9, 0.95):
        for dof in (1.0, 3.0, 12.0, 250.0):
            assert band_quantile(level, dof) == pytest.approx(stats.t.ppf(0.5 + level / 2, dof), rel=1e-9)
        assert band_quantile(level, np.inf) == pytest.approx(stats.norm.ppf(0.5 + level / 2), rel=1e-12)


def test_mack_dof_counts_the_residuals_of_the_ages_still_to_develop():
    # n_k = 4, 3, 2 cohorts behind factors 0, 1, 2 → residuals 3, 2, 1; from age a: Σ_{k ≥ a}
    assert mack_dof(np.array([4, 3, 2]), np.array([0, 1, 2, 3])).tolist() == [6.0, 3.0, 1.0, np.inf]


@pytest.fixture(scope="module")
def seed5():
    s = synthetic.generate(seed=5)
    return calc.prepare(s.spend, s.leads, s.deals_all, settings={"bornhuetter_ferguson_below": 0})


def test_chain_ladder_band_is_the_rolling_backtests_band(seed5):
    """Frozen at 2025-08-31 (eight monthly cohorts), chain ladder alone: chain_ladder() on that triangle and the
    rolling backtest's rows for the same as-of date must give the same projection and the same 90 % band."""
    rolling = rolling_backtest(seed5, band_level=0.9)
    frozen = pd.Timestamp("2025-08-31")
    rows = rolling.loc[rolling["as_of"] == frozen]
    assert len(rows) > 10
    full = analyse_cycle(seed5, make_query(), period="month", horizon_periods=None).development
    dev = frozen_development(full, frozen)
    width = int(dev.observed.any(axis=0).sum())
    triangle = pd.DataFrame(np.where(dev.observed, dev.cumulative("deals")[0], np.nan)[:, :width],
                            index=dev.cohorts)
    for target, group in rows.groupby("target_age"):
        band = chain_ladder(triangle, horizon=int(target), confidence=0.9).loc[group["cohort"]]
        np.testing.assert_allclose(group["projected"], band["ultimate"], rtol=1e-9)
        np.testing.assert_allclose(group["low"], band["low"], rtol=1e-9)
        np.testing.assert_allclose(group["high"], band["high"], rtol=1e-9)
        # and never narrower than the normal quantile would make it (few cohorts behind the late factors)
        normal_low, normal_high = lognormal_band(band["ultimate"], band["se"], 0.9, floor=band["latest"])
        assert (band["low"] <= normal_low + 1e-9).all() and (band["high"] >= normal_high - 1e-9).all()
        assert (band["high"] > normal_high + 1e-6).any()


def test_conversion_band_uses_the_same_quantile(seed5):
    """The full-cycle conversion band of segment_cycle_roi is the Wilson interval on the effective sample size at
    band_quantile(confidence, ν) with ν the degrees of freedom behind the converted projection's total."""
    data = calc.prepare(*(lambda s: (s.spend, s.leads, s.deals))(synthetic.generate(seed=5, as_of="2025-06-30")))
    figures = calc.segment_cycle_roi(data)
    analysis = analyse_cycle(data, make_query(), period="month", horizon_periods=None)
    converted = analysis.projections["converted"]
    dof = float(converted.total_dof[0])
    assert np.isfinite(dof) and dof < 30  # six cohorts: few residuals behind σ²
    args = (converted.ultimate.sum(axis=1), np.sqrt(converted.total_mse), analysis.development.consultations.sum(axis=1),
            data.settings.confidence)
    low, high = conversion_band(*args, dof=dof)
    assert figures["full_cycle_conversion_low"].iloc[0] == pytest.approx(low[0], rel=1e-12)
    assert figures["full_cycle_conversion_high"].iloc[0] == pytest.approx(high[0], rel=1e-12)
    normal_low, normal_high = conversion_band(*args)
    assert low[0] < normal_low[0] and high[0] > normal_high[0]
    # a band with no projection error is the plain Wilson interval, normal quantile, whatever ν says
    plain = conversion_band(np.array([12.0]), np.array([0.0]), np.array([100.0]), 0.95, dof=3.0)
    assert np.round(plain, 4).ravel().tolist() == [0.07, 0.1981]
