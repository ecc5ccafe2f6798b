"""Report labels: one JSON file per language, the same keys and placeholders everywhere."""
from __future__ import annotations

import json
import string
from importlib import resources

import pytest

from addin.report import SECTIONS
from addin.report.labels import LANGUAGES, Labels, load


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_english_key_and_no_extra_key():
    english = load("en")
    for language in LANGUAGES:
        table = load(language)
        assert set(english) - set(table) == set(), f"{language} lacks keys"
        assert set(table) - set(english) == set(), f"{language} has keys English does not"


def test_placeholders_match_and_texts_are_not_blank_or_left_in_english():
    english = load("en")
    for language in LANGUAGES:
        for key, text in load(language).items():
            assert text.strip(), (language, key)
            assert placeholders(text) == placeholders(english[key]), (language, key)
    # a translation that is the English text unchanged is a missed translation (short codes like ROI aside)
    for language in ("zh", "ko"):
        same = [k for k, v in load(language).items() if v == english[k]]
        assert same == [], (language, same)


def test_files_are_plain_json_objects_of_strings_in_utf8():
    for language in LANGUAGES:
        raw = (resources.files("addin") / "labels" / f"{language}.json").read_bytes()
        table = json.loads(raw.decode("utf-8"))
        assert isinstance(table, dict) and all(isinstance(v, str) for v in table.values())


def test_every_registered_section_has_a_tab_name_that_excel_accepts():
    for language in LANGUAGES:
        names = [Labels(language)(f"sheet.{key}") for key in SECTIONS]
        assert len(set(names)) == len(names)
        for name in names:
            assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\'")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en, zh, ko, id"):
        load("fr")
