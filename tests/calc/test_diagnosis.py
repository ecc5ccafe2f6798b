"""Funnel diagnosis rules (calc/diagnosis.py): each fires on its constructed case, stays silent on a healthy one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calc
from calc.diagnosis import DIAGNOSIS_RULES, funnel_diagnosis
from calc.settings import Settings

# channel: (consultations, converted, consultation cost); every deal brings gross profit 1,000.
# Pooled: 1,270 consultations, 97 converted (7.64 %), spend 65,100 → consultation cost 51.26;
# average segment 254 consultations.
CASES = {
    "Healthy": (300, 30, 30.0),   # 1.18× volume, 1.31× conversion, cost 0.59×, ROI 100/30 − 1 = 233 %
    "FewGood": (60, 12, 30.0),    # 0.24× volume < 0.5 and conversion 20 % = 2.6× ≥ 1 → ads and promotion
    "ManyLow": (600, 24, 30.0),   # 2.36× volume ≥ 1 and conversion 4 % = 0.52× < 0.8 → sales and service
    "Costly": (300, 30, 120.0),   # cost 120 = 2.34× > 1.2 and ROI 100/120 − 1 = −17 % < 30 % → channel
    "Tiny": (10, 1, 30.0),        # 10 < 30 consultations → not judged
}


def _business(cases=CASES, **settings) -> calc.Dataset:
    leads, deals, spend = [], [], []
    for channel, (n, won, cost) in cases.items():
        dates = pd.date_range("2024-01-01", periods=31)[np.arange(n) % 31]
        ids = [f"{channel}-{i}" for i in range(n)]
        leads.append(pd.DataFrame({"lead_id": ids, "date": dates, "channel": channel}))
        deals.append(pd.DataFrame({"lead_id": ids[:won], "date": dates[:won] + pd.Timedelta(days=10),
                                   "gross_profit": 1000.0}))
        spend.append(pd.DataFrame({"date": ["2024-01-15"], "channel": [channel], "cost": [n * cost]}))
    # as of year end every deal is long in: no projection, full-cycle = observed
    return calc.prepare(pd.concat(spend), pd.concat(leads), pd.concat(deals),
                        settings={"as_of": "2024-12-31", **settings})


@pytest.fixture(scope="module")
def findings() -> pd.DataFrame:
    return funnel_diagnosis(_business(), by="channel")


def test_each_rule_fires_on_its_constructed_case(findings):
    by_segment = findings.groupby("segment")["finding"].apply(list).to_dict()
    assert by_segment["FewGood"] == ["few_consultations_good_conversion"]
    assert by_segment["ManyLow"] == ["many_consultations_low_conversion"]
    assert by_segment["Costly"] == ["high_cost_low_roi"]
    assert by_segment["Healthy"] == ["keep_investing"]
    assert by_segment["Tiny"] == ["too_little_data"]
    # whole business: cost 51.26 vs affordable 0.0764·1000/1.3 = 58.75 (0.87×), ROI (97,000 − 65,100)/65,100 = 49 %
    assert by_segment["All"] == ["keep_investing"]
    whole = findings.set_index("segment").loc["All"]
    assert whole["cycle_roi"] == pytest.approx((97_000 - 65_100) / 65_100, rel=1e-6)
    assert whole["cost_ratio"] == pytest.approx((65_100 / 1270) / (97 / 1270 * 1000 / 1.3), rel=1e-6)


def test_findings_carry_numbers_comparisons_and_certainty(findings):
    rows = findings.set_index("segment")
    costly = rows.loc["Costly"]
    assert costly["link"] == "ad channel or strategy"
    assert costly["cost_ratio"] == pytest.approx(120 / (65_100 / 1270))
    assert costly["cycle_roi"] == pytest.approx(100 / 120 - 1)
    assert "consultation cost 2.34× the business's > 1.2 (diagnosis_high_cost_ratio)" in costly["evidence"]
    assert "cycle ROI -17%" in costly["evidence"] and "< 30% (target_roi)" in costly["evidence"]
    # even the top of its ROI band (Wilson high of 30/300 ≈ 13.9 % → 116/120 − 1) stays below target
    assert costly["certainty"] == "confident"
    many = rows.loc["ManyLow"]
    assert many["volume_ratio"] == pytest.approx(600 / 254)
    # shrunk conversion 0.58× with band 0.39–0.80: the band's top touches the 0.8 threshold, so only probable
    assert "(band 0.39–0.80) < 0.8" in many["evidence"] and many["certainty"] == "probable"
    assert rows.loc["Tiny", "certainty"] == "too little data"
    assert "10 consultations < 30" in rows.loc["Tiny", "evidence"]


def test_rules_stay_silent_on_a_healthy_business():
    # three like segments, all converting 10 % at cost 30 with ROI 233 %: only keep_investing
    healthy = {"A": (300, 30, 30.0), "B": (280, 28, 30.0), "C": (320, 32, 30.0)}
    findings = funnel_diagnosis(_business(healthy), by="channel")
    assert set(findings["finding"]) == {"keep_investing"}


def test_thresholds_come_from_settings():
    rules = {rule.name: rule for rule in DIAGNOSIS_RULES}
    for rule in rules.values():
        for condition in rule.conditions:
            assert condition.threshold in Settings.model_fields
    # lowering the 'few consultations' threshold to 0.2 silences the FewGood finding (its ratio is 0.24);
    # its ROI (20 % × 1,000 ÷ 30 − 1 = 567 %) then makes it a keep-investing case
    stricter = _business(diagnosis_low_volume_ratio=0.2)
    few = funnel_diagnosis(stricter, by="channel").set_index("segment").loc["FewGood", "finding"]
    assert few == "keep_investing"


def test_olist_origins_are_diagnosed_with_their_intervals(shared):
    leads = pd.read_csv(shared("olist", "olist_marketing_qualified_leads_dataset.csv"), dtype=str)
    deals = pd.read_csv(shared("olist", "olist_closed_deals_dataset.csv"), dtype=str)
    data = calc.prepare(leads=leads[["mql_id", "first_contact_date", "origin"]], deals=deals[["mql_id", "won_date"]])
    rows = funnel_diagnosis(data, by="origin").set_index("segment")
    # social: 1,350 consultations (1.86× the 727 average), 75 deals → 5.6 % (shrunk 5.64 %) vs 10.5 % overall (841/8,000): a sales problem,
    # and its shrunk band (0.43–0.66×) stays below 0.8 → confident
    assert rows.loc["social", "finding"] == "many_consultations_low_conversion"
    assert rows.loc["social", "certainty"] == "confident"
    assert "band 0.43–0.66" in rows.loc["social", "evidence"]
    # the empty origin: 60 consultations, 23 % → few consultations at a good conversion
    assert rows.loc["(blank)", "finding"] == "few_consultations_good_conversion"
    # no spend in Olist: the rest say ROI is unknown rather than guess, and still show their numbers
    assert "cycle ROI unknown: it needs a Spend table" in rows.loc["email", "evidence"]
    # email 15/493 = 3.0 %, shrunk to 3.42 % = 0.33× the business's 10.5 %
    assert "conversion 0.33× the business's (band 0.19–0.49)" in rows.loc["email", "evidence"]
