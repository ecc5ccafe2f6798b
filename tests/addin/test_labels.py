"""Report labels come from the one catalogue (calc/messages); sheet names must be ones Excel accepts."""
from __future__ import annotations

from addin.report import SECTIONS
from addin.report.labels import LANGUAGES, Labels


def test_every_registered_section_has_a_tab_name_that_excel_accepts():
    for language in LANGUAGES:
        names = [Labels(language)(f"sheet.{key}") for key in SECTIONS]
        assert len(set(names)) == len(names)
        for name in names:
            assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\'")


def test_codes_and_columns_are_looked_up_and_unknown_ones_kept():
    zh = Labels("zh")
    assert zh.column("consultations") == "咨询量"
    assert zh.column("province") == "province"          # a segment column keeps the user's own header
    assert zh.code("verdict", "no such code") == "no such code"
