"""Report labels as data: ``addin/labels/<language>.json``, one flat {key: text} file per language.

English is the reference; every language must have exactly the same keys (``tests/test_labels.py``)
and the same ``{placeholders}`` in each text. Texts are formatted with ``str.format``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh", "ko", "id")


@lru_cache(maxsize=None)
def load(language: str) -> dict[str, str]:
    """The label table of one language (en, zh, ko, id).

    >>> load("en")["sheet.dashboard"]
    'Dashboard'
    """
    if language not in LANGUAGES:
        raise ValueError(f"language '{language}' has no labels; use one of {', '.join(LANGUAGES)}")
    text = (resources.files("addin") / "labels" / f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


class Labels:
    """Look up and format labels: ``L("dashboard.subtitle", start=..., end=...)``.

    >>> Labels("zh")("sheet.dashboard")
    '仪表盘'
    """

    def __init__(self, language: str = "en") -> None:
        self.language = language
        self.table = load(language)

    def __call__(self, key: str, **values: Any) -> str:
        return self.table[key].format(**values) if values else self.table[key]

    def column(self, name: str) -> str:
        """Header for a calc column; unknown columns (segment dimensions) keep their own name."""
        return self.table.get(f"col.{name}", name)


def all_sheet_names(key: str) -> set[str]:
    """The tab name of a report sheet in every language (a refresh finds report sheets by these)."""
    return {load(lang)[f"sheet.{key}"] for lang in LANGUAGES}
