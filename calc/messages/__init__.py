"""The one message catalogue: every sentence, label and code a user reads, in en, zh (zh-Hans), ko and id.

The catalogue is data: ``calc/messages/<language>.json``, one flat ``{id: text}`` object per language, English
the reference. Every language has every id, with the same named parameters (``tests/calc/test_messages.py``).
Texts use ``str.format`` fields with a *kind* that says how a value is written in that language's CLDR locale
(Babel), never by hand::

    {count:int}     whole number with the locale's grouping        1,234 · 1.234 (id)
    {change:signed} whole number with its sign                    +1,234 · -56
    {value:num}     number, up to 2 decimals                      1,234.5 · 1.234,5 (id)
    {value:ratio}   number with 2 decimals (ratios such as 2.34×)  2.34 · 2,34 (id)
    {rate:pct}      share 0–1 as a percentage, 1 decimal           12.3% · 12,3% (id)
    {rate:pct0}     share 0–1 as a whole percentage                12% 
    {cost:money}    amount, 2 decimals; with the currency symbol only when the message has a ``currency``
    {day:date}      a date in the locale's medium form            Jun 30, 2018 · 2018年6月30日 · 2018. 6. 30.
    {name}          text, or a nested :class:`Message` (rendered in the same language)
    {parts:sentences}  a list of sentences (Messages) written one after the other
    {parts:clauses}    a list of clauses joined by the language's semicolon

A list value is written as the locale's list ("a, b and c" · "a、b和c"), each item by the field's kind.
English needs singular and plural; a text may be an object of CLDR plural forms chosen by ``count``:
``{"one": "{count:int} row", "other": "{count:int} rows"}`` (zh, ko and id have one form, a plain text).

calc returns :class:`Message` objects where it used to return English strings: a ``Message`` *is* its English
text (a ``str``), so logs, tests and JSON keep working, and carries its id and parameters so that the report,
the Excel functions and the CLI render it in the user's language with :func:`render`.

Where a translation is machine-quality and how to correct one: ``docs/translations.md``.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import string
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping

LANGUAGES = ("en", "zh", "ko", "id")
#: The CLDR locale each language is written in (numbers, dates, lists).
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN", "ko": "ko_KR", "id": "id_ID"}
KINDS = ("", "int", "signed", "num", "ratio", "pct", "pct0", "money", "date", "sentences", "clauses")


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, Any]:
    """The catalogue of one language: ``{id: text or {plural form: text}}``.

    >>> catalogue("zh")["sheet.dashboard"]
    '仪表盘'
    """
    if language not in LANGUAGES:
        raise ValueError(f"language '{language}' has no messages; use one of {', '.join(LANGUAGES)}")
    # package data read once per language; the catalogue is part of calc's code, not user input
    text = (resources.files(__package__) / f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _plain(value: Any) -> Any:
    """numpy / pandas scalars as Python ones (Babel and str.format want those)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


@lru_cache(maxsize=None)
def _babel_locale(language: str):
    """The parsed Babel locale of ``language``: parsed once, not again for every number (a report writes ~3,600)."""
    from babel import Locale

    return Locale.parse(LOCALES[language])


@lru_cache(maxsize=None)
def _number_pattern(pattern: str):
    """A parsed Babel number pattern, for the same reason; Babel takes either form and gives the same text."""
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


class _Formatter(string.Formatter):
    def __init__(self, language: str, params: Mapping[str, Any]) -> None:
        super().__init__()
        self.language, self.locale, self.params = language, LOCALES[language], params
        self.numbers = _babel_locale(language)

    def format_field(self, value: Any, spec: str) -> str:
        if spec in ("sentences", "clauses"):  # one after the other (sentences: no space between them in Chinese)
            gap = text("sentence.gap" if spec == "sentences" else "clause.gap", self.language)
            return gap.join(self.one(v, "") for v in value)
        if isinstance(value, (list, tuple)):
            from babel.lists import format_list

            items = [self.format_field(v, spec) for v in value]
            return format_list(items, locale=self.locale) if items else ""
        return self.one(value, spec)

    def one(self, value: Any, kind: str) -> str:
        from babel.dates import format_date
        from babel.numbers import format_currency, format_decimal, format_percent

        if isinstance(value, Message):
            return value.render(self.language)
        if hasattr(value, "render") and callable(value.render):  # InputError, Exclusion
            return value.render(self.language)
        value = _plain(value)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if kind == "date" or isinstance(value, (dt.date, dt.datetime)):
            day = value.date() if isinstance(value, dt.datetime) else value
            return format_date(day, "medium", locale=self.locale)
        if kind == "int":
            return format_decimal(round(value), _number_pattern("#,##0"), locale=self.numbers)
        if kind == "signed":
            return format_decimal(round(value), _number_pattern("+#,##0;-#,##0"), locale=self.numbers)
        if kind == "num":
            return format_decimal(value, _number_pattern("#,##0.##"), locale=self.numbers)
        if kind == "ratio":
            return format_decimal(value, _number_pattern("#,##0.00"), locale=self.numbers)
        if kind == "pct":
            return format_percent(value, _number_pattern("#,##0.0%"), locale=self.numbers)
        if kind == "pct0":
            return format_percent(value, _number_pattern("#,##0%"), locale=self.numbers)
        if kind == "money":
            currency = self.params.get("currency")
            if currency:
                return format_currency(value, currency, locale=self.locale)
            return format_decimal(value, _number_pattern("#,##0.00"), locale=self.numbers)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value)
        return format_decimal(value, _number_pattern("#,##0.##"), locale=self.numbers)


def _plural(language: str, forms: Mapping[str, str], count: Any) -> str:
    form = _babel_locale(language).plural_form(abs(_plain(count) or 0))
    return forms.get(form, forms["other"])


def text(key: str, language: str = "en", **params: Any) -> str:
    """The catalogue text ``key`` in ``language`` with its parameters filled in.

    >>> text("error.rows", count=1, rows="4")
    'row 4'
    >>> text("error.rows", "zh", count=2, rows="4, 9")
    '第 4, 9 行'
    >>> text("exclusion.excluded", "id", table="Deals", count=1234, reason="x")
    'Deals: 1.234 baris dikecualikan, x'
    """
    template = catalogue(language).get(key)
    if template is None:
        template = catalogue("en")[key]  # a brand-new id not yet translated (the tests forbid it on main)
    if isinstance(template, dict):
        template = _plural(language, template, params.get("count", 0))
    return _Formatter(language, params).vformat(template, (), params)


class Message(str):
    """A sentence from the catalogue: its English text (it *is* that ``str``), its id and its parameters.

    >>> m = Message("notes.none")
    >>> str(m), m.key, m.render("ko")
    ('All rows were used; nothing to note.', 'notes.none', '모든 행이 사용되었습니다. 참고할 사항이 없습니다.')
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> "Message":
        self = super().__new__(cls, text(key, "en", **params))
        self.key, self.params = key, params
        return self

    def render(self, language: str = "en") -> str:
        if language == "en":  # the English text was made when the Message was (it is this str)
            return str.__str__(self)
        return text(self.key, language, **self.params)

    def __getnewargs_ex__(self):  # pickling keeps the id and parameters
        return (self.key,), self.params

    # a Message is read-only like the str it is, so a copy is the Message itself; copying through
    # __getnewargs_ex__ would format the sentence again, and pandas deep-copies a frame's attrs (notes
    # full of Messages) on every column it hands out
    def __copy__(self) -> "Message":
        return self

    def __deepcopy__(self, memo: dict) -> "Message":
        return self

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {str(self)!r})"


def render(item: Any, language: str = "en") -> str:
    """Anything calc hands to a user, in ``language``: a Message, an InputError, an Exclusion, an error raised
    with a Message, or plain text."""
    if hasattr(item, "render") and callable(item.render):
        return item.render(language)
    if isinstance(item, BaseException) and len(item.args) == 1 and isinstance(item.args[0], Message):
        return item.args[0].render(language)  # an error raised with a catalogue Message
    return str(item)


def render_all(items: Iterable[Any], language: str = "en") -> tuple[str, ...]:
    """Each item rendered, duplicates dropped, order kept."""
    return tuple(dict.fromkeys(render(i, language) for i in items))


def fields(template: Any) -> set[tuple[str, str]]:
    """The (name, kind) of every field of a catalogue text (all plural forms together)."""
    texts = template.values() if isinstance(template, dict) else [template]
    return {(name, spec or "") for t in texts for _, name, spec, _ in string.Formatter().parse(t) if name}
