"""``fraudring cypher``: run an investigator's query against whichever store is configured."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from graph_build.errors import FraudringError
from graph_build.stores.base import GraphStore

# Clauses that change the graph; strings and comments are removed before looking.
_WRITE = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DROP|DETACH|FOREACH|LOAD\s+CSV)\b",
                    re.IGNORECASE)
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*|`[^`]*`")
# A write file names the read-only checks that must pass first: ``// check: investigate/x``.
_CHECK = re.compile(r"^//\s*check:\s*(\S+)\s*$", re.MULTILINE)
MAX_CELL = 60


def is_write_query(text: str) -> bool:
    """True if the query has a clause that writes (outside strings and comments)."""
    return bool(_WRITE.search(_STRINGS.sub("", text)))


def write_problems(store: GraphStore, query: str,
                   params: dict[str, Any] | None = None) -> list[str]:
    """What the checks named by the query's ``// check:`` lines report (empty = may write).

    Each check is a read returning one row per problem (column ``problem``), such as a verdict
    that is not one of the allowed values or an id that names no node.
    """
    from graph_build import cypher

    problems = []
    for name in _CHECK.findall(query):
        stmt = cypher.load(name)
        rows = store.read(stmt.text, {p: (params or {}).get(p) for p in stmt.params})
        problems += [str(r.get("problem")) for r in rows]
    return problems


def run_query(
    store: GraphStore,
    query: str | None = None,
    file: str | Path | None = None,
    params: dict[str, Any] | None = None,
    allow_write: bool = False,
) -> list[dict[str, Any]]:
    """Run ``query`` (or the text of ``file``) and return its rows.

    Raises:
        FraudringError: the file is missing, or the query writes and ``allow_write`` is off.
    """
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise FraudringError(f"{path}: no such file", hint="see the files in cypher/")
        query = path.read_text(encoding="utf-8")
    if not query or not query.strip():
        raise FraudringError("empty query")
    query = query.strip().rstrip(";")
    if is_write_query(query):
        if not allow_write:
            raise FraudringError("this query writes to the graph",
                                 hint="pass --write if that is what you mean")
        problems = write_problems(store, query, params)
        if problems:
            raise FraudringError("refused, nothing written: " + "; ".join(problems),
                                 hint="see the check_* file named in the query's header")
        return [store.write(query, params)]
    return store.read(query, params)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def format_table(rows: list[dict[str, Any]]) -> str:
    """Rows as an aligned text table with a row count."""
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, rule, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])
