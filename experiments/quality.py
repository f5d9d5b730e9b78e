"""Quality runs: every method on the same temporal split of several datasets and seeds.

Datasets:

- generated graphs (``synthetic-<size>-g<seed>``) from generator seeds 101, 102, 103 — seeds no
  development run used (development used 0-42); full mode: 20k users x 3 generator seeds and
  100k users x 1 generator seed, training seeds 0, 1, 2; ``--quick``: 5k users, generator
  seed 101, training seed 0;
- the IEEE-CIS subset through ``configs/mappings/ieee_cis.yaml`` when
  ``../shared/data/ieee_cis_subset`` exists (order-level labels; user-level methods skipped).

Each (dataset, method, setting, seed) is one row of ``results/quality.csv``; rows of the same key
are replaced, others kept, so quick and full runs can share the file. Scores are evaluated on the
test split only (nodes that first appeared after T2). PR curves of the first training seed are
drawn per dataset into ``results/pr_<dataset>.png`` (scores kept in ``results/curves/``).
"""

from __future__ import annotations

import csv
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from experiments.baselines import METHODS, Method
from experiments.metrics import METRICS, ranking, ring_recall

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
QUALITY_CSV = RESULTS / "quality.csv"
COLUMNS = ["dataset", "method", "setting", "seed", *METRICS, "ring_recall", "seconds"]
DATA_CACHE = ROOT / ".fraudring" / "experiments" / "data"
IEEE_DIR = ROOT.parent / "shared" / "data" / "ieee_cis_subset"
IEEE_MAPPING = ROOT / "configs" / "mappings" / "ieee_cis.yaml"
GENERATOR_SEEDS = (101, 102, 103)
IEEE_STATUS = RESULTS / "ieee_status.txt"  # why the IEEE-CIS run is missing, when it is


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def plan(quick: bool, sizes: list[int] | None = None, gen_seeds: list[int] | None = None,
         train_seeds: list[int] | None = None) -> tuple[list[tuple[int, int]], list[int]]:
    """``([(users, generator seed)], training seeds)`` of a run."""
    if quick:
        runs = [(s, g) for s in (sizes or [5000]) for g in (gen_seeds or [101])]
        return runs, train_seeds or [0]
    if sizes or gen_seeds:
        runs = [(s, g) for s in (sizes or [20000, 100000])
                for g in (gen_seeds or list(GENERATOR_SEEDS))]
    else:
        runs = [(20000, g) for g in GENERATOR_SEEDS] + [(100000, 101)]
    return runs, train_seeds or [0, 1, 2]


def dataset_name(users: int, gen_seed: int) -> str:
    return f"synthetic-{users // 1000}k-g{gen_seed}"


def generated(users: int, gen_seed: int) -> Path:
    """The generated folder (cached under ``.fraudring/experiments/data``)."""
    from graph_build.generate import generate

    out = DATA_CACHE / f"u{users}-s{gen_seed}"
    if not (out / "truth" / "users.csv").is_file():
        _say(f"generate {users:,} users, seed {gen_seed} -> {out}")
        generate(out, users=users, seed=gen_seed)
    return out


def merge_rows(rows: list[dict], path: Path = QUALITY_CSV) -> None:
    """Write ``rows`` into ``path``, replacing rows with the same (dataset, method, setting,
    seed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ("dataset", "method", "setting", "seed")
    existing = []
    if path.exists():
        with open(path, newline="") as f:
            existing = list(csv.DictReader(f))
    new = {tuple(str(r[k]) for k in key) for r in rows}
    kept = [r for r in existing if tuple(str(r[k]) for k in key) not in new]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in kept + rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})


def _fmt(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v:.4f}"


def _available(m: Method, p) -> bool:
    return not (p.target != "User" and ("events" in m.needs or "users" in m.needs))


def evaluate(p, methods: tuple[Method, ...], seeds: list[int], quick: bool,
             pr_png: Path | None = None, out: Path | None = None) -> list[dict]:
    """Run ``methods`` on dataset ``p`` for each seed; rows for ``quality.csv`` (merged into
    ``out`` as each one is done, so an interrupted run keeps what it finished)."""
    from graphgnn.scores.rings import entity_links

    links = entity_links(p.frames) if p.target == "User" else None
    rows, curves = [], {}
    for m in methods:
        if not _available(m, p):
            _say(f"  {m.name} ({m.setting}): skipped, needs {m.needs} (target {p.target})")
            continue
        for seed in seeds[:1] if m.seed_free else seeds:
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    score = np.asarray(m.fn(p, seed, quick), np.float64)
            except Exception:  # one broken method must not sink the whole run
                _say(f"  {m.name} ({m.setting}) seed {seed} FAILED:\n{traceback.format_exc()}")
                continue
            seconds = time.perf_counter() - t0
            met = ranking(score[p.test], p.y[p.test])
            rr = (ring_recall(links, p.keys, score, p.rings, p.test, p.y)
                  if links is not None else float("nan"))
            rows.append({"dataset": p.name, "method": m.name, "setting": m.setting,
                         "seed": seed, **{k: _fmt(v) for k, v in met.items()},
                         "ring_recall": _fmt(rr), "seconds": f"{seconds:.2f}"})
            if out is not None:
                merge_rows(rows[-1:], out)
            _say(f"  {m.name:<18} {m.setting:<12} seed {seed}: AUPRC {met['auprc']:.3f} "
                 f"AUROC {met['auroc']:.3f} R@K {met['recall_at_k']:.3f} "
                 f"P@100 {met['precision_at_100']:.3f} rings {rr:.2f} ({seconds:.1f}s)")
            if seed == seeds[0]:
                curves[f"{m.name} ({m.setting[:5]})"] = score[p.test]
    if pr_png is not None and curves:
        curves = merge_curves(p.name, curves, p.y[p.test])
        plot_pr(curves, p.y[p.test], p.name, pr_png)
    return rows


def merge_curves(dataset: str, curves: dict[str, np.ndarray], y: np.ndarray) -> dict:
    """Keep the test scores of each method's first seed in ``results/curves/<dataset>.npz``,
    so a partial run (``--methods``) redraws the PR plot with every method seen so far."""
    path = RESULTS / "curves" / f"{dataset}.npz"
    merged: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as old:
            if "__y__" in old and np.array_equal(old["__y__"], y):
                merged = {k: old[k] for k in old.files if k != "__y__"}
    merged.update(curves)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, __y__=np.asarray(y), **merged)
    return merged


def plot_pr(curves: dict[str, np.ndarray], y: np.ndarray, title: str, path: Path) -> None:
    """Precision-recall curves of several methods on one test set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y = np.asarray(y).astype(int)
    if y.sum() == 0:
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    for ax, setting in zip(axes, ("super", "unsup"), strict=True):
        for name, s in curves.items():
            if f"({setting}" not in name:
                continue
            prec, rec, _ = precision_recall_curve(y, s)
            lw = 2.5 if name.startswith("gnn") else 1.2
            ax.plot(rec, prec, lw=lw, label=f"{name} AP={average_precision_score(y, s):.3f}")
        ax.axhline(y.mean(), color="grey", ls=":", lw=1, label=f"prevalence {y.mean():.3f}")
        ax.set_xlabel("recall")
        ax.set_title(f"{title}: {'supervised' if setting == 'super' else 'unsupervised'}")
        ax.legend(fontsize=7, loc="upper right")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("precision")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_quality(quick: bool = False, sizes: list[int] | None = None,
                gen_seeds: list[int] | None = None, train_seeds: list[int] | None = None,
                methods: list[str] | None = None, ieee: bool = True,
                out: Path = QUALITY_CSV) -> list[dict]:
    """Generate (or reuse) the datasets, run every method, write ``quality.csv`` as it goes."""
    from experiments.data import prepare

    chosen = tuple(m for m in METHODS if not methods or m.name in methods)
    runs, seeds = plan(quick, sizes, gen_seeds, train_seeds)
    all_rows: list[dict] = []
    for users, gen_seed in runs:
        name = dataset_name(users, gen_seed)
        p = prepare(generated(users, gen_seed), name=name)
        _say(f"{name}: {len(p.keys):,} users, test {int(p.test.sum()):,} "
             f"({int(np.nansum(p.y[p.test])):,} fraud), prepared in {p.seconds:.1f}s")
        rows = evaluate(p, chosen, seeds, quick, RESULTS / f"pr_{name}.png", out)
        all_rows += rows
    if ieee and IEEE_DIR.is_dir() and IEEE_MAPPING.is_file():
        try:
            p = prepare(IEEE_DIR, IEEE_MAPPING, name="ieee-cis-subset")
        except Exception as e:  # a pipeline bug on real data is a finding, not a crash
            where = traceback.extract_tb(e.__traceback__)[-1]
            msg = (f"IEEE-CIS subset not evaluated: preparing it failed with "
                   f"{type(e).__name__}: {e} (at {Path(where.filename).name}:{where.lineno}, "
                   f"in {where.name})")
            _say(msg)
            IEEE_STATUS.write_text(msg + "\n")
            return all_rows
        IEEE_STATUS.unlink(missing_ok=True)
        _say(f"ieee-cis-subset: target {p.target}, {len(p.y):,} nodes, test "
             f"{int(p.test.sum()):,} ({int(np.nansum(p.y[p.test])):,} fraud)")
        rows = evaluate(p, chosen, seeds, quick, RESULTS / "pr_ieee-cis-subset.png", out)
        all_rows += rows
    elif ieee:
        _say(f"IEEE-CIS subset not found at {IEEE_DIR}: skipped")
    return all_rows
