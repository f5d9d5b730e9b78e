"""The 150k unlabelled IEEE-CIS slice through the product: build, unsupervised model, rings.

The product's own path, as ``fraudring demo`` runs it: the slice (optionally its first
``rows`` transactions) is built into a fresh embedded store with
``configs/mappings/ieee_cis_150k.yaml``; ``fraudring train fit --config
configs/unsupervised.yaml`` trains the unsupervised objective on the store; ``score_all``
(``fraudring score``) writes scores, flags and rings (:mod:`graphgnn.scores.rings`). No label
exists, so nothing here is a quality figure: it reports what the rings look like (sizes,
scores, the devices / addresses / email domains their members share) and how the GNN's user
ranking relates to an IsolationForest fitted on the same normalised user features.

Outputs: ``results/ieee_unlabelled_rings.csv`` (one row per open ring), ``results/
ieee_unlabelled.md`` (:mod:`experiments.ieee_unlabelled_report`) and ``results/
ieee_unlabelled_ring.png`` (the largest ring, drawn by the HTML report's ring helper).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.ieee_rows import first_rows

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ieee_cis_150k_unlabelled"
MAPPING = ROOT / "configs" / "mappings" / "ieee_cis_150k.yaml"
CONFIG = ROOT / "configs" / "unsupervised.yaml"
RESULTS = Path(__file__).resolve().parent / "results"
RINGS_CSV = RESULTS / "ieee_unlabelled_rings.csv"
RING_PNG = RESULTS / "ieee_unlabelled_ring.png"
WORK = ROOT / ".fraudring" / "experiments" / "ieee_150k"
TOP_PCT = 95.0  # the ring detector's default candidate percentile (RingOptions.min_pct)


def _say(msg: str) -> None:
    print(f"[ieee-unlabelled] {msg}", file=sys.stderr, flush=True)


def capped(rows: int | None, data_dir: Path = DATA, out: Path = WORK / "data") -> Path:
    """``data_dir``, or its first ``rows`` transactions (in time order) and their identity
    rows as Parquet under ``out``."""
    if not rows:
        return data_dir
    return first_rows(data_dir, out, rows, "parquet")


def _fresh_store(home: Path):
    """A new, empty embedded store under ``home`` (a previous run's server stopped first)."""
    from graph_build.stores.embedded_server import EmbeddedServer
    from graph_build.stores.falkor import FalkorStore

    if home.exists():
        EmbeddedServer(home).stop()
        shutil.rmtree(home)
    home.mkdir(parents=True)
    return FalkorStore(home=home)


def train_unsupervised(home: Path, work: Path, epochs: int | None) -> Path:
    """``fraudring train fit --config configs/unsupervised.yaml`` on the store; the checkpoint."""
    from graphgnn.cli.train import run_lightning_cli

    args = ["fit", "--config", str(CONFIG), "--data.store", "embedded",
            "--data.store_home", str(home), "--data.cache_dir", str(work / "cache"),
            "--trainer.default_root_dir", str(work / "runs")]
    if epochs is not None:
        args += ["--trainer.max_epochs", str(epochs)]
    run_lightning_cli(args)
    return work / "runs" / "latest.ckpt"


def iforest_scores(features: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """IsolationForest anomaly scores (higher = more anomalous) of the given feature rows."""
    from sklearn.ensemble import IsolationForest

    x = features.to_numpy(np.float64)
    forest = IsolationForest(n_estimators=200, random_state=seed, n_jobs=1).fit(x)
    return -forest.score_samples(x)


def forest_ring_sizes(links: pd.DataFrame, forest: pd.Series) -> list[int]:
    """Ring sizes the product's detector forms from the forest's top (100 - TOP_PCT) % users
    (scores as rank percentiles in [0, 1]), for comparison with the GNN's rings."""
    from graphgnn.scores.rings import detect_rings

    pct = forest.rank(pct=True)
    top = pct[pct >= TOP_PCT / 100]
    return [r.size for r in detect_rings(links, {str(k): float(v) for k, v in top.items()})]


def ring_rows(rings: list[dict], links: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """One row per ring: size, score, times, and the entities with most members per kind
    (device, address, card, IP from the entity links; email domain from the users table),
    each with how many members share it and how many users it has in all."""
    per_entity = links.groupby(["kind", "entity"])["user_id"].nunique()
    email = users.set_index(users["user_id"].astype(str))["email_domain"].astype("string")
    email_all = email.value_counts()
    out = []
    for r in rings:
        members = set(r["members"])
        mine = links[links["user_id"].isin(members)]
        row = {"ring_id": r["ring_id"], "size": int(r["size"]), "score": float(r["score"]),
               "first_seen": pd.to_datetime(r["first_seen"], unit="ms"),
               "last_seen": pd.to_datetime(r["last_seen"], unit="ms")}
        for kind in ("device", "address", "card", "IP"):
            counts = mine[mine["kind"] == kind].groupby("entity")["user_id"].nunique()
            counts = counts[counts >= 2].sort_values(ascending=False)
            row[f"top_{kind}"] = "; ".join(
                f"{e} ({n}/{int(per_entity[(kind, e)])})" for e, n in counts.head(3).items())
        doms = email.reindex(sorted(members)).dropna().value_counts()
        row["top_email_domain"] = "; ".join(f"{d} ({n}/{int(email_all[d])})"
                                            for d, n in doms.head(3).items())
        row["shared"] = "; ".join(r.get("shared") or [])
        row["members"] = " ".join(sorted(members))
        out.append(row)
    return pd.DataFrame(out)


def draw_ring(store, ring: dict, png: Path) -> None:
    """The ring's picture by the report's helper (the one behind ``demo_ring.png``)."""
    from graphgnn.scores.report import _ring_section

    png.parent.mkdir(parents=True, exist_ok=True)
    _ring_section(store, ring, png)


def run_unlabelled(rows: int | None = None, epochs: int | None = None, work: Path = WORK,
                   data_dir: Path = DATA, results: Path = RESULTS) -> dict:
    """The whole run (see the module docstring); returns the figures the summary shows."""
    from graph_build.build import build
    from graph_build.export import export_frames

    from experiments.ieee_unlabelled_report import write_summary
    from graphgnn.cli.rings import top_rings
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.rescore import score_all
    from graphgnn.scores.rings import entity_links, flagged_users

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    data = capped(rows, data_dir, work / "data")
    home = work / "store"
    before = os.environ.get("FRAUDRING_HOME")
    os.environ["FRAUDRING_HOME"] = str(home)  # as the demo: the CLI's store is this one
    store = _fresh_store(home)
    try:
        build(data, store, mapping=MAPPING, log=lambda _m: None)
        seconds["build"] = time.perf_counter() - t
        _say(f"built {data} in {seconds['build']:.1f}s")
        t = time.perf_counter()
        ckpt = train_unsupervised(home, work, epochs)
        seconds["train"] = time.perf_counter() - t
        _say(f"trained in {seconds['train']:.1f}s -> {ckpt}")
        t = time.perf_counter()
        scorer = load_scorer(ckpt)
        result = score_all(store, scorer, reason="experiments.ieee unlabelled", log=_say)
        seconds["score"] = time.perf_counter() - t
        _say(result.summary())
        t = time.perf_counter()
        rings = top_rings(store, 100_000)
        scores = flagged_users(store, 0.0)  # every scored user: min percentile 0
        frames = export_frames(store)
        links = entity_links(frames)
        feats = scorer.score(frames, as_of=result.as_of)["User"]
        table = ring_rows(rings, links, frames.nodes["User"])
        results.mkdir(parents=True, exist_ok=True)
        table.to_csv(results / RINGS_CSV.name, index=False)
        if rings:
            largest = max(rings, key=lambda r: (r["size"], r["score"]))
            draw_ring(store, largest, results / RING_PNG.name)
        seconds["report"] = time.perf_counter() - t
    finally:
        store.close()
        store.server.stop()
        if before is None:  # leave the caller's environment as it was (tests run in-process)
            os.environ.pop("FRAUDRING_HOME", None)
        else:
            os.environ["FRAUDRING_HOME"] = before
    key = feats.columns[0]
    x = feats.drop(columns=[key, "anomaly_score"])
    forest = pd.Series(iforest_scores(x), index=feats[key].astype(str))
    forest_rings = forest_ring_sizes(links, forest)
    rho = x.rank().corrwith(feats["anomaly_score"].rank()).dropna()
    drivers = rho.reindex(rho.abs().sort_values(ascending=False).index).head(4)
    figures = {"rows": rows, "data": str(data), "result": result, "seconds": seconds,
               "users": len(feats), "orders": int(frames.node_count("Order")),
               "gnn": pd.Series(feats["anomaly_score"].to_numpy(), index=feats[key].astype(str)),
               "iforest": forest, "forest_ring_sizes": forest_rings, "drivers": drivers,
               "store_scores": scores, "rings": rings, "table": table, "links": links,
               "epochs": epochs}
    write_summary(figures, results / "ieee_unlabelled.md")
    return figures

