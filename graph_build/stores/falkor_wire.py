"""How statements and values travel to the embedded FalkorDB and back over the Redis protocol.

Parameters go as a ``CYPHER k=v …`` prefix (FalkorDB has no binary parameters there); results
come in the compact ``[type, value]`` form, decoded here for the scalars and lists the project
reads. Also the client's statement timeout (``FRAUDRING_STATEMENT_TIMEOUT``).
"""

from __future__ import annotations

import os

from graph_build.errors import StoreError
from graph_build.stores.base import Row

#: Seconds one statement may take before the client gives up (``FRAUDRING_STATEMENT_TIMEOUT``).
#: No statement of the project needs minutes; a server that stops answering (seen once, under
#: heavy load: FalkorDB's threads all waiting on each other) then fails loudly instead of
#: hanging the job forever.
STATEMENT_TIMEOUT_S = 600.0


def env_seconds(name: str, default: float, zero: str | None = None) -> float:
    """A number of seconds from environment variable ``name`` (``default`` when unset).

    Positive and finite; 0 is allowed only when ``zero`` says what it means.
    """
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = float("nan")
    if not (value > 0 or (zero and value == 0)) or value == float("inf"):
        kind = "a number of seconds >= 0" if zero else "a positive number of seconds"
        raise StoreError(f"{name} must be {kind}, not {raw!r}",
                         hint=f"unset it for the default ({default:.0f} s)"
                              + (f"; 0 {zero}" if zero else ""))
    return value


def statement_timeout() -> float:
    """``FRAUDRING_STATEMENT_TIMEOUT`` in seconds (default 600), checked to be positive."""
    # 0 would make every socket non-blocking ("Resource temporarily unavailable").
    return env_seconds("FRAUDRING_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT_S)


def params_header(params: Row | None) -> str:
    """The ``CYPHER k=v …`` prefix that carries parameters to FalkorDB.

    The client inlines parameters as Cypher literals (FalkorDB has no binary parameters over
    the Redis protocol); its own renderer escapes strings, so data never becomes query text.
    (A JSON-based renderer was tried and measured 2x slower: the key rewrite costs more than
    the client's literal builder.)
    """
    from falkordb.helpers import stringify_param_value

    if not params:
        return ""
    return "CYPHER " + " ".join(f"`{k}`={stringify_param_value(v)}"
                                for k, v in params.items()) + " "


# FalkorDB's compact result types (see its RESP result-set docs).
NULL, STRING, INTEGER, BOOLEAN, DOUBLE, ARRAY = 1, 2, 3, 4, 5, 6


def scalar(pair, graph):
    """Decode one compact ``[type, value]`` cell.

    Why not the client's own parser: it dispatches through several layers per cell, which made
    export three times slower; scalars and lists are all the project reads, and anything else
    (nodes, maps, paths) still goes to the client's parser.
    """
    kind, value = pair
    if kind in (STRING, INTEGER):
        return value
    if kind == NULL:
        return None
    if kind == DOUBLE:
        return float(value)
    if kind == BOOLEAN:
        return value == "true"
    if kind == ARRAY:
        return [scalar(item, graph) for item in value]
    from falkordb.query_result import parse_scalar

    return parse_scalar(pair, graph)
