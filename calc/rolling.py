"""Rolling-origin backtest: how far to trust the cohort projections, measured on the user's own history.

A single backtest freezes the data at one date. This one freezes it at **every period end D that
leaves later truth**: it keeps only what was known at D (leads, spend and deals dated up to D),
projects every cohort with the product's method, and compares each projection with what the full
data shows. For each as-of date D, cohort c (latest complete age a at D) and target age k — from
a + 1 up to the oldest age the estimation cohorts had reached at D, wherever the full data has
age k complete — one row: ``as_of``, ``cohort``, ``age_at_as_of`` a, ``target_age`` k,
``horizon`` = k − a (periods ahead), ``observed`` (deals known at D), ``projected``, ``low`` and
``high`` (the band at level ``band_level``), ``actual``, ``plain_chain_ladder`` (volume-weighted
chain ladder without Bornhuetter–Ferguson, same cohorts) and ``truncated``-free cohorts only
(truncated cohorts, :mod:`calc.coverage`, never score unless ``include_truncated_cohorts``).

``plain_low`` / ``plain_high`` are the same band around plain chain ladder (its own Mack error);
``inside`` / ``plain_inside`` say whether the actual fell inside each.

``attrs["summary"]``: one row per horizon and one ``all`` row, for each method (``product``,
``plain_chain_ladder``, ``observed_as_final``):

* ``mape`` = Σ |projected − actual| ÷ Σ actual (volume-weighted, the backtest's per-cohort error);
* ``bias`` = (Σ projected − Σ actual) ÷ Σ actual;
* ``coverage`` = share of actuals inside [low, high] (the product's band, and plain chain ladder's
  own; reading the observed as final has none);
* ``n`` = rows compared, ``cohorts`` = distinct cohorts among them;
* on the product's rows, the **paired comparison** with plain chain ladder: ``vs_plain`` =
  MAPE(product) − MAPE(plain chain ladder), the difference of their absolute errors on the same
  rows ÷ Σ actual, and its interval ``vs_plain_low`` … ``vs_plain_high`` at ``band_level``. Rows
  of one cohort share its truth (and their as-of dates its data), so they are not independent:
  the standard error is the cluster-robust (sandwich) one of a ratio estimator with the cohorts as
  clusters, SE² = m/(m − 1) · Σ_c (d_c − D · a_c)² ÷ (Σ a)² (d_c, a_c: the cohort's summed
  differences and actuals; Cameron & Miller 2015, *J. Human Resources* 50(2), §II), and the
  interval uses Student's t on m − 1 degrees of freedom (m cohorts; Cameron & Miller §VI.C, few
  clusters). With one cohort there is no interval: one cohort cannot tell a method from chance.
  A horizon where the product's MAPE is above plain chain ladder's is named in a note, with these
  counts and the interval, and whether chance explains it (the interval holds 0).

:func:`rolling_backtest_summary` is the same summary one row per horizon, as the Excel function
``=ROLLING_BACKTEST_SUMMARY`` spills it.

**The band.** Mack's standard error of the projection (process + parameter error, formulas in
:mod:`calc.chainladder`) around the projection, as a lognormal, at ``band_level`` (default 90 %),
with Student's t quantile on the degrees of freedom of the σ² estimates it rests on
(:func:`calc.chainladder.mack_dof`; the same band as every other projection band) instead of the normal one: with the normal quantile the
nominal 90 % band held only 47 % of Olist's actuals (few cohorts, σ² barely estimated), with t 88 %;
on the synthetic business (many cohorts, t ≈ normal) 91–93 % either way.
The first as-of date is the end of the ``min_periods``-th estimation period, so that at least two
cohorts back the first age-to-age factor.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .backtest import _compared_cohorts
from .chainladder import FactorFit, fit_factors, lognormal_band, project
from .cohorts import Development, analyse_cycle, make_cycle_options, period_first_day, period_number
from .dataset import Dataset
from .errors import InputError, validation_problem
from .messages import Message
from .query import make_query

ROLLING_COLUMNS = ("as_of", "cohort", "age_at_as_of", "target_age", "horizon", "observed", "projected", "low", "high",
                   "actual", "plain_chain_ladder", "plain_low", "plain_high", "inside", "plain_inside")
METHODS = ("product", "plain_chain_ladder", "observed_as_final")
SUMMARY_COLUMNS = ("horizon", "method", "n", "cohorts", "mape", "bias", "coverage", "vs_plain", "vs_plain_low",
                   "vs_plain_high")
#: What =ROLLING_BACKTEST_SUMMARY() spills: one row per horizon and a last row over all of them.
BY_HORIZON_COLUMNS = ("horizon", "compared", "cohorts", "mape", "mape_plain_chain_ladder", "mape_observed_as_final",
                      "bias", "bias_plain_chain_ladder", "bias_observed_as_final", "band_coverage",
                      "band_coverage_plain_chain_ladder", "band_level", "mape_vs_plain", "mape_vs_plain_low",
                      "mape_vs_plain_high", "finding")


class RollingOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    band_level: float = Field(0.9, gt=0.5, lt=1)
    min_periods: int = Field(3, ge=2, le=120)


def _options(**values: Any) -> RollingOptions:
    clean = {k: v for k, v in values.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    try:
        return RollingOptions(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "options"
        fixes = {"band_level": Message("error.band_level.fix"), "min_periods": Message("error.min_periods.fix")}
        raise InputError("options", name,
                         Message("error.option_value", problem=validation_problem(first), got=repr(first.get("input"))),
                         fix=fixes.get(name, Message("error.correct_value"))) from None


def rolling_backtest(data: Dataset, *, period: Any = "month", start: Any = None, end: Any = None, filter: Any = None,
                     band_level: Any = None, min_periods: Any = None) -> pd.DataFrame:
    """Freeze the data at every period end with later truth, project, compare (see the module docstring).

    Hand check: January 10 → 15 deals (ages 0, 1), February 20 → 30, March 30 → 45, April 40 → 60;
    nothing at age 2. Frozen at the end of March (the first as-of with two cohorts behind
    f₀ = 45/30 = 1.5, and f₁ = 15/15 = 1 from January), February's 30 stay 30 at age 2 and March's
    30 deals project to 45 at ages 1 and 2 — which is what happened (chain ladder alone here, so the
    product's projection and plain chain ladder agree).

    >>> from calc import prepare
    >>> months = {"2024-01": (10, 5), "2024-02": (20, 10), "2024-03": (30, 15), "2024-04": (40, 20)}
    >>> lead_rows, deal_rows = [], []
    >>> for month, (first, later) in months.items():
    ...     for i in range(first + later + 50):
    ...         lead_rows.append((f"{month}-{i}", f"{month}-02"))
    ...         if i < first:
    ...             deal_rows.append((f"{month}-{i}", f"{month}-20"))
    ...         elif i < first + later:
    ...             deal_rows.append((f"{month}-{i}", str(pd.Timestamp(month + "-02") + pd.DateOffset(months=1))[:10]))
    >>> data = prepare(leads=pd.DataFrame(lead_rows, columns=["lead_id", "date"]),
    ...                deals=pd.DataFrame(deal_rows, columns=["lead_id", "date"]), settings={"as_of": "2024-05-31",
    ...                                                                              "bornhuetter_ferguson_below": 0})
    >>> out = rolling_backtest(data)
    >>> out.loc[out["as_of"] == "2024-03-31", ["cohort", "target_age", "horizon", "projected", "actual",
    ...                                         "plain_chain_ladder"]]
          cohort  target_age  horizon  projected  actual  plain_chain_ladder
    0 2024-02-01           2        1       30.0    30.0                30.0
    1 2024-03-01           1        1       45.0    45.0                45.0
    2 2024-03-01           2        2       45.0    45.0                45.0
    """
    options = make_cycle_options(period=period)
    rolling = _options(band_level=band_level, min_periods=min_periods)
    query = make_query(start=start, end=end, filter=filter)
    settings = data.settings
    if data.as_of is None or data.deals is None:
        raise InputError("Deals", None, Message("error.backtest_needs_deals"), fix=Message("error.backtest_needs_deals.fix"))
    # the same analysis the cohort triangle and cycle ROI ask for: made once per dataset, shared (calc.memo)
    full = analyse_cycle(data, query, period=options.period, horizon_periods=None)
    fdev = full.development
    truth = np.where(fdev.complete, fdev.cumulative("deals")[0], np.nan)
    scored = _compared_cohorts(fdev, settings)
    notes = list(full.notes)
    rows = [_rows_at(data, frozen, fdev, truth, rolling.band_level)
            for frozen in _as_of_dates(fdev, scored, options.period, settings.week_start, rolling.min_periods)]
    out = _frame(rows)[list(ROLLING_COLUMNS)]
    out.attrs["summary"] = summarise(out, level=rolling.band_level)
    out.attrs["band_level"] = rolling.band_level
    out.attrs["period"] = options.period
    if not rows:
        notes.append(Message(f"note.too_little_history.{options.period}", count=rolling.min_periods))
    notes += _worse_notes(out.attrs["summary"], options.period, rolling.band_level)
    out.attrs["notes"] = list(dict.fromkeys(notes))
    out.attrs["exclusions"] = [str(e) for e in data.exclusions]
    return out


def _frame(rows: list[dict[str, Any] | None]) -> pd.DataFrame:
    """The rows of every as-of date (columns, None for a date without any) as one table, built once
    instead of a frame per date and a concat (~35 dates at 1M: a fifth of the backtest's time)."""
    if not rows:
        return pd.DataFrame(columns=list(ROLLING_COLUMNS))
    if any(r is None for r in rows):  # an empty table's untyped columns make every column object, as they did
        return pd.concat([pd.DataFrame(r) if r is not None else pd.DataFrame(columns=list(ROLLING_COLUMNS))
                          for r in rows], ignore_index=True)
    columns = {name: np.concatenate([np.asarray(r[name]) for r in rows]) for name in rows[0] if name != "as_of"}
    as_of = np.concatenate([np.full(len(r["target_age"]), r["as_of"].to_datetime64()) for r in rows])
    return pd.DataFrame({"as_of": as_of, **columns})


def _as_of_dates(fdev, scored: np.ndarray, period: str, week_start: str, min_periods: int) -> list[pd.Timestamp]:
    """Period ends from the ``min_periods``-th scored cohort's to the one before the last complete period."""
    cohorts = fdev.cohorts[scored]
    if len(cohorts) < min_periods:
        return []
    first = int(period_number(pd.Series([cohorts[min_periods - 1]]), period, week_start)[0])
    complete_any = np.flatnonzero(fdev.complete.any(axis=0))
    if not len(complete_any):
        return []
    # the last complete period: the latest cell of the first cohort that is complete
    base = int(period_number(pd.Series([fdev.cohorts[0]]), period, week_start)[0])
    last_complete = base + int(np.flatnonzero(fdev.complete[0]).max())
    numbers = np.arange(first, last_complete)  # each as-of leaves at least its next period as truth
    return [d - pd.Timedelta(days=1) for d in period_first_day(numbers + 1, period, week_start)]


def frozen_development(full: Development, frozen: pd.Timestamp) -> Development:
    """The development as it stood at the end of a period (``frozen`` is a period's last day), read off the
    full one instead of aggregated again: at a period end the cells it had observed are exactly those
    with cohort + age ≤ that period, and each holds what the full data holds (all its deals were won
    by then); later cohorts had not begun. One aggregation serves every as-of date."""
    n = int((full.cohorts <= frozen).sum())
    ages = np.arange(full.observed.shape[1])
    # ages reached by each cohort: periods from it to the frozen one (leads may have stopped before it)
    periods = full.observed[:n].sum(axis=1) - 1  # full's latest age per cohort, at its own as-of period
    latest = periods - (periods[0] - _periods_between(full.cohorts[0], frozen, full.period)) if n else periods
    observed = ages[None, :] <= latest[:, None]
    truncated = full.truncated[:n] if full.truncated is not None else None
    return replace(full, segments=full.segments, cohorts=full.cohorts[:n], consultations=full.consultations[:, :n],
                   spend=full.spend[:, :n], incremental={m: v[:, :n] for m, v in full.incremental.items()},
                   observed=observed, complete=observed.copy(), as_of=frozen, notes=(), truncated=truncated)


def project_every_age(dev: Development, horizon: int, *, young_share: float,
                      estimate_from: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deals projected to every age k = 1 … ``horizon``, their Mack MSE and the degrees of freedom of
    their band (:func:`calc.chainladder.mack_dof`), as K × C arrays, in one pass.

    Equal to :func:`calc.chainladder.project_development` with ``horizon=k`` for each k (one segment,
    tail 1): the K targets are stacked like segments, target k developing by the fitted factors below
    age k and by exactly 1 (σ² 0) from there, and its triangle held flat beyond age k, so older
    cohorts show — and lend Bornhuetter–Ferguson's prior — their value at age k. One call instead of
    K keeps a rolling backtest over a long history quick.
    """
    return _every_age(dev, horizon, (young_share,), estimate_from)[0]


def _every_age(dev: Development, horizon: int, young_shares: tuple[float, ...], estimate_from: np.ndarray | None
               ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`project_every_age` for each of ``young_shares``: the factors and triangles are made once."""
    cum = dev.cumulative("deals")[0]
    n_cohorts, width = cum.shape
    fitted = dev.complete if estimate_from is None else dev.complete & np.asarray(estimate_from, bool)[:, None]
    fit = fit_factors(np.where(dev.observed, cum, np.nan), fitted)
    targets = np.arange(1, horizon + 1)
    below = np.arange(horizon)[None, :] < targets[:, None]  # K × H: age j develops toward target k
    pad = lambda a, fill: np.resize(np.r_[a[:horizon], np.full(max(horizon - len(a), 0), fill)], horizon)  # noqa: E731
    factor, sigma2 = pad(fit.factor, 1.0), pad(fit.sigma2, 0.0)
    volume, cohorts, backed = pad(fit.volume, 0.0), pad(fit.cohorts, 0), pad(fit.backed, False).astype(bool)
    stacked = FactorFit(factor=np.where(below, factor, 1.0), sigma2=np.where(below, sigma2, 0.0),
                        volume=np.where(below, volume, 0.0), cohorts=np.where(below, cohorts, 0),
                        backed=below & backed)
    ages = np.minimum(np.arange(width)[None, :], targets[:, None])  # K × A: beyond age k, the value at k
    held = np.where(dev.observed[None], cum[np.arange(n_cohorts)[None, :, None], ages[:, None, :]], np.nan)
    exposure = np.broadcast_to(dev.consultations[0], (horizon, n_cohorts))
    out = []
    for young_share in young_shares:
        proj = project(held, dev.observed, dev.complete, stacked, horizon=horizon, tail_factor=1.0, exposure=exposure,
                       young_share=young_share, prior_from=estimate_from)
        out.append((proj.ultimate, proj.mse, proj.dof))
    return out


def _periods_between(first: pd.Timestamp, last: pd.Timestamp, period: str) -> int:
    """Calendar periods from the one holding ``first`` to the one holding ``last`` (the cohort's age then)."""
    if period == "month":
        return (last.year - first.year) * 12 + last.month - first.month
    return int((last.normalize() - first.normalize()).days // 7)


def _rows_at(data: Dataset, frozen: pd.Timestamp, fdev: Development, truth: np.ndarray,
             band_level: float) -> dict[str, Any] | None:
    """The compared rows of one as-of date as columns (``as_of`` a single date); None when there are none."""
    settings = data.settings
    dev = frozen_development(fdev, frozen)
    use = _compared_cohorts(dev, settings)
    estimate_from = None if use.all() else use
    reached = dev.complete & use[:, None]
    horizon = int(np.flatnonzero(reached.any(axis=0)).max()) if reached.any() else 0
    anchor = np.where(dev.complete.any(axis=1), dev.complete.shape[1] - 1 - np.argmax(dev.complete[:, ::-1], axis=1), -1)
    position = np.arange(len(dev.cohorts))  # the frozen cohorts are the full development's first ones
    observed = np.nan_to_num(np.where(anchor >= 0, dev.cumulative("deals")[0][np.arange(len(anchor)),
                                                                               np.maximum(anchor, 0)], 0.0))
    # the product (Bornhuetter–Ferguson for young cohorts) and plain chain ladder, from the same factors
    (product_values, product_mse, product_dof), (plain_values, plain_mse, plain_dof) = _every_age(
        dev, horizon, (settings.bornhuetter_ferguson_below, 0.0), estimate_from)
    # every target age k = 1 … horizon at once (K × C): where truth exists and the cohort still develops
    targets = np.arange(1, horizon + 1)[:, None]
    inside_truth = targets < truth.shape[1]
    actual = np.where((position >= 0)[None, :] & inside_truth,
                      truth[np.maximum(position, 0)[None, :], np.minimum(targets, truth.shape[1] - 1)], np.nan)
    wanted = (use & (anchor >= 0) & (position >= 0))[None, :] & (anchor[None, :] < targets) & np.isfinite(actual)
    if not wanted.any():
        return None
    # both methods' bands in one call (every step of a band is element by element): one Student's t quantile call
    both_low, both_high = lognormal_band(np.concatenate([product_values, plain_values]),
                                         np.sqrt(np.concatenate([product_mse, plain_mse])), band_level,
                                         floor=observed[None, :], dof=np.concatenate([product_dof, plain_dof]))
    (low, plain_low), (high, plain_high) = np.split(both_low, 2), np.split(both_high, 2)
    k_i, c_i = np.nonzero(wanted)
    order = np.lexsort((k_i, c_i))  # by cohort, then target age
    k_i, c_i = k_i[order], c_i[order]
    pick = lambda array: array[k_i, c_i]  # noqa: E731
    truth_at, band = pick(actual), {name: pick(v) for name, v in
                                    (("low", low), ("high", high), ("plain_low", plain_low), ("plain_high", plain_high))}
    return {
        "as_of": frozen, "cohort": dev.cohorts[c_i], "age_at_as_of": anchor[c_i], "target_age": k_i + 1,
        "horizon": k_i + 1 - anchor[c_i], "observed": observed[c_i], "projected": pick(product_values),
        "low": band["low"], "high": band["high"], "actual": truth_at, "plain_chain_ladder": pick(plain_values),
        "plain_low": band["plain_low"], "plain_high": band["plain_high"],
        "inside": (truth_at >= band["low"] - 1e-9) & (truth_at <= band["high"] + 1e-9),
        "plain_inside": (truth_at >= band["plain_low"] - 1e-9) & (truth_at <= band["plain_high"] + 1e-9)}


def summarise(rows: pd.DataFrame, *, level: float = 0.9) -> pd.DataFrame:
    """MAPE, bias, band coverage and the paired comparison with plain chain ladder, by horizon and over all
    rows, for each method (see the module docstring).

    Hand check of the paired comparison: cohorts A (actual 100; the product misses by 2, plain chain
    ladder by 6) and B (actual 100; misses 4 and 4): D = (−4 + 0) ÷ 200 = −2 %; cluster residuals
    d_c − D·a_c = −4 + 2 = −2 and 0 + 2 = 2, SE = √(2/1 · 8) ÷ 200 = 2 %; t(0.95, 1) = 6.314 gives
    −2 % ± 12.6 %.

    >>> rows = pd.DataFrame({"cohort": ["A", "B"], "horizon": [1, 1], "actual": [100.0, 100.0],
    ...                      "projected": [102.0, 96.0], "plain_chain_ladder": [106.0, 104.0], "observed": [90.0, 90.0],
    ...                      "inside": [True, False], "plain_inside": [True, True]})
    >>> s = summarise(rows).set_index(["horizon", "method"])
    >>> s.loc[(1, "product"), ["n", "cohorts", "mape", "coverage", "vs_plain", "vs_plain_low", "vs_plain_high"]].round(4).tolist()
    [2.0, 2.0, 0.03, 0.5, -0.02, -0.1463, 0.1063]
    """
    from .chainladder import band_quantile

    if not len(rows):
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    actual = rows["actual"].to_numpy(float)
    columns = {"a": actual, "horizon": rows["horizon"].to_numpy(), "cohort": rows["cohort"].to_numpy()}
    for method, column, inside in zip(METHODS, ("projected", "plain_chain_ladder", "observed"),
                                      ("inside", "plain_inside", None)):
        guess = rows[column].to_numpy(float)
        columns[f"e_{method}"], columns[f"g_{method}"] = np.abs(guess - actual), guess
        columns[f"in_{method}"] = rows[inside].to_numpy(float) if inside else np.nan
    columns["d"] = columns["e_product"] - columns["e_plain_chain_ladder"]
    frame = pd.DataFrame(columns)
    # every horizon and "all" at once: the all rows are the same rows under one more label
    both = pd.concat([frame.assign(horizon="all"), frame], ignore_index=True)
    both["horizon"] = both["horizon"].astype(object)
    order = ["all"] + sorted(int(h) for h in frame["horizon"].unique())
    sums = both.groupby("horizon", sort=False).agg(
        n=("a", "size"), cohorts=("cohort", "nunique"), a=("a", "sum"), d=("d", "sum"),
        **{f"{k}_{m}": (f"{k}_{m}", "sum" if k != "in" else "mean") for m in METHODS for k in ("e", "g", "in")}
    ).reindex(order)
    total = sums["a"].to_numpy()
    safe = np.where(total > 0, total, 1.0)
    # paired comparison, cohorts as clusters (see the module docstring)
    diff = np.where(total > 0, sums["d"].to_numpy() / safe, np.nan)
    per_cohort = both.groupby(["horizon", "cohort"], sort=False)[["d", "a"]].sum().reset_index()
    per_cohort["r2"] = (per_cohort["d"] - per_cohort["horizon"].map(dict(zip(order, diff))) * per_cohort["a"]) ** 2
    spread = per_cohort.groupby("horizon", sort=False)["r2"].sum().reindex(order).to_numpy()
    m = sums["cohorts"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(m / (m - 1) * spread) / safe
    half = np.where(m > 1, band_quantile(level, np.where(m > 1, m - 1, 1.0)) * se, np.nan)
    records = []
    for i, label in enumerate(order):
        for method in METHODS:
            records.append({
                "horizon": label, "method": method, "n": int(sums["n"].iloc[i]), "cohorts": int(m[i]),
                "mape": sums[f"e_{method}"].iloc[i] / total[i] if total[i] > 0 else np.nan,
                "bias": (sums[f"g_{method}"].iloc[i] - total[i]) / total[i] if total[i] > 0 else np.nan,
                "coverage": sums[f"in_{method}"].iloc[i],
                **({"vs_plain": diff[i], "vs_plain_low": diff[i] - half[i], "vs_plain_high": diff[i] + half[i]}
                   if method == "product" else {})})
    return pd.DataFrame(records, columns=list(SUMMARY_COLUMNS))


def _worse_notes(summary: pd.DataFrame, period: str, level: float) -> list[Message]:
    """A note for each horizon where the product's MAPE is above plain chain ladder's: counts, the paired
    difference and its interval, and whether chance explains it."""
    product = summary.loc[(summary["method"] == "product") & (summary["horizon"] != "all")].set_index("horizon")
    plain = summary.loc[(summary["method"] == "plain_chain_ladder") & (summary["horizon"] != "all")].set_index("horizon")
    notes = []
    for horizon, row in product.iterrows():  # a few dozen horizons at most
        if not row["mape"] > plain.loc[horizon, "mape"]:
            continue
        common = dict(horizon=int(horizon), mape=row["mape"], plain=plain.loc[horizon, "mape"], count=int(row["n"]),
                      cohorts=int(row["cohorts"]), difference=row["vs_plain"])
        if not np.isfinite(row["vs_plain_low"]):
            notes.append(Message(f"note.rolling_worse_one_cohort.{period}", **common))
        else:
            chance = "chance" if row["vs_plain_low"] <= 0 else "real"
            notes.append(Message(f"note.rolling_worse_{chance}.{period}", **common, level=level,
                                 low=row["vs_plain_low"], high=row["vs_plain_high"]))
    return notes


def rolling_backtest_summary(data: Dataset, *, period: Any = "month", start: Any = None, end: Any = None,
                             filter: Any = None, band_level: Any = None, min_periods: Any = None) -> pd.DataFrame:
    """How far to trust the projections, one row per horizon (periods ahead) and a last row over all of them:
    the summary of :func:`rolling_backtest` as ``=ROLLING_BACKTEST_SUMMARY`` spills it.

    Columns: ``horizon`` (the last row's is the label "all"), ``compared`` (rows compared), ``cohorts``;
    ``mape``, ``bias`` and ``band_coverage`` of the product's projection, each beside plain chain ladder's
    (``…_plain_chain_ladder``) and reading the observed as final (``…_observed_as_final``; it has no
    band); ``band_level`` (the bands' level, e.g. 0.9); the paired comparison ``mape_vs_plain`` with its
    interval ``mape_vs_plain_low`` … ``_high`` (at the band level; empty with one cohort) and ``finding``,
    a sentence: better than plain chain ladder, or worse and whether chance explains it. The notes
    (``attrs["notes"]``) are the rolling backtest's.

    >>> from calc import prepare, synthetic
    >>> s = synthetic.generate(seed=3, daily_spend=600.0)
    >>> table = rolling_backtest_summary(prepare(s.spend, s.leads, s.deals_all))
    >>> last = table.iloc[-1]
    >>> str(last["horizon"]), float(last["band_level"]), bool(last["mape"] < last["mape_plain_chain_ladder"])
    ('all', 0.9, True)
    """
    return by_horizon(rolling_backtest(data, period=period, start=start, end=end, filter=filter,
                                       band_level=band_level, min_periods=min_periods))


def by_horizon(result: pd.DataFrame) -> pd.DataFrame:
    """:func:`rolling_backtest_summary`'s table from a :func:`rolling_backtest` result already made."""
    summary, level = result.attrs["summary"], result.attrs["band_level"]
    if summary.empty:
        out = pd.DataFrame(columns=list(BY_HORIZON_COLUMNS))
    else:
        by = {method: part.set_index("horizon") for method, part in summary.groupby("method", sort=False)}
        horizons = [h for h in by["product"].index if h != "all"] + ["all"]
        product, plain, observed = (by[m].reindex(horizons) for m in METHODS)
        out = pd.DataFrame({
            "horizon": pd.Series([h if h != "all" else Message("rolling.all_horizons") for h in horizons], dtype=object),
            "compared": product["n"].to_numpy(), "cohorts": product["cohorts"].to_numpy(),
            "mape": product["mape"].to_numpy(), "mape_plain_chain_ladder": plain["mape"].to_numpy(),
            "mape_observed_as_final": observed["mape"].to_numpy(),
            "bias": product["bias"].to_numpy(), "bias_plain_chain_ladder": plain["bias"].to_numpy(),
            "bias_observed_as_final": observed["bias"].to_numpy(),
            "band_coverage": product["coverage"].to_numpy(), "band_coverage_plain_chain_ladder": plain["coverage"].to_numpy(),
            "band_level": level, "mape_vs_plain": product["vs_plain"].to_numpy(),
            "mape_vs_plain_low": product["vs_plain_low"].to_numpy(),
            "mape_vs_plain_high": product["vs_plain_high"].to_numpy(),
            # sentences as object columns: pandas 3 would make str of them and lose their other languages
            "finding": pd.Series([_finding(p, q, low) for p, q, low in
                                  zip(product["mape"], plain["mape"], product["vs_plain_low"])], dtype=object)},
            columns=list(BY_HORIZON_COLUMNS))
    out.attrs["notes"] = result.attrs["notes"]
    out.attrs["exclusions"] = result.attrs["exclusions"]
    out.attrs["band_level"] = level
    return out


def _finding(mape: float, plain: float, low: float) -> Message:
    if not mape > plain:
        return Message("rolling.finding.better")
    if not np.isfinite(low):
        return Message("rolling.finding.worse_one_cohort")
    return Message("rolling.finding.worse_chance" if low <= 0 else "rolling.finding.worse_real")
