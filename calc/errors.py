"""The one error calc raises for bad input, and the record of rows it excluded.

Every message follows one template so users learn to read it once::

    <Table>: column '<column>': <what is wrong> (rows 4, 9, 17 …). Fix: <what to do>.

Row numbers are those of a sheet or CSV whose header is in row 1: the first data row is row 2.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

#: How many offending rows a message lists before it says "and N more".
MAX_ROWS_SHOWN = 5


def sheet_rows(positions: Iterable[int]) -> list[int]:
    """0-based data positions -> row numbers of a sheet whose header is row 1."""
    return [int(p) + 2 for p in positions]


def describe_rows(rows: Sequence[int]) -> str:
    """'rows 4, 9 and 3 more' from sheet row numbers.

    >>> describe_rows([4])
    'row 4'
    >>> describe_rows([2, 3, 4, 5, 6, 7, 8])
    'rows 2, 3, 4, 5, 6 and 2 more'
    """
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    more = len(rows) - MAX_ROWS_SHOWN
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}" + (f" and {more} more" if more > 0 else "")


#: Pseudo-tables whose "column" is an option or a setting, named as such: "option 'start'", "setting 'gross_margin'".
_NAMED_BY_KIND = {"options": "option", "Settings": "setting"}


class InputError(ValueError):
    """Bad input: names the table, the column, the offending rows and the fix.

    >>> str(InputError("Leads", "date", "2 values are not dates", rows=[4, 9], fix="type them as 2024-03-01"))
    "Leads: column 'date': 2 values are not dates (rows 4, 9). Fix: type them as 2024-03-01."
    >>> str(InputError("options", "--from", "'2018-13-01' is not a date", fix="give a date such as 2024-03-01"))
    "option --from: '2018-13-01' is not a date. Fix: give a date such as 2024-03-01."
    """

    def __init__(self, table: str | None, column: str | None, problem: str, *,
                 rows: Sequence[int] = (), fix: str = "") -> None:
        self.table, self.column, self.problem = table, column, problem
        self.rows, self.fix = list(rows), fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = ": ".join(p for p in (self.table, f"column '{self.column}'" if self.column else None) if p)
        if self.column and self.table in _NAMED_BY_KIND:  # an option or a setting is not a column of a table
            kind = _NAMED_BY_KIND[self.table]
            where = f"{kind} {self.column}" if self.column.startswith("--") else f"{kind} '{self.column}'"
        text = f"{where}: {self.problem}" if where else self.problem
        if self.rows:
            text += f" ({describe_rows(self.rows)})"
        if self.fix:
            text += f". Fix: {self.fix.rstrip('.')}."
        elif not text.endswith("."):
            text += "."
        return text


@dataclass(frozen=True)
class Exclusion:
    """Rows left out of every figure, with the reason and the fix, so the report can say so."""

    table: str
    reason: str
    count: int
    rows: list[int] = field(default_factory=list)
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.table}: {self.count} row{'s' if self.count != 1 else ''} excluded, {self.reason}"
        if self.rows:
            text += f" ({describe_rows(self.rows)})"
        return text + (f". Fix: {self.fix.rstrip('.')}." if self.fix else ".")
