"""The one error calc raises for bad input, and the record of rows it excluded.

Every message follows one template so users learn to read it once::

    <Table>: column '<column>': <what is wrong> (rows 4, 9, 17 …). Fix: <what to do>.

Row numbers are those of a sheet or CSV whose header is in row 1: the first data row is row 2.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .messages import Message, render, text

#: How many offending rows a message lists before it says "and N more".
MAX_ROWS_SHOWN = 5


def sheet_rows(positions: Iterable[int]) -> list[int]:
    """0-based data positions -> row numbers of a sheet whose header is row 1."""
    return [int(p) + 2 for p in positions]


def describe_rows(rows: Sequence[int], language: str = "en") -> str:
    """'rows 4, 9 and 3 more' from sheet row numbers.

    >>> describe_rows([4])
    'row 4'
    >>> describe_rows([2, 3, 4, 5, 6, 7, 8])
    'rows 2, 3, 4, 5, 6 and 2 more'
    >>> describe_rows([2, 3, 4, 5, 6, 7, 8], "zh")
    '第 2, 3, 4, 5, 6 行等，另有 2 行'
    """
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])  # row numbers: no digit grouping
    more = len(rows) - MAX_ROWS_SHOWN
    if more > 0:
        return text("error.rows_more", language, rows=shown, more=more)
    return text("error.rows", language, rows=shown, count=len(rows))


def rows_message(rows: Sequence[int], total: int | None = None) -> Message:
    """Sheet rows as a catalogue message ('rows 4, 9 and 3 more'), rendered in the reader's language;
    ``total`` is the count when ``rows`` lists only the first few."""
    total = len(rows) if total is None else total
    shown = ", ".join(str(r) for r in list(rows)[:MAX_ROWS_SHOWN])  # row numbers: no digit grouping
    more = total - min(len(rows), MAX_ROWS_SHOWN)
    if more > 0:
        return Message("error.rows_more", rows=shown, more=more)
    return Message("error.rows", rows=shown, count=total)


def _text(value: Any, language: str) -> str:
    return render(value, language) if isinstance(value, Message) else str(value)


#: Pseudo-tables whose "column" is an option or a setting, named as such: "option 'start'", "setting 'gross_margin'".
_NAMED_BY_KIND = {"options": "option", "Settings": "setting"}


class InputError(ValueError):
    """Bad input: names the table, the column, the offending rows and the fix.

    >>> str(InputError("Leads", "date", "2 values are not dates", rows=[4, 9], fix="type them as 2024-03-01"))
    "Leads: column 'date': 2 values are not dates (rows 4, 9). Fix: type them as 2024-03-01."
    >>> str(InputError("options", "--from", "'2018-13-01' is not a date", fix="give a date such as 2024-03-01"))
    "option --from: '2018-13-01' is not a date. Fix: give a date such as 2024-03-01."
    """

    def __init__(self, table: str | None, column: str | None, problem: str | Message, *,
                 rows: Sequence[int] = (), fix: str | Message = "") -> None:
        self.table, self.column, self.problem = table, column, problem
        self.rows, self.fix = list(rows), fix
        self.notes: list[Any] = []  # what else the user should know (e.g. how a file was read)
        super().__init__(self.render("en"))

    def render(self, language: str = "en") -> str:
        """The message in ``language``; problem and fix given as catalogue Messages are translated."""
        column = text("error.column", language, column=self.column) if self.column else None
        if self.column and self.table in _NAMED_BY_KIND:  # an option or a setting is not a column of a table
            named = self.column if self.column.startswith("--") else f"'{self.column}'"
            where = text(f"error.named_{_NAMED_BY_KIND[self.table]}", language, name=named)
        else:
            where = text("error.separator", language).join(_text(p, language) for p in (self.table, column) if p)
        problem = _text(self.problem, language)
        out = f"{where}{text('error.separator', language)}{problem}" if where else problem
        if self.rows:
            out += text("error.rows_in_brackets", language, rows=describe_rows(self.rows, language))
        fix = _text(self.fix, language).rstrip(".。")
        end = text("error.full_stop", language)
        if fix:
            out += text("error.fix", language, fix=fix)
        elif not out.endswith((".", "。")):
            out += end
        if self.notes:
            out += text("error.notes", language, notes="; ".join(_text(n, language) for n in self.notes))
        return out

    def __str__(self) -> str:
        return self.render("en")


@dataclass(frozen=True)
class Exclusion:
    """Rows left out of every figure, with the reason and the fix, so the report can say so."""

    table: str
    reason: str
    count: int
    rows: list[int] = field(default_factory=list)
    fix: str = ""

    def render(self, language: str = "en") -> str:
        out = text("exclusion.excluded", language, table=self.table, count=self.count,
                   reason=_text(self.reason, language))
        if self.rows:
            out += text("error.rows_in_brackets", language, rows=describe_rows(self.rows, language))
        fix = _text(self.fix, language).rstrip(".。")
        return out + (text("error.fix", language, fix=fix) if fix else text("error.full_stop", language))

    def __str__(self) -> str:
        return self.render("en")


#: pydantic's error types as catalogue messages (the English reads as pydantic's own message)
_PROBLEMS = {"less_than_equal": ("le", "error.setting.le"), "less_than": ("lt", "error.setting.lt"),
             "greater_than_equal": ("ge", "error.setting.ge"), "greater_than": ("gt", "error.setting.gt"),
             "literal_error": ("expected", "error.setting.literal"), "string_too_short": ("min_length", "error.setting.empty"),
             "string_too_long": ("max_length", "error.setting.too_long")}
_KINDS = {"float_parsing": "error.setting.number", "float_type": "error.setting.number",
          "int_parsing": "error.setting.integer", "int_type": "error.setting.integer",
          "int_from_float": "error.setting.integer", "date_parsing": "error.setting.date",
          "date_from_datetime_parsing": "error.setting.date", "date_type": "error.setting.date",
          "extra_forbidden": "error.setting.unknown", "bool_parsing": "error.setting.bool"}


def validation_problem(error: dict) -> "Message | str":
    """What is wrong with one setting, from pydantic's error, in the catalogue (any language)."""
    if error["type"] in _PROBLEMS:
        key, message = _PROBLEMS[error["type"]]
        limit = (error.get("ctx") or {}).get(key)
        return Message(message, limit=f"{limit:g}" if isinstance(limit, float) else str(limit))
    if error["type"] in _KINDS:
        return Message(_KINDS[error["type"]])
    return error["msg"].lower()  # a kind of error the catalogue does not know yet: pydantic's words
