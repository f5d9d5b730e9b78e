"""One prepared dataset for every method: the product's point-in-time pipeline, as a table.

:func:`prepare` reads and maps a folder, then runs :func:`graphgnn.model.prepare.prepare_graph`
— the same pipeline the DataModule trains on — and lays the examples of the evaluated node type
(``target``) out as one table: training rows read from the snapshot at T1, validation rows at
T2, test rows at the end (orders at their own time). Every method scores every row; metrics use
the test rows only. ``x`` holds the product's inputs (own point-in-time features plus the
context columns: co-user and label-aware aggregates); ``x_base`` only the own features — what
the baselines get, so "GBT + neighbour aggregates" is the issue's baseline, not the product.

Labels: ``truth/`` of a generated folder (dated, noisy reports for training; the true class for
test), else the canonical ``labels`` table a mapping produces. ``target`` is User when users are
labelled, else Order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames
from graphgnn.model import features as feats
from graphgnn.model import prepare as pipeline
from graphgnn.model import targets as labels
from graphgnn.model.split import STAGES


@dataclass
class Prepared:
    """The examples of one dataset's target type, stacked train | val | test.

    Attributes:
        name: dataset name. target: ``User`` or ``Order``.
        pg: the product's prepared stages (graphs per stage, meta, split).
        x: ``[N, F]`` normalised product inputs. x_base: ``[N, F0]`` own features only.
        y: ``[N]`` labels (training: reports known by T1; test: the true class).
        train, val, test: row masks. stage: row -> stage name. rows: stage -> node indices.
        keys: node key per row. row_time: the snapshot time each row is read at.
        tables: validated canonical tables. rings: ring id -> rows of its member users.
        fraud_type, ring_type: per row (empty for legit / not in a ring).
        seconds: time spent preparing.
    """

    name: str
    target: str
    pg: pipeline.Prepared
    x: np.ndarray
    x_base: np.ndarray
    y: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    stage: np.ndarray
    rows: dict[str, np.ndarray]
    keys: np.ndarray
    row_time: np.ndarray
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rings: dict[str, np.ndarray] = field(default_factory=dict)
    fraud_type: np.ndarray | None = None
    ring_type: np.ndarray | None = None
    seconds: float = 0.0

    @property
    def fit(self) -> np.ndarray:
        """Rows unsupervised methods fit on (the training snapshot's examples)."""
        return self.train

    @property
    def frames(self) -> GraphFrames:
        """The graph at the end (the test snapshot)."""
        return self.pg.stages["test"].fs.frames

    @property
    def meta(self) -> dict:
        return self.pg.meta

    @property
    def base_names(self) -> list[str]:
        return base_feature_names()[self.target]


def base_feature_names() -> dict[str, list[str]]:
    """Own point-in-time feature columns per label (no context columns)."""
    return feats.build_features(GraphFrames(as_of=0), 0).names


def stack(pg: pipeline.Prepared, target: str) -> dict[str, np.ndarray]:
    """Rows of every stage's examples of ``target``: indices, x, y, keys, stage, time."""
    names = pg.meta["feature_names"][target]
    base_cols = [names.index(c) for c in base_feature_names()[target] if c in names]
    out: dict[str, list] = {k: [] for k in ("x", "y", "keys", "stage", "time")}
    rows = {}
    seen: set[tuple[int, str]] = set()
    for s in STAGES:
        data = pg.data(s)
        idx = data[target][f"{s}_mask"].numpy().nonzero()[0]
        rows[s] = idx
        keys = pg.stages[s].fs.tables[target][schema.node(target).key].astype(str).to_numpy()
        out["x"].append(data[target].x.numpy()[idx])
        out["y"].append(data[target].y.numpy()[idx])
        out["keys"].append(keys[idx])
        out["stage"].append(np.full(len(idx), s))
        out["time"].append(np.full(len(idx), pg.stages[s].as_of, np.int64))
        seen.add((id(data), s))
    stacked = {k: np.concatenate(v) for k, v in out.items()}
    stacked["x_base"] = stacked["x"][:, base_cols]
    stacked["rows"] = rows
    return stacked


def _truth_columns(root: Path, target: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    path = root / "truth" / ("users.csv" if target == "User" else "orders.csv")
    if not path.is_file():
        return np.full(len(keys), ""), np.full(len(keys), "")
    key = schema.node(target).key
    truth = pd.read_csv(path, dtype=str, keep_default_na=False).set_index(key)
    truth = truth.reindex(keys)
    ftype = truth["fraud_type"].fillna("").to_numpy() if "fraud_type" in truth else \
        np.full(len(keys), "")
    rtype = truth["ring_type"].fillna("").to_numpy() if "ring_type" in truth else \
        np.full(len(keys), "")
    return ftype.astype(str), rtype.astype(str)


def _truth_rings(root: Path, keys: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    """Planted ring id -> test rows of its members (a user is one test row at most)."""
    path = root / "truth" / "users.csv"
    if not path.is_file():
        return {}
    truth = pd.read_csv(path, dtype={"user_id": str, "ring_id": str})
    truth = truth[truth["ring_id"].notna() & (truth["ring_id"] != "")]
    rows = np.flatnonzero(test)
    found = pd.Index(keys[rows]).get_indexer(truth["user_id"].astype(str))
    pos = np.where(found >= 0, rows[np.maximum(found, 0)], -1)
    truth = truth.assign(pos=pos)[pos >= 0]
    return {rid: grp["pos"].to_numpy() for rid, grp in truth.groupby("ring_id")}


def prepare(data_dir: str | Path, mapping: str | Path | None = None, name: str | None = None,
            val_frac: float = 0.2, test_frac: float = 0.2, split: str = "temporal",
            seed: int = 0, maturity_days: float = 14.0,
            target: str | None = None) -> Prepared:
    """Read, validate, map and prepare one folder (see the module docstring).

    Args:
        data_dir: a generated folder (with ``truth/``) or the source folder of ``mapping``.
        mapping: YAML mapping file for non-canonical layouts.
        name: dataset name (default: the folder name).
        val_frac, test_frac: shares validated / tested on.
        split: ``temporal`` or ``random`` (stratified; ``seed`` is its random state).
        seed: random split seed.
        maturity_days: label maturity window of the training examples.
        target: the evaluated type (default: User when users are labelled, else Order).
    """
    from graph_build.build import check_input
    from graph_build.to_graph import tables_to_frames

    t0 = time.perf_counter()
    root = Path(data_dir)
    result, _ = check_input(root, mapping)
    frames = tables_to_frames(result.tables)
    dated = labels.dated_labels(root if (root / "truth").is_dir() else None, result.tables)
    pg = pipeline.prepare_graph(frames, dated, split, val_frac, test_frac, seed, maturity_days)
    target = target or ("User" if "User" in dated else "Order")
    st = stack(pg, target)
    ftype, rtype = _truth_columns(root, target, st["keys"])
    p = Prepared(name=name or root.name, target=target, pg=pg, x=st["x"], x_base=st["x_base"],
                 y=st["y"].astype(np.float64), train=st["stage"] == "train",
                 val=st["stage"] == "val", test=st["stage"] == "test", stage=st["stage"],
                 rows=st["rows"], keys=st["keys"], row_time=st["time"], tables=result.tables,
                 fraud_type=ftype, ring_type=rtype)
    p.y[p.y < 0] = np.nan
    if target == "User":
        p.rings = _truth_rings(root, p.keys, p.test)
    p.seconds = time.perf_counter() - t0
    return p


def retarget(p: Prepared, target: str, root: str | Path | None = None) -> Prepared:
    """The same prepared graph viewed for another evaluated type (shares ``p.pg``)."""
    st = stack(p.pg, target)
    ftype, rtype = (_truth_columns(Path(root), target, st["keys"]) if root is not None
                    else (np.full(len(st["keys"]), ""),) * 2)
    q = Prepared(name=p.name, target=target, pg=p.pg, x=st["x"], x_base=st["x_base"],
                 y=st["y"].astype(np.float64), train=st["stage"] == "train",
                 val=st["stage"] == "val", test=st["stage"] == "test", stage=st["stage"],
                 rows=st["rows"], keys=st["keys"], row_time=st["time"], tables=p.tables,
                 fraud_type=ftype, ring_type=rtype)
    q.y[q.y < 0] = np.nan
    if target == "User" and root is not None:
        q.rings = _truth_rings(Path(root), q.keys, q.test)
    return q
