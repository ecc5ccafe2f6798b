"""Checks run on input files before anything parses them, and the one rule for text the product writes.

Workbooks travel between people, so an .xlsx handed to ``cycle-roi`` (or opened by the ribbon) is
treated as untrusted:

* **Zip bombs** — an .xlsx is a zip. Before any part is unpacked, :func:`check_workbook` reads
  the zip's central directory and refuses more than :data:`MAX_ENTRIES` parts, more than
  :data:`MAX_TOTAL_BYTES` declared uncompressed bytes, or a large part that inflates more than
  :data:`MAX_RATIO` times its compressed size (Apache POI's ``MinInflateRatio`` of 0.01 is the
  same limit). The directory can lie, so the XML parts are then streamed in
  :data:`CHUNK_BYTES` pieces with a byte counter and reading stops as soon as a part inflates
  past what it declared: memory stays at one chunk whatever the file claims.
* **XML entity bombs** (billion laughs, external entities) — no part of a real workbook has a
  DOCTYPE; any ``<!DOCTYPE`` or ``<!ENTITY`` in an XML part refuses the file. This is a scan of
  raw bytes, not a parse, so nothing is ever expanded (no defusedxml needed).
* **Macros and external links** — VBA projects, links to other workbooks and data connections
  are reported as notes: readers here only ever read cell values, so macros never run and
  links are never followed (the values the sender last saved are used).
* **Not a spreadsheet** — :func:`sniff_kind` names PDFs, pictures, Word files and other binary
  content so the message says what the file is instead of showing parser noise.

:func:`safe_cell_text` is the rule for output: text from the inputs (segment names, campaign
names, ids) that begins with ``=``, ``+``, ``-``, ``@`` — or with a tab or carriage return,
which some programs strip before looking — gets a leading apostrophe, the OWASP defence against
CSV/formula injection. Every writer applies the rule to every text value it writes:

* CSV files and live Excel (xlwings ``range.value``): :func:`safe_cell_text` (Excel consumes the
  apostrophe as its "this is text" mark and shows the text as typed);
* openpyxl: :func:`set_text_cell` (string cell with Excel's quote prefix, no visible apostrophe);
* xlsxwriter: ``write_string`` or a workbook opened with ``strings_to_formulas=False`` (text is
  always a string cell).
"""
from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calc import InputError
from calc.messages import Message

#: Most parts an .xlsx may have. A large real workbook has a few hundred (sheets, rels, charts).
MAX_ENTRIES = 10_000
#: Most bytes all parts may declare uncompressed: a full 1,048,576-row sheet with a dozen
#: columns is about 0.5 GiB of XML.
MAX_TOTAL_BYTES = 2 * 1024**3
#: Largest inflate ratio of one part (uncompressed / compressed). Real sheet XML compresses
#: 5–30 times; bombs compress a thousand times and more.
MAX_RATIO = 100
#: Parts smaller than this are not ratio-checked: a tiny styles part of repeated tags may
#: compress very well and can do no harm.
RATIO_MIN_BYTES = 1024**2
#: Bytes read at a time while scanning parts.
CHUNK_BYTES = 1024**2

#: Parts that are never XML (pictures, VBA and printer settings). Every other part is scanned: a
#: sheet part may be given any name in the package's relationships, and parsers read it as XML.
_BINARY_PART = re.compile(r"\.(bin|png|jpe?g|gif|bmp|tiff?|emf|wmf|wdp|svg\.gz)$", re.IGNORECASE)
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([^"]+)"')
#: A formula cell with no <v> (no saved result): what a program that cannot calculate writes.
_UNCACHED = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}\d+)"[^>]*>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)'
                       rb'\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>')
#: Most cells a sheet may claim beyond one per byte of its XML (a real cell takes 10 bytes and more).
MAX_CLAIMED_CELLS = 20_000_000
_MACROS = re.compile(r"(^|/)vbaProject\.bin$|(^|/)vbaData\.xml$|^xl/macrosheets/|^xl/dialogsheets/", re.IGNORECASE)
_EXTERNAL_LINKS = re.compile(r"^xl/externalLinks/", re.IGNORECASE)
_CONNECTIONS = re.compile(r"^xl/connections\.xml$|^xl/queryTables/", re.IGNORECASE)
_ACTIVE_CONTENT = re.compile(r"^xl/activeX/|^xl/embeddings/", re.IGNORECASE)

#: (magic bytes at the start, what the file is) for files that are not spreadsheets.
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"{\\rtf", "an RTF document"),
    (b"SQLite format 3", "a SQLite database"),
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls / .doc


@dataclass(frozen=True)
class WorkbookCheck:
    """What :func:`check_workbook` found in a workbook it let through."""

    entries: int
    uncompressed_bytes: int
    notes: tuple[str, ...] = field(default=())
    #: sheet name -> (formulas saved without a result, the first one's cell)
    uncached: dict[str, tuple[int, str]] = field(default_factory=dict)


def safe_cell_text(value: Any) -> Any:
    """Text that no spreadsheet will run as a formula; anything that is not text is returned as is.

    >>> [safe_cell_text(v) for v in ["=HYPERLINK(\\"http://x\\")", "+1", "-Search", "@SUM(A1)", "\\t=1", "Search", 5, -3.5]]
    ['\\'=HYPERLINK("http://x")', "'+1", "'-Search", "'@SUM(A1)", "'\\t=1", 'Search', 5, -3.5]
    >>> safe_cell_text("")
    ''
    """
    # a tab or CR in front is stripped by some importers before they decide "formula or not"
    return "'" + value if is_formula_like(value) else value


def is_formula_like(value: Any) -> bool:
    """True for text a spreadsheet could take for a formula (what :func:`safe_cell_text` neutralises).

    >>> is_formula_like("=1+1"), is_formula_like("Search"), is_formula_like(-1)
    (True, False, False)
    """
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and value != ""


def set_text_cell(cell: Any, value: Any) -> None:
    """Put a value into an openpyxl cell so that formula-like text stays text.

    openpyxl turns any string starting with ``=`` into a formula. Text that looks like a formula
    is stored as a string with Excel's quote prefix (the hidden apostrophe): Excel shows it
    exactly as typed and keeps it text when the cell is edited — no visible apostrophe.
    """
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def sniff_kind(head: bytes) -> str | None:
    """What a file that is not a spreadsheet or CSV is, from its first bytes; None if it may be one.

    >>> sniff_kind(b"%PDF-1.7 ..."), sniff_kind(b"date,cost\\n2024-03-01,5\\n"), sniff_kind(b"\\x00\\x01\\x02\\x00" * 8)
    ('a PDF document', None, 'a binary file')
    """
    if head.startswith((b"PK", OLE_MAGIC, b"PAR1")):
        return None  # the containers of .xlsx/.ods, old .xls and Parquet: their readers judge them
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return None  # text with a byte-order mark (UTF-16 CSVs are full of NUL bytes)
    sample = head[:4096]
    if not sample or looks_utf16(sample):
        return None
    # control characters (NUL and the others below space, bar tab, line ends and form feed)
    # appear in no text export; a few in a thousand mean binary content
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    return "a binary file" if controls > len(sample) // 100 else None


def looks_utf16(sample: bytes) -> bool:
    """UTF-16 text without a BOM: every other byte of ASCII-range text is NUL.

    >>> looks_utf16("date,cost".encode("utf-16-le")), looks_utf16(b"date,cost"), looks_utf16(b"")
    (True, False, False)
    """
    if len(sample) < 2:
        return False
    even, odd = sample[0::2], sample[1::2]
    return (odd.count(0) > len(odd) * 0.9) != (even.count(0) > len(even) * 0.9)


def check_workbook(path: str | Path, *, label: str) -> WorkbookCheck:
    """Refuse a zip bomb or an XML entity bomb before any parser opens ``path``; note macros and links.

    Raises InputError (naming ``label``) for a refused file; returns what was noted otherwise.
    Files that are not zips (old .xls) pass through: they have no zip or XML to abuse.
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        return WorkbookCheck(0, 0)
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(label, None, Message("safety.damaged_zip", detail=str(exc)),
                         fix=Message("io.resave_xlsx.fix")) from None
    with book:
        infos = book.infolist()
        _check_directory(infos, label)
        sheet_bytes = sum(i.file_size for i in infos if _SHEET_PART.match(i.filename))
        uncached: dict[str, tuple[int, str]] = {}
        for info in infos:
            if not _BINARY_PART.search(info.filename) and not info.is_dir():
                found = _scan_part(book, info, label, sheet_bytes=sheet_bytes)
                if found[0]:
                    uncached[info.filename] = found
        _check_required(infos, label)
        if uncached:
            parts = _sheet_parts(book)
            uncached = {parts.get(part, part): found for part, found in uncached.items()}
        return WorkbookCheck(len(infos), sum(i.file_size for i in infos), _notes(infos, label), uncached)


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Zip part of each sheet -> the sheet's name, from the workbook part and its relationships."""
    try:
        workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid, target = re.search(r'Id="([^"]+)"', rel), re.search(r'Target="([^"]+)"', rel)
        if rid and target:
            path = target[1].lstrip("/")
            targets[rid[1]] = path if path.startswith("xl/") else f"xl/{path}"
    out = {}
    for sheet in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name, rid = re.search(r'\bname="([^"]*)"', sheet), re.search(r'\br:id="([^"]+)"', sheet)
        if name and rid and rid[1] in targets:
            out[targets[rid[1]]] = _unescape(name[1])
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _check_directory(infos: list[zipfile.ZipInfo], label: str) -> None:
    fix = Message("safety.not_ordinary.fix")
    if len(infos) > MAX_ENTRIES:
        raise InputError(label, None, Message("safety.too_many_parts", count=len(infos)), fix=fix)
    # two parts under one name: each reader may take another one, so what is read depends on the reader
    counts = Counter(i.filename for i in infos)
    twice = sorted(n for n, c in counts.items() if c > 1)
    if twice:
        raise InputError(label, None, Message("safety.part_twice", part=twice[0]), fix=Message("io.resave_xlsx.fix"))
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise InputError(label, None, Message("safety.too_big", size=f"{total / 1024**3:.1f}",
                                              limit=f"{MAX_TOTAL_BYTES / 1024**3:.0f}"),
                         fix=Message("safety.too_big.fix"))
    for info in infos:
        if info.file_size >= RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise InputError(label, None, Message("safety.inflates", part=info.filename, ratio=f"{ratio:,.0f}",
                                                  limit=str(MAX_RATIO)), fix=fix)


def _check_required(infos: list[zipfile.ZipInfo], label: str) -> None:
    """A workbook without its content types or workbook part is damaged: say so instead of a reader's KeyError."""
    counts = {i.filename for i in infos}
    ooxml = any(n.startswith("xl/") for n in counts)
    if ooxml:
        missing = [n for n in ("[Content_Types].xml", "xl/workbook.xml") if n not in counts
                   and not (n == "xl/workbook.xml" and "xl/workbook.bin" in counts)]
        if missing:
            raise InputError(label, None, Message("safety.lacks_part", part=missing[0]),
                             fix=Message("io.resave_xlsx.fix"))


def _check_claims(head: bytes, info: zipfile.ZipInfo, label: str, sheet_bytes: int) -> None:
    """Sizes a part claims up front and readers allocate for before reading on: a sheet's dimension
    (A1:XFD1048576 is 17 billion cells) and the shared-strings counts. A claim far beyond what the part's
    bytes can hold is refused: a reader trusting it would ask for hundreds of GB and abort."""
    fix = Message("safety.claims.fix")
    if _SHEET_PART.match(info.filename):
        found = _DIMENSION.search(head)
        if found:
            area = _cells(found[1].decode("ascii", "replace"))
            if area > max(MAX_CLAIMED_CELLS, info.file_size):
                raise InputError(label, None, Message("safety.claims_cells", part=info.filename, cells=f"{area:,}",
                                                      range=found[1].decode("ascii", "replace"),
                                                      size=f"{info.file_size:,}"), fix=fix)
    elif info.filename.lower() == "xl/sharedstrings.xml":
        for attribute, limit in ((b"uniqueCount", info.file_size // 8 + 16),
                                 (b"count", max(MAX_CLAIMED_CELLS, sheet_bytes // 8))):
            found = re.search(rb"<(?:\w+:)?sst\b[^>]*?\s" + attribute + rb'="(\d+)"', head)
            if found and int(found[1]) > limit:
                raise InputError(label, None, Message("safety.claims_texts", part=info.filename,
                                                      texts=f"{int(found[1]):,}", size=f"{info.file_size:,}"), fix=fix)


def _cells(ref: str) -> int:
    """Cells in an A1-style range such as A1:XFD1048576 (0 if it cannot be read)."""
    corners = re.findall(r"([A-Za-z]{1,3})(\d{1,7})", ref)
    if len(corners) < 2:
        return 0

    def column(letters: str) -> int:
        number = 0
        for ch in letters.upper():
            number = number * 26 + ord(ch) - 64
        return number

    (c1, r1), (c2, r2) = corners[0], corners[-1]
    return (abs(int(r2) - int(r1)) + 1) * (abs(column(c2) - column(c1)) + 1)


def _scan_part(book: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, *, sheet_bytes: int = 0
               ) -> tuple[int, str]:
    """Stream one XML part: stop at a DTD, or as soon as it inflates past its declared size; check what
    its head claims. Returns (formulas without a saved result, the first one's cell) for a sheet part."""
    seen = 0
    tail = b""
    utf16 = None
    uncached, first_uncached = 0, ""
    sheet = bool(_SHEET_PART.match(info.filename))
    try:
        with book.open(info) as stream:
            while True:
                chunk = stream.read(CHUNK_BYTES)
                if not chunk:
                    break
                seen += len(chunk)
                if seen > info.file_size:
                    raise InputError(label, None, Message("safety.more_than_declared", part=info.filename,
                                                          size=f"{info.file_size:,}"),
                                     fix=Message("safety.plain_export.fix"))
                if utf16 is None:
                    utf16 = chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or looks_utf16(chunk[:512])
                    _check_claims(chunk[:65536], info, label, sheet_bytes)
                text = chunk.replace(b"\x00", b"") if utf16 else chunk
                if sheet:
                    for found in _UNCACHED.finditer(text):
                        uncached += 1
                        first_uncached = first_uncached or found[1].decode("ascii", "replace")
                if _DTD.search(tail + text):
                    raise InputError(label, None, Message("safety.doctype", part=info.filename),
                                     fix=Message("safety.plain_export.fix"))
                tail = text[-16:]
        return uncached, first_uncached
    except InputError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        # zipfile checks CRCs and sizes as it reads: a lying or damaged part ends up here
        raise InputError(label, None, Message("safety.part_damaged", part=info.filename, detail=str(exc)),
                         fix=Message("io.resave_xlsx.fix")) from None


def _notes(infos: list[zipfile.ZipInfo], label: str) -> tuple[str, ...]:
    names = [i.filename for i in infos]
    notes = []
    if any(_MACROS.search(n) for n in names):
        notes.append(Message("safety.macros", label=label))
    links = [n for n in names if _EXTERNAL_LINKS.search(n) and n.lower().endswith(".xml")]
    if links:
        notes.append(Message("safety.links", label=label, count=len(links)))
    if any(_CONNECTIONS.search(n) for n in names):
        notes.append(Message("safety.connections", label=label))
    if any(_ACTIVE_CONTENT.search(n) for n in names):
        notes.append(Message("safety.objects", label=label))
    return tuple(notes)
