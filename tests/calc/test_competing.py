"""Won and lost as competing outcomes: Aalen–Johansen against lifelines, and projections that respect
what is already decided (issue 19)."""
import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter

import calc
from calc.competing import aalen_johansen, time_to_outcome
from calc.synthetic import generate

from .test_outcomes import maven


def test_aalen_johansen_equals_lifelines_to_1e9():
    # continuous durations (no ties: lifelines jitters ties away, we keep them), all three outcomes
    rng = np.random.default_rng(19)
    durations = rng.exponential(40.0, 600) + 0.01
    outcomes = rng.choice([0, 1, 2], 600, p=[0.3, 0.4, 0.3])
    ours = aalen_johansen(durations, outcomes).set_index("day")
    for code, column in ((1, "won_share"), (2, "lost_share")):
        fitter = AalenJohansenFitter(calculate_variance=False).fit(durations, outcomes, event_of_interest=code)
        theirs = fitter.cumulative_density_.iloc[:, 0]
        theirs = theirs.loc[theirs.index > 0]  # lifelines adds a row at time 0
        np.testing.assert_allclose(ours.loc[theirs.index, column].to_numpy(), theirs.to_numpy(), rtol=0, atol=1e-9)
    overall = KaplanMeierFitter().fit(durations, outcomes > 0).survival_function_.iloc[:, 0]
    overall = overall.loc[overall.index > 0]
    np.testing.assert_allclose(ours.loc[overall.index, "open_share"].to_numpy(), overall.to_numpy(), atol=1e-9)
    # the three shares add up to one at every day
    np.testing.assert_allclose((ours["won_share"] + ours["lost_share"] + ours["open_share"]).to_numpy(), 1.0)


def test_ties_are_kept_as_ties():
    # hand check: four on day 1 — one wins, one loses, two stay open until day 2 when one wins:
    # day 1: F_won = 1/4, F_lost = 1/4, Ŝ = 1/2; day 2: F_won = 1/4 + 1/2 · 1/2 = 1/2
    curve = aalen_johansen([1, 1, 2, 2], [1, 2, 1, 0])
    assert curve["won_share"].tolist() == [0.25, 0.5] and curve["lost_share"].tolist() == [0.25, 0.25]


def test_bad_outcome_codes_are_refused():
    with pytest.raises(calc.InputError, match="one outcome"):
        aalen_johansen([1, 2], [1, 3])


def test_without_losses_the_won_share_is_kaplan_meier():
    s = generate(daily_spend=300.0)
    data = calc.prepare(s.spend, s.leads, s.deals)
    out = time_to_outcome(data, days=[7, 30, 90])
    np.testing.assert_allclose(out["won_share"], out["km_converted_share"], atol=1e-12)
    assert (out["lost_share"] == 0).all()


def test_maven_time_to_win_and_to_lose():
    data = calc.prepare(pipeline=maven())
    out = time_to_outcome(data, days=[30, 90, 180])
    # measured: by day 90 / 180 Aalen–Johansen says 39.7 % / 51.9 % won and 25.2 % / 30.2 % lost, while
    # Kaplan–Meier, counting the 2,473 losses as still open, says 48.0 % / 67.8 % converted
    later = out.set_index("days").loc[[90, 180]]
    assert (later["km_converted_share"] > later["won_share"] + 0.08).all()
    row = out.set_index("days").loc[180]
    assert 0.45 < row["won_share"] < 0.55 and 0.25 < row["lost_share"] < 0.35
    np.testing.assert_allclose(row[["won_share", "lost_share", "open_share"]].sum(), 1.0)
    # losing is quicker than winning in this CRM: half of the losses within 15 days, half of the wins within 59
    assert (row["median_days_to_lose"], row["median_days_to_win"]) == (15.0, 59.0)
    by_agent = time_to_outcome(data, by="sales_agent", days=[90])
    assert len(by_agent) == 30 and by_agent["loss_rate"].between(0, 1).all()


def test_maven_every_projection_lies_between_won_and_won_plus_open():
    data = calc.prepare(pipeline=maven())
    tri = calc.cohort_triangle(data, measure="conversion")
    final = tri[[c for c in tri.columns if isinstance(c, int)]].iloc[:, -1].to_numpy()
    leads = data.leads
    cohort = leads["date"].dt.to_period("M")
    won = leads["won_date"].notna().groupby(cohort).mean().to_numpy()
    lost = leads["days_to_lose"].notna().groupby(cohort).mean().to_numpy()
    assert (final >= won - 1e-12).all() and (final <= 1 - lost + 1e-12).all()
    # the cohort: 52.6 % won, 7.6 % open; the old chain ladder said 91.7 %
    october = tri["cohort"].dt.strftime("%Y-%m").tolist().index("2017-10")
    assert 0.526 <= final[october] <= 0.602
    # and the whole business: projected conversion within the same bounds
    row = calc.segment_cycle_roi(data).iloc[0]
    assert leads["won_date"].notna().mean() <= row["full_cycle_conversion"] <= \
        1 - leads["days_to_lose"].notna().mean()


def test_synthetic_business_with_losses_recovers_the_truth():
    s = generate(lost_share=0.6)
    data = calc.prepare(s.spend, s.leads, s.outcomes, settings={"as_of": str(s.as_of.date()), "gross_margin": 0.3})
    tri = calc.cohort_triangle(data, measure="converted")
    projected = tri[[c for c in tri.columns if isinstance(c, int)]].iloc[:, -1].to_numpy()
    truth = s.truth.leads.groupby(s.truth.leads["date"].dt.to_period("M"))["converts"].sum().to_numpy()
    error = projected / truth - 1
    # measured (seed 7, lost_share 0.6): +0.4 % over all 18 cohorts, every cohort within 10 % (the youngest +2 %)
    assert abs(projected.sum() / truth.sum() - 1) < 0.01
    assert np.abs(error).max() < 0.10
    # never past won + open: the known losses are respected
    leads = data.leads
    cohort = leads["date"].dt.to_period("M")
    ceiling = (1 - leads["days_to_lose"].notna()).groupby(cohort).sum().to_numpy()
    assert (projected <= ceiling + 1e-9).all()


def test_backtest_freezes_losses_too():
    s = generate(daily_spend=600.0, lost_share=0.6)
    data = calc.prepare(s.spend, s.leads, s.outcomes, settings={"as_of": str(s.as_of.date())})
    out = calc.backtest(data, as_of="2026-01-31")
    # as of 2026-01-31 the projection must not count the later losses as known: every cohort's projection is
    # at least what it had won then, and the actual deals (known later) are finite
    assert len(out) and (out["projected_deals"] >= out["observed_deals"] - 1e-9).all()


def test_diagnosis_names_the_segment_that_loses_fast_and_often():
    data = calc.prepare(pipeline=maven())
    table = calc.outcome_segments(data, by="sales_agent")
    # measured: Lajuana Vencill loses 38.4 % (1.27 × the business's 30.2 %) and half of those within 14 days (15)
    assert table.attrs["fast_losers"] == ["Lajuana Vencill"]
    row = table.set_index("sales_agent").loc["Lajuana Vencill"]
    assert round(row["loss_rate_ratio"], 2) == 1.27 and row["median_days_to_lose"] == 14.0
    findings = calc.funnel_diagnosis(data, by="sales_agent")
    fast = findings.loc[findings["finding"] == "loses_fast_and_often"]
    assert fast["segment"].tolist() == ["Lajuana Vencill"]
    assert set(fast["link"]) == {"sales and customer service"} and "loss rate 1.27×" in fast["evidence"].iloc[0]


def test_without_a_status_column_no_segment_is_called_a_fast_loser():
    s = generate(daily_spend=300.0)
    findings = calc.funnel_diagnosis(calc.prepare(s.spend, s.leads, s.deals), by="channel")
    assert "loses_fast_and_often" not in set(findings["finding"])


def test_segment_table_carries_loss_rate_and_time_to_lose_only_with_a_status():
    data = calc.prepare(pipeline=maven())
    table = calc.segment_table(data, by="sales_agent").set_index("sales_agent")
    assert table.loc["Lajuana Vencill", "loses_fast_and_often"]
    assert round(table.loc["Lajuana Vencill", "loss_rate"], 3) == 0.384 and table["median_days_to_lose"].notna().all()
    s = generate(daily_spend=300.0)
    plain = calc.segment_table(calc.prepare(s.spend, s.leads, s.deals), by="channel")
    assert "loss_rate" not in plain.columns


def test_outcome_segments_need_a_dimension():
    with pytest.raises(calc.InputError, match="by.*is empty"):
        calc.outcome_segments(calc.prepare(pipeline=maven()), by=None)
