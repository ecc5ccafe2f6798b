"""Report labels: the report's view of the one message catalogue (``calc/messages``).

Labels, sheet names, chart titles and the sentences calc returns all come from ``calc.messages``; this
module only binds a language and adds the report's look-ups (column headers, codes shown in tables).
"""
from __future__ import annotations

from typing import Any

from calc.filters import BLANK
from calc.messages import LANGUAGES, catalogue, render, text

__all__ = ["LANGUAGES", "Labels", "all_sheet_names", "load"]


def load(language: str) -> dict[str, Any]:
    """The catalogue of one language (en, zh, ko, id).

    >>> load("en")["sheet.dashboard"]
    'Dashboard'
    """
    return catalogue(language)


class Labels:
    """Look up and format catalogue texts in one language: ``L("dashboard.subtitle", period=...)``.

    >>> Labels("zh")("sheet.dashboard")
    '仪表盘'
    """

    def __init__(self, language: str = "en") -> None:
        self.language = language
        self.table = load(language)

    def __call__(self, key: str, **values: Any) -> str:
        return text(key, self.language, **values)

    def column(self, name: str) -> str:
        """Header for a calc column; unknown columns (segment dimensions) keep their own name."""
        return text(f"col.{name}", self.language) if f"col.{name}" in self.table else str(name)

    def code(self, column: str, value: Any) -> Any:
        """A code calc puts in a table cell (``no_clear_problem``) as words, and the segment of blank
        values (``(blank)``) in this language; other values unchanged."""
        if value == BLANK:
            return text("segment.blank", self.language)
        key = f"code.{column}.{value}"
        return text(key, self.language) if isinstance(value, str) and key in self.table else value

    def render(self, item: Any) -> str:
        """A sentence calc returned (Message, InputError, Exclusion or text) in this language; a segment
        of blank values it names (``(blank)``) is named in this language too."""
        said = render(item, self.language)
        return said.replace(BLANK, text("segment.blank", self.language)) if self.language != "en" else said

    def render_all(self, items) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.render(item) for item in items))


def all_sheet_names(key: str) -> set[str]:
    """The tab name of a report sheet in every language (a refresh finds report sheets by these)."""
    return {text(f"sheet.{key}", lang) for lang in LANGUAGES}
