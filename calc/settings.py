"""Business settings that every calculation reads: margins, targets, currency, the as-of date.

Defaults are chosen so that nothing is invented: without a gross margin (or a gross_profit column
in Deals) money indicators that need gross profit stay empty rather than guessed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, validation_problem
from .messages import Message


class Settings(BaseModel):
    """Settings of one workbook or one CLI run.

    >>> Settings(gross_margin=0.4).target_roi
    0.3
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gross_margin: float | None = Field(
        None, ge=0, le=1,
        description="Gross profit ÷ revenue (0–1), used where Deals has revenue but no gross_profit.")
    target_roi: float = Field(
        0.3, gt=-1,
        description="Full-cycle ROI the business wants from ads: (gross profit − spend) ÷ spend, 0.3 = 30 %.")
    currency: str | None = Field(
        None, min_length=1, max_length=8,
        description="ISO currency code of the amounts (CNY, KRW, IDR, USD …); left empty, amounts carry no code.")
    as_of: dt.date | None = Field(
        None, description="Date the data is known up to; later rows are ignored. Default: the latest date in the data.")
    ambiguous_dates: Literal["day_first", "month_first"] = Field(
        "day_first",
        description="How to read text dates such as 03-04-2024 when no value in the column settles the order.")
    decimal_mark: Literal["auto", "dot", "comma"] = Field(
        "auto",
        description="How to read numbers such as 1.500 or 1,500 when no value in the column or its table settles "
                    "whether the mark is a decimal point or comma (dot: 1,234.5; comma: 1.234,5); auto refuses them.")
    week_start: Literal["monday", "sunday"] = Field("monday", description="First day of a reporting week.")
    language: Literal["en", "zh", "ko", "id"] = Field("en", description="Language of report labels.")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of intervals.")
    min_consultations: int = Field(
        30, ge=1, description="Fewest consultations a segment needs before it is judged on its own.")
    tail_factor: float = Field(
        1.0, ge=1, le=5,
        description="Growth still expected after the projection horizon (cohort value at the horizon × this); "
                    "1.0 = none.")
    min_deals_per_factor: int = Field(
        10, ge=1,
        description="Fewest deals a segment needs at an age to use its own age-to-age factor there; "
                    "below it the pooled factor of all segments is used.")
    bornhuetter_ferguson_below: float = Field(
        1.0, ge=0, le=1,
        description="Cohorts that have developed less than this share of their expected final value are "
                    "projected by Bornhuetter–Ferguson (what older cohorts earned per consultation) instead of "
                    "scaling up their own deals so far; 1 = every cohort still developing (measured best on "
                    "rolling backtests, Olist and synthetic), 0 = chain ladder only.")
    include_truncated_cohorts: bool = Field(
        False,
        description="Let cohorts that began before the Deals export did (their early deals are missing) estimate "
                    "age-to-age factors and enter backtests; they are flagged either way.")
    budget_max_shift: float = Field(
        0.2, gt=0, le=1,
        description="Largest share of a segment's spend one budget-shift step takes away or adds (0.2 = 20 %).")
    diagnosis_low_volume_ratio: float = Field(
        0.5, gt=0,
        description="A segment has 'few consultations' below this share of the average segment's consultations.")
    diagnosis_high_volume_ratio: float = Field(
        1.0, gt=0,
        description="A segment has 'many consultations' at or above this share of the average segment's.")
    diagnosis_good_conversion_ratio: float = Field(
        1.0, gt=0,
        description="Conversion is 'good' at or above this multiple of the whole business's full-cycle conversion.")
    diagnosis_low_conversion_ratio: float = Field(
        0.8, gt=0,
        description="Conversion is 'low' below this multiple of the whole business's full-cycle conversion.")
    won_status: str | None = Field(
        None, max_length=2000,
        description="Extra status values that mean won, separated by | (e.g. Signed|Booked); added to the built-in "
                    "spellings (Won, Closed Won, 赢单, 수주, menang …).")
    lost_status: str | None = Field(
        None, max_length=2000,
        description="Extra status values that mean lost, separated by | (e.g. No budget|Went elsewhere); added to "
                    "the built-in spellings (Lost, Closed Lost, 输单, 실주, kalah …).")
    open_status: str | None = Field(
        None, max_length=2000,
        description="Extra status values that mean still open, separated by | (e.g. Demo|Quote sent); added to the "
                    "built-in spellings (Open, Engaging, Prospecting, 跟进中, 진행중, proses …).")
    diagnosis_high_loss_ratio: float = Field(
        1.2, gt=0,
        description="With a status column: a segment loses 'often' at or above this multiple of the whole "
                    "business's loss rate.")
    diagnosis_fast_loss_ratio: float = Field(
        1.0, gt=0,
        description="With a status column: a segment loses 'fast' when its median days to lose are at most this "
                    "multiple of the whole business's.")
    diagnosis_high_cost_ratio: float = Field(
        1.2, gt=0,
        description="Consultation cost is 'high' above this multiple of the whole business's consultation cost.")

    @classmethod
    def parse(cls, values: "Settings | dict[str, Any] | None") -> "Settings":
        """Settings from a model, a dict (e.g. read from a Settings sheet) or None, as one InputError if bad."""
        if isinstance(values, Settings):
            return values
        try:
            return cls.model_validate(values or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or "settings"
            known = ", ".join(cls.model_fields)
            fix = (Message("error.setting_unknown.fix", known=known) if first["type"] == "extra_forbidden"
                   else Message("error.setting.fix", name=name, description=Message(f"setting.{name}"))
                   if name in cls.model_fields else Message("error.correct_value"))
            raise InputError("Settings", name, validation_problem(first), fix=fix) from None
