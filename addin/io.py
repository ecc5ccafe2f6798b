"""Reading exports into DataFrames: CSV (any common encoding and separator), XLSX and Parquet.

Read errors are InputErrors naming the table and the file, so the CLI and the ribbon report them
the same way as bad data. Nothing here ever writes to an input file.
"""
from __future__ import annotations

import csv
import io
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calc import InputError
from calc.messages import Message
from calc.schema import TABLES, fold

from .convert import frame_from_rows
from .safety import OLE_MAGIC, check_workbook, looks_utf16, sniff_kind

_LOOKS_LIKE_DATA = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|[+-]?\d+(\.\d+)?)([ T].*)?$")


#: Legacy encodings our users' exports come in, one name per family, in the order a tie is settled:
#: charset-normalizer often finds a Western file equally readable as cp1250 or cp1252, and only one
#: of them is what Excel writes for our users.
_FAMILIES = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "hz": "gb18030",
             "big5": "big5", "big5hkscs": "big5", "cp950": "big5",
             "cp949": "cp949", "euc_kr": "cp949", "johab": "cp949",
             "cp932": "cp932", "shift_jis": "cp932", "euc_jp": "cp932",
             "cp1252": "cp1252", "latin_1": "cp1252", "iso8859_15": "cp1252", "cp874": "cp874", "tis_620": "cp874"}
_ENCODING_FIX = Message("io.encoding_save.fix")
#: Least share of rows whose encoding must be known before a mixed file is told apart.
_MIXED_LINES = 1


def file_label(table: str, name: str) -> Message:
    """How a message names an input file: "Spend file spend.csv" in the reader's language."""
    return Message("io.file_label", table=table, file=name)


def _decode(raw: bytes, label: str) -> str:
    """The file's text. UTF-8 and UTF-16 are certain; anything else is detected (charset-normalizer) and
    refused, naming the candidates, when two readings are equally likely or rows use two encodings."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    elif raw[:2] and looks_utf16(raw[:4096]):  # UTF-16 without a byte-order mark: ASCII with a NUL beside each byte
        try:
            return raw.decode("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    _refuse_mixed_utf8(raw, label)
    from charset_normalizer import from_bytes

    results = list(from_bytes(raw))
    if not results:
        raise InputError(label, None, Message("io.unreadable_text"), fix=_ENCODING_FIX)
    encoding = _pick_encoding(results)
    if encoding is None:
        names = ", ".join(dict.fromkeys(_FAMILIES.get(r.encoding, r.encoding) for r in results[:4]))
        raise InputError(label, None, Message("io.encoding_unsure", names=names), fix=_ENCODING_FIX)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        row = raw[:exc.start].count(b"\n") + 1
        raise InputError(label, None, Message("io.encoding_breaks", encoding=encoding, row=str(row)),
                         fix=_ENCODING_FIX) from None


def _pick_encoding(results: list) -> str | None:
    """The one encoding the evidence settles among charset-normalizer's results, or None.

    Short CJK files read almost equally well as Chinese, Korean or Japanese, so beyond the least
    chaotic reading: a header that names known columns (日期, 花费, 날짜 ...) decides; a Korean reading
    that is not almost all Hangul is bytes of Chinese; among the legacy encodings of our users, one must
    read clearly better (chaos 0.05 lower) than any other.
    """
    best = min(r.chaos for r in results)
    near: dict[str, Any] = {}
    for r in results:
        if r.chaos <= best + 0.15:
            near.setdefault(str(r), r)
    if len(near) == 1:
        return next(iter(near.values())).encoding
    hits = {text: _known_headers(text) for text in near}
    most = max(hits.values())
    if most and list(hits.values()).count(most) == 1:
        return near[max(hits, key=hits.get)].encoding
    kept = [r for text, r in near.items() if _FAMILIES.get(r.encoding) != "cp949" or _mostly_hangul(text)]
    family = [r for r in kept if r.encoding in _FAMILIES] or kept
    if len({_FAMILIES.get(r.encoding, r.encoding) for r in family}) == 1:
        return _FAMILIES.get(family[0].encoding, family[0].encoding)
    family.sort(key=lambda r: r.chaos)
    if len(family) > 1 and family[1].chaos - family[0].chaos >= 0.05:
        return family[0].encoding
    return None


def _known_headers(text: str) -> int:
    """How many cells of the first line are column names Cycle ROI knows (in any of its languages)."""
    from calc.schema import TABLES

    known = {fold(a) for columns in TABLES.values() for c in columns for a in (c.name, *c.aliases)}
    first = text.split("\n", 1)[0]
    return sum(fold(cell) in known for cell in re.split(r"[,;\t|]", first) if not cell.isascii())


def _mostly_hangul(text: str) -> bool:
    """Korean text is almost all Hangul; Chinese bytes read as Korean give many Hanja too."""
    cjk = [ch for ch in text[:20000] if "\u4e00" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7a3"]
    return bool(cjk) and sum("\uac00" <= ch <= "\ud7a3" for ch in cjk) >= 0.97 * len(cjk)


def _refuse_mixed_utf8(raw: bytes, label: str) -> None:
    """Rows in UTF-8 and rows in another encoding (two exports pasted together) would give each name two
    spellings, and so two segments: refuse, naming a row of each."""
    utf8_row = other_row = None
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_row = utf8_row or number
        except UnicodeDecodeError:
            other_row = other_row or number
        if utf8_row and other_row:
            raise InputError(label, None, Message("io.mixed_encodings", utf8_row=str(utf8_row), other_row=str(other_row)),
                             rows=[], fix=Message("io.mixed_encodings.fix"))


def _has_header(first_row: list[str]) -> bool:
    """A first row with a value that looks like data (a date or a number) is no header."""
    cells = [c.strip() for c in first_row if c and c.strip()]
    return bool(cells) and not any(_LOOKS_LIKE_DATA.match(c) for c in cells)


#: Most columns a table may have: Excel's own limit (XFD). A header far wider is no export.
MAX_COLUMNS = 16_384


def read_csv(path: Path, *, table: str, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """A CSV as text columns: calc decides each column's dates and decimal mark from all its values
    (pandas would read 1.500 as 1.5 before anything could look at the column)."""
    label = file_label(table, path.name)
    raw = path.read_bytes()
    text = _decode(raw, label)
    if not text.strip():
        raise InputError(label, None, Message("io.empty"), fix=Message("io.empty.fix", table=table))
    if "\r" in text and re.search("\r(?!\n)", text):  # old Mac line ends (CR only), alone or mixed in
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:20000]
    end = text.find("\n")
    first_line = text[:end] if end >= 0 else text
    if max(first_line.count(d) for d in ",;\t|") >= MAX_COLUMNS:
        raise InputError(label, None, Message("io.too_many_columns", limit=MAX_COLUMNS),
                         fix=Message("io.too_many_columns.fix", table=table))
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    first = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    header = _has_header(first)
    if header:  # pandas would rename a repeated header to 'cost.1' and the second column would pass unseen
        seen: dict[str, str] = {}
        for name in first:
            key = fold(name)
            if key and key in seen:
                raise InputError(table, name.strip(), Message("io.header_twice", file=path.name, other=seen[key]),
                                 fix=Message("error.header_twice.fix"))
            seen[key] = name.strip()
    names = first if header else [f"column{j + 1}" for j in range(len(first))]
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=0 if header else None, names=None if header else names,
                            dtype=str, skipinitialspace=True,
                            keep_default_na=False, na_values=["", "NA", "N/A", "NULL", "null", "nan", "NaN"])
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(label, None, Message("io.not_csv", detail=str(exc).splitlines()[0]),
                         fix=Message("io.not_csv.fix")) from None
    _refuse_delimiter_change(frame, delimiter, label)
    _refuse_long_cells(frame, raw, label)
    if not header:
        frame.attrs["note"] = Message("io.no_header", label=label, columns=", ".join(names),
                                      example=f"{table.lower()}.date=column2")
    return frame


#: Most characters one Excel cell holds: a longer text cannot be written back to any sheet or report.
MAX_CELL_CHARS = 32_767


def _refuse_long_cells(frame: pd.DataFrame, raw: bytes, label: str) -> None:
    """A cell longer than Excel allows (a whole document pasted into one field): refused with its row.
    The columns are only measured when some line of the file is that long (one pass over the bytes)."""
    if len(raw) <= MAX_CELL_CHARS:
        return
    newlines = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    if np.diff(np.concatenate(([-1], newlines, [len(raw)]))).max() <= MAX_CELL_CHARS:
        return
    for column in frame.columns:
        lengths = frame[column].str.len().to_numpy(dtype=float, na_value=0)
        long = np.flatnonzero(lengths > MAX_CELL_CHARS)
        if len(long):
            raise InputError(label, str(column), Message("io.long_text", length=int(lengths[long[0]]),
                                                         limit=MAX_CELL_CHARS), rows=(long[:5] + 2).tolist(),
                             fix=Message("io.long_text.fix"))


def _refuse_delimiter_change(frame: pd.DataFrame, delimiter: str, label: str) -> None:
    """Rows written with another separator arrive as one long first cell and empty others: their dates and
    amounts would be dropped as blank. Refuse, naming the rows."""
    if frame.shape[1] < 2 or not len(frame):
        return
    first = frame.iloc[:, 0]
    rest_blank = frame.iloc[:, 1:].isna().all(axis=1).to_numpy()
    if not rest_blank.any():
        return
    for other in ",;\t|":
        if other == delimiter:
            continue
        wrong = rest_blank & (first.str.count(re.escape(other)).fillna(0).to_numpy() >= frame.shape[1] - 1)
        if wrong.any():
            rows = np.flatnonzero(wrong) + 2
            names = {c: Message("io.tab") if c == "\t" else f"'{c}'" for c in (other, delimiter)}
            raise InputError(label, None, Message("io.separator_changes", count=int(wrong.sum()), other=names[other],
                                                  header=names[delimiter]), rows=rows[:5].tolist(),
                             fix=Message("io.separator_changes.fix"))


def _calamine(label: str, action, *args):
    """Run a python-calamine call; its errors (and Rust panics, which are no Exception) become InputErrors."""
    try:
        return action(*args)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(label, None, Message("io.not_workbook", detail=detail),
                         fix=Message("io.resave_xlsx.fix")) from None


def _rows_below(rows: list[list[Any]], first: int, columns: slice) -> int:
    """How many filled rows follow each other from ``rows[first]`` within ``columns``."""
    count = 0
    while first + count < len(rows) and any(v not in (None, "") for v in rows[first + count][columns]):
        count += 1
    return count


def rows_below_table(table: str, where: str, first_row: int, count: int) -> InputError:
    """The one message for rows pasted under an Excel Table's range (file and workbook readers alike)."""
    rows = list(range(first_row, first_row + min(count, 5)))
    return InputError(table, None, Message("io.rows_below", count=count, table=table, where=where),
                      rows=rows, fix=Message("io.rows_below.fix"))


def read_xlsx(path: Path, *, table: str) -> pd.DataFrame:
    """The Excel Table named like ``table`` if there is one, else the visible sheet named like it, else the
    first visible sheet. Hidden sheets (often stale copies) are never read unless named after the table."""
    from python_calamine import CalamineWorkbook

    label = file_label(table, path.name)
    # zip and XML entity bombs, lying sizes and counts are refused before calamine unpacks anything
    checked = check_workbook(path, label=label)
    book = _calamine(label, lambda: CalamineWorkbook.from_path(str(path), load_tables=True))
    try:
        tables = list(book.table_names)
    except BaseException:  # noqa: BLE001 - old .xls and .ods have no tables
        tables = []
    named = next((t for t in tables if fold(t) == fold(table)), None)
    notes = list(checked.notes)
    if named is not None:
        found = _calamine(label, book.get_table_by_name, named)
        sheet = found.sheet
        _refuse_uncached(checked, sheet, label)
        rows = [list(found.columns), *_calamine(label, found.to_python)]
        whole = _calamine(label, lambda: book.get_sheet_by_name(sheet))
        grid = _calamine(label, lambda: whole.to_python(skip_empty_area=False))
        below = _rows_below(grid, found.end[0] + 1, slice(found.start[1], found.end[1] + 1))
        if below:
            raise rows_below_table(table, Message("io.sheet_of_file", sheet=sheet, file=path.name),
                                   found.end[0] + 2, below)
    else:
        meta = _calamine(label, lambda: book.sheets_metadata)
        visible = [m.name for m in meta if str(m.visible).endswith("Visible")]
        sheet = next((n for n in visible if fold(n) == fold(table)), None) or \
            next((m.name for m in meta if fold(m.name) == fold(table)), None) or (visible[0] if visible else None)
        if sheet is None:
            raise InputError(label, None, Message("io.no_visible_sheet"), fix=Message("io.no_visible_sheet.fix", table=table))
        skipped = [m.name for m in meta if m.name != sheet and not str(m.visible).endswith("Visible")]
        if skipped and sheet in visible:
            notes.append(Message("io.hidden_sheets", label=label, sheet=sheet, skipped=", ".join(skipped)))
        _refuse_uncached(checked, sheet, label)
        rows = _calamine(label, lambda: book.get_sheet_by_name(sheet).to_python(skip_empty_area=True))
    if not rows:
        raise InputError(label, None, Message("io.sheet_empty", sheet=sheet), fix=Message("io.sheet_empty.fix", table=table))
    frame = frame_from_rows(rows, table=table)
    if notes:
        frame.attrs["note"] = notes[0] if len(notes) == 1 else Message("io.notes", parts=notes)
    return frame


def _refuse_uncached(checked: Any, sheet: str, label: str) -> None:
    """Formulas saved without their results (written by a program, never calculated) read as blank cells."""
    found = checked.uncached.get(sheet)
    if found:
        raise formulas_without_results(label, sheet, *found)


def formulas_without_results(label: str, sheet: str, count: int, cell: str) -> InputError:
    """The one message for formula cells saved without their results (file and workbook readers alike)."""
    return InputError(label, None, Message("io.uncached", sheet=sheet, count=count, cell=cell), rows=[],
                      fix=Message("io.uncached.fix"))


def arrow_to_frame(table: Any) -> pd.DataFrame:
    """An Arrow table as pandas, as ``Table.to_pandas(date_as_object=False)`` makes it, column by column.

    ``to_pandas`` gathers every column into one 2-D block per dtype, copying each, and first unifies
    the dictionaries of every chunk of every text column (Parquet writes one per row group). Here the
    columns calc reads most — dictionary-encoded text, dates, numbers, none with nulls — are handed over
    as their own arrays, and a text column's chunks are joined by Arrow, which unifies their dictionaries:
    ~54 → ~33 ms for a million leads and 1.4M spend rows (alternating, under load). Anything else (nulls,
    timestamps, a file written by pandas with its index and dtypes in the metadata, a name twice) goes
    through ``to_pandas`` itself, so the frame is the same either way (tests/addin/test_io_arrow.py
    compares them).
    """
    import pyarrow as pa

    if (table.schema.metadata and b"pandas" in table.schema.metadata) \
            or len(set(table.column_names)) < table.num_columns:  # pandas' own round trip; or a name twice
        return table.to_pandas(date_as_object=False)
    columns: dict[str, Any] = {}
    rest = []
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        plain = column.null_count == 0 and len(column) > 0
        if plain and pa.types.is_dictionary(kind) and not kind.ordered and pa.types.is_string(kind.value_type):
            columns[name] = _arrow_categorical(column)
        elif plain and pa.types.is_date32(kind):
            days = np.concatenate([chunk.to_numpy() for chunk in column.cast(pa.int32()).chunks])
            columns[name] = np.multiply(days, 86_400_000, dtype=np.int64).view("datetime64[ms]")
        elif plain and (pa.types.is_int64(kind) or pa.types.is_float64(kind)):
            columns[name] = np.concatenate([chunk.to_numpy() for chunk in column.chunks])
        else:
            columns[name] = None  # keeps the column's place
            rest.append(name)
    if rest:
        converted = table.select(rest).to_pandas(date_as_object=False)
        columns.update({name: converted[name] for name in rest})
    return pd.DataFrame(columns, copy=False)


def _arrow_categorical(column: Any) -> pd.Categorical:
    """A dictionary-encoded text column without nulls as pandas categories: Arrow joins the chunks,
    unifying their dictionaries (labels in order of first appearance, as ``to_pandas`` does), and the
    codes are narrowed to the size pandas gives them (int8 for up to 127 categories)."""
    whole = column.combine_chunks() if column.num_chunks > 1 else column.chunk(0)
    labels = pd.Index(whole.dictionary.to_pylist())
    size = len(labels)
    codes = whole.indices.to_numpy().astype(np.int8 if size < 2**7 else np.int16 if size < 2**15 else np.int32)
    return pd.Categorical.from_codes(codes, categories=labels, validate=False)


def read_table(path: str | Path, *, table: str, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """Read one input table from a CSV, XLSX/XLSM or Parquet file."""
    if table not in TABLES:
        raise ValueError(table)
    path = Path(path)
    label = file_label(table, str(path))
    if not path.exists():
        raise InputError(label, None, Message("io.missing"), fix=Message("io.missing.fix"))
    if path.is_dir():
        raise InputError(label, None, Message("io.folder"), fix=Message("io.folder.fix"))
    if not stat.S_ISREG(path.stat().st_mode):  # a pipe or a device would block or never end
        raise InputError(label, None, Message("io.special_file"), fix=Message("io.special_file.fix"))
    with path.open("rb") as handle:
        head = handle.read(4096)
    magic = head[:4]
    suffix = path.suffix.lower()
    kind = sniff_kind(head)
    if kind:
        raise InputError(label, None, Message("io.wrong_kind", kind=kind), fix=Message("io.wrong_kind.fix", table=table))
    if suffix == ".parquet" or magic == b"PAR1":
        try:
            import pyarrow.parquet as pq

            # text as categories and dates as datetime64: calc would make both anyway, arrow does it in C
            import pyarrow as pa

            # text columns stay dictionary-encoded as Parquet stores them, so they arrive as categories
            # without being hashed again; dates arrive as datetime64. calc would make both anyway.
            schema = pq.read_schema(path)
            nested = [f.name for f in schema if pa.types.is_nested(f.type)]
            if nested:  # a list, struct or map per cell is no date, amount, id or segment
                raise InputError(table, nested[0], Message("io.nested", type=str(schema.field(nested[0]).type),
                                                           file=path.name), fix=Message("io.nested.fix"))
            text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            # one file, so ParquetFile rather than read_table, which loads pyarrow.dataset first: the first
            # read in a process (every CLI run's) 106-114 ms instead of 111-296 for the 1M benchmark files;
            # pre-buffered as read_table is (without it, 5 % slower)
            with pq.ParquetFile(path, read_dictionary=text, pre_buffer=True) as parquet:  # closed: Windows locks open files
                frame = arrow_to_frame(parquet.read())
        except InputError:
            raise
        except Exception as exc:  # pyarrow's error types vary by version
            raise InputError(label, None, Message("io.not_parquet", detail=str(exc)),
                             fix=Message("io.not_parquet.fix")) from None
        for column in frame.columns:  # ids above 2^63 would wrap around when calc makes them int64: keep them text
            if frame[column].dtype == np.uint64 and len(frame) and frame[column].max() > np.iinfo(np.int64).max:
                frame[column] = frame[column].astype(str)
        return frame
    if suffix in (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods") or magic.startswith(b"PK") or head.startswith(OLE_MAGIC):
        return read_xlsx(path, table=table)
    if suffix in (".csv", ".txt", ".tsv", "") or not magic.startswith(b"\x00"):
        return read_csv(path, table=table, mapping=mapping)
    raise InputError(label, None, Message("io.not_data"), fix=Message("io.not_data.fix"))


def read_inputs(spend: Any = None, leads: Any = None, deals: Any = None,
                mapping: dict[str, dict[str, str]] | None = None) -> tuple[dict[str, pd.DataFrame | None], list[str]]:
    """The three tables from file paths (None where not given) and notes about how they were read."""
    frames: dict[str, pd.DataFrame | None] = {}
    notes: list[str] = []
    for table, path in (("Spend", spend), ("Leads", leads), ("Deals", deals)):
        frame = read_table(path, table=table, mapping=(mapping or {}).get(table)) if path else None
        if frame is not None and frame.attrs.get("note"):
            notes.append(frame.attrs["note"])
        frames[table] = frame
    return frames, notes
