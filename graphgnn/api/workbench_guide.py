"""A Neo4j Browser guide through the investigator queries, served at ``/guide``.

In Browser: ``:play http://HOST:PORT/guide`` (the host must be allowed by Neo4j's
``browser.remote_content_hostname_whitelist``). One slide per query of ``cypher/investigate/``,
each runnable with a click; where a ``*_neo4j`` variant exists (times shown as dates) it is the
one shown, since Browser always talks to Neo4j.
"""

from __future__ import annotations

import html

from graph_build import cypher

# The order an investigator works in; files not listed follow alphabetically.
ORDER = ("top_rings", "rings_grew", "ring_members", "ring_shared_entities", "ring_graph",
         "user_neighbourhood", "user_graph", "newly_flagged", "check_verdict", "set_verdict",
         "check_order_verdict", "set_order_verdict", "check_ring_status", "set_ring_status",
         "verdicts", "recent_runs")
EXAMPLE = {"ring_id": "'ring-…'", "user_id": "'u0000444'", "order_id": "'o0000001'",
           "limit": "20", "since": "0", "verdict": "'fraud'", "status": "'investigating'",
           "by": "'your name'", "note": "'why'"}


def _statements() -> list[cypher.Statement]:
    stmts = {s.name.split("/", 1)[1]: s for s in cypher.all_statements()
             if s.name.startswith("investigate/")}
    shown = []
    for base in sorted({n.removesuffix("_neo4j") for n in stmts},
                       key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)):
        shown.append(stmts.get(f"{base}_neo4j") or stmts[base])
    return shown


def _runnable(text: str) -> str:
    return f'<pre class="pre-scrollable code runnable">{html.escape(text)}</pre>'


def _slide(title: str, body: str) -> str:
    return (f'<slide class="row-fluid"><div class="col-sm-12"><h3>{html.escape(title)}</h3>'
            f"{body}</div></slide>")


def guide_html(base_url: str = "") -> str:
    """The guide page (HTML for Browser's ``:play``)."""
    slides = [_slide("fraudring: investigating rings", (
        "<p>Scoring writes <code>anomaly_score</code>, <code>anomaly_pct</code>, "
        "<code>reasons</code> and the <code>:Flagged</code> label on nodes, and "
        "<code>(:User)-[:MEMBER_OF]-&gt;(:FraudRing)</code> for rings. These slides walk "
        "through the saved queries of <code>cypher/investigate/</code>.</p>"
        "<p>First load the style (flagged nodes red, rings purple, cards and addresses "
        "coloured): run <code>:style</code>, then drag <code>cypher/style.grass</code> onto "
        "the Browser window.</p>"
        f"<p>The workbench of the same server is at <a href='{html.escape(base_url)}' "
        f"target='_blank'>{html.escape(base_url or '/')}</a>.</p>"))]
    for stmt in _statements():
        params = "\n".join(f":param {p} => {EXAMPLE.get(p, 'null')}" for p in stmt.params)
        body = ""
        if params:
            body += "<p>Set the parameters (edit the values), then run the query:</p>"
            body += _runnable(params)
        code = "\n".join(line for line in stmt.text.splitlines()
                         if not line.startswith("// dialect:") and
                         not line.startswith("// check:"))
        body += _runnable(code)
        if stmt.name.endswith(("set_verdict", "set_order_verdict", "set_ring_status")):
            body += ("<p>A write: it changes nothing when the value is not one of the allowed "
                     "lower-case words or the id is unknown. Run the matching "
                     "<code>check_*</code> query first to see why.</p>")
        slides.append(_slide(stmt.title, body))
    return ('<article class="guide"><carousel class="deck container-fluid">'
            + "".join(slides) + "</carousel></article>")
