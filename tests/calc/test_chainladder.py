"""Chain ladder: factors, Mack's standard error and projections, checked by hand and on a known truth."""
import numpy as np
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.chainladder import age_to_age_factors, chain_ladder, fit_factors, lognormal_band, project
from calc.cohorts import analyse_cycle, make_cycle_options
from calc.query import make_query

# 3 cohorts × 3 ages, cumulative deals; NaN = the as-of date has not reached the cell
TRIANGLE = pd.DataFrame([[10, 15, 16], [20, 28, np.nan], [30, np.nan, np.nan]], columns=[0, 1, 2])


def test_factors_and_sigma_by_hand():
    fit = age_to_age_factors(TRIANGLE)
    # f0 = (15 + 28) / (10 + 20) = 43/30; f1 = 16/15 (only the first cohort has ages 1 and 2)
    assert fit["factor"].tolist() == pytest.approx([43 / 30, 16 / 15])
    # σ²0 = [10·(15/10 − 43/30)² + 20·(28/20 − 43/30)²] / (2 − 1) = 0.044444 + 0.022222
    assert fit.loc[0, "sigma2"] == pytest.approx(10 * (1.5 - 43 / 30) ** 2 + 20 * (1.4 - 43 / 30) ** 2)
    assert fit.loc[0, "sigma2"] == pytest.approx(0.066667, abs=1e-6)
    # a single cohort at age 1 gives no spread of its own: the earlier σ² stands in (Mack's extrapolation needs two)
    assert fit.loc[1, "sigma2"] == pytest.approx(fit.loc[0, "sigma2"])
    assert fit["cohorts"].tolist() == [2, 1] and fit["volume"].tolist() == [30.0, 15.0]


def test_mack_standard_error_by_hand():
    result = chain_ladder(TRIANGLE)
    f0, f1, s2 = 43 / 30, 16 / 15, 0.0666667
    # cohort 2: Ult = 28·f1 = 29.8667;
    # Mack: Ult² · σ²1/f1² · (1/28 + 1/15) = 892.02 · 0.058594 · 0.102381 = 5.3511
    assert result.loc[1, "ultimate"] == pytest.approx(28 * f1)
    assert result.loc[1, "se"] ** 2 == pytest.approx((28 * f1) ** 2 * s2 / f1 ** 2 * (1 / 28 + 1 / 15), rel=1e-5)
    assert result.loc[1, "se"] == pytest.approx(2.3133, abs=1e-4)
    # cohort 3: Ult = 30·f0·f1 = 45.8667, Ĉ1 = 43;
    # MSE = Ult² · [σ²0/f0² (1/30 + 1/30) + σ²1/f1² (1/43 + 1/15)] = 2103.75 · 0.0074322 = 15.635
    ult3 = 30 * f0 * f1
    mse3 = ult3 ** 2 * (s2 / f0 ** 2 * (1 / 30 + 1 / 30) + s2 / f1 ** 2 * (1 / 43 + 1 / 15))
    assert result.loc[2, "ultimate"] == pytest.approx(ult3)
    assert result.loc[2, "se"] ** 2 == pytest.approx(mse3, rel=1e-5)
    assert result.loc[0, "se"] == 0.0  # fully developed: nothing left to estimate
    # total: Σ MSE + 2·Ult2·Ult3·(σ²1/f1²)/S1 (both still develop through age 1) = 5.3511 + 15.635 + 10.702
    cross = 2 * (28 * f1) * ult3 * (s2 / f1 ** 2) / 15
    expected_total = (28 * f1) ** 2 * s2 / f1 ** 2 * (1 / 28 + 1 / 15) + mse3 + cross
    assert result.attrs["total"]["se"] ** 2 == pytest.approx(expected_total, rel=1e-5)
    assert result.attrs["total"]["se"] == pytest.approx(5.629, abs=1e-3)


def test_projected_cells_are_marked_and_band_never_below_observed():
    result = chain_ladder(TRIANGLE)
    mask = result.attrs["projected_mask"]
    assert mask.to_numpy().tolist() == [[False, False, False], [False, False, True], [False, True, True]]
    filled = result.attrs["projected"]
    assert filled.loc[2, 1] == pytest.approx(30 * 43 / 30)  # 30 · f0 = 43
    assert (result["low"] >= result["latest"]).all() and (result["high"] >= result["ultimate"]).all()
    assert np.isfinite(result[["ultimate", "se", "low", "high"]].to_numpy()).all()


def test_tail_and_horizon():
    # horizon 3 is beyond every observed pair: age 2 → 3 has no data, factor 1.0; only the tail adds growth
    longer = chain_ladder(TRIANGLE, horizon=3, tail_factor=1.05)
    base = chain_ladder(TRIANGLE)
    assert longer["ultimate"].tolist() == pytest.approx((base["ultimate"] * 1.05).tolist())
    with pytest.raises(InputError, match="tail_factor"):
        chain_ladder(TRIANGLE, tail_factor=0.9)


def test_bornhuetter_ferguson_for_young_cohorts_by_hand():
    values = TRIANGLE.to_numpy(dtype=float)
    seen = ~np.isnan(values)
    fit = fit_factors(values, seen)
    exposure = np.array([100.0, 100.0, 100.0])  # consultations per cohort
    result = project(values, seen, seen, fit, horizon=2, exposure=exposure, young_share=0.8)
    f0, f1 = 43 / 30, 16 / 15
    developed = [1 / (f0 * f1), 1 / f1, 1.0]  # 0.65407, 0.9375, 1: share of the final value by age
    # Cape Cod: ELR = (16 + 28 + 30) / (100·1 + 100·0.9375 + 100·0.65407) = 74 / 259.157 = 0.28554 per consultation
    elr = 74 / (100 * developed[2] + 100 * developed[1] + 100 * developed[0])
    # cohort 3 (65 % developed < 80 %): 30 + (1 − 0.65407)·0.28554·100 = 39.878, not 45.867 by chain ladder
    assert result.ultimate[2] == pytest.approx(30 + (1 - developed[0]) * elr * 100)
    assert result.ultimate[2] == pytest.approx(39.878, abs=1e-3)
    # its projected age 1: 30 + (0.9375 − 0.65407)·28.554
    assert result.values[2, 1] == pytest.approx(30 + (developed[1] - developed[0]) * elr * 100)
    # cohort 2 (94 % developed) keeps the chain ladder: 28·f1
    assert result.ultimate[1] == pytest.approx(28 * f1)
    assert result.projected[2].tolist() == [False, True, True]


def test_zero_cells_give_zero_not_division_errors():
    # a cohort with nothing yet, and an age where no cohort has anything: no inf, no warnings
    tri = pd.DataFrame([[0, 0, 2], [0, 0, np.nan], [0, np.nan, np.nan]], columns=[0, 1, 2])
    with np.errstate(all="raise"):
        result = chain_ladder(tri)
    # 0 → 0 is "no development" (1.0); 0 → 2 cannot be a factor: the cohort that needs it stays empty
    assert age_to_age_factors(tri)["factor"].iloc[0] == 1.0
    assert np.isnan(age_to_age_factors(tri)["factor"].iloc[1])
    assert not np.isinf(result.select_dtypes("number").to_numpy()).any()


def test_hole_in_a_row_is_an_input_error():
    with pytest.raises(InputError, match="empty cell before a filled one"):
        age_to_age_factors(pd.DataFrame([[1, np.nan, 3]], columns=[0, 1, 2]))


def test_lognormal_band_keeps_mean_and_floor():
    low, high = lognormal_band(np.array([50.0]), np.array([5.0]), 0.95)
    # ln-scale σ² = ln(1 + 0.1²) = 0.0099503, σ = 0.099751, μ = ln 50 − σ²/2 = 3.907048;
    # band = exp(μ ∓ 1.959964·σ) = exp(3.711540) … exp(4.102556) = 40.92 … 60.49
    assert (round(float(low[0]), 2), round(float(high[0]), 2)) == (40.92, 60.49)
    # 45 already observed: the ultimate cannot end below it
    floored, _ = lognormal_band(np.array([50.0]), np.array([5.0]), 0.95, floor=np.array([45.0]))
    assert floored[0] == 45.0


def test_partial_period_neither_estimates_factors_nor_anchors():
    # as of mid-February the February diagonal is partial: f0 must come from complete cells only
    leads = pd.DataFrame({"lead_id": range(1, 7), "date": ["2024-01-05"] * 3 + ["2024-02-05"] * 3})
    deals = pd.DataFrame({"lead_id": [1, 2, 4], "date": ["2024-01-10", "2024-02-03", "2024-02-06"]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-02-15"})
    analysis = analyse_cycle(data, make_query(), period="month", horizon_periods=None)
    dev = analysis.development
    assert dev.complete.tolist() == [[True, False], [False, False]]
    fit = fit_factors(dev.cumulative("deals")[0], dev.complete)
    assert fit.backed.tolist() == [False]  # no cohort complete at both ages yet
    assert any("inside a month" in n for n in analysis.notes)


def test_synthetic_projection_unbiased_against_the_known_future():
    """The chain ladder, fed only what was known on 2026-06-30, against deals_all (the true future).

    Measured (monthly cohorts, horizon 6 months, the 5–6 immature cohorts of each seed, cohorts under
    half developed by Bornhuetter–Ferguson): deals error +2.67 %, +6.08 %, −6.17 %, +0.01 %, −2.10 %,
    −0.67 % for seeds 1–6, mean −0.03 %; reading the same cohorts as final would have been −13 % to
    −32 % off. (Pure chain ladder: mean +0.07 %, but its youngest cohorts err 17 % on average.)
    """
    from calc import synthetic
    from calc.backtest import backtest

    errors, naive = [], []
    for seed in range(1, 7):
        s = synthetic.generate(seed=seed)
        summary = backtest(calc.prepare(s.spend, s.leads, s.deals_all), as_of="2026-06-30",
                           horizon_periods=6).attrs["summary"]
        errors.append(summary["deals_error"])
        naive.append(summary["observed_deals_error"])
    assert abs(np.mean(errors)) < 0.02            # unbiased: the seeds' errors cancel
    assert max(abs(e) for e in errors) < 0.08     # one seed's total within Poisson noise of ~350 deals
    assert max(naive) < -0.10                     # what the projection is for


def test_options_are_validated():
    with pytest.raises(InputError, match="horizon_periods"):
        make_cycle_options(horizon_periods=-1)
    with pytest.raises(InputError, match="measure"):
        make_cycle_options(measure="profit")


def test_all_segments_at_once_equal_one_segment_at_a_time():
    """project_development fits and projects every segment in one pass; the result must be what the
    one-triangle functions give segment by segment (own factors where a segment has min_deals deals
    behind them, pooled factors elsewhere, Bornhuetter–Ferguson for young cohorts)."""
    from calc import synthetic
    from calc.chainladder import merge_fits, project_development

    business = synthetic.generate(seed=4, daily_spend=900.0)
    data = calc.prepare(business.spend, business.leads, business.deals)
    dev = analyse_cycle(data, make_query(by="channel,province"), period="month", horizon_periods=12).development
    assert len(dev.segments) > 10
    options = dict(horizon=12, tail_factor=1.02, min_deals=10, min_consultations=100, young_share=0.5)
    for measure in ("deals", "converted", "gross_profit"):
        together = project_development(dev, measure, **options)
        cumulative, counts = dev.cumulative(measure), dev.cumulative("converted" if measure == "converted" else "deals")
        pooled = fit_factors(np.where(dev.observed, np.nansum(cumulative, axis=0), np.nan), dev.complete)
        for s in range(len(dev.segments)):
            enough = ((fit_factors(counts[s], dev.complete).volume >= 10) & (dev.consultations[s].sum() >= 100)) \
                | ~pooled.backed
            fit = merge_fits(fit_factors(cumulative[s], dev.complete), pooled, enough)
            alone = project(cumulative[s], dev.observed, dev.complete, fit, horizon=12, tail_factor=1.02,
                            exposure=dev.consultations[s], young_share=0.5)
            ultimate, values = alone.ultimate, alone.values
            if measure == "converted":
                ultimate = np.minimum(ultimate, dev.consultations[s])
                values = np.minimum(values, dev.consultations[s][:, None])
            assert np.allclose(together.ultimate[s], ultimate, equal_nan=True, rtol=1e-12)
            assert np.allclose(together.values[s], values, equal_nan=True, rtol=1e-12)
            assert np.allclose(together.mse[s], alone.mse, equal_nan=True, rtol=1e-9)
            assert together.total_mse[s] == pytest.approx(alone.total_mse, rel=1e-9, nan_ok=True)
