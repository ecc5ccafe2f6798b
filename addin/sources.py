"""Data that stays where it lives: DuckDB, Spark or a warehouse computes calc's aggregates and sends back only them.

One Ibis expression per table is compiled by Ibis for whichever engine the ``--source`` URL names
(DuckDB, Spark, BigQuery, Snowflake, Trino, Postgres …), so no SQL is written here per engine.
What comes back is :class:`calc.Aggregates` — spend per day × segment, consultations per inquiry
day × segment × days to their first deal, deals per inquiry day × won day × segment — plus the
counts behind each data note, worded as the row route words them (``calc.dataset.EXCLUDED``);
:func:`calc.from_aggregates` makes the dataset every analysis reads.

Sources:

* ``duckdb://`` — DuckDB in this process over the files given as ``--spend/--leads/--deals``
  (Parquet or CSV), read where they lie, never whole into memory;
* ``duckdb:///path/file.duckdb`` — tables of a DuckDB database (``--spend-table`` …);
* ``spark://local`` — a local Spark session (pyspark and a Java runtime), over files or its tables;
* any other URL Ibis connects to (``bigquery://project/dataset``, ``snowflake://user:pass@account/db/schema``,
  ``trino://user@host:port/catalog/schema``, ``postgres://user:pass@host:port/db``), tables by name.

Where the two routes differ (documented in the README): rows have no sheet numbers, so exclusions
give counts without rows; dates must be typed as dates or ISO text (day-first text is the file
route's job); of repeated lead ids the earliest is kept (the first listed, in a file).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

import calc
from calc import InputError
from calc.dataset import EXCLUDED, NO_DEALS_NOTE, NO_SPEND_NOTE, UNDATED_SPEND_NOTE
from calc.errors import Exclusion
from calc.messages import Message
from calc.dataset import NUMBER_COLUMNS
from calc.schema import TABLES, fold, missing_required, resolve_columns
from calc.settings import Settings

TABLE_NAMES = ("Spend", "Leads", "Deals")
DEFAULT_TABLES = {"Spend": "spend", "Leads": "leads", "Deals": "deals"}
_CANONICAL = {name: {c.name for c in columns} for name, columns in TABLES.items()}
_SPEND_SUMS = ("consultations", "deals", "revenue", "clicks", "impressions")


def _ibis():
    try:
        import ibis
    except ImportError:  # pragma: no cover - a core dependency; said plainly if an install lost it
        raise InputError("--source", None, Message("source.no_ibis"),
                         fix=Message("source.no_ibis.fix", command='pip install "ibis-framework[duckdb]"')) from None
    return ibis


def connect(source: str) -> Any:
    """An Ibis backend for ``source``: ``duckdb://[path]``, ``spark://local`` or any URL Ibis knows."""
    ibis = _ibis()
    scheme, sep, rest = source.partition("://")
    if not sep:
        raise InputError("--source", None, Message("source.not_a_url", source=source),
                         fix=Message("source.not_a_url.fix"))
    scheme = scheme.lower()
    if scheme == "duckdb":
        path, _, query = rest.partition("?")
        # DuckDB works inside this process: by default it may take 80 % of the machine's memory; 1 GB and
        # spilling to the temporary folder keeps the whole process near the 2 GiB goal (?memory_limit=8GB to change)
        options = {"memory_limit": "1GB", "temp_directory": str(Path(tempfile.gettempdir()) / "cycle-roi-duckdb"),
                   **dict(part.split("=", 1) for part in query.split("&") if "=" in part)}
        con = ibis.duckdb.connect(path or ":memory:", **options)
        con.raw_sql("SET enable_progress_bar = false")  # the CLI draws its own; DuckDB's would mix into output
        # the sums have no order to keep: without it DuckDB streams the join of Leads and Deals within the limit
        con.raw_sql("SET preserve_insertion_order = false")
        return con
    if scheme == "spark" and rest.strip("/") == "local":
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise InputError("--source", None, Message("source.no_pyspark"),
                             fix=Message("source.no_pyspark.fix", command="pip install pyspark",
                                         java="apt-get install openjdk-17-jre-headless")) from None
        session = (SparkSession.builder.master("local[2]").appName("cycle-roi")
                   .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    try:
        return ibis.connect(source)
    except Exception as exc:  # the engine's own words say what is wrong (driver, credentials, host)
        raise InputError("--source", None, Message("source.no_connection", url=f"{scheme}://…",
                                                    said=f"{type(exc).__name__}: {exc}"),
                         fix=Message("source.no_connection.fix", command=f'pip install "ibis-framework[{scheme}]"')
                         ) from None


def _is_csv(con: Any, file: Path | None) -> bool:
    """A CSV file read by DuckDB, whose text the file route's rules read (``_utf8``, ``_csv_numbers``)."""
    return file is not None and Path(file).suffix.lower() in (".csv", ".txt") and getattr(con, "name", "") == "duckdb"


def _table(con: Any, table: str, file: Path | None, name: str | None, *, mapping: Mapping[str, str] | None = None,
           workspace: Path | None = None) -> Any:
    """The table from its file (read by the engine) or by its name in the source; None when neither is there."""
    if file is not None:
        path = Path(file)
        if not path.exists():
            raise InputError(table, None, Message("source.file_not_found", path=str(path)), fix=Message("io.missing.fix"))
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return con.read_parquet(str(path))
        if suffix in (".csv", ".txt") and _is_csv(con, path):
            path = _utf8(path, table, workspace)
            sniffed = con.read_csv(str(path), nullstr=_BLANKS)
            # the number columns as DuckDB found them, text: the file route's rules read them (_csv_numbers)
            numbers = [header for header, target in resolve_columns(table, list(sniffed.columns), mapping).items()
                       if target in NUMBER_COLUMNS]
            return con.read_csv(str(path), nullstr=_BLANKS, types={h: "VARCHAR" for h in numbers}) \
                if numbers else sniffed
        if suffix in (".csv", ".txt"):
            return con.read_csv(str(path))
        raise InputError(table, None, Message("source.unreadable_file", name=path.name, suffix=suffix or "-"),
                         fix=Message("source.unreadable_file.fix"))
    if name is None:
        return None
    if name in con.list_tables():
        return con.table(name)
    return None


#: Names of the Arrow tables a read lends DuckDB (``_csv_numbers``), unregistered at its end.
_VIEW = "_cycle_roi_view_"
#: Text the file route reads as blank (``addin.io.read_csv``), so DuckDB reads it so too.
_BLANKS = ["", "NA", "N/A", "NULL", "null", "nan", "NaN"]
#: Number text that reads one way only and as itself: a whole number, or a decimal point that cannot be a
#: dot between thousands. The rest (1.500, 1.234,5, 12,5, Rp 1.500, 15%, #N/A ...) is read by calc's rules.
_PLAIN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_EITHER = r"^[+-]?[1-9][0-9]{0,2}\.[0-9]{3}$"


def _utf8(path: Path, table: str, workspace: Path | None) -> Path:
    """``path`` if it is UTF-8 text (what DuckDB reads), else a UTF-8 copy in ``workspace``.

    The encoding is found by the file route's own reader (``addin.io``): a legacy encoding it settles
    (GB18030, CP949, Shift-JIS, CP1252 …) gives the same text, and what it refuses (two encodings, no
    clear winner) is refused with its words. UTF-8 is checked in 16 MiB pieces, so a large file is not
    held in memory; only a file in another encoding is read whole, as the file route reads it.
    """
    import codecs

    from .io import _decode
    from .safety import looks_utf16

    with open(path, "rb") as handle:
        head = handle.read(4096)
        utf8 = not head.startswith((b"\xff\xfe", b"\xfe\xff")) and not (head[:2] and looks_utf16(head))
        decoder = codecs.getincrementaldecoder("utf-8")()
        handle.seek(0)
        try:
            while utf8 and (piece := handle.read(1 << 24)):
                decoder.decode(piece)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if utf8:
        return path
    text = _decode(path.read_bytes(), f"{table} file {path.name}")
    copy = Path(workspace or tempfile.gettempdir()) / f"{table.lower()}-utf8.csv"
    copy.write_text(text, encoding="utf-8")
    return copy


def _csv_numbers(con: Any, table: str, expr: Any, settings: Settings, temporary: list[str]) -> Any:
    """The number columns of a CSV read as the file route reads them: the same numbers, or the same refusal.

    calc decides each column's decimal mark from all its values (1.234,5 proves a comma, 0.125 a point, 1.500
    reads either way and follows the column, the table or the ``decimal_mark`` setting, else is refused naming
    that choice). The engine counts the values that are not plain numbers; those (distinct) and one plain
    decimal and the largest plain value of each column are read by calc's own rules (``_read_numbers``), and
    the values found join back by their text. Plain values are cast where they lie.
    """
    columns = [c for c in expr.columns if c in NUMBER_COLUMNS and expr[c].type().is_string()]
    if not columns:
        return expr
    import ibis
    import pyarrow as pa

    from calc.dataset import _read_numbers

    texts = {c: expr[c].strip() for c in columns}
    plain = {c: t.re_search(_PLAIN) & ~t.re_search(_EITHER) for c, t in texts.items()}
    key = {c: f"n{i}" for i, c in enumerate(columns)}  # column names in SQL aliases: plain ones
    summary = _one_row(expr, **{f"{key[c]}_odd": (texts[c].notnull() & ~plain[c]).cast("int64").sum() for c in columns},
                       **{f"{key[c]}_point": texts[c].max(where=plain[c] & texts[c].contains(".")) for c in columns},
                       **{f"{key[c]}_largest": texts[c].argmax(texts[c].try_cast("float64").abs(), where=plain[c])
                          for c in columns})
    values = {}
    for c in columns:
        odd = [] if not summary[f"{key[c]}_odd"] else \
            expr.filter(texts[c].notnull() & ~plain[c]).select(_text=texts[c]).distinct().to_pyarrow()["_text"].to_pylist()
        examples = [v for v in (summary[f"{key[c]}_point"], summary[f"{key[c]}_largest"]) if isinstance(v, str) and v]
        values[c] = odd + examples
    longest = max(len(v) for v in values.values())
    frame = pd.DataFrame({c: pd.Series(v + [None] * (longest - len(v)), dtype=object) for c, v in values.items()})
    read = frame.copy()
    try:
        _read_numbers(read, table, columns, settings)
    except InputError as exc:  # the rows it names are rows of the distinct values, not of the file
        exc.rows = []
        raise exc from None
    for c in columns:
        found = dict(zip(frame[c].tolist(), read[c].tolist()))
        odd = [v for v in values[c] if v is not None and found.get(v) is not None and not pd.isna(found[v])]
        number = texts[c].try_cast("float64")
        if summary[f"{key[c]}_odd"]:
            name = f"{_VIEW}{table.lower()}_{key[c]}_{len(temporary)}"
            mapping = pa.table({"_text": pa.array(odd, pa.string()), "_number": pa.array([found[v] for v in odd],
                                                                                          pa.float64())})
            con.con.register(name, mapping)  # DuckDB reads the Arrow table in place (Ibis' create_table fails here)
            temporary.append(name)
            looked_up = con.table(name)
            joined = expr.left_join(looked_up, texts[c] == looked_up["_text"])
            expr = joined.select(*[col for col in expr.columns if col != c],
                                 **{c: ibis.ifelse(plain[c].fill_null(False), number, joined["_number"])})
        else:
            expr = expr.mutate(**{c: number})
    return expr


def _canonical(table: str, expr: Any, mapping: Mapping[str, str] | None) -> Any:
    """Columns renamed to calc's names (aliases and ``--map`` as for files); a missing one refused alike."""
    renames = resolve_columns(table, list(expr.columns), mapping)
    missing = missing_required(table, set(renames.values()))
    if missing:
        col = missing[0]
        # the file route's words (calc.dataset): one message for a missing column, whichever route read the table
        raise InputError(table, col.name, Message("error.column_not_found", have=", ".join(map(str, renames))),
                         fix=Message("error.column_not_found.fix", meaning=Message(f"meaning.{table}.{col.name}"),
                                     column=col.name, mapping=f"{table.lower()}.{col.name}"))
    return expr.select(**{target: expr[header] for header, target in renames.items()})


def _day(column: Any) -> Any:
    """Whole days since 1970 of a date, timestamp or ISO-text column."""
    kind = column.type()
    if kind.is_string():
        column = column.strip().nullif("").cast("date")
    elif kind.is_timestamp():
        column = column.date()
    return column.epoch_days().cast("int32")


def _ids(column: Any, as_text: bool) -> Any:
    kind = column.type()
    if kind.is_floating():
        column = column.cast("int64")
    if as_text:
        column = column.cast("string").strip().nullif("")
    return column


def _excluded(table: str, cause: str, count: int, out: list[Exclusion]) -> None:
    if count:
        table, reason, fix = EXCLUDED[table, cause]
        out.append(Exclusion(table, reason, int(count), [], fix))


def _one_row(expr: Any, **aggregates: Any) -> dict[str, Any]:
    """Whole-table figures (counts, smallest and largest), in one pass of the engine; blanks as 0."""
    frame = expr.aggregate(**aggregates).to_pandas()
    return {name: 0 if pd.isna(v) else v.item() if hasattr(v, "item") else v for name, v in frame.iloc[0].items()}


def _counts(expr: Any, **conditions: Any) -> dict[str, int]:
    """Rows meeting each condition, in one pass of the engine."""
    if not conditions:
        return {}
    return {name: int(v) for name, v in
            _one_row(expr, **{name: condition.cast("int64").sum() for name, condition in conditions.items()}).items()}


#: Widest range of whole-number ids (in bits, 128 MiB) DuckDB marks in a bit string to count the distinct ones.
_ID_BITS = 1 << 30


def _distinct_ids(con: Any, leads: Any, counted: Mapping[str, Any]) -> int:
    """How many distinct lead ids the kept rows have.

    A distinct count hashes every id: 4-8 s for 20M leads on two cores, a fifth of the whole route. On
    DuckDB, whole-number ids within a range of ``_ID_BITS`` are instead marked in one bit string
    (``bitstring_agg``, exact, 0.45 s for the same 20M); other engines, text ids and wider ranges take
    the portable distinct count that Ibis compiles for each engine.
    """
    low, high = counted.get("low"), counted.get("high")
    if counted["kept"] == 0:
        return 0
    if getattr(con, "name", "") == "duckdb" and isinstance(low, int) and isinstance(high, int) \
            and 0 <= high - low < _ID_BITS:
        import ibis

        sql = ibis.to_sql(leads.select("lead_id"), dialect="duckdb")
        marked = con.raw_sql(f"SELECT bit_count(bitstring_agg(CAST(lead_id AS BIGINT), {low}, {high})) "
                             f"FROM ({sql})").fetchone()[0]
        return int(marked)
    return int(leads.lead_id.nunique().execute())


def _materialised(con: Any, expr: Any, temporary: list[str]) -> Any:
    """``expr`` stored as a temporary table where the engine is DuckDB in this process, else as it is.

    The deals linked to their consultations are a few million rows at most, but DuckDB estimates them from
    the join's inputs (100M rows for 20M leads) and would then build the join with Leads on the 20M leads
    and their segment columns (out of memory at 1 GB, 26 s instead of 9 s). Stored, their size is known,
    and the counts of unknown and early deals read them instead of joining again.
    """
    if getattr(con, "name", "") != "duckdb":
        return expr
    import uuid

    name = f"_cycle_roi_{uuid.uuid4().hex}"
    con.create_table(name, expr, temp=True)
    temporary.append(name)
    return con.table(name)


def _until_as_of(table: str, expr: Any, settings: Settings, notes: list) -> Any:
    """Rows dated up to the as-of date; the later ones counted in a note, worded as the row route's."""
    as_of = pd.Timestamp(settings.as_of)
    as_of_day = int(as_of.value // 86_400_000_000_000)
    late = _counts(expr, late=expr._day > as_of_day)["late"]
    if late:  # the row route names the first sheet rows too; an engine's rows have none
        notes.append(Message("note.after_as_of.counted", table=table, count=late, as_of=as_of))
    return expr.filter(expr._day <= as_of_day)


def read_aggregates(source: str, *, spend: Path | None = None, leads: Path | None = None, deals: Path | None = None,
                    tables: Mapping[str, str | None] | None = None, mapping: Mapping[str, Mapping[str, str]] | None = None,
                    settings: Settings | Mapping[str, Any] | None = None, con: Any = None) -> calc.Aggregates:
    """Spend, Leads and Deals of ``source`` summed where they live: the :class:`calc.Aggregates` of them."""
    con = con if con is not None else connect(source)
    temporary: list[str] = []  # tables made for this read (_materialised, _csv_numbers), dropped at its end
    with tempfile.TemporaryDirectory(prefix="cycle-roi-") as workspace:  # CSVs turned into UTF-8 (_utf8)
        try:
            return _read_aggregates(con, spend=spend, leads=leads, deals=deals, tables=tables, mapping=mapping,
                                    settings=Settings.parse(settings), temporary=temporary, workspace=Path(workspace))
        finally:
            for name in temporary:  # Ibis' drop_table of a temporary DuckDB table fails to parse (Ibis 12)
                if name.startswith(_VIEW):
                    con.con.unregister(name)
                else:
                    con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


def _read_aggregates(con: Any, *, spend: Path | None, leads: Path | None, deals: Path | None,
                     tables: Mapping[str, str | None] | None, mapping: Mapping[str, Mapping[str, str]] | None,
                     settings: Settings, temporary: list[str], workspace: Path) -> calc.Aggregates:
    ibis = _ibis()
    names = {**DEFAULT_TABLES, **{k: v for k, v in (tables or {}).items() if v}}
    files = {"Spend": spend, "Leads": leads, "Deals": deals}
    mapping = mapping or {}
    raw = {t: _table(con, t, files[t], names[t] if not any(files.values()) else None, mapping=mapping.get(t),
                     workspace=workspace) for t in TABLE_NAMES}
    if all(v is None for v in raw.values()):
        raise InputError("--source", None, Message("source.no_tables", names=", ".join(names.values())),
                         fix=Message("source.no_tables.fix"))
    exprs = {t: _canonical(t, e, mapping.get(t)) if e is not None else None for t, e in raw.items()}
    exprs = {t: _csv_numbers(con, t, e, settings, temporary) if e is not None and _is_csv(con, files[t]) else e
             for t, e in exprs.items()}
    exclusions: list[Exclusion] = []
    notes: list[str] = []
    as_of_day = None if settings.as_of is None else int(pd.Timestamp(settings.as_of).value // 86_400_000_000_000)

    dims = {t: [c for c in e.columns if c not in _CANONICAL[t]] if e is not None else [] for t, e in exprs.items()}
    lead_dims = dims["Leads"]
    spelling = {fold(d): d for d in lead_dims}

    # ids: whole numbers stay numbers when both tables have them; otherwise text in both (as the row route)
    id_text = any(e is not None and not e["lead_id"].type().is_numeric() for t, e in exprs.items() if t != "Spend")

    sp = exprs["Spend"]
    spend_dims: list[str] = []
    spend_frame = spend_segments = None
    if sp is not None:
        dated = "date" in sp.columns
        day = _day(sp["date"]) if dated else ibis.literal(calc.dataset.NO_DAY, type="int32")
        cost = sp["cost"].cast("float64")
        sp = sp.mutate(_day=day, cost=cost)
        counted = _counts(sp, **({"no_date": sp._day.isnull()} if dated else {}),
                          blank=sp._day.notnull() & sp.cost.isnull(),
                          negative=sp._day.notnull() & sp.cost.notnull() & (sp.cost < 0))
        if dated:
            _excluded("Spend", "no date", counted["no_date"], exclusions)
        else:
            notes.append(UNDATED_SPEND_NOTE)
        _excluded("Spend", "blank cost", counted["blank"], exclusions)
        _excluded("Spend", "negative cost", counted["negative"], exclusions)
        sp = sp.filter(sp._day.notnull(), sp.cost.notnull(), sp.cost >= 0)
        spend_dims = [spelling.get(fold(d), d) for d in dims["Spend"]]
        sp = sp.rename({new: old for old, new in zip(dims["Spend"], spend_dims) if new != old})
        sums = ["cost", *[c for c in _SPEND_SUMS if c in sp.columns]]
        revenue_known = "revenue" in sp.columns
        if revenue_known and settings.gross_margin is not None:
            sp = sp.mutate(gross_profit=sp["revenue"].cast("float64") * settings.gross_margin)
            sums.append("gross_profit")
        sp_kept = sp
        if as_of_day is not None and dated:
            sp_kept = _until_as_of("Spend", sp, settings, notes)
        sp_kept, spend_segments = _segment_keys(con, sp_kept.select("_day", *spend_dims, *sums), spend_dims,
                                                keep=["_day", *sums])
        spend_frame = (sp_kept.group_by(["_day", *(["_segment"] if spend_segments is not None else spend_dims)])
                       .aggregate(_n=sp_kept.count(), **{c: sp_kept[c].cast("float64").sum() for c in sums}))

    ld = exprs["Leads"]
    leads_kept = None
    if ld is not None:
        ld = ld.mutate(lead_id=_ids(ld["lead_id"], id_text))
        ld = ld.mutate(_day=_day(ld["date"]))
        kept = ld.lead_id.notnull() & ld._day.notnull()
        # one pass: the causes counted, and the kept rows' count and id range (for the repeated-id check)
        counted = _one_row(ld, no_id=ld.lead_id.isnull().cast("int64").sum(),
                           no_date=(ld.lead_id.notnull() & ld._day.isnull()).cast("int64").sum(),
                           kept=kept.cast("int64").sum(),
                           **({"low": ld.lead_id.min(where=kept), "high": ld.lead_id.max(where=kept)}
                              if not id_text else {}))
        _excluded("Leads", "no id", counted["no_id"], exclusions)
        _excluded("Leads", "no date", counted["no_date"], exclusions)
        ld = ld.filter(ld.lead_id.notnull(), ld._day.notnull())
        # of repeated ids the earliest is kept (a file keeps the first listed; an engine's rows have no order);
        # counted by a distinct count first, so the usual case (none) costs no sort of every lead
        repeated = counted["kept"] - _distinct_ids(con, ld, counted)
        _excluded("Leads", "repeated id", repeated, exclusions)
        leads_kept = ld
        if repeated:
            ranked = ld.mutate(_rank=ibis.row_number().over(group_by=ld.lead_id, order_by=[ld._day]))
            leads_kept = ranked.filter(ranked._rank == 0).drop("_rank")
        if as_of_day is not None:
            leads_kept = _until_as_of("Leads", leads_kept, settings, notes)

    dl = exprs["Deals"]
    deals_frame = leads_frame = linked_frame = None
    has_revenue = has_gp = False
    if dl is not None:
        dl = dl.mutate(lead_id=_ids(dl["lead_id"], id_text), _day=_day(dl["date"]))
        # one pass for what the deals hold and lack (each query is a job to an engine like Spark)
        counted = _counts(dl, no_id=dl.lead_id.isnull(), no_date=dl.lead_id.notnull() & dl._day.isnull(),
                          **({"revenue": dl["revenue"].notnull()} if "revenue" in dl.columns else {}),
                          **({"gross_profit": dl["gross_profit"].notnull()} if "gross_profit" in dl.columns else {}))
        has_revenue = bool(counted.get("revenue"))
        margin = settings.gross_margin
        revenue = dl["revenue"].cast("float64") if "revenue" in dl.columns else ibis.null("float64")
        if "gross_profit" in dl.columns:
            gp = dl["gross_profit"].cast("float64")
            gp = gp.fill_null(revenue * margin) if (has_revenue and margin is not None) else gp
        else:
            gp = revenue * margin if (has_revenue and margin is not None) else ibis.null("float64")
            if has_revenue and margin is None:
                notes.append(Message("note.revenue_without_margin"))
        dl = dl.mutate(revenue=revenue, gross_profit=gp)
        has_gp = bool(counted.get("gross_profit")) or (has_revenue and margin is not None)
        _excluded("Deals", "no id", counted["no_id"], exclusions)
        _excluded("Deals", "no date", counted["no_date"], exclusions)
        dl = dl.filter(dl.lead_id.notnull(), dl._day.notnull())
        key = ["lead_id", "_day", "revenue", "gross_profit"]
        distinct = dl.select(*key).distinct()
        repeated = int(dl.count().execute()) - int(distinct.count().execute())
        _excluded("Deals", "repeated deal", repeated, exclusions)
        if repeated:
            ranked = dl.mutate(_rank=ibis.row_number().over(group_by=[dl[k] for k in key]))
            dl = ranked.filter(ranked._rank == 0).drop("_rank")
        if as_of_day is not None:
            dl = _until_as_of("Deals", dl, settings, notes)
        if leads_kept is not None:
            # deals meet their consultation's id and day only (two narrow columns of Leads) ...
            ids = leads_kept.select("lead_id", _lead_day=leads_kept._day)
            linked = _materialised(con, dl.select("lead_id", "_day", "revenue", "gross_profit").inner_join(ids, "lead_id"),
                                   temporary)
            total = int(dl.count().execute())
            matched = _counts(linked, all=linked._day.notnull(), early=linked._day < linked._lead_day)
            _excluded("Deals", "unknown lead", total - matched["all"], exclusions)
            _excluded("Deals", "before inquiry", matched["early"], exclusions)
            linked = linked.filter(linked._day >= linked._lead_day)
            won = linked.select("lead_id", _won=linked._day, revenue=linked.revenue, gross_profit=linked.gross_profit,
                                _first=ibis.row_number().over(group_by=linked.lead_id, order_by=[linked._day]) == 0)
            # ... and Leads, with its segment columns, is read once: every consultation with each of its deals
            # (or none), summed per inquiry day × segments × won day × first deal. Consultations come out of it
            # as the rows with no deal or with their first deal (days to close = won day - inquiry day), deals
            # as the rows with a won day (_split); one join and one group-by of Leads instead of one of each
            # per table.
            lead_side, segments = _segment_keys(con, leads_kept.select("lead_id", "_day", *lead_dims), lead_dims,
                                                keep=["lead_id", "_day"])
            keys = ["_segment"] if segments is not None else lead_dims
            joined = lead_side.left_join(won, "lead_id")
            linked_frame = (joined.group_by(["_day", *keys, "_won", "_first"])
                            .aggregate(_n=joined.count(), revenue=joined.revenue.sum(),
                                       gross_profit=joined.gross_profit.sum()))
        else:
            deals_frame = dl.group_by("_day").aggregate(_n=dl.count(), revenue=dl.revenue.sum(),
                                                        gross_profit=dl.gross_profit.sum())
    elif leads_kept is not None:
        leads_frame = leads_kept.group_by(["_day", *lead_dims]).aggregate(_n=leads_kept.count())
    fetched = {name: None if frame is None else _fetch(frame)
               for name, frame in (("leads", leads_frame), ("deals", deals_frame))}
    fetched["spend"] = None if spend_frame is None else _segments_back(_fetch(spend_frame, pandas=False),
                                                                       spend_segments, spend_dims)
    if linked_frame is not None:
        linked = _fetch(linked_frame, pandas=False)
        fetched["leads"], fetched["deals"] = _split(_segments_back(linked, segments, lead_dims))
    if dl is None and fetched["spend"] is not None and "revenue" in fetched["spend"].columns:
        has_revenue = bool(fetched["spend"]["revenue"].notna().any())  # Deals, when there, say (as in prepare)
    if dl is None and ld is not None:
        notes.append(NO_DEALS_NOTE)
    if sp is None:
        notes.append(NO_SPEND_NOTE)
    return _aggregates(fetched, settings, spend_dims=tuple(spend_dims), lead_dims=tuple(lead_dims),
                       has_revenue=has_revenue, has_gp=has_gp, exclusions=exclusions, notes=notes)


def _fetch(expr: Any, *, pandas: bool = True) -> Any:
    """The engine's result as pandas, text as categories (a few labels repeated over millions of aggregate
    rows: codes instead of strings keep the aggregates small, and calc codes them so anyway); or as Arrow."""
    table = expr.to_pyarrow()
    return _categories(table) if pandas else table


def _segment_keys(con: Any, leads: Any, dims: list[str], *, keep: list[str]) -> tuple[Any, pd.DataFrame | None]:
    """A table (``keep`` and ``_segment``) with one whole-number key per combination of its segment columns,
    and the combinations.

    Grouping 20M consultations on seven text columns (as many groups as day × segment cells, 5.5M here) was
    most of the DuckDB route's time; grouping on one number per combination takes less than half as long,
    and brings back numbers instead of text. DuckDB only: the key is its ``hash`` of the columns (Ibis
    compiles a hash through a bit string, slower than the text), checked to be one number per combination
    over the few thousand combinations — a shared number falls back to the text, so it is exact. Other
    engines group on the text. Returns ``(leads, None)`` where the text is kept.
    """
    if getattr(con, "name", "") != "duckdb" or len(dims) < 2:
        return leads, None
    import ibis

    quoted = ", ".join('"' + d.replace('"', '""') + '"' for d in dims)
    leads_sql = ibis.to_sql(leads, dialect="duckdb")
    keyed = con.sql(f"SELECT *, hash({quoted}) AS _segment FROM ({leads_sql})", dialect="duckdb")
    # the combinations first (a small group-by), then their numbers: 20M hashes are made once, in the sums
    segments = con.sql(f"SELECT *, hash({quoted}) AS _segment FROM (SELECT DISTINCT {quoted} FROM ({leads_sql}))",
                       dialect="duckdb").to_pyarrow()
    if len(pd.unique(segments["_segment"].to_numpy())) != segments.num_rows:
        return leads, None  # two combinations share a number (vanishingly rare): group on the text
    return keyed.select(*keep, "_segment"), _categories(segments)


def _categories(table: Any) -> pd.DataFrame:
    """An Arrow table as pandas, text as categories; chunks combined first, so each column has one dictionary."""
    import pyarrow as pa

    table = table.combine_chunks()
    columns = [column.dictionary_encode() if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
               else column for column in table.columns]
    return pa.table(columns, names=table.column_names).to_pandas()


def _segments_back(linked: Any, segments: pd.DataFrame | None, dims: list[str]) -> pd.DataFrame:
    """The summed rows as pandas with their segment columns (from the key, when grouped on ``_segment``)."""
    import pyarrow.compute as pc

    if "_first" in linked.column_names:  # no deal: not a first deal (a plain bool column in pandas)
        linked = linked.set_column(linked.column_names.index("_first"), "_first",
                                   pc.fill_null(linked["_first"], False))
    if segments is None:
        return _categories(linked)
    frame = linked.to_pandas()
    at = pd.Index(segments["_segment"].to_numpy()).get_indexer(frame.pop("_segment").to_numpy())
    for position, dim in enumerate(dims):
        column = segments[dim]
        frame.insert(1 + position, dim, pd.Categorical.from_codes(column.cat.codes.to_numpy()[at],
                                                                  dtype=column.dtype))
    return frame


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Consultations and deals from the sums of every consultation with each of its deals (see read_aggregates).

    A consultation is the row of its first deal, or its row with no deal; both are one row per consultation,
    so their ``_n`` is consultations. A deal is a row with a won day (``_first`` says which converts).
    Split in pandas after one conversion (``_segments_back``): Arrow's filters leave each chunk its own
    dictionary, and unifying them made the conversion four times slower.
    """
    import numpy as np

    won = frame["_won"].to_numpy(dtype=np.float64)  # NaN: no deal
    dealt = ~np.isnan(won)
    consultation = ~dealt | frame["_first"].to_numpy(dtype=bool)
    dims = [c for c in frame.columns if c not in ("_day", "_won", "_first", "_n", "revenue", "gross_profit")]
    leads = frame.loc[consultation, ["_day", *dims, "_n"]]
    leads["days_to_close"] = won[consultation] - frame["_day"].to_numpy(dtype=np.float64)[consultation]
    deals = frame.loc[dealt].rename(columns={"_day": "_lead_day", "_won": "_day"})
    return leads, deals


def _dates(days: pd.Series) -> pd.Series:
    values = pd.to_numeric(days).astype("float64")
    missing = values.isna() | (values == calc.dataset.NO_DAY)
    out = pd.to_datetime(values.where(~missing).fillna(0).astype("int64"), unit="D")
    return out.where(~missing)


def _aggregates(fetched: dict, settings: Settings, *, spend_dims: tuple[str, ...], lead_dims: tuple[str, ...],
                has_revenue: bool, has_gp: bool, exclusions: list[Exclusion], notes: list[str]) -> calc.Aggregates:
    """The engine's result frames as calc's aggregated tables; the as-of date is the latest date unless set."""
    spend, leads, deals = fetched["spend"], fetched["leads"], fetched["deals"]
    latest = []
    if spend is not None:
        spend = spend.assign(date=_dates(spend["_day"])).drop(columns="_day")
        if spend["date"].notna().any():
            latest.append(spend["date"].max())
    if leads is not None:
        leads = leads.assign(date=_dates(leads["_day"])).drop(columns="_day")
        if len(leads):
            latest.append(leads["date"].max())
    if deals is not None:
        deals = deals.assign(date=_dates(deals["_day"])).drop(columns="_day")
        if "_lead_day" in deals.columns:
            deals = deals.assign(lead_date=_dates(deals["_lead_day"])).drop(columns="_lead_day").rename(
                columns={"_first": "first_deal"})
        if len(deals):
            latest.append(deals["date"].max())
    as_of = pd.Timestamp(settings.as_of) if settings.as_of else (max(latest) if latest else None)
    return calc.Aggregates(spend=spend, leads=leads, deals=deals, as_of=as_of, spend_dims=spend_dims,
                           lead_dims=lead_dims, has_revenue=has_revenue, has_gross_profit=has_gp,
                           exclusions=tuple(exclusions), notes=tuple(notes))


def load(source: str, *, spend: Path | None = None, leads: Path | None = None, deals: Path | None = None,
         tables: Mapping[str, str | None] | None = None, mapping: Mapping[str, Mapping[str, str]] | None = None,
         settings: Settings | Mapping[str, Any] | None = None) -> calc.Dataset:
    """The dataset of a source: its aggregates, made where the data lives, as calc's dataset."""
    settings = Settings.parse(settings)
    try:
        aggregates = read_aggregates(source, spend=spend, leads=leads, deals=deals, tables=tables, mapping=mapping,
                                     settings=settings)
    except InputError:
        raise
    except Exception as exc:  # the engine refused a query (types, permissions, a lost connection): its own words
        said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError("--source", None, Message("source.query_failed", said=f"{type(exc).__name__}: {said}"),
                         fix=Message("source.query_failed.fix")) from None
    return calc.from_aggregates(aggregates, settings=settings)
