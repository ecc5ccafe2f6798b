"""Header matching: aliases in four languages and platform exports; an explicit mapping wins."""
import pandas as pd
import pytest

import calc
from calc import InputError
from calc.schema import resolve_columns


@pytest.mark.parametrize("headers, expected", [
    (["日期", "花费", "咨询", "成交", "省份"], {"日期": "date", "花费": "cost", "咨询": "consultations", "成交": "deals"}),
    (["날짜", "비용", "상담", "지역"], {"날짜": "date", "비용": "cost", "상담": "consultations"}),
    (["Tanggal", "Biaya", "Konsultasi", "Provinsi"], {"Tanggal": "date", "Biaya": "cost", "Konsultasi": "consultations"}),
    (["消费", "Day"], {"消费": "cost", "Day": "date"}),
    # the Facebook export: Spent, Total_Conversion (inquiries), Approved_Conversion (purchases)
    (["ad_id", "Spent", "Total_Conversion", "Approved_Conversion", "Clicks", "Impressions"],
     {"Spent": "cost", "Total_Conversion": "consultations", "Approved_Conversion": "deals", "Clicks": "clicks",
      "Impressions": "impressions"}),
])
def test_spend_aliases(headers, expected):
    resolved = resolve_columns("Spend", headers)
    assert {h: t for h, t in resolved.items() if t != h} == expected


def test_case_space_and_width_insensitive():
    assert resolve_columns("Leads", [" Lead ID ", "ＤＡＴＥ"]) == {" Lead ID ": "lead_id", "ＤＡＴＥ": "date"}


def test_explicit_mapping_wins_over_aliases():
    # 'date' would match Leads.date by alias; the mapping says the inquiry date is 'created'.
    resolved = resolve_columns("Leads", ["id", "date", "created"], {"lead_id": "id", "date": "created"})
    assert resolved == {"id": "lead_id", "date": "date (unmapped)", "created": "date"}


def test_duplicate_headers_are_an_error():
    with pytest.raises(InputError, match="appears twice"):
        resolve_columns("Spend", ["date", "Date", "cost"])


def test_mapping_to_missing_header_names_the_choices():
    with pytest.raises(InputError) as err:
        resolve_columns("Spend", ["day", "cost"], {"date": "when"})
    assert err.value.table == "Spend" and "day, cost" in err.value.fix


def test_missing_required_column_lists_headers_and_fix():
    with pytest.raises(InputError) as err:
        calc.prepare(leads=pd.DataFrame({"id": [1], "when": ["2024-01-01"]}))
    message = str(err.value)
    assert message.startswith("Leads: column 'lead_id': not found (have: id, when)")
    assert "leads.lead_id=<your header>" in message
