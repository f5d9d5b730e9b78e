"""Merging rows and curves into the files under ``results/``, safe for concurrent runs.

Several quality processes (``python -m experiments quality --jobs 2``) write into the same
CSVs as each measurement finishes; every read-modify-write holds an exclusive lock on a
sibling ``.lock`` file, so no process drops another's rows.
"""

from __future__ import annotations

import csv
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from experiments.metrics import METRICS

RESULTS = Path(__file__).resolve().parent / "results"
QUALITY_CSV = RESULTS / "quality.csv"
RING = ("ring_precision", "ring_recall", "ring_f1")
COLUMNS = ["dataset", "target", "method", "setting", "seed", *METRICS, *RING, "seconds"]
ROW_KEY = ("dataset", "target", "method", "setting", "seed")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on ``<path>.lock``) while the block runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def merge_rows(rows: list[dict], path: Path = QUALITY_CSV, columns: list[str] = COLUMNS,
               key: tuple[str, ...] = ROW_KEY) -> None:
    """Write ``rows`` into ``path``, replacing rows with the same key (others are kept)."""
    new = {tuple(str(r[k]) for k in key) for r in rows}
    with locked(path):
        existing = []
        if path.exists():
            with open(path, newline="") as f:
                existing = list(csv.DictReader(f))
        kept = [r for r in existing if tuple(str(r[k]) for k in key) not in new]
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            for r in kept + rows:
                w.writerow({c: r.get(c, "") for c in columns})
        tmp.replace(path)  # a reader never sees half a file


def merge_curves(dataset: str, curves: dict[str, np.ndarray], y: np.ndarray,
                 folder: Path = RESULTS / "curves") -> dict:
    """Keep the test scores of each method's first seed in ``<folder>/<dataset>.npz``,
    so a partial run (``--methods``) redraws the PR plot with every method seen so far."""
    path = folder / f"{dataset}.npz"
    merged: dict[str, np.ndarray] = {}
    with locked(path):
        if path.exists():
            with np.load(path) as old:
                if "__y__" in old and np.array_equal(old["__y__"], y):
                    merged = {k: old[k] for k in old.files if k != "__y__"}
        merged.update(curves)
        np.savez_compressed(path, __y__=np.asarray(y), **merged)
    return merged
