"""The markdown summary of the unlabelled IEEE-CIS run (``results/ieee_unlabelled.md``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SIZE_BINS = [(3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, 10 ** 9)]
QUANTILES = (0.5, 0.9, 0.95, 0.99, 1.0)


def _bin(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}+" if hi >= 10 ** 9 else f"{lo}-{hi}"


def size_distribution(sizes: np.ndarray) -> str:
    """Markdown table: rings and members per size bin."""
    head = "| ring size | " + " | ".join(_bin(lo, hi) for lo, hi in SIZE_BINS) + " |"
    sep = "|---" * (len(SIZE_BINS) + 1) + "|"
    rings = [int(((sizes >= lo) & (sizes <= hi)).sum()) for lo, hi in SIZE_BINS]
    members = [int(sizes[(sizes >= lo) & (sizes <= hi)].sum()) for lo, hi in SIZE_BINS]
    return "\n".join([head, sep, "| rings | " + " | ".join(map(str, rings)) + " |",
                      "| members | " + " | ".join(map(str, members)) + " |"])


def quantile_row(name: str, values: np.ndarray) -> str:
    q = np.quantile(values, QUANTILES) if len(values) else [np.nan] * len(QUANTILES)
    return f"| {name} | {len(values):,} | " + " | ".join(f"{v:.3f}" for v in q) + " |"


def hub_table(links: pd.DataFrame, table: pd.DataFrame, top: int = 10) -> str:
    """Entities that hold most ring members together: per entity, rings it links (>= 2 members
    of the same ring use it), ring members on it and all users on it."""
    if table.empty:
        return "(no rings)"
    member_of = {m: rid for rid, ms in zip(table["ring_id"], table["members"], strict=True)
                 for m in ms.split()}
    sub = links[links["user_id"].isin(member_of)].assign(
        ring=lambda f: f["user_id"].map(member_of))
    per_ring = sub.groupby(["kind", "entity", "ring"])["user_id"].nunique()
    per_ring = per_ring[per_ring >= 2].reset_index()
    if per_ring.empty:
        return "(no entity is shared inside a ring)"
    agg = per_ring.groupby(["kind", "entity"]).agg(rings=("ring", "nunique"),
                                                   members=("user_id", "sum"))
    total = links.groupby(["kind", "entity"])["user_id"].nunique()
    agg["users"] = total.reindex(agg.index).to_numpy()
    agg = agg.sort_values(["members", "rings"], ascending=False).head(top)
    lines = ["| entity | kind | rings | ring members on it | users on it in all |",
             "|---|---|---|---|---|"]
    lines += [f"| {e} | {k} | {r.rings} | {r.members} | {r.users:,} |"
              for (k, e), r in agg.iterrows()]
    return "\n".join(lines)


def agreement(gnn: pd.Series, forest: pd.Series, rings: list[dict], pct: float = 95.0) -> dict:
    """GNN vs IsolationForest on the same users: Spearman rho, top-(100-pct)% overlap, and the
    share of ring members inside each method's top (100-pct)%."""
    from scipy.stats import spearmanr

    forest = forest.reindex(gnn.index)
    k = max(1, int(round(len(gnn) * (100 - pct) / 100)))
    top_g = set(gnn.sort_values(ascending=False).index[:k])
    top_f = set(forest.sort_values(ascending=False).index[:k])
    members = {m for r in rings for m in r["members"]}
    return {"rho": float(spearmanr(gnn.to_numpy(), forest.to_numpy()).statistic), "k": k,
            "overlap": len(top_g & top_f) / k, "members": len(members),
            "members_gnn": len(members & top_g) / max(len(members), 1),
            "members_forest": len(members & top_f) / max(len(members), 1)}


def write_summary(f: dict, path: Path) -> str:
    """Write and return the markdown of one run's figures (see ``run_unlabelled``)."""
    res, sec, table = f["result"], f["seconds"], f["table"]
    sizes = table["size"].to_numpy() if len(table) else np.zeros(0, int)
    cap = f"first {f['rows']:,} of the 150,000 transactions" if f["rows"] else "all 150,000 " \
        "transactions"
    ag = agreement(f["gnn"], f["iforest"], f["rings"])
    fsizes = f.get("forest_ring_sizes", [])
    flagged = ", ".join(f"{k} {v:,}" for k, v in res.flagged.items())
    lines = [
        "# IEEE-CIS 150k unlabelled slice: unsupervised scores and rings", "",
        f"`python -m experiments.ieee unlabelled{' --rows ' + str(f['rows']) if f['rows'] else ''}`"
        f" ({cap}; {f['users']:,} cards as users, {f['orders']:,} orders): built into the "
        "embedded store with `configs/mappings/ieee_cis_150k.yaml`, trained with "
        "`configs/unsupervised.yaml`"
        + (f" ({f['epochs']} epochs)" if f["epochs"] else "")
        + ", scored by `score_all` (as `fraudring score`), rings by `graphgnn/scores/rings.py` "
        "(candidates: flagged users and users at or above the 95th score percentile; entities "
        "used by more than 100 users link nobody). No labels: nothing here measures quality. "
        f"Build {sec.get('build', 0):.0f} s, train {sec.get('train', 0):.0f} s, score + rings "
        f"{sec.get('score', 0):.0f} s on the shared 2-core machine.", "",
        f"Flagged: {flagged} ({res.threshold}). **{len(table)} open rings**, "
        f"{int(sizes.sum()):,} members.", "",
        size_distribution(sizes), "",
        "| scores | n | median | p90 | p95 | p99 | max |", "|---|---|---|---|---|---|---|",
        quantile_row("GNN user score (all users)", f["gnn"].to_numpy()),
        quantile_row("GNN score of ring members",
                     f["gnn"].reindex([m for r in f["rings"] for m in r["members"]])
                     .dropna().to_numpy()),
        quantile_row("ring score", table["score"].to_numpy() if len(table) else np.zeros(0)),
        "",
        _consistency(f), "",
        "User features whose rank follows the GNN score most (Spearman): "
        + "; ".join(f"`{k}` {v:+.2f}" for k, v in f.get("drivers", pd.Series()).items())
        + ".", "",
        "Entities that hold rings together. What can link two users here: "
        + linkable(f["links"]) + ". The mapping's device is the identity table's `DeviceInfo` "
        "string (a model and build, not one handset), a card (`card1`) is both the user and its "
        "payment method, an address the billing region `addr1` where the slice has it.", "",
        hub_table(f["links"], table), "",
        "Largest rings: the time between their first and last shared use (span) and what their "
        "members share (members on it / all users of the entity):",
        "",
        _largest(table), "",
        f"Same features, IsolationForest (200 trees, seed 0) vs the GNN on the {len(f['gnn']):,}"
        f" users: Spearman rho {ag['rho']:.3f}; the two top-5% sets ({ag['k']:,} users) share "
        f"{ag['overlap']:.1%}; of the {ag['members']:,} ring members {ag['members_gnn']:.1%} "
        f"are in the GNN's top 5% and {ag['members_forest']:.1%} in the forest's. The same "
        f"ring detector on the forest's top 5% forms {len(fsizes)} rings ({int(sum(fsizes)):,} "
        f"members, largest {max(fsizes, default=0)}).", "",
        "![the largest ring](ieee_unlabelled_ring.png)", ""]
    text = "\n".join(lines)
    path.write_text(text)
    return text


def linkable(links: pd.DataFrame) -> str:
    """Per entity kind: entities in all, and those two or more users share (what can link)."""
    users = links.groupby(["kind", "entity"])["user_id"].nunique()
    parts = [f"{kind}: {int((n >= 2).sum()):,} of {len(n):,} entities shared by 2+ users"
             for kind, n in users.groupby(level="kind")]
    return "; ".join(parts) or "nothing"


def _span(r) -> str:
    hours = (pd.Timestamp(r["last_seen"]) - pd.Timestamp(r["first_seen"])).total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _largest(table: pd.DataFrame, top: int = 8) -> str:
    if table.empty:
        return "(no rings)"
    t = table.sort_values(["size", "score"], ascending=False).head(top).copy()
    t["span"] = [_span(r) for _, r in t.iterrows()]
    cols = ["ring_id", "size", "score", "span"] + [
        c for c in ("top_device", "top_IP", "top_address", "top_card", "top_email_domain")
        if c in t and t[c].fillna("").astype(str).str.len().gt(0).any()]
    lines = ["| " + " | ".join(cols) + " |", "|---" * len(cols) + "|"]
    for _, r in t.iterrows():
        lines.append("| " + " | ".join(f"{r[c]:.3f}" if c == "score" else str(r[c] or "")
                                       for c in cols) + " |")
    return "\n".join(lines)


def _consistency(f: dict) -> str:
    """The scores written to the store against the same checkpoint re-scoring the export."""
    stored = pd.Series(f.get("store_scores") or {}, dtype=float)
    both = stored.index.intersection(f["gnn"].index)
    if not len(both):
        return "(no stored user scores read back)"
    diff = float((stored[both] - f["gnn"][both]).abs().max())
    return (f"User scores read back from the store ({len(both):,}) against the checkpoint "
            f"re-scoring the exported graph: max |difference| {diff:.2g}.")
