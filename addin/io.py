"""Reading exports into DataFrames: CSV (any common encoding and separator), XLSX and Parquet.

Read errors are InputErrors naming the table and the file, so the CLI and the ribbon report them
the same way as bad data. Nothing here ever writes to an input file.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from calc import InputError
from calc.schema import TABLES, fold, resolve_columns

from .convert import frame_from_rows
from .safety import OLE_MAGIC, check_workbook, looks_utf16, sniff_kind

_LOOKS_LIKE_DATA = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|[+-]?\d+(\.\d+)?)([ T].*)?$")


def _decode(raw: bytes, label: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw[:2] and looks_utf16(raw[:4096]):  # UTF-16 without a byte-order mark: ASCII with a NUL beside each byte
        try:
            return raw.decode("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(label, None, "is not readable text in UTF-8, UTF-16 or GBK",
                     fix="save it again as CSV UTF-8 from Excel")


def _has_header(first_row: list[str]) -> bool:
    """A first row with a value that looks like data (a date or a number) is no header."""
    cells = [c.strip() for c in first_row if c and c.strip()]
    return bool(cells) and not any(_LOOKS_LIKE_DATA.match(c) for c in cells)


def _id_headers(table: str, headers: list[str], mapping: dict[str, str] | None) -> list[str]:
    """Headers that hold ids, read as text so leading zeros survive."""
    try:
        targets = resolve_columns(table, headers, mapping)
    except InputError:
        return []  # calc reports header problems with full context later
    return [h for h, t in targets.items() if t == "lead_id"]


def read_csv(path: Path, *, table: str, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    label = f"{table} file {path.name}"
    text = _decode(path.read_bytes(), label)
    if not text.strip():
        raise InputError(label, None, "is empty", fix=f"export {table} again with its header row")
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    first = next(csv.reader(io.StringIO(sample), delimiter=delimiter))
    header = _has_header(first)
    if header:  # pandas would rename a repeated header to 'cost.1' and the second column would pass unseen
        seen: dict[str, str] = {}
        for name in first:
            key = fold(name)
            if key and key in seen:
                raise InputError(table, name.strip(), f"appears twice in the header of {path.name} "
                                 f"(also as '{seen[key]}')", fix="rename or delete one of the two columns")
            seen[key] = name.strip()
    names = first if header else [f"column{j + 1}" for j in range(len(first))]
    text_columns = _id_headers(table, [n.strip() for n in names], mapping)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=0 if header else None, names=None if header else names,
                            dtype={c: str for c in text_columns} or None, skipinitialspace=True,
                            keep_default_na=False, na_values=["", "NA", "N/A", "NULL", "null", "nan", "NaN"])
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(label, None, f"cannot be read as CSV ({str(exc).splitlines()[0]})",
                         fix="check that every row has the same number of separators") from None
    if not header:
        frame.attrs["note"] = (f"{label} has no header row; its columns are named {', '.join(names)} "
                               f"— map them, e.g. --map {table.lower()}.date=column2")
    return frame


def read_xlsx(path: Path, *, table: str) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    label = f"{table} file {path.name}"
    # zip and XML entity bombs are refused before calamine unpacks anything; macros and links are noted
    checked = check_workbook(path, label=label)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for corrupt files
        raise InputError(label, None, f"is not a readable Excel workbook ({exc})",
                         fix="open it in Excel and save it again as .xlsx") from None
    names = book.sheet_names
    sheet = next((n for n in names if fold(n) == fold(table)), names[0] if names else None)
    if sheet is None:
        raise InputError(label, None, "has no sheets", fix="save the data in the first sheet")
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=True)
    if not rows:
        raise InputError(label, None, f"sheet '{sheet}' is empty", fix=f"put {table} with its header in the first sheet")
    frame = frame_from_rows(rows, table=table)
    if checked.notes:
        frame.attrs["note"] = "; ".join(checked.notes)
    return frame


def read_table(path: str | Path, *, table: str, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """Read one input table from a CSV, XLSX/XLSM or Parquet file."""
    if table not in TABLES:
        raise ValueError(table)
    path = Path(path)
    label = f"{table} file {path}"
    if not path.exists():
        raise InputError(label, None, "does not exist", fix="check the path")
    if path.is_dir():
        raise InputError(label, None, "is a folder, not a file", fix="give the file's path")
    with path.open("rb") as handle:
        head = handle.read(4096)
    magic = head[:4]
    suffix = path.suffix.lower()
    kind = sniff_kind(head)
    if kind:
        raise InputError(label, None, f"is {kind}, not a CSV, XLSX or Parquet file",
                         fix=f"export {table} from the ad platform or CRM as CSV or XLSX")
    if suffix == ".parquet" or magic == b"PAR1":
        try:
            import pyarrow.parquet as pq

            # text as categories and dates as datetime64: calc would make both anyway, arrow does it in C
            import pyarrow as pa

            # text columns stay dictionary-encoded as Parquet stores them, so they arrive as categories
            # without being hashed again; dates arrive as datetime64. calc would make both anyway.
            text = [f.name for f in pq.read_schema(path) if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            return pq.read_table(path, read_dictionary=text).to_pandas(date_as_object=False)
        except Exception as exc:  # pyarrow's error types vary by version
            raise InputError(label, None, f"is not a readable Parquet file ({exc})", fix="export it again") from None
    if suffix in (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods") or magic.startswith(b"PK") or head.startswith(OLE_MAGIC):
        return read_xlsx(path, table=table)
    if suffix in (".csv", ".txt", ".tsv", "") or not magic.startswith(b"\x00"):
        return read_csv(path, table=table, mapping=mapping)
    raise InputError(label, None, "is not a CSV, XLSX or Parquet file", fix="export the data as CSV or XLSX")


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
