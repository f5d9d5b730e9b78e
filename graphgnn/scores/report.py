"""Write an HTML report with plots: score distributions, PR curves, rings and the last runs.

``fraudring report --out DIR [--data DIR] [--top N]``: ``index.html`` plus PNGs — the score
distribution per label (flagged share marked), precision-recall curves when labels exist (the
generator's ``truth/`` folder given with ``--data``, else investigators' verdicts), the ring size
histogram, drawings of the top rings (members and the devices/IPs they share) and the last
scoring runs.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from graphgnn.timeutil import fmt_ms, now_ms

RINGS_DRAWN = 6
MEMBERS_SHOWN = 12
REASONS_SHOWN = 2
VERDICTS_SHOWN = 20
# One colour per entity kind, as in the workbench and cypher/style.grass.
KIND_STYLE = {"user": ("#E53935", "o"), "candidate": ("#F48FB1", "o"), "device": ("#1E88E5", "s"),
              "IP": ("#43A047", "D"), "card": ("#FB8C00", "p"), "address": ("#8E24AA", "h")}
_KIND_NAMES = {"user": "user, flagged", "candidate": "user above the ring percentile"}
LEGEND = ("<p class='legend'><b>Drawings:</b> "
          + " · ".join(f"<span style='color:{c}'>&#9679;</span> {_KIND_NAMES.get(k, k)}"
                       for k, (c, _) in KIND_STYLE.items())
          + " · black ring = verdict fraud. Entities shown are those two or more members share; "
          "cards and addresses are reached through the members' orders.</p>")


def _ms(value) -> str:
    return "" if value is None else fmt_ms(value, suffix="")


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>"
                                    for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cut(items, shown: int, sep: str) -> str:
    """The first ``shown`` items joined, with "+N more" when the list is longer."""
    items = [str(i) for i in (items or [])]
    extra = f"{sep}+{len(items) - shown} more" if len(items) > shown else ""
    return sep.join(items[:shown]) + extra


def _ring_section(store, ring: dict[str, Any], png: Path) -> str:
    """A ring's drawing (every shared entity kind) and its members with reasons and verdicts."""
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.lines import Line2D

    from graph_build import cypher

    members = store.read(cypher.render("workbench/ring_members"), {"ring_id": ring["ring_id"]})
    links = store.read(cypher.render("workbench/ring_links"), {"ring_id": ring["ring_id"]})
    g = nx.Graph()
    for m in members:
        g.add_node(m["user_id"], kind="user" if m["flagged"] else "candidate",
                   fraud=m["verdict"] == "fraud")
    for x in links:
        g.add_node(f"{x['kind']} {x['entity']}", kind=x["kind"], fraud=False)
        g.add_edge(x["user_id"], f"{x['kind']} {x['entity']}")
    fig, ax = plt.subplots(figsize=(6, 4.4))
    pos = nx.spring_layout(g, seed=0)
    nx.draw_networkx_edges(g, pos, ax=ax, width=0.6, alpha=0.5)
    for kind, (colour, marker) in KIND_STYLE.items():
        nodes = [n for n in g if g.nodes[n]["kind"] == kind]
        if nodes:
            nx.draw_networkx_nodes(g, pos, nodelist=nodes, ax=ax, node_color=colour,
                                   node_shape=marker, node_size=200 if kind in ("user",
                                   "candidate") else 140,
                                   edgecolors=["#111" if g.nodes[n]["fraud"] else colour
                                               for n in nodes], linewidths=2)
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=5,
                            labels={n: n.split(" ", 1)[-1] for n in g})
    ax.legend(handles=[Line2D([], [], marker=m, color="w", markerfacecolor=c, markersize=7,
                              label=_KIND_NAMES.get(k, k)) for k, (c, m) in KIND_STYLE.items()],
              fontsize=6, loc="lower left", frameon=False)
    ax.set_title(f"{ring['ring_id']} ({ring['size']} users, score {float(ring['score']):.2f})",
                 fontsize=8)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)
    rows = [{"user": m["user_id"], "score": f"{float(m['score'] or 0):.3f}",
             "pct": m["pct"], "flagged": "yes" if m["flagged"] else "",
             "verdict": f"{m['verdict']} ({m['verdict_by']})" if m["verdict"] else "",
             "reasons": _cut(m["reasons"], REASONS_SHOWN, "; ")}
            for m in members[:MEMBERS_SHOWN]]
    more = (f"<p>+{len(members) - MEMBERS_SHOWN} more members</p>"
            if len(members) > MEMBERS_SHOWN else "")
    return (f"<h3>{html.escape(ring['ring_id'])}</h3>"
            f'<img src="{png.name}" alt="{html.escape(ring["ring_id"])}">'
            + _table(rows, ["user", "score", "pct", "flagged", "verdict", "reasons"]) + more)


def _labels(store, data_dir: str | Path | None, label: str, scores) -> Any:
    """Ground truth for ``label`` aligned with ``scores`` (NaN where unknown), or None."""
    import numpy as np
    import pandas as pd

    truth = None
    if data_dir is not None:
        name = {"User": "users", "Order": "orders"}.get(label)
        path = Path(data_dir) / "truth" / f"{name}.csv"
        if name and path.is_file():
            frame = pd.read_csv(path, dtype={0: str})
            truth = pd.Series(frame["is_fraud"].to_numpy(float), index=frame.iloc[:, 0])
    if truth is None:
        verdict = scores["verdict"].map({"fraud": 1.0, "legit": 0.0})
        if verdict.notna().sum() == 0:
            return None
        return verdict.to_numpy(float)
    y = truth.reindex(scores["key"].to_numpy()).to_numpy(float)
    return y if np.isfinite(y).any() else None


def build_report(store, out: str | Path, data_dir: str | Path | None = None,
                 top: int = RINGS_DRAWN) -> Path:
    """Write the report into ``out``; returns the path of ``index.html``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from graph_build import cypher, schema

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts: list[str] = []
    summary: list[dict[str, Any]] = []

    # score distributions and PR curves
    fig, axes = plt.subplots(1, len(schema.SCORED_LABELS), figsize=(4 * len(
        schema.SCORED_LABELS), 3.2), squeeze=False)
    pr_curves = []
    for ax, label in zip(axes[0], schema.SCORED_LABELS, strict=True):
        scores = pd.DataFrame(store.read(cypher.render("scoring/scores", label=label)),
                              columns=["key", "score", "flagged", "verdict"])
        s = scores["score"].astype(float).to_numpy()
        flagged = scores["flagged"].astype(bool).to_numpy()
        ax.hist(s, bins=40, color="#90A4AE", log=True)
        if flagged.any():
            ax.axvline(s[flagged].min(), color="#E53935", ls="--", label="threshold")
            ax.legend(loc="upper center")
        ax.set_title(f"{label}: {len(s):,} scored, {flagged.sum():,} flagged")
        ax.set_xlabel("anomaly_score")
        row = {"label": label, "scored": len(s), "flagged": int(flagged.sum())}
        y = _labels(store, data_dir, label, scores) if len(s) else None
        if y is not None:
            from sklearn.metrics import average_precision_score, precision_recall_curve

            known = np.isfinite(y)
            if len(set(y[known])) == 2:
                p, r, _ = precision_recall_curve(y[known], s[known])
                ap = average_precision_score(y[known], s[known])
                pr_curves.append((label, p, r, ap))
                row["AUPRC"] = f"{ap:.3f}"
                row["precision of flagged"] = f"{np.nanmean(y[flagged & known]):.3f}" \
                    if (flagged & known).any() else ""
        summary.append(row)
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=90)
    plt.close(fig)
    parts.append("<h2>Scores</h2>" + _table(summary, ["label", "scored", "flagged", "AUPRC",
                                                       "precision of flagged"]))
    parts.append('<img src="scores.png" alt="score distributions">')
    if pr_curves:
        fig, ax = plt.subplots(figsize=(5, 4))
        for label, p, r, ap in pr_curves:
            ax.plot(r, p, label=f"{label} (AUPRC {ap:.3f})")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title("Precision-recall")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "pr_curve.png", dpi=90)
        plt.close(fig)
        parts.append('<h2>Precision-recall</h2><img src="pr_curve.png" alt="PR curve">')

    # rings
    rings = store.read(cypher.render("rings/ring_sizes"))
    parts.append(f"<h2>Rings ({len(rings)} open)</h2>")
    if rings:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        sizes = [int(r["size"]) for r in rings]
        ax.hist(sizes, bins=range(2, max(sizes) + 2), color="#8E24AA")
        ax.set_xlabel("ring size (users)")
        ax.set_ylabel("rings")
        fig.tight_layout()
        fig.savefig(out / "ring_sizes.png", dpi=90)
        plt.close(fig)
        parts.append('<img src="ring_sizes.png" alt="ring sizes">')
        from graphgnn.cli.rings import top_rings

        tops = top_rings(store, top)
        parts.append(_table([{**r, "score": f"{float(r['score']):.3f}",
                              "members": _cut(r["members"], 8, ", "),
                              "shared": _cut(r["shared"], 3, "; ")} for r in tops],
                            ["ring_id", "size", "score", "members", "shared"]))
        if len(rings) > len(tops):
            parts.append(f"<p>+{len(rings) - len(tops)} more rings (raise --top, or open the "
                         "workbench of <code>fraudring serve</code>)</p>")
        parts.append(LEGEND)
        for i, ring in enumerate(tops):
            parts.append(_ring_section(store, ring, out / f"ring_{i + 1}.png"))

    decisions = store.read(cypher.render("investigate/verdicts"), {"limit": VERDICTS_SHOWN + 1})
    for d in decisions:
        d["at"] = _ms(d["at"])
    parts.append("<h2>Investigators' decisions</h2>" + (_table(
        decisions[:VERDICTS_SHOWN], ["at", "by", "entity", "id", "verdict", "previous", "note"])
        if decisions else "<p>No verdicts yet.</p>")
        + ("<p>+ more in <code>cypher/investigate/verdicts.cypher</code></p>"
           if len(decisions) > VERDICTS_SHOWN else ""))

    runs = store.read(cypher.render("investigate/recent_runs"), {"limit": 10})
    for r in runs:
        r["started_at"], r["finished_at"] = _ms(r["started_at"]), _ms(r["finished_at"])
    parts.append("<h2>Last scoring runs</h2>" + _table(
        runs, ["run_id", "status", "mode", "model_version", "started_at", "finished_at",
               "nodes_scored", "flagged", "rings"]))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>fraudring report</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:"
        "collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
        "img{max-width:100%;margin:4px}</style></head><body>"
        f"<h1>fraudring report</h1><p>{html.escape(store.location)} — generated "
        f"{fmt_ms(now_ms())}</p>" + "\n".join(parts) + "</body></html>")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="folder for index.html and the PNGs")
    parser.add_argument("--data", help="generated data folder whose truth/ gives PR curves")
    parser.add_argument("--top", type=int, default=RINGS_DRAWN, help="rings to draw")
    parser.add_argument("--store", help="'embedded' (default) or a Neo4j URI")


def run(args) -> int:
    import sys

    from graph_build.stores import open_store

    store = open_store(args.store)
    try:
        index = build_report(store, args.out, args.data, args.top)
    finally:
        store.close()
    print(f"report: {index}", file=sys.stderr)
    return 0
