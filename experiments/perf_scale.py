"""Scale curve: time and peak memory of build, one training epoch and scoring vs graph size.

For each size (full: 10k, 100k, 1M users; ``--quick``: 10k, 30k) fresh subprocesses, so each
peak RSS belongs to one stage:

- ``build``: ``graph_build.build.build`` of the generated tables into a fresh embedded store
  (FalkorDB), end to end (read, validate, map, batched MERGE); the client's peak RSS and the
  server's (``VmHWM`` of the redis-server process) are both reported;
- ``model``: tables -> frames -> point-in-time features -> HeteroData (``prepare``), one
  supervised training epoch of the shipped model on time-respecting sampled subgraphs (the
  mini-batch settings of ``configs/large.yaml``, what a 1M-user graph trains with) and a saved
  checkpoint;
- ``score``: a full scoring run with that checkpoint on the graph the build stage wrote, as
  ``fraudring score`` does it (export from the store, features, forward pass, write-back of
  every scored node, rings);
- ``full``: ``prepare`` and one full-batch epoch (the default mode of ``configs/default.yaml``),
  only up to 100k users: its activations grow with the whole graph and outgrow 24 GiB before
  1M users.

Rows go to ``results/perf.csv`` through :func:`experiments.perf.record` (``scale …`` benchmarks),
the points to ``results/scale.csv`` and the plot to ``results/scale.png`` (seconds and MiB against
relationship count, log-log, with a linear guide).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from experiments.perf import peak_rss_mib, perf_row, print_table, record

RESULTS = Path(__file__).resolve().parent / "results"
SCALE_CSV = RESULTS / "scale.csv"
SCALE_PNG = RESULTS / "scale.png"
ROOT = Path(__file__).resolve().parents[1]
SCALE_COLUMNS = ["users", "nodes", "edges", "build_s", "build_rss_mib", "server_rss_mib",
                 "prepare_s", "epoch_s", "score_s", "model_rss_mib", "epoch_full_s",
                 "full_rss_mib", "score_export_s", "score_forward_s", "score_write_s",
                 "score_rings_s", "score_rss_mib", "score_server_rss_mib", "scored"]
#: Above this many users the full-batch epoch is not measured (its activations outgrow 24 GiB).
FULL_BATCH_MAX_USERS = 100_000


def _server_hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def stage_build(data: Path, home: Path) -> dict:
    """Build ``data`` into a fresh embedded store under ``home``; seconds and memory."""
    from graph_build.build import build
    from graph_build.stores.falkor import FalkorStore

    store = FalkorStore(home=home)
    try:
        t0 = time.perf_counter()
        report = build(data, store, log=lambda _m: None)
        seconds = time.perf_counter() - t0
        info = store.server.status()
        server = _server_hwm(info.pid) if info else float("nan")
    finally:
        store.close()
        store.server.stop()
    return {"build_s": seconds, "build_rss_mib": peak_rss_mib(), "server_rss_mib": server,
            "nodes": sum(report.nodes.values()), "edges": sum(report.relationships.values())}


def _prepared(data: Path):
    """Prepared dataset and a fresh System of the shipped model; tables dropped (memory)."""
    import torch

    from experiments.baselines.common import THREADS
    from experiments.baselines.gnn import _model_args
    from experiments.data import prepare
    from graphgnn.model.system import System

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    p = prepare(data)
    p.tables = {}
    train = p.pg.data("train")
    system = System(in_dims={t: int(train[t].x.shape[1]) for t in train.node_types},
                    **_model_args())
    return p, system


def stage_model(data: Path, ckpt: Path) -> dict:
    """Prepare features, train one mini-batch epoch (configs/large.yaml), save the checkpoint."""
    from experiments.baselines.gnn import large_settings, quiet_trainer
    from graphgnn.model.datamodule import DataModule

    t0 = time.perf_counter()
    p, system = _prepared(data)
    t1 = time.perf_counter()
    dm = DataModule.from_frames(p.frames, split="temporal", **large_settings()["data"])
    dm.stages = {s: p.pg.data(s) for s in ("train", "val", "test")}
    dm.data, dm.meta, dm.prepared = dm.stages["train"], dict(p.meta), p.pg
    trainer = quiet_trainer(1, limit_val_batches=0)
    trainer.fit(system, datamodule=dm)
    t2 = time.perf_counter()
    trainer.save_checkpoint(ckpt)
    return {"prepare_s": t1 - t0, "epoch_s": t2 - t1, "steps": int(trainer.global_step),
            "as_of": int(p.meta["as_of"]), "model_rss_mib": peak_rss_mib()}


def stage_score(ckpt: Path, home: Path, as_of: int) -> dict:
    """Score the graph the build stage wrote to ``home`` as ``fraudring score`` does (export,
    features, forward pass, write-back of every scored node, rings)."""
    from graph_build.stores.falkor import FalkorStore
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.scoring import run_scoring

    store = FalkorStore(home=home)
    try:
        result = run_scoring(store, load_scorer(ckpt), as_of=as_of)
        server = _server_hwm(store.server.status().pid)
    finally:
        store.close()
        store.server.stop()
    sec = result.seconds
    return {"score_s": sec["total"], "score_export_s": sec["export"],
            "score_forward_s": sec["score"], "score_write_s": sec["write"],
            "score_rings_s": sec.get("rings", 0.0), "scored": result.nodes_scored,
            "flagged": sum(result.flagged.values()), "rings": result.rings,
            "score_rss_mib": peak_rss_mib(), "score_server_rss_mib": server}


def stage_full(data: Path) -> dict:
    """Prepare features and train one full-batch epoch (the default for graphs that fit)."""
    t0 = time.perf_counter()
    p, system = _prepared(data)
    t1 = time.perf_counter()
    opt = system.configure_optimizers()
    system.train()
    train = p.pg.data("train")
    loss = system._supervised_loss(train, system(train))
    opt.zero_grad()
    loss.backward()
    opt.step()
    t2 = time.perf_counter()
    return {"full_prepare_s": t1 - t0, "epoch_full_s": t2 - t1,
            "full_rss_mib": peak_rss_mib()}


def _child(stage: str, users: int, work: Path, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "experiments.perf_scale", "--stage", stage, "--users",
           str(users), "--work", str(work), *extra]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{stage} at {users:,} users failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _data(users: int, work: Path) -> Path:
    """``work/data-<users>`` when the caller put tables there, else the cached generated graph
    (generator seed 7)."""
    from experiments.quality import generated

    own = work / f"data-{users}"
    return own if own.is_dir() else generated(users, 7)


def run_scale(sizes: list[int], work: Path | None = None, results: Path = RESULTS
              ) -> list[dict]:
    """Measure every size; record perf rows, write scale.csv and scale.png (under ``results``).
    """
    tmp = None
    if work is None:
        tmp = tempfile.TemporaryDirectory(prefix="fraudring-scale-")
        work = Path(tmp.name)
    points = []
    try:
        for users in sizes:
            _data(users, work)
            print(f"scale: {users:,} users: build …", file=sys.stderr, flush=True)
            point = {"users": users} | _child("build", users, work)
            print(f"scale: {users:,} users: features, mini-batch epoch …", file=sys.stderr,
                  flush=True)
            point |= _child("model", users, work)
            print(f"scale: {users:,} users: scoring run on the store …", file=sys.stderr,
                  flush=True)
            point |= _child("score", users, work, "--as-of", str(point["as_of"]))
            if users <= FULL_BATCH_MAX_USERS:
                print(f"scale: {users:,} users: full-batch epoch …", file=sys.stderr,
                      flush=True)
                point |= _child("full", users, work)
            points.append(point)
            tag = f"({users // 1000}k users)"
            rows = [perf_row(f"scale build seconds {tag}", point["build_s"], None, "s"),
                    perf_row(f"scale build peak RSS client {tag}", point["build_rss_mib"], None,
                             "MiB"),
                    perf_row(f"scale build peak RSS server {tag}", point["server_rss_mib"],
                             None, "MiB"),
                    perf_row(f"scale features seconds {tag}", point["prepare_s"], None, "s"),
                    perf_row(f"scale mini-batch epoch seconds {tag}", point["epoch_s"], None,
                             "s"),
                    perf_row(f"scale score seconds {tag} (export, features, forward, "
                             "write-back, rings)", point["score_s"], None, "s"),
                    perf_row(f"scale score write-back nodes/s {tag}",
                             point["scored"] / max(point["score_write_s"], 1e-9), None,
                             "nodes/s"),
                    perf_row(f"scale features + epoch peak RSS {tag}", point["model_rss_mib"],
                             None, "MiB"),
                    perf_row(f"scale scoring peak RSS client {tag}", point["score_rss_mib"],
                             None, "MiB"),
                    perf_row(f"scale scoring peak RSS server {tag}",
                             point["score_server_rss_mib"], None, "MiB")]
            if "epoch_full_s" in point:
                rows += [perf_row(f"scale full-batch epoch seconds {tag}", point["epoch_full_s"],
                                  None, "s"),
                         perf_row(f"scale full-batch peak RSS {tag}", point["full_rss_mib"],
                                  None, "MiB")]
            record(rows, results / "perf.csv")
            print_table(rows)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if points:
        _write(points, results / SCALE_CSV.name)
    return points


def _write(points: list[dict], path: Path = SCALE_CSV) -> None:
    old = {}
    if path.exists():
        with open(path, newline="") as f:
            old = {int(r["users"]): r for r in csv.DictReader(f)}
    for p in points:
        old[int(p["users"])] = {c: p.get(c, "") for c in SCALE_COLUMNS}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SCALE_COLUMNS)
        w.writeheader()
        for users in sorted(old):
            w.writerow({c: old[users].get(c, "") for c in SCALE_COLUMNS})
    plot_scale(path, path.with_suffix(".png"))


def plot_scale(csv_path: Path = SCALE_CSV, png: Path = SCALE_PNG) -> None:
    """Seconds and peak MiB of each stage against relationships (log-log, linear guide)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    edges = np.array([float(r["edges"]) for r in rows])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.8))
    def column(col: str) -> np.ndarray:
        return np.array([float(r.get(col) or "nan") for r in rows])

    for col, label in (("build_s", "build (embedded store)"), ("prepare_s", "features"),
                       ("epoch_s", "one mini-batch epoch"), ("epoch_full_s",
                                                             "one full-batch epoch"),
                       ("score_s", "scoring")):
        v = column(col)
        ok = np.isfinite(v)
        if not ok.any():
            continue
        a1.plot(edges[ok], v[ok], "o-", label=label)
        first = np.argmax(ok)
        a1.plot(edges, v[first] * edges / edges[first], ":", color=a1.lines[-1].get_color(),
                lw=0.8)
    for col, label in (("build_rss_mib", "build client"), ("server_rss_mib", "store server"),
                       ("model_rss_mib", "features + mini-batch epoch"),
                       ("score_rss_mib", "scoring run (client)"),
                       ("full_rss_mib", "features + full-batch epoch")):
        v = column(col)
        ok = np.isfinite(v)
        if ok.any():
            a2.plot(edges[ok], v[ok], "o-", label=label)
    for ax, title in ((a1, "seconds (dotted: linear in edges)"), (a2, "peak RSS, MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relationships")
        ax.set_title(title)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description="one stage of the scale curve (internal)")
    ap.add_argument("--stage", choices=("build", "model", "score", "full"), required=True)
    ap.add_argument("--as-of", type=int, help="score: the graph as of this epoch ms")
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args(argv)
    data = _data(args.users, args.work)
    ckpt = args.work / f"scale-{args.users}.ckpt"
    if args.stage == "build":
        out = stage_build(data, args.work / f"store-{args.users}")
    elif args.stage == "model":
        out = stage_model(data, ckpt)
    elif args.stage == "score":
        out = stage_score(ckpt, args.work / f"store-{args.users}", args.as_of)
    else:
        out = stage_full(data)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
