"""Outcome status of an opportunity: won, lost or still open, from the words CRMs and people use.

A CRM export (HubSpot, Salesforce, Zoho, a hand-kept sheet) has one row per opportunity with its stage.
Only *won* rows are deals. A *lost* row is an outcome too — the opportunity is decided and will never
convert — so it must not count as "still open" for ever; an *open* row (Engaging, Prospecting, 跟进中 …)
is neither. Values are matched after the same folding as headers (case, spaces, underscores, hyphens,
full-width forms), in English, Simplified Chinese, Korean and Indonesian and in CRM stage names.
Spellings a business uses that are not built in are added with the ``won_status`` / ``lost_status`` /
``open_status`` settings (values separated by ``|``); a value that is none of them is an input error
that lists what was found and names the setting to add it to, never a guess.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError, sheet_rows
from .messages import Message
from .schema import fold

OPEN, WON, LOST = 0, 1, 2

#: Built-in spellings of each outcome (compared after :func:`calc.schema.fold`).
WON_WORDS = (
    "won", "win", "closed won", "closedwon", "won closed", "closed-won", "success", "successful", "signed", "sold",
    "closed (won)", "deal won", "order", "ordered",
    "赢单", "成交", "已成交", "签约", "已签约", "赢", "成单", "已成单", "赢得", "成功",
    "수주", "성사", "계약", "계약완료", "계약 완료", "성공", "수주완료",
    "menang", "berhasil", "deal", "closing", "sukses", "tercapai", "terjual",
)
LOST_WORDS = (
    "lost", "lose", "closed lost", "closedlost", "lost closed", "closed (lost)", "deal lost", "failed", "fail",
    "rejected", "disqualified", "unqualified", "cancelled", "canceled", "dead", "no deal", "no decision",
    "输单", "丢单", "失败", "流失", "已流失", "输", "丢失", "无效", "已关闭未成交", "未成交", "放弃", "取消",
    "실주", "실패", "수주실패", "수주 실패", "무산", "취소", "드롭", "포기",
    "kalah", "gagal", "batal", "hilang", "ditolak", "tidak jadi",
)
OPEN_WORDS = (
    "open", "engaging", "engaged", "prospecting", "prospect", "new", "lead", "in progress", "working", "pending",
    "qualification", "qualified", "qualify", "needs analysis", "value proposition", "id decision makers",
    "perception analysis", "proposal", "proposal price quote", "quote", "quoted", "negotiation",
    "negotiation review", "contract sent", "appointment scheduled", "qualified to buy", "presentation scheduled",
    "decision maker bought in", "discovery", "demo", "follow up", "follow-up", "nurturing", "on hold",
    "跟进中", "跟进", "进行中", "洽谈中", "洽谈", "意向", "报价", "已报价", "谈判", "谈判中", "初步接触", "需求确认",
    "方案", "待跟进", "新建", "商机", "沟通中", "待定",
    "진행중", "진행", "협상", "협상중", "제안", "제안중", "상담중", "검토", "검토중", "견적", "신규", "대기",
    "proses", "dalam proses", "negosiasi", "penawaran", "prospek", "terbuka", "berjalan", "sedang berjalan",
    "tindak lanjut", "baru", "menunggu",
)

#: What each outcome is called in messages.
NAMES = {WON: "won", LOST: "lost", OPEN: "open"}


def _extra(text: str | None) -> tuple[str, ...]:
    return tuple(v for v in (text or "").split("|") if v.strip())


def vocabulary(*, won: str | None = None, lost: str | None = None, open: str | None = None) -> dict[str, int]:
    """{folded spelling: outcome code}; extra spellings (``|``-separated, from the settings) win over built-ins.

    >>> v = vocabulary(open="Demo booked")
    >>> v[fold("Closed Won")], v[fold("丢单")], v[fold("Engaging")], v[fold("demo booked")]
    (1, 2, 0, 0)
    """
    out: dict[str, int] = {}
    for words, code in ((OPEN_WORDS, OPEN), (LOST_WORDS, LOST), (WON_WORDS, WON)):
        out.update({fold(w): code for w in words})
    for text, code in ((open, OPEN), (lost, LOST), (won, WON)):
        out.update({fold(w): code for w in _extra(text)})
    return out


def classify_status(values: pd.Series, *, table: str, column: str = "status", won: str | None = None,
                    lost: str | None = None, open: str | None = None) -> np.ndarray:
    """Outcome code per row (``OPEN`` 0, ``WON`` 1, ``LOST`` 2); unknown values raise one InputError.

    Distinct values are looked up once (a million rows hold a handful of stages), then one gather.

    >>> classify_status(pd.Series(["Won", "Lost", "Engaging", "Closed Won", "수주", "kalah"]), table="Deals").tolist()
    [1, 2, 0, 1, 1, 2]
    >>> classify_status(pd.Series(["Won", "Signed off", None]), table="Deals")
    Traceback (most recent call last):
    ...
    calc.errors.InputError: Deals: column 'status': has values that are not a known won, lost or open status: 'Signed off', (blank) (rows 3, 4). Fix: add each to the won_status, lost_status or open_status setting, e.g. won_status=Signed off.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    words = vocabulary(won=won, lost=lost, open=open)
    lookup = np.array([words.get(fold(u), -1) if str(u).strip() else -1 for u in uniques] + [-1], dtype=np.int64)
    out = lookup[codes]  # code -1 (missing) takes the last entry: unknown
    unknown = out < 0
    if unknown.any():
        found = [repr(str(u).strip()) for u, code in zip(uniques, lookup) if code < 0 and str(u).strip()]
        if (codes < 0).any() or any(not str(u).strip() for u in uniques):
            found.append("(blank)")
        example = next((str(u).strip() for u, code in zip(uniques, lookup) if code < 0 and str(u).strip()), "")
        positions = values.index.to_numpy()[np.flatnonzero(unknown)[:5]]
        raise InputError(table, column, Message("error.unknown_status",
                                                found=", ".join(found[:10]) + (" …" if len(found) > 10 else "")),
                         rows=sheet_rows(positions),
                         fix=Message("error.unknown_status.fix", example=example) if example
                         else Message("error.unknown_status.fix_blank"))
    return out.astype(np.int8)
