"""Wilson intervals and empirical-Bayes beta-binomial shrinkage (calc/shrinkage.py)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta as beta_distribution

from calc.errors import InputError
from calc.shrinkage import BetaPrior, fit_beta_prior, shrink_rates, wilson_interval


def test_wilson_interval_matches_hand_computation_and_methods_figures():
    # 12 of 100 at 95 %: z² = 3.8415, centre (0.12 + 0.019207)/1.038415 = 0.13406,
    # half-width 1.96·√(0.12·0.88/100 + 3.8415/40000)/1.038415 = 0.06406 → [0.0700, 0.1981]
    low, high = wilson_interval(12, 100)
    assert (low[0], high[0]) == (pytest.approx(0.0700, abs=1e-4), pytest.approx(0.1981, abs=1e-4))
    # docs/methods.md, "Olist by origin": paid_search 195/1586 → 10.8–14.0 %, email 15/493 → 1.9–5.0 %,
    # empty origin 14/60 → 14–35 %
    low, high = wilson_interval([195, 15, 14], [1586, 493, 60])
    assert np.round(low, 3).tolist() == [0.108, 0.019, 0.144]
    assert np.round(high, 3).tolist() == [0.140, 0.050, 0.354]


def test_wilson_interval_edges():
    # 0 of 10: centre = half = (3.8415/20)/1.38415 = 0.13877 → [0, 0.2775]
    low, high = wilson_interval([0, 10, 0], [10, 10, 0])
    assert low[0] == pytest.approx(0, abs=1e-12) and high[0] == pytest.approx(0.27753, abs=1e-5)
    assert high[1] == 1 and low[1] == pytest.approx(1 - 0.27753, abs=1e-5)
    assert np.isnan(low[2]) and np.isnan(high[2])  # no consultations: unknown, not an error


def test_counts_are_validated():
    with pytest.raises(InputError, match="0 ≤ successes ≤ trials"):
        wilson_interval([5, 3], [4, 10])
    with pytest.raises(InputError, match="one success count per trial count"):
        fit_beta_prior([1, 2], [10])


def test_method_of_moments_prior_matches_hand_computation():
    # 10/100 and 30/100: μ = 0.2, Σn(p−μ)² = 100·0.01·2 = 2, noise (k−1)μ(1−μ) = 0.16,
    # τ² = (2 − 0.16)/(200 − 20000/200) = 0.0184, α+β = 0.16/0.0184 − 1 = 7.6957
    prior = fit_beta_prior([10, 30], [100, 100], method="moments")
    assert prior.mean == pytest.approx(0.2)
    assert prior.strength == pytest.approx(0.16 / 0.0184 - 1)
    assert prior.method == "moments"


def test_maximum_likelihood_recovers_a_known_prior():
    # 400 segments of 200 consultations, true rates drawn from Beta(4, 36): mean 0.10, strength 40
    rng = np.random.default_rng(8)
    rates = rng.beta(4, 36, 400)
    trials = np.full(400, 200)
    successes = rng.binomial(trials, rates)
    prior = fit_beta_prior(successes, trials)
    assert prior.method == "ml"
    assert prior.mean == pytest.approx(0.10, abs=0.006)
    assert 28 < prior.strength < 56


def test_no_spread_beyond_noise_pools_everything():
    # identical rates: no between-segment variance, prior strength capped at all 300 consultations
    prior = fit_beta_prior([10, 10, 10], [100, 100, 100], method="moments")
    assert prior.mean == pytest.approx(0.1) and prior.strength == pytest.approx(300)
    # no deals anywhere: the prior sits just above 0 and every posterior is finite
    zero = fit_beta_prior([0, 0], [50, 30])
    assert zero.method == "pooled" and 0 < zero.mean < 0.01
    assert np.isfinite(shrink_rates([0, 0], [50, 30]).to_numpy()).all()


def test_posterior_mean_and_interval():
    # prior Beta(2, 18): 2 of 3 → (2+2)/(3+20) = 0.1739; 40 of 200 → 42/220 = 0.1909
    out = shrink_rates([2, 40], [3, 200], prior=BetaPrior(2, 18, "given"), confidence=0.9)
    assert out["shrunk"].tolist() == pytest.approx([4 / 23, 42 / 220])
    # equal-tailed 90 % interval of Beta(4, 19) and Beta(42, 178)
    assert out["shrunk_low"].tolist() == pytest.approx([beta_distribution.ppf(0.05, 4, 19),
                                                        beta_distribution.ppf(0.05, 42, 178)])
    assert out["shrunk_high"].tolist() == pytest.approx([beta_distribution.ppf(0.95, 4, 19),
                                                         beta_distribution.ppf(0.95, 42, 178)])


@pytest.mark.parametrize("strength, segments, size", [(40, 400, 5000), (8, 30, 5000), (300, 60, 5000),
                                                     (18_000, 5, 250_000)])  # the last like the benchmark's channels
def test_newton_steps_reach_the_same_maximum_as_a_nelder_mead_search(strength, segments, size):
    """The prior is fitted by Newton steps (only scipy.special needed); a Nelder–Mead search over the
    same likelihood (scipy.optimize, the previous method) is the reference."""
    from scipy.optimize import minimize
    from scipy.special import betaln

    from calc.shrinkage import _moments, _newton

    rng = np.random.default_rng(strength)
    trials = rng.integers(50, size, segments).astype(float)
    successes = rng.binomial(trials.astype(int), rng.beta(0.1 * strength, 0.9 * strength, segments)).astype(float)
    mu, start = _moments(successes, trials)
    found = _newton(successes, trials, mu, start, float(trials.sum()))
    assert found is not None  # converged without the fallback search (it is for a likelihood flat in the strength)

    def negative(params):
        m, s = 1 / (1 + np.exp(-params[0])), np.exp(params[1])
        return -np.sum(betaln(successes + m * s, trials - successes + (1 - m) * s) - betaln(m * s, (1 - m) * s))

    best = minimize(negative, [np.log(mu / (1 - mu)), np.log(start)], method="Nelder-Mead",
                    options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 5000}).x
    assert found[0] == pytest.approx(1 / (1 + np.exp(-best[0])), rel=1e-5)
    assert found[1] == pytest.approx(np.exp(best[1]), rel=1e-3)
