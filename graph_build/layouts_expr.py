"""Row filters of a mapping (``where:``): a small comparison language, parsed, never evaluated.

Grammar (keywords in any case)::

    filter    := condition ("and" condition)*
    condition := column op literal              op: == != < <= > >=
               | column "in" "[" literal ("," literal)* "]"
               | column ("not null" | "is not null" | "is null")
    column    := name (letters, digits, _ and .) | `any text in backquotes`
    literal   := number | 'text' | "text"

A number literal compares numerically (a cell that is not a number does not match); a text
literal compares the cell's text. A missing cell matches no comparison (``!=`` included), as in
SQL. ``where:`` may also be a list of filters, all of which must hold. The filter runs on the
source rows (after ``join`` and ``range_join``), before the columns are computed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from graph_build.layouts_columns import require

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<quoted_col>`[^`]+`)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<op>==|!=|<=|>=|<|>)
    | (?P<punct>[\[\],])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""", re.VERBOSE)

_OPS: dict[str, Callable] = {"==": operator.eq, "!=": operator.ne, "<": operator.lt,
                             "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Condition:
    """One parsed comparison: ``column op value`` (op ``in``, ``notnull`` or ``isnull`` too)."""

    column: str
    op: str
    value: object = None


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        require(match is not None and match.end() > pos, where,
                f"cannot read the filter at {text[pos:pos + 20]!r} (position {pos + 1})")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _literal(token: tuple[str, str], where: str) -> float | str:
    kind, text = token
    if kind == "number":
        return float(text)
    require(kind == "string", where, f"expected a number or a 'quoted' text, got {text!r}")
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(text: object, where: str) -> list[Condition]:
    """Parse one filter (or a list of filters, all required) into conditions."""
    if isinstance(text, list):
        return [c for i, part in enumerate(text) for c in parse(part, f"{where}[{i}]")]
    require(isinstance(text, str) and text.strip() != "", where,
            "a filter is text like \"Labels != 2 and Amount > 0\"")
    tokens, conditions, i = _tokens(str(text), where), [], 0

    def word(j: int) -> str:
        return tokens[j][1].lower() if j < len(tokens) and tokens[j][0] == "word" else ""

    while True:
        require(i < len(tokens) and tokens[i][0] in ("word", "quoted_col"), where,
                "expected a column name" + (f" at {tokens[i][1]!r}" if i < len(tokens) else
                                            " at the end"))
        column = tokens[i][1].strip("`") if tokens[i][0] == "quoted_col" else tokens[i][1]
        i += 1
        if word(i) == "not" and word(i + 1) == "null":
            conditions.append(Condition(column, "notnull"))
            i += 2
        elif word(i) == "is" and word(i + 1) == "not" and word(i + 2) == "null":
            conditions.append(Condition(column, "notnull"))
            i += 3
        elif word(i) == "is" and word(i + 1) == "null":
            conditions.append(Condition(column, "isnull"))
            i += 2
        elif word(i) == "in":
            require(i + 1 < len(tokens) and tokens[i + 1][1] == "[", where, "in needs [a, b, …]")
            i, values = i + 2, []
            while True:
                require(i < len(tokens), where, "unclosed [ in the filter")
                values.append(_literal(tokens[i], where))
                i += 1
                require(i < len(tokens) and tokens[i][1] in (",", "]"), where,
                        "expected , or ] in the list")
                i += 1
                if tokens[i - 1][1] == "]":
                    break
            kinds = {isinstance(v, float) for v in values}
            require(len(kinds) == 1, where, "an in-list holds numbers or texts, not both")
            conditions.append(Condition(column, "in", tuple(values)))
        else:
            require(i < len(tokens) and tokens[i][0] == "op", where,
                    f"after {column!r} expected ==, !=, <, <=, >, >=, in or not null")
            require(i + 1 < len(tokens), where, f"{tokens[i][1]} needs a value")
            conditions.append(Condition(column, tokens[i][1], _literal(tokens[i + 1], where)))
            i += 2
        if i == len(tokens):
            return conditions
        require(word(i) == "and", where,
                f"expected 'and' at {tokens[i][1]!r} (conditions combine with and only)")
        i += 1


def _mask(frame: pd.DataFrame, cond: Condition, where: str) -> pd.Series:
    require(cond.column in frame.columns, where,
            f"filter names column {cond.column!r}, which the source lacks")
    text = frame[cond.column].astype("string").str.strip().replace("", pd.NA)
    if cond.op == "notnull":
        return text.notna()
    if cond.op == "isnull":
        return text.isna()
    numeric = isinstance(cond.value, float) or (
        isinstance(cond.value, tuple) and isinstance(cond.value[0], float))
    values = pd.to_numeric(text, errors="coerce") if numeric else text
    hit = values.isin(list(cond.value)) if cond.op == "in" else _OPS[cond.op](values, cond.value)
    return (hit.fillna(False) & values.notna()).astype(bool)


def apply_filter(frame: pd.DataFrame, text: object, where: str) -> pd.DataFrame:
    """The rows of ``frame`` that satisfy the filter ``text`` (vectorised, no eval)."""
    keep = pd.Series(True, index=frame.index)
    for cond in parse(text, where):
        keep &= _mask(frame, cond, where)
    return frame[keep.to_numpy()]
