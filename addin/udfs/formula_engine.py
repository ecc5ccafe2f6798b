"""A small evaluator of the formulas Cycle ROI writes, over the registered Excel functions.

It knows what the template and the self-test use: function calls, string and number literals, TRUE and
FALSE, empty arguments, ``Table[#All]`` references, workbook names (``CycleData``) and Excel's INDEX
and DROP. Each call of a registered function receives what Excel would hand it (a table as rows with
its header), so tests and ``benchmarks/excel_recalc.py`` run the real adapters without Excel, and
:class:`Recalculation` counts the cells handed to Python the way Excel's calls would.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .registry import UDFS

TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<ref>[A-Za-z_][\w.]*\[#All\])'
                   r'|(?P<call>[A-Za-z_][\w.]*)\(|(?P<name>[A-Za-z_]\w*)|(?P<punct>[,)]))')


@dataclass
class Recalculation:
    """One full recalculation: ``tables`` by name, ``names`` (workbook names) -> their formulas.

    Each workbook name is evaluated once per recalculation, as Excel computes a cell once; every
    registered-function call adds the cells of its arguments to ``cells_to_python``.
    """

    tables: dict[str, list]
    names: dict[str, str] = field(default_factory=dict)
    cells_to_python: int = 0
    calls: int = 0
    _name_values: dict[str, Any] = field(default_factory=dict)

    def evaluate(self, formula: str) -> Any:
        tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in TOKEN.finditer(formula.lstrip("="))]
        position = 0

        def expr() -> Any:
            nonlocal position
            kind, text = tokens[position]
            position += 1
            if kind == "str":
                return text[1:-1]
            if kind == "num":
                return float(text)
            if kind == "ref":
                return self.tables[text.split("[")[0]]
            if kind == "name":
                if text.upper() in ("TRUE", "FALSE"):
                    return text.upper() == "TRUE"
                if text not in self._name_values:
                    self._name_values[text] = self.evaluate(self.names[text])
                return self._name_values[text]
            if kind == "call":
                args: list[Any] = []
                while True:
                    if tokens[position] == ("punct", ")"):
                        position += 1
                        break
                    if tokens[position] == ("punct", ","):
                        args.append(None)  # an empty argument
                        position += 1
                        continue
                    args.append(expr())
                    if tokens[position] == ("punct", ","):
                        position += 1
                        if tokens[position] == ("punct", ")"):
                            args.append(None)
                return self.call(text.removeprefix("_xlfn."), args)
            raise SyntaxError(f"unexpected {text} in {formula}")

        return expr()

    def call(self, name: str, args: list) -> Any:
        if name == "INDEX":
            return args[0][int(args[1]) - 1][int(args[2]) - 1]
        if name == "DROP":
            return args[0][int(args[1]):]
        if name not in UDFS:
            raise NameError(f"{name} is not a registered Excel function")
        self.calls += 1
        self.cells_to_python += sum(cells(a) for a in args)
        return UDFS[name].adapter(*args)


def cells(value: Any) -> int:
    """Cells in an argument as Excel passes it: rows × columns of a range, one for a single value."""
    if value is None:
        return 0
    if isinstance(value, (list, tuple)):
        return sum(len(row) if isinstance(row, (list, tuple)) else 1 for row in value)
    return 1


def evaluate(formula: str, tables: dict[str, list], names: dict[str, str] | None = None) -> Any:
    """One formula in a fresh recalculation."""
    return Recalculation(tables, names or {}).evaluate(formula)
