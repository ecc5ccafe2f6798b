"""The one message catalogue: every id in every language, the same parameters, locale formatting by Babel."""
from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources

import pytest
from babel import Locale

from calc import Exclusion, InputError
from calc.messages import KINDS, LANGUAGES, LOCALES, Message, catalogue, fields, render, text


def test_every_language_has_every_english_id_and_no_other():
    english = catalogue("en")
    for language in LANGUAGES:
        table = catalogue(language)
        assert set(english) - set(table) == set(), f"{language} lacks ids"
        assert set(table) - set(english) == set(), f"{language} has ids English does not"


def test_every_text_has_the_same_parameters_and_kinds_as_english_and_a_known_kind():
    english = catalogue("en")
    for language in LANGUAGES:
        for key, template in catalogue(language).items():
            texts = template.values() if isinstance(template, dict) else [template]
            assert all(isinstance(t, str) and (t.strip() or key == "sentence.gap") for t in texts), (language, key)
            assert fields(template) == fields(english[key]), (language, key)
            assert {kind for _, kind in fields(template)} <= set(KINDS), (language, key)


def test_plural_texts_have_every_form_the_locale_needs():
    # the form is chosen by the caller's ``count`` parameter (which a text need not show)
    for language in LANGUAGES:
        needed = Locale.parse(LOCALES[language]).plural_form.tags | {"other"}
        for key, template in catalogue(language).items():
            if isinstance(template, dict):
                assert set(template) == needed, (language, key)


def test_zh_and_ko_translate_every_text_that_has_words():
    # a translation equal to the English is a missed one; texts that are only fields and punctuation are exempt
    english = catalogue("en")
    for language in ("zh", "ko"):
        same = [k for k, v in catalogue(language).items()
                if v == english[k] and any(ch.isalpha() for ch in re.sub(r"\{[^}]*\}", "", json.dumps(v, ensure_ascii=False)))]
        assert [k for k in same if k not in ALLOWED_SAME] == [], (language, same)


#: texts that are the same in every language (punctuation, "ROI", "XmR", the product name)
ALLOWED_SAME = {"sentence.gap", "stability.verdict", "test.formats", "error.column", "error.separator", "error.full_stop", "error.rows_in_brackets", "error.notes", "workbook.status"}


def test_files_are_plain_json_objects_in_utf8():
    for language in LANGUAGES:
        raw = (resources.files("calc.messages") / f"{language}.json").read_bytes()
        table = json.loads(raw.decode("utf-8"))
        assert isinstance(table, dict)


def test_numbers_percent_dates_and_money_follow_the_locale():
    # CLDR: id groups with '.' and writes decimals with ','; zh writes dates 2018年6月30日
    assert text("test.formats", "en", n=1234, x=0.123, day=dt.date(2018, 6, 30), cost=1234.5) == \
        "1,234 · 12.3% · Jun 30, 2018 · 1,234.50"
    assert text("test.formats", "id", n=1234, x=0.123, day=dt.date(2018, 6, 30), cost=1234.5) == \
        "1.234 · 12,3% · 30 Jun 2018 · 1.234,50"
    assert text("test.formats", "zh", n=1234, x=0.123, day=dt.date(2018, 6, 30), cost=1234.5) == \
        "1,234 · 12.3% · 2018年6月30日 · 1,234.50"
    # a currency symbol only when the message is given a currency
    assert text("test.formats", "en", n=1, x=0, day=dt.date(2018, 1, 1), cost=5, currency="USD").endswith("$5.00")


def test_a_message_is_its_english_text_and_renders_in_any_language():
    m = Message("notes.none")
    assert m == "All rows were used; nothing to note." and m.key == "notes.none"
    assert render(m, "zh") == catalogue("zh")["notes.none"]
    assert render("plain text", "ko") == "plain text"


def test_input_error_and_exclusion_render_their_frame_and_catalogue_parts_in_the_language():
    exc = InputError("Leads", "date", Message("notes.none"), rows=[4, 9], fix=Message("notes.none"))
    assert str(exc).startswith("Leads: column 'date': All rows were used")
    zh = exc.render("zh")
    assert zh.startswith("Leads：列“date”：") and "第 4, 9 行" in zh and "修正方法" in zh
    # English-only problem text (not yet in the catalogue) still gets a translated frame
    assert InputError("Spend", None, "x", fix="y").render("ko") == "Spend: x. 해결 방법: y."
    ex = Exclusion("Deals", Message("notes.none"), 2, [5, 6])
    assert str(ex) == "Deals: 2 rows excluded, All rows were used; nothing to note. (rows 5, 6)."
    assert ex.render("id").startswith("Deals: 2 baris dikecualikan")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en, zh, ko, id"):
        catalogue("fr")


def test_calc_writes_no_sentence_outside_the_catalogue():
    # every problem, fix, note and exclusion reason calc raises or returns is a catalogue Message, never a
    # literal English text (an f-string or a plain string in the call)
    import ast
    from pathlib import Path

    import calc

    literal = (ast.Constant, ast.JoinedStr)
    found = []
    for path in Path(calc.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            texts = []
            if name == "InputError":
                texts = node.args[2:3] + [k.value for k in node.keywords if k.arg == "fix"]
            elif name == "Exclusion":
                texts = node.args[1:2] + node.args[4:5] + [k.value for k in node.keywords if k.arg in ("reason", "fix")]
            elif name == "exclude":  # the collector's exclude(frame, mask, table, reason id, fix): both Messages
                texts = node.args[4:5] + [k.value for k in node.keywords if k.arg == "fix"]
                texts += [r for r in node.args[3:4] if isinstance(r, ast.Constant) and not _exclusion_id(r.value)]
            elif name == "append" and getattr(node.func.value, "id", getattr(node.func.value, "attr", "")).endswith("notes"):
                texts = node.args[:1]
            for text in texts:
                if isinstance(text, literal) and not (isinstance(text, ast.Constant) and not text.value):
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


def _exclusion_id(reason) -> bool:
    """A reason given to the collector's exclude() as a catalogue id (``exclusion.<id>`` in every language)."""
    return isinstance(reason, str) and f"exclusion.{reason}" in catalogue("en")


def test_hostile_input_refusals_and_outcome_notes_render_without_english():
    # the hostile-input checks and the won/lost notes were English-only until they moved into the catalogue:
    # rendered in zh/ko they keep only the table, column, the user's own values and setting names
    import pandas as pd

    import calc
    from calc.parsing import parse_numbers

    refusals = []
    for values in (["1.500", "2.000"], ["1e308", "5"], ["15%", "5"], ["twelve", "5"]):
        with pytest.raises(InputError) as caught:
            parse_numbers(pd.Series(values), table="Spend", column="cost", percent=False)
        refusals.append(caught.value)
    with pytest.raises(InputError) as caught:
        calc.prepare(spend=pd.DataFrame({"date": ["2024-03-01"], "Amount spent (USD)": [1.0], "Spent": [2.0]}))
    refusals.append(caught.value)
    leads = pd.DataFrame({"lead_id": ["a", "b"], "date": ["2024-01-01", "2024-01-02"]})
    deals = pd.DataFrame({"lead_id": ["a", "a", "z"], "date": ["2024-01-05", "2024-01-06", "2024-01-07"],
                          "status": ["Won", "Lost", "Lost"]})
    data = calc.prepare(leads=leads, deals=deals, settings={"as_of": "2024-01-31"})
    notes = [n for n in data.notes if isinstance(n, Message) and n.key == "note.lost_and_won"]
    assert notes and [e.reason for e in data.exclusions] == [Message("exclusion.lost_unknown_lead")]
    # words the user or the settings wrote, and names of tables and columns, may stay as they are
    kept = {"Spend", "Deals", "cost", "decimal_mark", "dot", "comma", "twelve", "Amount", "spent", "USD", "Spent", "lead_id",
            "Leads", "id", "e", "spend"}  # spend.cost=: the mapping setting's name
    for language in ("zh", "ko"):
        for item in [*refusals, *notes, *data.exclusions]:
            words = set(re.findall(r"[A-Za-z_]+", render(item, language))) - kept
            assert words == set(), (language, render(item, language))


def test_addin_writes_no_sentence_outside_the_catalogue():
    # the add-in's errors (bad files, output paths, refresh/share refusals), CLI lines, notes and ribbon
    # answers are catalogue Messages rendered in the run's or the workbook's language, never literal English.
    # Read as source text (calc's tests do not import addin): a literal with two or more words in such a call fails.
    import ast
    from pathlib import Path

    import calc

    addin = Path(calc.__file__).parent.parent / "addin"
    errors = {"OutputError", "TargetLockedError", "NeedsConsent", "WorkbookError", "CodeFolderError", "RuntimeError"}
    says = {"print", "echo", "secho", "fail", "alert", "set_status"}
    markup = re.compile(r"\[/?[a-z ]+\]")  # rich's [red]…[/red]

    def sentence(node) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = [node.value]
        elif isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
        else:
            return False
        return len(re.findall(r"[A-Za-z]{2,}", markup.sub(" ", " ".join(parts)))) >= 2

    found = []
    for path in sorted(addin.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            texts = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "InputError":
                    texts = node.args[2:3] + [k.value for k in node.keywords if k.arg == "fix"]
                elif name in errors:
                    texts = node.args[:1] + [k.value for k in node.keywords if k.arg == "question"]
                elif name in says:
                    texts = node.args[:1]
                elif name == "emit":  # the CLI's table printer: its title is read above the table
                    texts = [k.value for k in node.keywords if k.arg == "title"]
                elif name in ("append", "extend") and getattr(node.func.value, "id", getattr(
                        node.func.value, "attr", "")).endswith(("notes", "messages")):
                    texts = node.args[:1]
            elif isinstance(node, ast.Return) and "ribbon" in path.parts and node.value is not None:
                texts = [node.value]  # a ribbon action's answer is the message box
            found += [f"{path.relative_to(addin)}:{t.lineno}" for t in texts if sentence(t)]
    assert found == []
