"""One prepared dataset for every method: frames, point-in-time features, labels, temporal split.

:func:`prepare` runs the same public steps as :meth:`graphgnn.model.datamodule.DataModule.prepare`
(``build_features`` -> labels -> ``build_hetero`` -> ``make_masks`` (temporal) ->
``fit_normaliser`` -> ``normalise``), once, so the GNN and every baseline see the same features,
the same normalisation (fitted on the training period) and the same split. The prepared
:class:`~torch_geometric.data.HeteroData` is handed to the GNN's DataModule as is (see
:mod:`experiments.baselines.gnn`); ``tests/experiments`` checks that both paths agree.

Labels: ``truth/`` of a generated folder (user and order level), else the canonical ``labels``
table produced by a mapping (IEEE-CIS: order level). The evaluated node type (``target``) is
User when users are labelled, else Order.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from torch_geometric.data import HeteroData

from graph_build import schema
from graph_build.frames import GraphFrames
from graphgnn.model import features as feats
from graphgnn.model import hetero
from graphgnn.model import targets as labels


@dataclass
class Prepared:
    """Everything a method needs about one dataset.

    Attributes:
        name: dataset name (``synthetic-…`` for generated data).
        target: the evaluated node type (``User`` or ``Order``).
        frames: the graph cut at ``as_of`` (node order = feature row order).
        fs: the point-in-time features.
        data: normalised HeteroData with ``y`` and train/val/test masks per scored type.
        meta: what a checkpoint would carry (feature names, normaliser, split times, keys).
        tables: the validated canonical tables (events are used by the sequence baselines).
        y: ``[N_target]`` labels of the target type (NaN = unknown).
        train, val, test: ``[N_target]`` boolean masks of the temporal split.
        rings: truth ring id -> row indices of its member users (generated data only).
        seconds: time spent preparing.
    """

    name: str
    target: str
    frames: GraphFrames
    fs: feats.FeatureSet
    data: HeteroData
    meta: dict
    tables: dict[str, pd.DataFrame]
    y: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    rings: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def x(self) -> np.ndarray:
        """Normalised features of the target type ``[N_target, F]`` (the FeatureSet's rows)."""
        return self.data[self.target].x.numpy()

    @property
    def keys(self) -> np.ndarray:
        """Node keys of the target type, in row order."""
        return self.fs.tables[self.target][schema.node(self.target).key].astype(str).to_numpy()


def _table_labels(tables: dict[str, pd.DataFrame], as_of: int) -> labels.Labels:
    """Labels from a canonical ``labels`` table (e.g. produced by a mapping file)."""
    frame = tables.get("labels")
    out: labels.Labels = {}
    if frame is None or not len(frame):
        return out
    if "labeled_at" in frame:
        when = pd.to_numeric(frame["labeled_at"], errors="coerce")
        frame = frame[when.isna() | (when <= as_of)]
    for entity, label in schema.LABELLED_ENTITIES.items():
        rows = frame[frame["entity"].astype(str).str.lower() == entity]
        if len(rows):
            out[label] = pd.Series(labels._bool(rows["is_fraud"]).to_numpy(),
                                   index=rows["id"].astype(str).to_numpy())
    return out


def _truth_rings(data_dir: Path, keys: np.ndarray) -> dict[str, np.ndarray]:
    path = data_dir / "truth" / "users.csv"
    if not path.is_file():
        return {}
    truth = pd.read_csv(path, dtype={"user_id": str, "ring_id": str})
    truth = truth[truth["ring_id"].notna() & (truth["ring_id"] != "")]
    pos = pd.Index(keys).get_indexer(truth["user_id"].astype(str))
    truth = truth.assign(pos=pos)[pos >= 0]
    return {rid: grp["pos"].to_numpy() for rid, grp in truth.groupby("ring_id")}


def prepare(data_dir: str | Path, mapping: str | Path | None = None,
            name: str | None = None, val_frac: float = 0.2, test_frac: float = 0.2) -> Prepared:
    """Read, validate, map, featurise, label and split one data folder (temporal split).

    Args:
        data_dir: a generated folder (with ``truth/``) or the source folder of ``mapping``.
        mapping: YAML mapping file for non-canonical layouts.
        name: dataset name (default: the folder name).
        val_frac: share of labelled target nodes validated on (by first activity).
        test_frac: share of labelled target nodes tested on (the latest ones).
    """
    from graph_build.to_graph import tables_to_frames
    from graph_build.build import check_input

    t0 = time.perf_counter()
    root = Path(data_dir)
    result, _ = check_input(root, mapping)
    frames = tables_to_frames(result.tables)
    fs = feats.build_features(frames)
    if (root / "truth").is_dir():
        lab = labels.truth_labels(root, fs.as_of)
    else:
        lab = _table_labels(result.tables, fs.as_of)
    y = labels.align_labels(lab, fs)
    data = hetero.build_hetero(fs)
    times = hetero.make_masks(data, y, "temporal", val_frac, test_frac, 0)
    norm = hetero.fit_normaliser(data, "temporal", times["t1"])
    hetero.normalise(data, norm)
    meta = {"schema": asdict(schema.SchemaSummary.current()),
            "feature_version": feats.FEATURE_VERSION, "feature_names": fs.names,
            "normaliser": norm.state_dict(), "as_of": fs.as_of, "t1": times["t1"],
            "t2": times["t2"], "split": "temporal", "trained_until": times["t1"]}
    target = "User" if np.isfinite(y["User"]).any() else "Order"
    node = data[target]
    p = Prepared(name=name or root.name, target=target, frames=fs.frames, fs=fs, data=data,
                 meta=meta, tables=result.tables, y=y[target],
                 train=node.train_mask.numpy(), val=node.val_mask.numpy(),
                 test=node.test_mask.numpy())
    if target == "User":
        p.rings = _truth_rings(root, p.keys)
    p.seconds = time.perf_counter() - t0
    return p
