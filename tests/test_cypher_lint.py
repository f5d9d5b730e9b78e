"""Every Cypher text the project runs, checked by Neo4j's own parser and semantic analysis.

No Neo4j server can run where the tests run, so the Neo4j side of the "same Cypher on both
stores" promise is checked with ``@neo4j-cypher/language-support`` (the analyser behind Neo4j's
editors): ``tests/cypher_lint/lint.mjs`` lints every rendered statement in one node process.

Setup (once; CI runs it): ``npm ci --prefix tests/cypher_lint``.
Without node or that install the tests skip here, but fail when ``CI`` is set: CI must lint.

Errors (severity 1) fail, in either Cypher 5 (Neo4j 5) or Cypher 25 (Neo4j 2025+); warnings
(deprecations, names the schema does not know) are reported, not failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from graph_build import cypher, schema

LINT_DIR = Path(__file__).resolve().parent / "cypher_lint"
LINT_SCRIPT = LINT_DIR / "lint.mjs"
ERROR, WARNING = 1, 2

# Statements whose syntax is genuinely not Neo4j's (FalkorDB-only) and so cannot pass the Neo4j
# lint: display name (or statement name, for every expansion) -> reason. Prefer making a
# statement Neo4j-valid to adding it here.
NOT_NEO4J_SYNTAX: dict[str, str] = {}

def db_schema() -> dict:
    """What the analyser may assume exists: the schema whitelist and every known property."""
    props: set[str] = set(schema.AGGREGATE_PROPS) | set(schema.SCORING_PROPERTIES)
    for n in schema.NODES.values():
        props |= {n.key, *n.properties}
    for r in schema.RELATIONSHIPS.values():
        props |= set(r.properties)
    props |= set(schema.KEYED_LABELS.values())
    return {
        "labels": sorted([*schema.NODES, *schema.SCORING_LABELS, *schema.META_LABELS]),
        "relationshipTypes": sorted([*schema.RELATIONSHIPS, *schema.SCORING_RELATIONSHIPS]),
        "propertyKeys": sorted(props),
        "graphSchema": [
            *({"from": r.source, "to": r.target, "relType": r.type}
              for r in schema.RELATIONSHIPS.values()),
            # Ring membership (DESIGN §3): scored nodes point at their ring.
            *({"from": label, "to": "FraudRing", "relType": "MEMBER_OF"}
              for label in schema.SCORED_LABELS),
        ],
    }


def _unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        return "the Cypher linter is not installed: run `npm ci --prefix tests/cypher_lint`"
    return None


@pytest.fixture(scope="module")
def linter():
    """A function linting ``[{name, text, params?}]`` in one node process; skips if missing."""
    why = _unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must lint Cypher, but {why}")
        pytest.skip(why)

    def lint(statements: list[dict]) -> list[dict]:
        payload = json.dumps({"dbSchema": db_schema(), "statements": statements})
        proc = subprocess.run(
            ["node", str(LINT_SCRIPT)],
            input=payload,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"lint.mjs failed ({proc.returncode}):\n{proc.stderr}"
        return json.loads(proc.stdout)

    return lint


def _format(name: str, d: dict) -> str:
    versions = ", ".join(d.get("cypher", []))
    return f"{name}:{d['line']}:{d['col']}: {d['message']} [{versions}]"


def test_every_statement_passes_neo4j_lint(linter):
    rendered = list(cypher.all_rendered())
    assert rendered, "no .cypher files found"
    skipped = {
        display: NOT_NEO4J_SYNTAX.get(display) or NOT_NEO4J_SYNTAX.get(stmt.name)
        for display, stmt, _ in rendered
    }
    statements = [
        {"name": display, "text": text, "params": list(stmt.params)}
        for display, stmt, text in rendered
        if not skipped[display]
    ]
    results = linter(statements)
    assert [r["name"] for r in results] == [s["name"] for s in statements]

    errors = [
        _format(r["name"], d) for r in results for d in r["diagnostics"] if d["severity"] == ERROR
    ]
    notes = [
        _format(r["name"], d) for r in results for d in r["diagnostics"] if d["severity"] != ERROR
    ]
    if notes:
        shown = "\n  ".join(notes[:20]) + ("\n  ..." if len(notes) > 20 else "")
        warnings.warn(f"Neo4j lint: {len(notes)} warning(s) (allowed):\n  {shown}", stacklevel=1)
    for display, reason in skipped.items():
        if reason:
            print(f"not linted: {display}: {reason}")
    assert not errors, (
        f"{len(errors)} Neo4j lint error(s) (a parameter 'not defined' means the file's "
        "`// params:` header misses it):\n" + "\n".join(errors)
    )


def test_broken_statement_is_reported(linter):
    """The lint is real: a syntax error, an unknown function and an undeclared parameter fail."""
    results = linter(
        [
            {"name": "syntax", "text": "MATCH (n RETURN n", "params": []},
            {"name": "function", "text": "MATCH (n:User) RETURN sizee(n.user_id)", "params": []},
            {"name": "param", "text": "MATCH (n:User {user_id: $id}) RETURN n", "params": []},
            {"name": "fine", "text": "MATCH (n:User {user_id: $id}) RETURN n", "params": ["id"]},
        ]
    )
    by_name = {r["name"]: r["diagnostics"] for r in results}
    for name in ("syntax", "function", "param"):
        assert any(d["severity"] == ERROR for d in by_name[name]), (name, by_name[name])
    assert by_name["syntax"][0]["line"] == 1
    assert "not defined" in " ".join(d["message"] for d in by_name["param"])
    assert not [d for d in by_name["fine"] if d["severity"] == ERROR], by_name["fine"]


def test_header_line_numbers_match_the_file(linter):
    """Reported lines count the ``//`` header, so they point at the line in the .cypher file."""
    text = "// title\n// params: rows\nUNWIND $rows AS row\nRETURN row.x +\n"
    [result] = linter([{"name": "t", "text": text, "params": ["rows"]}])
    errors = [d for d in result["diagnostics"] if d["severity"] == ERROR]
    assert errors and errors[0]["line"] >= 4, result


def test_property_warnings_name_real_typos_only(linter):
    """A misspelt node property warns; map access on an UNWIND row inside a pattern does not."""
    results = linter(
        [
            {"name": "typo", "text": "MATCH (n:User) RETURN n.user_idd AS x", "params": []},
            {
                "name": "row",
                "text": "UNWIND $rows AS row\nMATCH (a:User {user_id: row.src})\nRETURN a.country",
                "params": ["rows"],
            },
        ]
    )
    by_name = {r["name"]: r["diagnostics"] for r in results}
    assert any(
        d["severity"] == WARNING and d["message"].startswith("user_idd") for d in by_name["typo"]
    ), by_name["typo"]
    assert by_name["row"] == [], by_name["row"]
