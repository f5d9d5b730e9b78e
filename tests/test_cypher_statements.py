"""Every Cypher text that runs on the embedded store is executed against a real FalkorDB.

The Neo4j lint (``test_cypher_lint.py``) proves each text is valid Neo4j Cypher; this proves the
same text is accepted and runs on FalkorDB, the other half of "the same Cypher on both stores".
Statements are taken from :func:`graph_build.cypher.all_rendered` (every template expansion),
so new ``.cypher`` files are covered without touching this test; their parameters come from the
``// params:`` header (values: :data:`PARAMS`, else :func:`param_value`'s name heuristics).
The graph holds two nodes of every label and one relationship of every type, so MATCHes find
something to work on.
"""

from __future__ import annotations

import re

import pytest

from graph_build import cypher, schema
from graph_build.errors import StoreError

# Values for parameter names the project uses, of the type the code sends (the falkordb client
# inlines parameters as text, so only str/int/float/bool/list/dict: never None).
PARAMS: dict[str, object] = {
    "rows": [],  # UNWIND $rows: an empty batch still parses, plans and runs the statement
    "batch": 10,
    "limit": 10,
    "skip": 0,
    "top": 10,
    "k": 10,
    "as_of": 0,
    "now": 0,
    "since": 0,
    "lo": 0,
    "hi": 10,
    "threshold": 0.5,
    "key": "x",
    "keys": ["x"],
    "name": "x",
    "model_version": "x",
    "status": "x",
    "mode": "x",
}

WRITE_CLAUSE = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DROP)\b", re.IGNORECASE)
PAGED = re.compile(r"SKIP\s+\$skip\s+LIMIT\s+\$limit\s*$", re.IGNORECASE)


#: A value of each declared type (``// params: name:type``), for names not in PARAMS.
TYPE_VALUES: dict[str, object] = {
    "str": "x", "int": 0, "float": 0.5, "bool": False, "list": [], "map": {},
}
PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "map": dict,
}


def typed_value(name: str, declared: str) -> object:
    """A value of the declared type: PARAMS' value when it has that type, else the type's.

    Nullable parameters (``int?``) get a value, not null: null is what a caller that forgot
    the parameter sends on FalkorDB, and that must not be what the test proves works.
    """
    kind = declared.rstrip("?")
    value = PARAMS.get(name, TYPE_VALUES[kind])
    wanted = PY_TYPES[kind]
    ok = isinstance(value, wanted) and not (kind in ("int", "float") and isinstance(value, bool))
    return value if ok else TYPE_VALUES[kind]


def param_value(name: str) -> object:
    """A dummy value of the right type for parameter ``name`` (by name when not in PARAMS)."""
    if name in PARAMS:
        return PARAMS[name]
    if name == "rows" or name.endswith("_rows"):
        return []
    if name.endswith(("_ids", "_keys")):
        return ["x"]
    if name.endswith(("_id", "_key")):
        return "x"
    if name in ("limit", "top", "k") or name.startswith(("max_", "top_")):
        return 10
    if name.endswith(("_at", "_ms")) or name in ("as_of", "since", "now", "until"):
        return 0
    return 0


def _code(text: str) -> str:
    """The statement without its ``//`` comment lines."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


RENDERED = list(cypher.all_rendered())


def _cases():
    for display, stmt, text in RENDERED:
        marks = []
        if not stmt.runs_on("falkordb"):
            marks.append(pytest.mark.skip(reason="Neo4j-only"))
        yield pytest.param(stmt, text, id=display, marks=marks)


def _seed(store) -> None:
    """Two nodes of every keyed label (keys "x" and "y"), one relationship of every type."""
    for label, key in schema.KEYED_LABELS.items():
        spec = schema.NODES.get(label)
        props = {p: 0 for p in (spec.properties if spec else ())}
        for value in ("x", "y"):
            store.write(
                f"CREATE (n:{cypher.check_identifier(label)}) SET n = $props",
                {"props": {**props, key: value}},
            )
    for rel in schema.RELATIONSHIPS.values():
        src, dst = schema.node(rel.source), schema.node(rel.target)
        store.write(
            f"MATCH (a:{cypher.check_identifier(src.label)} {{{src.key}: 'x'}}), "
            f"(b:{cypher.check_identifier(dst.label)} {{{dst.key}: 'x'}}) "
            f"CREATE (a)-[r:{cypher.check_identifier(rel.type)}]->(b) SET r = $props",
            {"props": {p: 0 for p in rel.properties}},
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from graph_build.stores.falkor import FalkorStore

    s = FalkorStore(home=tmp_path_factory.mktemp("stmt_store"))
    yield s
    s.close()
    s.server.stop()


@pytest.fixture()
def seeded(store):
    """The module's store, re-seeded when a statement (e.g. clear_batch) emptied it."""
    count = store.read("MATCH (n) RETURN count(n) AS n")  # [] while the graph does not exist
    if not count or not count[0]["n"]:
        _seed(store)
    return store


def test_param_heuristics():
    assert param_value("rows") == []
    assert param_value("user_id") == "x"
    assert param_value("skip") == 0
    assert param_value("limit") == 10
    assert param_value("scored_at") == 0
    assert param_value("something_else") == 0


PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@pytest.mark.parametrize(("stmt", "text"), [pytest.param(s, t, id=d) for d, s, t in RENDERED])
def test_every_parameter_is_declared_with_a_type(stmt, text):
    # Neo4j fails a statement whose referenced parameter is missing (ParameterMissing); the
    # header is the contract callers and this test follow, so it must name every one.
    used = set(PARAM_REF.findall(_code(text)))
    assert used == set(stmt.params), (sorted(used), stmt.params)
    untyped = [n for n, t in stmt.param_types.items() if t == "any"]
    assert not untyped, f"give these a type in the // params: header: {untyped}"


def test_declared_types_decide_the_values():
    assert typed_value("bad_runs", "list") == []  # was 0 by the name heuristic
    assert typed_value("limit", "int") == 10
    assert typed_value("since", "int?") == 0
    assert typed_value("error", "str?") == "x"
    with pytest.raises(ValueError, match="unknown type"):
        cypher.parse_params("since:integer", "x.cypher")
    assert cypher.parse_params("since", "x") == {"since": "any"}
    assert cypher.parse_params("since:int?, rows:list", "x") == {"since": "int?", "rows": "list"}


def test_statements_found():
    names = {stmt.name for _, stmt, _ in RENDERED}
    assert "build/merge_nodes" in names
    assert "maintenance/clear_batch" in names


@pytest.mark.parametrize(("stmt", "text"), list(_cases()))
def test_statement_runs_on_embedded_store(seeded, stmt, text):
    params = {name: typed_value(name, stmt.param_types[name]) for name in stmt.params}
    if WRITE_CLAUSE.search(_code(text)):
        try:
            counters = seeded.write(text, params)
        except StoreError as e:
            # Index creation has no IF NOT EXISTS on FalkorDB: a re-run answers this.
            if "already indexed" not in str(e).lower():
                raise
        else:
            assert isinstance(counters, dict)
        return
    rows = seeded.read(text, params)
    assert isinstance(rows, list)
    if PAGED.search(_code(text)):
        # Paging through read_pages returns every row exactly once.
        everything = seeded.read(text, {**params, "skip": 0, "limit": 1_000_000})
        pages = list(seeded.read_pages(text, params, page_size=1))
        assert all(len(p) == 1 for p in pages)
        assert sorted(map(repr, (r for p in pages for r in p))) == sorted(map(repr, everything))
