"""Canonical columns of the three input tables and the header aliases that map onto them.

Headers are matched after folding case, spaces, underscores, hyphens and full-width forms, so
"Lead ID", "lead_id" and "ＬＥＡＤ－ＩＤ" are one name. Built-in aliases cover English, Simplified
Chinese, Korean and Indonesian and the exports of common ad platforms and CRMs; an explicit mapping
(canonical name -> the user's header) always wins. Every column that is not canonical is kept as
a segment dimension (channel, province, industry, store, …).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from .errors import InputError
from .messages import Message


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "date", "number", "id"
    required: bool
    aliases: tuple[str, ...]
    meaning: str


def fold(header: object) -> str:
    """Fold a header for matching.

    >>> fold(" Lead_ID "), fold("ＬＥＡＤ－ＩＤ"), fold("Total Conversion")
    ('leadid', 'leadid', 'totalconversion')
    """
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    return re.sub(r"[\s_\-./()（）:：]+", "", text)


_DATE = ("date", "day", "日期", "날짜", "일자", "tanggal", "tgl")
_REVENUE = ("revenue", "sales", "sales amount", "gmv", "deal value", "收入", "销售额", "营收",
            "成交金额", "金额", "매출", "매출액", "pendapatan", "omzet", "penjualan", "nilai transaksi")
#: Deal value in CRM exports (only for Deals: in Spend an "amount" is money spent).
_CLOSE_VALUE = ("close value", "closed value", "amount", "deal amount", "opportunity amount", "deal value",
                "成交额", "合同金额", "商机金额", "계약금액", "거래금액", "nilai deal", "nilai kontrak")
_GROSS_PROFIT = ("gross profit", "gross_profit", "gp", "margin amount", "毛利", "毛利润", "매출총이익",
                 "이익", "laba kotor")
_DEALS = ("deals", "deal", "orders", "purchases", "won", "approved conversion", "approved_conversion",
          "成交", "成交量", "订单", "订单数", "成交数", "계약", "계약수", "주문", "transaksi", "closing",
          "pesanan")
_CONSULTATIONS = ("consultations", "consultation", "leads", "inquiries", "enquiries", "conversions",
                  "total conversion", "total_conversion", "咨询", "咨询量", "咨询数", "询盘", "线索", "留资",
                  "상담", "상담수", "문의", "문의수", "konsultasi", "prospek", "pertanyaan")
_LEAD_ID = ("lead id", "lead_id", "leadid", "mql_id", "mql id", "inquiry id", "consultation id",
            "线索id", "咨询id", "客户id", "리드id", "상담id", "id prospek", "id konsultasi", "id lead",
            # CRM opportunity exports (one row per opportunity: its id is the consultation's)
            "opportunity id", "opportunity_id", "deal id", "deal_id", "record id", "商机id", "商机编号", "机会id",
            "기회 id", "기회id", "영업기회 id", "딜 id", "id peluang", "id opportunity", "id deal")
#: The inquiry date of a consultation (CRM exports call it the engage or created date).
_INQUIRY_DATE = _DATE + ("inquiry date", "first contact date", "first_contact_date", "created", "created at",
                         "created date", "create date", "engage date", "engaged date", "opportunity created",
                         "咨询日期", "咨询时间", "创建时间", "创建日期", "商机创建日期", "接触日期",
                         "상담일", "문의일", "생성일", "등록일", "tanggal konsultasi", "tanggal dibuat")
#: The date a deal closed (won, or lost where a status column says so).
_CLOSE_DATE = ("won date", "won_date", "close date", "closed date", "deal date", "closing date", "成交日期", "成交时间",
               "签约日期", "关闭日期", "结单日期", "계약일", "성사일", "종료일", "마감일", "tanggal closing",
               "tanggal transaksi", "tanggal tutup")
#: Won / lost / open (calc.outcomes reads the values).
_STATUS = ("status", "stage", "deal stage", "deal_stage", "opportunity stage", "pipeline stage", "outcome",
           "result", "状态", "阶段", "商机阶段", "销售阶段", "结果", "赢单状态", "상태", "단계", "영업단계",
           "결과", "tahap", "tahapan", "hasil", "status transaksi")

TABLES: dict[str, tuple[Column, ...]] = {
    "Spend": (
        Column("date", "date", False, _DATE + ("reporting starts", "report date", "day date"),
               "the day the money was spent"),
        Column("cost", "number", True,
               ("cost", "spend", "spent", "amount spent", "ad spend", "ad cost", "花费", "消费", "消耗", "广告费",
                "비용", "광고비", "지출", "biaya", "pengeluaran", "biaya iklan"),
               "money spent on ads that day"),
        Column("consultations", "number", False, _CONSULTATIONS, "inquiries counted by the ad platform"),
        Column("deals", "number", False, _DEALS, "purchases counted by the ad platform"),
        Column("revenue", "number", False, _REVENUE, "revenue counted by the ad platform"),
        Column("clicks", "number", False, ("clicks", "点击", "点击量", "클릭", "클릭수", "klik"), "clicks"),
        Column("impressions", "number", False,
               ("impressions", "views", "展现", "展现量", "曝光", "노출", "노출수", "tayangan", "impresi"),
               "impressions"),
    ),
    "Leads": (
        Column("lead_id", "id", True, _LEAD_ID, "the consultation's own id, also used in Deals"),
        Column("date", "date", True, _INQUIRY_DATE, "the day the consultation came in"),
    ),
    "Deals": (
        Column("lead_id", "id", True, _LEAD_ID, "the id of the consultation the deal came from"),
        Column("date", "date", True, _DATE + _CLOSE_DATE, "the day the deal was won (or lost)"),
        Column("revenue", "number", False, _REVENUE + _CLOSE_VALUE, "the deal's revenue"),
        Column("gross_profit", "number", False, _GROSS_PROFIT, "the deal's gross profit"),
        Column("status", "status", False, _STATUS, "won, lost or still open"),
    ),
    # A CRM opportunity export: Leads and Deals in one table (calc.dataset splits it).
    "Pipeline": (
        Column("lead_id", "id", True, _LEAD_ID, "the opportunity's own id"),
        Column("date", "date", True, _INQUIRY_DATE, "the day the opportunity (consultation) came in"),
        Column("close_date", "date", False, _CLOSE_DATE, "the day the opportunity was won or lost"),
        Column("status", "status", False, _STATUS, "won, lost or still open"),
        Column("revenue", "number", False, _REVENUE + _CLOSE_VALUE, "the deal's revenue"),
        Column("gross_profit", "number", False, _GROSS_PROFIT, "the deal's gross profit"),
    ),
}


#: A unit or currency in brackets after a header: 'Amount spent (USD)', '花费（元）', 'Biaya [IDR]'.
_UNIT = re.compile(r"\s*[(（\[][^)）\]]{1,12}[)）\]]\s*$")


def resolve_columns(table: str, headers: list[object], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Map each header to the name calc uses: canonical names via mapping and aliases, others kept.

    ``mapping`` maps a target name (canonical or any new name) to the user's header and wins over
    aliases. Returns {user header: target name}.

    >>> resolve_columns("Spend", ["Tanggal", "Biaya", "Provinsi"])
    {'Tanggal': 'date', 'Biaya': 'cost', 'Provinsi': 'Provinsi'}
    """
    mapping = dict(mapping or {})
    by_fold: dict[str, str] = {}
    for header in headers:
        key = fold(header)
        if key in by_fold:
            raise InputError(table, str(header), Message("error.header_twice", other=str(by_fold[key])),
                             fix=Message("error.header_twice.fix"))
        by_fold[key] = str(header)

    result: dict[str, str] = {str(h): str(h) for h in headers}
    taken: dict[str, str] = {}
    for target, source in mapping.items():
        header = by_fold.get(fold(source))
        if header is None:
            raise InputError(table, source, Message("error.mapped_missing", target=target),
                             fix=Message("error.mapped_missing.fix", target=target, have=", ".join(map(str, headers))))
        result[header] = target
        taken[target] = header
    unit_free = {}  # 'Amount spent (USD)' is 'amount spent' in dollars: matched without its unit
    for key, header in by_fold.items():
        unit_free.setdefault(fold(_UNIT.sub("", str(header))) or key, []).append(header)
    for column in TABLES[table]:
        if column.name in taken:
            continue
        names = {fold(a) for a in (column.name,) + column.aliases}
        found = list(dict.fromkeys(h for key in names for h in [*([by_fold[key]] if key in by_fold else []),
                                                                *unit_free.get(key, [])]
                                   if result[h] == h and h not in taken.values()))
        if len(found) > 1:  # e.g. 'Amount spent (USD)' and 'Spent': taking either one silently may be wrong
            found.sort(key=lambda h: list(by_fold.values()).index(h))
            raise InputError(table, column.name, Message("error.column_ambiguous", column=column.name,
                                                         found=", ".join(map(str, found))),
                             fix=Message("error.column_ambiguous.fix", column=column.name,
                                         mapping=f"{table.lower()}.{column.name}"))
        if found:
            result[found[0]] = column.name
            taken[column.name] = found[0]
    # A header the mapping displaced (the user said the date is in 'created', not in 'date') stays
    # as a dimension under a name that no longer claims to be canonical.
    taken_by_fold = {fold(name): header for name, header in taken.items()}
    for header, target in result.items():
        if target == header and taken_by_fold.get(fold(header), header) != header:
            result[header] = f"{header} (unmapped)"
    targets = Counter(result.values())  # a Counter: a 100,000-column header must not take n² steps
    for name, count in targets.items():
        if count > 1:
            dupes = [h for h, t in result.items() if t == name]
            raise InputError(table, name, Message("error.many_map", name=name, columns=", ".join(dupes)),
                             fix=Message("error.many_map.fix", name=name))
    return result


def missing_required(table: str, targets: set[str]) -> list[Column]:
    return [c for c in TABLES[table] if c.required and c.name not in targets]
