"""Conversion rates of small segments: Wilson intervals and empirical-Bayes beta-binomial shrinkage.

A segment with 3 consultations and 2 deals has a raw conversion of 67 %, but that says little.
Two remedies (``docs/methods.md``, "Small segments"):

* **Wilson score interval** for x deals out of n consultations at confidence 1 − a, z = z_{1−a/2}:
  ``[p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)] / (1 + z²/n)``. Unlike the textbook p̂ ± z·√(p̂(1−p̂)/n)
  it stays inside 0–1 and is honest for 0 or n successes.
* **Empirical-Bayes beta-binomial shrinkage**: fit one Beta(α₀, β₀) prior to all segments' rates, then
  each segment's posterior is Beta(x + α₀, n − x + β₀), with mean (x + α₀) / (n + α₀ + β₀). Small
  segments are pulled towards the pooled rate, large ones keep their own. The prior is fitted by
  maximum likelihood on the beta-binomial (scipy, when installed) starting from the method of
  moments: α₀ + β₀ = μ(1−μ)/τ² − 1, where τ² is the variance of the segment rates beyond binomial
  noise (the DerSimonian–Laird style moment estimate below).

When the segments' rates vary no more than binomial noise explains, τ² is 0 and the best estimate
for every segment is the pooled rate; the prior strength is then capped at the total number of
consultations (each segment is pulled at least half-way to the pooled rate) rather than infinity.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from .errors import InputError
from .messages import Message


def _counts(successes, trials) -> tuple[np.ndarray, np.ndarray]:
    x = np.atleast_1d(np.asarray(successes, dtype="float64"))
    n = np.atleast_1d(np.asarray(trials, dtype="float64"))
    if x.shape != n.shape:
        raise InputError(None, "successes", Message("error.counts_mismatch", successes=x.size, trials=n.size),
                         fix=Message("error.counts_mismatch.fix"))
    bad = np.flatnonzero(~np.isfinite(x) | ~np.isfinite(n) | (x < 0) | (n < 0) | (x > n))
    if len(bad):
        raise InputError(None, "successes", Message("error.counts_bad"), rows=[int(b) + 1 for b in bad[:5]],
                         fix=Message("error.counts_bad.fix"))
    return x, n


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level.

    >>> round(z_value(0.95), 4)
    1.96
    """
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes, trials, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (low, high) for each success / trial pair; NaN where trials is 0.

    Olist paid search (methods.md): 195 deals from 1,586 consultations → 10.8 %–14.0 %.

    >>> low, high = wilson_interval([195, 14], [1586, 60])
    >>> [round(float(v), 3) for v in low], [round(float(v), 3) for v in high]
    ([0.108, 0.144], [0.14, 0.354])
    """
    x, n = _counts(successes, trials)
    z = z_value(confidence)
    safe_n = np.where(n > 0, n, np.nan)  # 0 trials: nothing known, NaN rather than a division error
    p = x / safe_n
    centre = p + z * z / (2 * safe_n)
    half = z * np.sqrt(p * (1 - p) / safe_n + z * z / (4 * safe_n * safe_n))
    denominator = 1 + z * z / safe_n
    return np.clip((centre - half) / denominator, 0, 1), np.clip((centre + half) / denominator, 0, 1)


@dataclass(frozen=True)
class BetaPrior:
    """Beta(alpha, beta) prior fitted across segments; ``mean`` = α/(α+β), ``strength`` = α+β (pseudo-consultations)."""

    alpha: float
    beta: float
    method: str

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        return self.alpha + self.beta


def _moments(x: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Pooled rate μ and prior strength α+β from the between-segment variance beyond binomial noise."""
    total = n.sum()
    mu = x.sum() / total
    p = x / n
    k = len(n)
    if k < 2:  # one segment says nothing about the spread between segments
        return float(mu), float(total)
    # Σ n_i (p_i − μ)² has expectation (k − 1) μ(1−μ) + τ² (N − Σn_i²/N): subtract the noise part
    spread = float(np.sum(n * (p - mu) ** 2))
    tau2 = (spread - (k - 1) * mu * (1 - mu)) / (total - np.sum(n * n) / total)
    cap = float(total)
    if not np.isfinite(tau2) or tau2 <= 0:
        return mu, cap
    return mu, float(np.clip(mu * (1 - mu) / tau2 - 1, 0.5, cap))


def _max_likelihood(x: np.ndarray, n: np.ndarray, mu: float, strength: float, cap: float) -> tuple[float, float]:
    """Beta-binomial maximum likelihood: (mean, strength), from the moment estimate as the start.

    Newton–Raphson first (:func:`_newton`); where it does not settle cleanly — a likelihood too
    flat for its steps, as with hardly any spread between segments — a Nelder–Mead search from the
    same start decides, as it always did before Newton was tried first.
    """
    found = _newton(x, n, mu, strength, cap)
    if found is not None:
        return found
    from scipy.optimize import minimize
    from scipy.special import betaln

    def negative_log_likelihood(params: np.ndarray) -> float:
        m = 1 / (1 + np.exp(-params[0]))
        s = np.exp(params[1])
        return -float(np.sum(betaln(x + m * s, n - x + (1 - m) * s) - betaln(m * s, (1 - m) * s)))

    start = np.array([np.log(mu / (1 - mu)), np.log(strength)])
    result = minimize(negative_log_likelihood, start, method="Nelder-Mead",
                      options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000})
    if not result.success and not np.isfinite(result.fun):
        return mu, strength
    m = float(1 / (1 + np.exp(-result.x[0])))
    return m, float(np.clip(np.exp(result.x[1]), 0.5, cap))


def _newton(x: np.ndarray, n: np.ndarray, mu: float, strength: float, cap: float) -> tuple[float, float] | None:
    """Newton–Raphson on (log α, log β) with the analytic gradient and Hessian (digamma and trigamma;
    Minka 2000, "Estimating a Dirichlet distribution", §3), halving steps that would lower the
    likelihood. Returns None unless the Newton step shrinks below 1e-9 (converged) — then the
    caller searches instead. It needs only ``scipy.special``: ``scipy.optimize`` alone takes 0.2 s to
    import, a tenth of a whole report, and the Newton steps settle in 2–8 iterations.
    """
    from scipy.special import betaln, digamma, polygamma

    y = n - x

    def log_likelihood(a: float, b: float) -> float:
        return float(np.sum(betaln(x + a, y + b) - betaln(a, b)))

    u = np.log([mu * strength, (1 - mu) * strength])
    a, b = np.exp(u)
    current = log_likelihood(a, b)
    for _ in range(100):
        total = a + b
        shared_gradient = float(np.sum(digamma(total) - digamma(n + total)))
        shared_curvature = float(np.sum(polygamma(1, total) - polygamma(1, n + total)))
        grad_a = float(np.sum(digamma(x + a) - digamma(a))) + shared_gradient
        grad_b = float(np.sum(digamma(y + b) - digamma(b))) + shared_gradient
        curv_a = float(np.sum(polygamma(1, x + a) - polygamma(1, a))) + shared_curvature
        curv_b = float(np.sum(polygamma(1, y + b) - polygamma(1, b))) + shared_curvature
        gradient = np.array([a * grad_a, b * grad_b])  # with respect to log α, log β
        hessian = np.array([[a * a * curv_a + a * grad_a, a * b * shared_curvature],
                            [a * b * shared_curvature, b * b * curv_b + b * grad_b]])
        try:
            step = -np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(step)) or gradient @ step <= 0:  # not uphill: leave it to the search
            return None
        if float(np.abs(step).max()) < 1e-9:  # converged: below this the likelihood changes less than its rounding
            a, b = np.exp(u + step)
            if a + b > cap:  # no spread beyond binomial noise shows: the pooled rate at full strength
                return float(x.sum() / n.sum()), cap
            return float(a / (a + b)), float(max(a + b, 0.5))
        scale = 1.0
        while scale > 1e-6:
            trial = u + scale * step
            if np.abs(trial).max() > 700:  # exp would overflow: far outside any sensible prior
                return None
            a_trial, b_trial = np.exp(trial)
            value = log_likelihood(a_trial, b_trial)
            # near the top the likelihood (a sum over every segment) moves less than its rounding
            if np.isfinite(value) and value >= current - 1e-11 * abs(current):
                break
            scale /= 2
        else:
            return None
        u, a, b, current = trial, a_trial, b_trial, value
    return None


def fit_beta_prior(successes, trials, *, method: Literal["ml", "moments"] = "ml") -> BetaPrior:
    """Fit the Beta prior of segment conversion rates (segments with 0 trials are ignored).

    ``method="ml"`` maximises the beta-binomial likelihood (needs scipy; falls back to moments
    without it); ``"moments"`` uses the moment estimate only. With all rates 0 (or all 1) there is
    no information on spread, and the prior is the pooled rate with strength = total trials.

    Hand check (moments): rates 10/100 and 30/100 → μ = 0.2; Σn(p−μ)² = 2 and the noise part is
    (2−1)·0.16 = 0.16, so τ² = (2 − 0.16)/(200 − 100) = 0.0184 and α+β = 0.16/0.0184 − 1 = 7.70.

    >>> prior = fit_beta_prior([10, 30], [100, 100], method="moments")
    >>> round(prior.mean, 3), round(prior.strength, 2)
    (0.2, 7.7)
    """
    x, n = _counts(successes, trials)
    keep = n > 0
    x, n = x[keep], n[keep]
    if not len(n):
        raise InputError(None, "trials", Message("error.trials_zero"), fix=Message("error.trials_zero.fix"))
    mu, strength = _moments(x, n)
    cap = float(n.sum())
    if mu <= 0 or mu >= 1:
        # no deals at all (or only deals): the prior cannot learn a spread; keep it at the pooled edge, slightly inside
        mu = min(max(mu, 0.5 / (cap + 1)), 1 - 0.5 / (cap + 1))
        return BetaPrior(float(mu * cap), float((1 - mu) * cap), "pooled")
    used = "moments"
    if method == "ml" and len(n) >= 3:
        try:
            mu, strength = _max_likelihood(x, n, mu, strength, cap)
            used = "ml"
        except ImportError:  # scipy absent: the moment estimate is still a sound prior
            used = "moments"
    return BetaPrior(float(mu * strength), float((1 - mu) * strength), used)


def beta_quantile(q: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quantile of Beta(a, b); scipy's inverse incomplete beta, or a normal approximation without scipy."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    try:
        from scipy.special import betaincinv
        return betaincinv(a, b, q)
    except ImportError:
        mean = a / (a + b)
        sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        return np.clip(mean + NormalDist().inv_cdf(q) * sd, 0, 1)


def shrink_rates(successes, trials, *, prior: BetaPrior | None = None, confidence: float = 0.95,
                 method: Literal["ml", "moments"] = "ml") -> pd.DataFrame:
    """Posterior (shrunk) conversion per segment: ``shrunk``, ``shrunk_low``, ``shrunk_high`` (equal-tailed Beta interval).

    The prior is fitted across the given segments unless one is passed. Hand check with prior
    Beta(2, 18) (mean 10 %, strength 20): 2 deals of 3 → (2 + 2) / (3 + 20) = 17.4 %, far below the raw
    67 %; 40 of 200 → (40 + 2) / (200 + 20) = 19.1 %, near its raw 20 %.

    >>> shrink_rates([2, 40], [3, 200], prior=BetaPrior(2, 18, "given"))["shrunk"].round(3).tolist()
    [0.174, 0.191]
    """
    x, n = _counts(successes, trials)
    prior = prior or fit_beta_prior(x, n, method=method)
    a, b = x + prior.alpha, n - x + prior.beta
    tail = (1 - confidence) / 2
    return pd.DataFrame({"shrunk": a / (a + b), "shrunk_low": beta_quantile(tail, a, b),
                         "shrunk_high": beta_quantile(1 - tail, a, b)})
