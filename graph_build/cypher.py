"""Every Cypher text the project runs lives in ``cypher/`` as a ``.cypher`` file; this loads them.

A file starts with ``//`` header lines: the first is its title (Neo4j Browser shows it for
favourites); ``// dialect: neo4j`` or ``// dialect: falkordb`` marks a store-specific statement
(default: both); ``// template: node|keyed|rel|scored`` marks a text with identifier placeholders
(``__LABEL__``, ``__KEY__``, ``__PROPS__``, ``__TIME__``, ``__TYPE__``, ``__SRC__``,
``__SRC_KEY__``, ``__DST__``, ``__DST_KEY__``). Placeholders are filled only with names from the
schema whitelist, never from data: labels and types cannot be query parameters.

:func:`all_rendered` expands every template for every schema entry, so a test can lint and run
exactly what the project runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from graph_build import schema

CYPHER_DIR = Path(__file__).resolve().parents[1] / "cypher"
_PLACEHOLDER = re.compile(r"__[A-Z_]+__")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Statement:
    """One ``.cypher`` file: its name (path below ``cypher/`` without suffix), header and text."""

    name: str
    title: str
    dialect: str
    template: str | None
    text: str
    params: tuple[str, ...] = ()
    #: Declared type of each parameter: ``str``, ``int``, ``float``, ``bool``, ``list`` or
    #: ``map``, with a trailing ``?`` when null is allowed (``// params: since:int?, rows:list``).
    param_types: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def runs_on(self, kind: str) -> bool:
        return self.dialect in ("both", kind)


PARAM_TYPES = ("str", "int", "float", "bool", "list", "map")


def parse_params(header: str, where: str) -> dict[str, str]:
    """``"since:int?, rows:list"`` -> ``{"since": "int?", "rows": "list"}``.

    Why types: Neo4j requires every parameter a statement references, with the right type
    (``ParameterMissing``, a list where a number came), while FalkorDB inlines whatever it gets;
    declared types let the embedded test run send exactly what Neo4j would accept.

    A parameter without a type is ``any`` (the statement tests reject that; loading does not,
    so a file being written does not break every command).

    Raises:
        ValueError: a parameter with an unknown type.
    """
    declared: dict[str, str] = {}
    for item in (p.strip() for p in header.split(",")):
        if not item:
            continue
        name, sep, kind = (x.strip() for x in item.partition(":"))
        kind = kind if sep else "any"
        if kind != "any" and kind.rstrip("?") not in PARAM_TYPES:
            raise ValueError(f"{where}: parameter {name!r} has an unknown type "
                             f"({', '.join(PARAM_TYPES)}, '?' for nullable): {item!r}")
        declared[name] = kind
    return declared


def _parse(path: Path) -> Statement:
    raw = path.read_text(encoding="utf-8")
    header: list[str] = []
    for line in raw.splitlines():
        if not line.startswith("//"):
            break
        header.append(line[2:].strip())
    title = header[0] if header else path.stem
    meta = dict(h.split(":", 1) for h in header[1:] if ":" in h)
    meta = {k.strip().lower(): v.strip() for k, v in meta.items()}
    declared = parse_params(meta.get("params", ""), path.name)
    params = tuple(declared)
    name = path.relative_to(CYPHER_DIR).with_suffix("").as_posix()
    return Statement(
        name=name,
        title=title,
        dialect=meta.get("dialect", "both"),
        template=meta.get("template") or None,
        text=raw.strip().rstrip(";"),
        params=params,
        param_types=declared,
    )


@cache
def load(name: str) -> Statement:
    """Load ``cypher/<name>.cypher`` (e.g. ``load("build/merge_nodes")``)."""
    path = CYPHER_DIR / f"{name}.cypher"
    if not path.is_file():
        raise FileNotFoundError(f"no Cypher statement {name!r} (looked for {path})")
    return _parse(path)


def all_statements() -> list[Statement]:
    """Every ``.cypher`` file below ``cypher/``, sorted by name."""
    return [load(p.relative_to(CYPHER_DIR).with_suffix("").as_posix())
            for p in sorted(CYPHER_DIR.rglob("*.cypher"))]


def _projection(var: str, props: tuple[str, ...]) -> str:
    return ", ".join(f"{var}.{p} AS {p}" for p in props) or "null AS _none"


def node_identifiers(label: str) -> dict[str, str]:
    """Placeholder values for a whitelisted node label."""
    spec = schema.node(label)
    return {
        "__LABEL__": spec.label,
        "__KEY__": spec.key,
        "__PROPS__": _projection("n", spec.properties),
        # Labels without a time property never match the as-of filter's comparison.
        "__TIME__": spec.time or "created_at",
    }


def rel_identifiers(rel_type: str) -> dict[str, str]:
    """Placeholder values for a whitelisted relationship type."""
    spec = schema.rel(rel_type)
    return {
        "__TYPE__": spec.type,
        "__SRC__": spec.source,
        "__SRC_KEY__": schema.node(spec.source).key,
        "__DST__": spec.target,
        "__DST_KEY__": schema.node(spec.target).key,
        "__PROPS__": _projection("r", spec.properties),
        "__TIME__": spec.time or "first_seen",
    }


def render(name: str, label: str | None = None, rel_type: str | None = None) -> str:
    """The text of statement ``name`` with its placeholders filled from the schema.

    Args:
        name: statement name below ``cypher/``.
        label: node label for ``node``/``scored`` templates (must be in the schema).
        rel_type: relationship type for ``rel`` templates (must be in the schema).
    """
    stmt = load(name)
    if stmt.template is None:
        return stmt.text
    if stmt.template in ("node", "scored"):
        if label is None:
            raise ValueError(f"{name} is a {stmt.template} template: pass label=")
        values = node_identifiers(label)
    elif stmt.template == "keyed":
        if label not in schema.KEYED_LABELS:
            raise ValueError(f"{name} is a keyed template: pass a keyed label=")
        values = {"__LABEL__": label, "__KEY__": schema.KEYED_LABELS[label]}
    elif stmt.template == "rel":
        if rel_type is None:
            raise ValueError(f"{name} is a rel template: pass rel_type=")
        values = rel_identifiers(rel_type)
    else:
        raise ValueError(f"{name}: unknown template kind {stmt.template!r}")
    text = stmt.text
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    leftover = _PLACEHOLDER.findall(text)
    if leftover:
        raise ValueError(f"{name}: unfilled placeholders {sorted(set(leftover))}")
    return text


def template_targets(stmt: Statement) -> list[dict[str, str]]:
    """The keyword arguments of :func:`render` for every expansion of ``stmt``."""
    if stmt.template == "node":
        return [{"label": label} for label in schema.NODES]
    if stmt.template == "scored":
        return [{"label": label} for label in schema.SCORED_LABELS]
    if stmt.template == "keyed":
        return [{"label": label} for label in schema.KEYED_LABELS]
    if stmt.template == "rel":
        return [{"rel_type": t} for t in schema.RELATIONSHIPS]
    return [{}]


def all_rendered() -> Iterator[tuple[str, Statement, str]]:
    """Yield ``(display name, statement, text)`` for every expansion of every statement."""
    for stmt in all_statements():
        for kwargs in template_targets(stmt):
            suffix = "".join(f"[{v}]" for v in kwargs.values())
            yield stmt.name + suffix, stmt, render(stmt.name, **kwargs)


def check_identifier(name: str) -> str:
    """Return ``name`` if it may be spliced into Cypher (whitelisted), else raise ValueError."""
    if not (_IDENTIFIER.match(name) and schema.is_whitelisted_identifier(name)):
        raise ValueError(f"{name!r} is not a whitelisted label or relationship type")
    return name
