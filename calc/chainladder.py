"""Chain ladder: project immature cohorts to their ultimate value, with Mack's standard error.

Formulas (``docs/methods.md``, "Cohort development and projection"; Mack 1993, *ASTIN Bulletin* 23):

* triangle C_{c,k}: cumulative value (deals, gross profit, …) of cohort c at age k; NaN = not observed;
* volume-weighted age-to-age factor f_k = Σ_c C_{c,k+1} / Σ_c C_{c,k}, summed over cohorts observed
  (and complete) at both ages;
* σ²_k = 1/(n_k − 1) Σ_c C_{c,k} (C_{c,k+1}/C_{c,k} − f_k)²; for the oldest age, where only one
  cohort is left, Mack's extrapolation σ²_{K−1} = min(σ⁴_{K−2}/σ²_{K−3}, σ²_{K−3}, σ²_{K−2});
* projection from the cohort's latest complete age a_c to the horizon H:
  Ĉ_{c,k+1} = Ĉ_{c,k} · f_k, and Ult_c = Ĉ_{c,H} · tail (``tail_factor``, an explicit setting, for
  whatever still happens after age H; 1.0 = nothing);
* Mack's mean squared error, written with the expected path Ĉ_{c,k} = Ult_c / CDF_k
  (CDF_k = tail · ∏_{j ≥ k} f_j):
  MSE(Ult_c) = Ult_c · Σ_{k=a_c}^{H−1} (σ²_k/f²_k) · CDF_k + Ult_c² · Σ_{k=a_c}^{H−1} (σ²_k/f²_k) / S_k
  (process + parameter error, S_k = Σ_c C_{c,k} over the cohorts that estimated f_k); for a total
  over cohorts the parameter errors are correlated: add Σ_k (σ²_k/f²_k)/S_k · ((Σ_c Ult_c)² − Σ_c Ult_c²)
  over the cohorts still developing at age k. Written this way a cohort that has nothing yet
  (Ult = 0) has MSE 0 instead of a division by zero.
* band: a lognormal with the projection's mean and standard error (ultimates cannot be negative),
  never below what has already been observed, at the quantile of **Student's t** on the degrees
  of freedom of the σ²_k it rests on, ν_c = Σ_{k=a_c}^{H−1} (n_k − 1) (at least 1; Satterthwaite's
  pooling of a sum of variance estimates, taken on its generous side — Satterthwaite 1946,
  *Biometrics Bulletin* 2(6); :func:`mack_dof`), and the
  normal quantile only where nothing is estimated (ν = ∞: nothing left to develop). σ² from a
  handful of cohorts is itself uncertain; the normal quantile treats it as known and made a
  nominal 90 % band hold only 47 % of Olist's actuals on rolling backtests (88 % with t). This one
  quantile (:func:`band_quantile`) serves every band: :func:`chain_ladder`, the rolling backtest
  (:mod:`calc.rolling`) and the full-cycle conversion band behind the conservative maximum
  affordable cost (:func:`calc.roi.conversion_band`, with the total's ν);
* cohorts developed less than ``Settings.bornhuetter_ferguson_below`` of their final value
  (1/CDF below it; by default 1, every cohort still developing): Bornhuetter–Ferguson (Bornhuetter &
  Ferguson 1972, "The Actuary and IBNR", *PCAS* 59), Ult = C_obs + (1 − 1/CDF) · prior, with the
  Cape Cod prior ELR · consultations, ELR = Σ_c C_c / Σ_c (consultations_c / CDF_c) (Stanard 1985,
  "A simulation test of prediction errors of loss reserve estimation techniques", *PCAS* 72; Bühlmann's
  method). Their MSE uses the same formula with the BF ultimate (an approximation). On backtests
  this halved the error of the youngest cohorts (synthetic, age 0: mean absolute error 17 % → 10 %);
  on rolling backtests it beat plain chain ladder overall on Olist and synthetic seeds 1–5, and a
  credibility blend of the two (Bühlmann–Straub weights) did not do better (``docs/methods.md``,
  "How far to trust the projections").

Ages beyond the oldest pair any cohort shows have no factor; they develop by 1.0 and only the tail
factor stands for them. Cells of a period the as-of date is still inside (a partial diagonal) are
shown as observed but neither estimate factors nor anchor projections, because a half-elapsed
month would pull the factors down.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from .errors import InputError
from .messages import Message


@dataclass(frozen=True)
class FactorFit:
    """Per age k (k → k+1): factor, σ², volume S_k, number of cohorts n_k, and whether any data backs it."""

    factor: np.ndarray
    sigma2: np.ndarray
    volume: np.ndarray
    cohorts: np.ndarray
    backed: np.ndarray


def fit_factors(cumulative: np.ndarray, usable: np.ndarray) -> FactorFit:
    """Volume-weighted factors and Mack σ² from a C × A cumulative triangle and its usable cells.

    ``cumulative`` may carry leading axes (segments × C × A, with ``usable`` C × A shared): every
    triangle is fitted at once and the fit's arrays carry the same leading axes.
    """
    both = _both(usable)
    earlier, later = np.nan_to_num(cumulative[..., :, :-1]), np.nan_to_num(cumulative[..., :, 1:])
    volume = _volume(earlier, both)
    ahead = np.where(both, later, 0.0).sum(axis=-2)
    n = np.broadcast_to(both.sum(axis=-2), volume.shape)
    safe = np.where(volume > 0, volume, 1.0)
    # nothing at age k and nothing at k+1: no development seen (1.0); something appearing out of
    # nothing cannot be expressed as a factor (NaN, the projection stays empty)
    factor = np.where(volume > 0, ahead / safe, np.where(ahead > 0, np.nan, 1.0))
    factor = np.where(n > 0, factor, 1.0)
    positive = both & (earlier > 0)
    ratio = np.where(positive, later / np.where(positive, earlier, 1.0), 0.0)
    spread = np.where(positive, earlier * (ratio - factor[..., None, :]) ** 2, 0.0).sum(axis=-2)
    n_positive = positive.sum(axis=-2)
    sigma2 = np.where(n_positive > 1, spread / np.maximum(n_positive - 1, 1), np.nan)
    sigma2 = np.where(n == 0, 0.0, sigma2)  # unbacked ages develop by exactly 1.0
    sigma2 = np.where((n > 0) & (volume == 0), 0.0, sigma2)
    for k in range(sigma2.shape[-1]):  # Mack's extrapolation where a single cohort is left
        missing = np.isnan(sigma2[..., k])
        if not missing.any() or k == 0:
            continue
        if k == 1:  # one earlier age: its σ² (NaN if it has none)
            fill = sigma2[..., 0]
        else:  # the two earlier ages a, b: min(b²/a, a, b); just one of them when only one is known
            a, b = sigma2[..., k - 2], sigma2[..., k - 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                both_known = np.where(a > 0, np.minimum(np.minimum(b * b / np.where(a > 0, a, 1.0), a), b),
                                      np.minimum(a, b))
            fill = np.where(np.isfinite(a) & np.isfinite(b), both_known, np.where(np.isfinite(b), b, a))
        sigma2[..., k] = np.where(missing, fill, sigma2[..., k])
    return FactorFit(factor=factor, sigma2=sigma2, volume=volume, cohorts=n, backed=n > 0)


def _both(usable: np.ndarray) -> np.ndarray:
    """Cells usable at age k and at k+1: the ones behind factor k."""
    return usable[..., :, :-1] & usable[..., :, 1:]


def _volume(earlier: np.ndarray, both: np.ndarray) -> np.ndarray:
    """S_k: the sum over cohorts of the values at age k behind factor k (``earlier`` without NaN)."""
    return np.where(both, earlier, 0.0).sum(axis=-2)


def merge_fits(own: FactorFit, pooled: FactorFit, use_own: np.ndarray) -> FactorFit:
    """Per age, the segment's own fit where ``use_own``, else the pooled one."""
    pick = lambda a, b: np.where(use_own, a, b)  # noqa: E731
    return FactorFit(pick(own.factor, pooled.factor), pick(own.sigma2, pooled.sigma2), pick(own.volume, pooled.volume),
                     pick(own.cohorts, pooled.cohorts), pick(own.backed, pooled.backed))


@dataclass(frozen=True)
class Projection:
    """Projected development of one triangle to age ``horizon``."""

    values: np.ndarray      # C × (H+1): observed where observed, else projected
    projected: np.ndarray   # C × (H+1) bool: the cell is a projection
    anchor: np.ndarray      # C: age the projection starts from
    latest: np.ndarray      # C: latest observed value
    ultimate: np.ndarray    # C: value at the horizon × tail
    mse: np.ndarray         # C: Mack mean squared error of the ultimate
    total_mse: float        # of the sum of ultimates (correlated parameter errors included)
    dof: np.ndarray         # C: degrees of freedom of the σ² behind each cohort's MSE (inf: none estimated)
    total_dof: float        # the same for the sum of ultimates (every age some cohort develops through)


def project(cumulative: np.ndarray, observed: np.ndarray, usable: np.ndarray, fit: FactorFit, *,
            horizon: int, tail_factor: float = 1.0, exposure: np.ndarray | None = None,
            young_share: float = 0.0, prior_from: np.ndarray | None = None) -> Projection:
    """Projection of every cohort from its latest usable age to ``horizon``.

    Chain ladder, except that cohorts which have developed less than ``young_share`` of their
    expected final value (1/CDF at their age) are projected by Bornhuetter–Ferguson with a Cape Cod
    prior when ``exposure`` (consultations per cohort) is given: Ult = C + (1 − 1/CDF) · ELR ·
    exposure, ELR = Σ_c C_c / Σ_c (exposure_c / CDF_c) over all cohorts (value per consultation at
    full development). A young cohort's few deals say little; multiplying them by a large CDF
    multiplies their noise, while BF leans on what the older cohorts show per consultation.
    ``prior_from`` (C bool) limits the cohorts the ELR is read from (e.g. without truncated ones).
    """
    if cumulative.ndim == 2:  # one triangle: the segments' computation with a single segment
        one = project(cumulative[None], observed, usable,
                      FactorFit(*(np.asarray(a)[None] for a in (fit.factor, fit.sigma2, fit.volume, fit.cohorts,
                                                                 fit.backed))),
                      horizon=horizon, tail_factor=tail_factor, young_share=young_share, prior_from=prior_from,
                      exposure=None if exposure is None else np.asarray(exposure)[None])
        return Projection(values=one.values[0], projected=one.projected[0], anchor=one.anchor, latest=one.latest[0],
                          ultimate=one.ultimate[0], mse=one.mse[0], total_mse=float(one.total_mse[0]),
                          dof=one.dof[0], total_dof=float(one.total_dof[0]))
    # segments × cohorts × ages; observed and usable cells (cohorts × ages) are shared by the segments
    n_seg, n_cohorts = cumulative.shape[:2]
    width = horizon + 1
    cum = _fit_width(cumulative, width, np.nan)
    obs = _fit_width(observed, width, False)
    use = _fit_width(usable, width, False)
    factor = _fit_width(fit.factor, horizon, 1.0)
    sigma2 = _fit_width(fit.sigma2, horizon, 0.0)
    volume = _fit_width(fit.volume, horizon, 0.0)
    ages = np.arange(width)
    last_observed = np.where(obs.any(axis=1), np.where(obs, ages, -1).max(axis=1), -1)
    last_usable = np.where(use.any(axis=1), np.where(use, ages, -1).max(axis=1), -1)
    anchor = np.where(last_usable >= 0, last_usable, last_observed)
    rows = np.arange(n_cohorts)
    start = np.nan_to_num(cum[:, rows, np.maximum(anchor, 0)]) if n_cohorts else np.zeros((n_seg, 0))
    latest = np.nan_to_num(cum[:, rows, np.maximum(last_observed, 0)]) if n_cohorts else np.zeros((n_seg, 0))
    cdf = np.ones((n_seg, width))  # cdf[k] = tail · ∏_{j ≥ k}^{H−1} f_j
    cdf[:, -1] = tail_factor
    for k in range(horizon - 1, -1, -1):
        cdf[:, k] = cdf[:, k + 1] * factor[:, k]
    path = np.zeros((n_seg, n_cohorts, width))
    # a cohort with no observed cell (its deals fall after the Deals export ends) has no chain-ladder path
    path[:, :, 0] = np.where(anchor == 0, start, np.nan)
    for k in range(1, width):  # a few dozen ages at most
        path[:, :, k] = np.where(k <= anchor, start, path[:, :, k - 1] * factor[:, k - 1, None])
    ultimate = path[:, :, -1] * tail_factor
    if exposure is not None and young_share > 0 and n_cohorts:
        with np.errstate(divide="ignore", invalid="ignore"):
            developed = 1.0 / cdf  # share of the final value expected by each age
            # nothing observed yet: 0 % developed, so Bornhuetter–Ferguson's prior is the whole projection
            share = np.where(anchor >= 0, developed[:, np.maximum(anchor, 0)], 0.0)
            known = (anchor >= 0) & np.isfinite(share)
            if prior_from is not None:
                known = known & prior_from
            base = np.where(known, exposure * share, 0.0).sum(axis=1)
            elr = np.where(base > 0, np.where(known, start, 0.0).sum(axis=1) / np.where(base > 0, base, 1.0), np.nan)
        young = np.isfinite(share) & (share < young_share) & np.isfinite(elr)[:, None]
        if young.any():
            prior = elr[:, None] * exposure
            bf_path = start[:, :, None] + (developed[:, None, :] - share[:, :, None]) * prior[:, :, None]
            path = np.where(young[:, :, None] & (ages[None, None, :] > anchor[None, :, None]), bf_path, path)
            ultimate = np.where(young, start + (1.0 - share) * prior, ultimate)
    ultimate = np.where(np.isfinite(ultimate), np.maximum(ultimate, latest * tail_factor), np.nan)
    projected = np.broadcast_to(ages[None, :] > last_observed[:, None], (n_seg, n_cohorts, width))
    # cumulative values never fall: a projection continues at least from the latest (partial) cell
    values = np.where(projected, np.maximum(path, latest[:, :, None]), cum)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(factor > 0, sigma2 / factor ** 2, np.where(sigma2 == 0, 0.0, np.nan))
        per_volume = np.where(volume > 0, weight / np.where(volume > 0, volume, 1.0),
                              np.where(weight == 0, 0.0, np.nan))
    developing = (ages[None, :horizon] >= anchor[:, None]) if horizon else np.zeros((n_cohorts, 0), bool)
    process = np.where(developing[None], (weight * cdf[:, :horizon])[:, None, :], 0.0).sum(axis=2)
    parameter = np.where(developing[None], per_volume[:, None, :], 0.0).sum(axis=2)
    ult0 = np.nan_to_num(ultimate)
    mse = ult0 * process + ult0 ** 2 * parameter
    active = np.where(developing[None], ult0[:, :, None], 0.0)
    cross = per_volume * (active.sum(axis=1) ** 2 - (active ** 2).sum(axis=1))
    cross = np.where(developing.any(axis=0)[None], cross, 0.0).sum(axis=1) if horizon else np.zeros(n_seg)
    total_mse = (mse.sum(axis=1) + cross) if n_cohorts else np.zeros(n_seg)
    n_per_age = _fit_width(np.broadcast_to(fit.cohorts, fit.factor.shape), horizon, 0)
    dof = mack_dof(n_per_age, anchor)
    total_dof = mack_dof(n_per_age, np.array([anchor.min() if n_cohorts else horizon]))[:, 0]
    return Projection(values=values, projected=np.array(projected), anchor=anchor, latest=latest, ultimate=ultimate,
                      mse=mse, total_mse=total_mse, dof=dof, total_dof=total_dof)


def mack_dof(cohorts_per_age: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Degrees of freedom ν_c = Σ_{k=a_c}^{H−1} max(n_k − 1, 0) behind a projection from age a_c
    (``anchor``, C) to the horizon H = ``cohorts_per_age.shape[-1]``: the residuals that estimated
    the σ²_k of the ages it develops through (n_k cohorts behind factor k; leading axes, e.g.
    segments or target ages, are kept). At least 1; ∞ where the cohort develops through no age
    (nothing estimated, nothing to widen).

    >>> mack_dof(np.array([3, 2, 1]), np.array([3, 2, 1, 0])).tolist()  # n − 1 = 2, 1, 0
    [inf, 1.0, 1.0, 3.0]
    """
    n = np.asarray(cohorts_per_age, dtype="float64")
    horizon = n.shape[-1]
    upto = np.concatenate([np.zeros(n.shape[:-1] + (1,)), np.cumsum(np.maximum(n - 1, 0), axis=-1)], axis=-1)
    start = np.clip(np.asarray(anchor), 0, horizon)
    behind = upto[..., horizon][..., None] - upto[..., start]
    return np.where(np.asarray(anchor)[(None,) * (n.ndim - 1)] >= horizon, np.inf, np.maximum(behind, 1.0))


def band_quantile(confidence: float, dof: np.ndarray | float = np.inf) -> np.ndarray:
    """The one two-sided quantile of every projection band: Student's t with ``dof`` degrees of
    freedom (:func:`mack_dof`), the normal one where ``dof`` is infinite.

    >>> band_quantile(0.95, np.array([4.0, np.inf])).round(3).tolist()  # t(0.975, 4); z(0.975)
    [2.776, 1.96]
    """
    from scipy.special import stdtrit  # Student's t quantile; scipy.special loads far faster than scipy.stats

    dof = np.asarray(dof, dtype="float64")
    finite = np.isfinite(dof)
    t = stdtrit(np.where(finite, np.maximum(dof, 1.0), 1.0), 0.5 + confidence / 2)
    return np.where(finite, t, NormalDist().inv_cdf(0.5 + confidence / 2))


def _fit_width(array: np.ndarray, width: int, fill) -> np.ndarray:
    """Cut or pad the age axis (last) to ``width`` columns."""
    if array.shape[-1] >= width:
        return array[..., :width]
    pad = np.full(array.shape[:-1] + (width - array.shape[-1],), fill, dtype=np.result_type(array, type(fill)))
    return np.concatenate([array, pad], axis=-1)


def lognormal_band(mean: np.ndarray, se: np.ndarray, confidence: float,
                   floor: np.ndarray | float = 0.0, dof: np.ndarray | float = np.inf
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided band of a lognormal with this mean and standard error, never below ``floor``, at
    :func:`band_quantile` (Student's t on ``dof``, :func:`mack_dof`; normal where ``dof`` is ∞).
    The standard error rests on σ² estimated from few cohorts, and treating it as known makes the
    band too narrow (Olist, rolling backtest: a nominal 90 % band held 47 % of the actuals with the
    normal quantile, 88 % with Student's t).

    >>> low, high = lognormal_band(np.array([100.0, 0.0]), np.array([10.0, 0.0]), 0.95, floor=np.array([90.0, 0.0]))
    >>> np.round(low, 1).tolist(), np.round(high, 1).tolist()
    ([90.0, 0.0], [121.0, 0.0])
    >>> low, high = lognormal_band(np.array([100.0]), np.array([10.0]), 0.95, dof=np.array([4.0]))
    >>> np.round(low, 1).tolist(), np.round(high, 1).tolist()  # t(0.975, 4) = 2.776 in place of 1.960
    ([75.4], [131.3])
    """
    z = band_quantile(confidence, dof)
    mean, se = np.asarray(mean, dtype="float64"), np.asarray(se, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.log1p(np.where(mean > 0, (se / np.where(mean > 0, mean, 1.0)) ** 2, 0.0))
        mu = np.log(np.where(mean > 0, mean, 1.0)) - s2 / 2
        low = np.where(mean > 0, np.exp(mu - z * np.sqrt(s2)), mean)
        high = np.where(mean > 0, np.exp(mu + z * np.sqrt(s2)), mean)
    return np.maximum(low, floor), np.maximum(high, floor)


def _triangle_array(triangle: pd.DataFrame) -> np.ndarray:
    if not isinstance(triangle, pd.DataFrame):
        raise InputError("triangle", None, Message("error.not_a_table", got=type(triangle).__name__),
                         fix=Message("error.triangle.fix"))
    try:
        values = triangle.to_numpy(dtype="float64")
    except (TypeError, ValueError):
        raise InputError("triangle", None, Message("error.triangle_not_numbers"),
                         fix=Message("error.triangle_not_numbers.fix")) from None
    seen = ~np.isnan(values)
    holes = np.flatnonzero((~seen[:, :-1] & seen[:, 1:]).any(axis=1)) if values.shape[1] > 1 else []
    if len(holes):
        raise InputError("triangle", None, Message("error.triangle_hole"), rows=[int(r) + 2 for r in holes],
                         fix=Message("error.triangle_hole.fix"))
    return values


def age_to_age_factors(triangle: pd.DataFrame) -> pd.DataFrame:
    """Volume-weighted age-to-age factors of a cumulative triangle (rows cohorts, columns ages, NaN unobserved).

    Hand check: f_0 = (15 + 28) / (10 + 20) = 1.4333, f_1 = 16 / 15 = 1.0667;
    σ²_0 = 10·(1.5 − 1.4333)² + 20·(1.4 − 1.4333)² = 0.0667; σ²_1 by Mack's extrapolation
    from a single earlier σ² is that σ².

    >>> tri = pd.DataFrame([[10, 15, 16], [20, 28, np.nan], [30, np.nan, np.nan]], columns=[0, 1, 2])
    >>> age_to_age_factors(tri).round(4)
         factor  sigma2  cohorts  volume
    age
    0    1.4333  0.0667        2    30.0
    1    1.0667  0.0667        1    15.0
    """
    values = _triangle_array(triangle)
    fit = fit_factors(values, ~np.isnan(values))
    return pd.DataFrame({"factor": fit.factor, "sigma2": fit.sigma2, "cohorts": fit.cohorts, "volume": fit.volume},
                        index=pd.Index(range(values.shape[1] - 1), name="age"))


def chain_ladder(triangle: pd.DataFrame, *, horizon: int | None = None, tail_factor: float = 1.0,
                 confidence: float = 0.95) -> pd.DataFrame:
    """Ultimate value of each cohort (row) of a cumulative triangle, with Mack's standard error and band.

    Columns: ``latest_age``, ``latest``, ``ultimate``, ``se``, ``low``, ``high``; ``attrs["projected"]``
    is the completed triangle (observed cells kept) and ``attrs["projected_mask"]`` marks the
    projected cells; ``attrs["total"]`` holds the total ultimate and its standard error.

    Hand check (same triangle as :func:`age_to_age_factors`): cohort 2 = 28 · 1.0667 = 29.87,
    cohort 3 = 30 · 1.4333 · 1.0667 = 45.87.

    >>> tri = pd.DataFrame([[10, 15, 16], [20, 28, np.nan], [30, np.nan, np.nan]], columns=[0, 1, 2])
    >>> chain_ladder(tri)[["latest_age", "latest", "ultimate"]].round(2)
       latest_age  latest  ultimate
    0           2    16.0     16.00
    1           1    28.0     29.87
    2           0    30.0     45.87
    """
    values = _triangle_array(triangle)
    if horizon is not None and (int(horizon) != horizon or horizon < 0):
        raise InputError("options", "horizon", Message("error.not_whole_periods", value=repr(horizon)),
                         fix=Message("error.not_whole_periods.fix"))
    if not tail_factor >= 1.0:
        raise InputError("options", "tail_factor", Message("error.below_one", value=repr(tail_factor)),
                         fix=Message("error.below_one.fix"))
    seen = ~np.isnan(values)
    h = int(horizon) if horizon is not None else values.shape[1] - 1
    fit = fit_factors(values, seen)
    proj = project(values, seen, seen, fit, horizon=h, tail_factor=tail_factor)
    se = np.sqrt(proj.mse)
    low, high = lognormal_band(proj.ultimate, se, confidence, floor=proj.latest, dof=proj.dof)
    out = pd.DataFrame({"latest_age": proj.anchor, "latest": proj.latest, "ultimate": proj.ultimate, "se": se,
                        "low": low, "high": high}, index=triangle.index)
    out.attrs["projected"] = pd.DataFrame(proj.values, index=triangle.index, columns=range(h + 1))
    out.attrs["projected_mask"] = pd.DataFrame(proj.projected, index=triangle.index, columns=range(h + 1))
    out.attrs["total"] = {"ultimate": float(np.nansum(proj.ultimate)), "se": float(np.sqrt(proj.total_mse))}
    return out


@dataclass(frozen=True)
class SegmentProjections:
    """Projections of every segment of a development for one measure (arrays S × C × (H+1), S × C, S)."""

    values: np.ndarray
    projected: np.ndarray
    latest: np.ndarray
    ultimate: np.ndarray
    mse: np.ndarray
    total_mse: np.ndarray
    pooled_ages: np.ndarray  # S × H bool: the pooled factor was used at that age
    #: S: degrees of freedom of the σ² behind total_mse (:func:`mack_dof`); inf where no σ² is estimated
    #: (e.g. :mod:`calc.competing`'s binomial error), so the band's quantile is the normal one
    total_dof: np.ndarray | float = np.inf


def project_development(dev, measure: str, *, horizon: int, tail_factor: float, min_deals: int,
                        min_consultations: int, young_share: float = 0.0,
                        estimate_from: np.ndarray | None = None) -> SegmentProjections:
    """Chain-ladder projection of each segment of a :class:`calc.cohorts.Development`.

    ``estimate_from`` (C bool, default all) are the cohorts whose cells estimate the age-to-age
    factors and the Bornhuetter–Ferguson prior; the others (truncated cohorts) are still projected.

    A segment uses its own factor at age k only when it has at least ``min_consultations``
    consultations and, at that age, at least ``min_deals`` deals behind the factor;
    otherwise the factor pooled over all segments (same measure) stands in, because a factor from
    a handful of deals is mostly noise.
    """
    cumulative = dev.cumulative(measure)
    usable = dev.complete
    fitted = usable if estimate_from is None else usable & np.asarray(estimate_from, bool)[:, None]
    n_seg, n_cohorts = cumulative.shape[:2]
    width = horizon + 1
    shape = (n_seg, n_cohorts, width)
    out = dict(values=np.full(shape, np.nan), projected=np.zeros(shape, bool), latest=np.zeros((n_seg, n_cohorts)),
               ultimate=np.zeros((n_seg, n_cohorts)), mse=np.zeros((n_seg, n_cohorts)), total_mse=np.zeros(n_seg),
               pooled_ages=np.zeros((n_seg, horizon), bool))
    if n_seg == 0 or np.isnan(dev.incremental[measure]).all():  # e.g. no gross profit recorded anywhere
        out["projected"][:] = ~_fit_width(dev.observed, width, False)[None, :, :]
        for name in ("latest", "ultimate", "mse", "total_mse"):
            out[name][:] = np.nan
        return SegmentProjections(**out)
    # the pooled triangle sums the segments but stays NaN where the as-of date has not reached
    pooled_fit = fit_factors(np.where(dev.observed, np.nansum(cumulative, axis=0), np.nan), fitted)
    pooled = FactorFit(*(np.broadcast_to(a, (n_seg,) + np.shape(a)) for a in
                         (pooled_fit.factor, pooled_fit.sigma2, pooled_fit.volume, pooled_fit.cohorts, pooled_fit.backed)))
    fit = pooled
    if n_seg > 1:  # every segment at once: its own factors where it has the deals for them
        own = fit_factors(cumulative, fitted)
        # deals behind each factor: the volume of the deals' (or converted consultations') own triangle,
        # which for those two measures is the triangle just fitted
        behind = own.volume if measure in ("deals", "converted") else \
            _volume(np.nan_to_num(dev.cumulative("deals")[..., :, :-1]), _both(fitted))
        enough = ((behind >= min_deals) & (dev.consultations.sum(axis=1) >= min_consultations)[:, None]) \
            | ~pooled_fit.backed[None, :]
        fit = merge_fits(own, pooled, enough)
    proj = project(cumulative, dev.observed, usable, fit, horizon=horizon, tail_factor=tail_factor,
                   exposure=dev.consultations, young_share=young_share, prior_from=estimate_from)
    if n_seg > 1 and horizon and n_cohorts:
        # only ages some cohort still develops through matter for the note
        developing = np.arange(horizon) >= proj.anchor.min()
        out["pooled_ages"] = ~_fit_width(enough, horizon, True) & developing[None, :]
    values, ultimate = proj.values, proj.ultimate
    if measure == "converted":  # a cohort cannot convert more consultations than it has
        cap = dev.consultations
        values, ultimate = np.minimum(values, cap[:, :, None]), np.minimum(ultimate, cap)
    out.update(values=values, projected=proj.projected, latest=proj.latest, ultimate=ultimate, mse=proj.mse,
               total_mse=proj.total_mse, total_dof=proj.total_dof)
    return SegmentProjections(**out)
