"""The one preparation pipeline: frames + dated labels -> point-in-time snapshots per stage.

Used by :class:`graphgnn.model.datamodule.DataModule` (training) and by
``experiments.data.prepare`` (every baseline), so all methods see the same examples:

1. features of the whole graph at the end give first-activity times -> cut times T1, T2
   (:mod:`graphgnn.model.split`);
2. one snapshot per stage — the graph cut at T1 (train), T2 (validation) and the end (test):
   :func:`graphgnn.model.features.build_features` at that time, plus the context columns
   (:func:`graphgnn.model.context.add_context`) whose label-aware parts read the labels known
   when the stage's window opens (T0 = T1 - ``label_window_days`` for training, T1 for
   validation, T2 for test; with a random split, the training rows' labels) — never an
   example's own;
3. per stage, that stage's examples and labels (``train_mask``/``val_mask``/``test_mask``, ``y``)
   on its own HeteroData; Device/IP labels derived from the stage's user labels;
4. a :class:`~graphgnn.model.hetero.Normaliser` fitted on the training snapshot, applied to all.

So a training example's inputs — its features, its neighbourhood, its neighbours' features —
are those of the graph at T1: nothing after T1 can move them (a test checks it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from graph_build import schema
from graph_build.frames import GraphFrames
from graphgnn.model import features as feats
from graphgnn.model import hetero, split
from graphgnn.model import targets as labels
from graphgnn.model.context import Known, add_context

DAY = 86_400_000


@dataclass
class Stage:
    """One stage's snapshot: ``fs`` (features at ``as_of``) and its normalised ``data``."""

    name: str
    as_of: int
    fs: feats.FeatureSet
    data: HeteroData


@dataclass
class Prepared:
    """The prepared stages of one graph.

    Attributes:
        split: cut times, masks and labels.
        stages: ``train`` / ``val`` / ``test`` (the random split shares one snapshot).
        meta: what a checkpoint carries for scoring (JSON-safe).
        dated: the dated label sources (:func:`graphgnn.model.targets.dated_labels`).
        known: the training labels the label-aware features read.
    """

    split: split.Split
    stages: dict[str, Stage]
    meta: dict[str, Any]
    dated: dict[str, pd.DataFrame] = field(default_factory=dict)
    known: Known = field(default_factory=dict)

    def data(self, stage: str) -> HeteroData:
        return self.stages[stage].data


def known_to_json(known: Known) -> dict[str, dict[str, float]]:
    """Training labels as ``{label: {key: 0/1}}`` (for the checkpoint)."""
    return {t: {str(k): float(v) for k, v in s.items()} for t, s in known.items()}


def known_from_json(blob: dict[str, dict[str, float]] | None) -> Known:
    return {t: pd.Series(v, dtype=np.float64) for t, v in (blob or {}).items()}


def snapshot(frames: GraphFrames, as_of: int | None, known: Known | None) -> feats.FeatureSet:
    """Features of every node at ``as_of`` plus the context columns (scoring uses this too)."""
    return add_context(feats.build_features(frames, as_of), known)


def _derived(fs: feats.FeatureSet, y_user: np.ndarray) -> dict[str, np.ndarray]:
    """Device / IP labels: fraud when most of their labelled users are (NaN if none)."""
    out = {}
    for label, rel_type in labels.DERIVED.items():
        s, d, _ = feats._edges(fs.frames, rel_type)
        n = fs.frames.node_count(label)
        ok = ~np.isnan(y_user[s])
        fraud = np.bincount(d[ok], weights=y_user[s][ok], minlength=n)[:n]
        seen = np.bincount(d[ok], minlength=n)[:n]
        out[label] = np.where(seen > 0, (fraud / np.maximum(seen, 1) >= 0.5), np.nan
                              ).astype(np.float32)
    return out


def _attach(data: HeteroData, stage: str, y: dict[str, np.ndarray],
            masks: dict[str, np.ndarray]) -> None:
    """``y`` (-1 unknown) and the three masks (only ``stage``'s can be true) per scored type."""
    for t in hetero.SCORED_TYPES:
        n = data[t].num_nodes
        yt = y.get(t, np.full(n, np.nan, np.float32))
        m = masks.get(t, np.zeros(n, dtype=bool)) & ~np.isnan(yt)
        data[t].y = torch.from_numpy(np.nan_to_num(yt, nan=-1.0).astype(np.float32))
        for s in split.STAGES:
            data[t][f"{s}_mask"] = torch.from_numpy(m if s == stage else np.zeros(n, bool))


def _stage_examples(fs: feats.FeatureSet, dated: dict[str, pd.DataFrame], stage: str,
                    t1: int, t2: int, as_of: int, maturity_ms: int,
                    neg: dict[str, bool], t0: int) -> tuple[dict, dict]:
    y, masks = {}, {}
    for t in labels.LABELLED:
        keys = fs.frames.keys(t).astype(str).to_numpy()
        masks[t], y[t] = split.temporal_examples(
            fs.times[t], keys, dated.get(t), stage, t1, t2, as_of, maturity_ms, neg[t], t0)
    yd = _derived(fs, np.where(masks["User"], y["User"], np.nan))
    for t, v in yd.items():
        last = fs.times[t]
        window = {"train": last <= t1, "val": last > t1, "test": last > t2}[stage]
        y[t], masks[t] = v, window & ~np.isnan(v)
    return y, masks


def prepare_graph(frames: GraphFrames, dated: dict[str, pd.DataFrame], split_kind: str = "temporal",
                  val_frac: float = 0.2, test_frac: float = 0.2, seed: int = 0,
                  maturity_days: float = 0.0, as_of: int | None = None,
                  label_window_days: float = 60.0) -> Prepared:
    """Build the three stages of ``frames`` (see the module docstring).

    Args:
        frames: the whole graph (anything after ``as_of`` is ignored).
        dated: dated labels per label.
        split_kind: ``temporal`` or ``random``.
        val_frac, test_frac: shares of the examples validated / tested on.
        seed: the random split's seed.
        maturity_days: how old an unreported entity must be to count as legit in training.
        as_of: the end of the data (default: the latest time in ``frames``).
        label_window_days: the training window's length before T1: training examples are
            the entities not yet reported at T0 = T1 - window (temporal split).
    """
    end = feats.build_features(frames, as_of)
    as_of = end.as_of
    neg = {t: labels.explicit_negatives(dated, t) for t in labels.LABELLED}
    if split_kind == "temporal":
        # Cut on the volume of activity: T1 / T2 are quantiles of the order times (a user's
        # first activity says little when accounts are years old).
        t1, t2 = split.split_times(end.first_times["Order"], val_frac, test_frac)
        # Label-aware features read the labels known when each stage's window opens (T0 for
        # training, T1 for validation, T2 for test); examples reported by then are excluded.
        t0 = t1 - int(label_window_days * DAY)
        fs = {"train": snapshot(frames, t1, labels.known_by(dated, t0)),
              "val": snapshot(frames, t2, labels.known_by(dated, t1)),
              "test": add_context(end, labels.known_by(dated, t2))}
        known = labels.known_by(dated, t2)  # what scoring after training reads
        ym = {s: _stage_examples(fs[s], dated, s, t1, t2, as_of,
                                 int(maturity_days * DAY), neg, t0) for s in split.STAGES}
    elif split_kind == "random":
        t1 = t2 = as_of
        per = {t: split.random_examples(end.frames.keys(t).astype(str).to_numpy(),
                                        dated.get(t), val_frac, test_frac, seed, neg[t])
               for t in labels.LABELLED}
        known = {}
        for t, stages in per.items():
            m, y = stages["train"]
            keys = end.frames.keys(t).astype(str).to_numpy()
            known[t] = pd.Series(y[m].astype(np.float64), index=keys[m])
        one = add_context(end, known)
        fs = dict.fromkeys(split.STAGES, one)
        ym = {}
        for s in split.STAGES:
            y = {t: np.where(per[t][s][0], per[t][s][1], np.nan).astype(np.float32)
                 for t in per}
            masks = {t: per[t][s][0] for t in per}
            for t, v in _derived(one, y["User"]).items():  # devices/IPs: train only
                y[t], masks[t] = v, ~np.isnan(v) & (s == "train")
            ym[s] = (y, masks)
    else:
        raise ValueError(f"split must be 'temporal' or 'random', not {split_kind!r}")
    built: dict[int, HeteroData] = {}
    stages = {}
    for s in split.STAGES:
        data = built.get(id(fs[s]))
        if data is None:
            data = built[id(fs[s])] = hetero.build_hetero(fs[s])
        if split_kind == "random":  # one graph for all stages: keep every stage's mask on it
            _attach_all(data, ym)
        else:
            _attach(data, s, *ym[s])
        stages[s] = Stage(s, fs[s].as_of, fs[s], data)
    train = stages["train"].data
    fit = {t: ~train[t].val_mask & ~train[t].test_mask if t in hetero.SCORED_TYPES
           else torch.ones(train[t].num_nodes, dtype=torch.bool) for t in train.node_types}
    for t in train.node_types:
        train[t].fit_mask = fit[t]
    norm = hetero.Normaliser.fit({t: train[t].x for t in train.node_types}, fit)
    for data in built.values():
        hetero.normalise(data, norm)
    sp = split.Split(split_kind, t1, t2, as_of, {s: ym[s][1] for s in ym},
                     {s: ym[s][0] for s in ym})
    t_min = min((int(train[t].time.min()) for t in train.node_types if train[t].num_nodes),
                default=None)
    meta = {"schema": asdict(schema.SchemaSummary.current()),
            "feature_version": feats.FEATURE_VERSION, "feature_names": end.names,
            "normaliser": norm.state_dict(), "as_of": as_of, "t1": t1, "t2": t2,
            "split": split_kind, "trained_from": t_min, "trained_until": t1,
            "maturity_days": maturity_days, "label_window_days": label_window_days,
            "known_labels": known_to_json(known)}
    return Prepared(sp, stages, meta, dated, known)


def _attach_all(data: HeteroData, ym: dict[str, tuple[dict, dict]]) -> None:
    """Random split: one graph, every stage's mask on it, the labels of whichever stage."""
    for t in hetero.SCORED_TYPES:
        n = data[t].num_nodes
        y = np.full(n, np.nan, np.float32)
        for s in split.STAGES:
            ys, ms = ym[s][0].get(t), ym[s][1].get(t)
            if ys is not None:
                y = np.where(ms, ys, y)
        data[t].y = torch.from_numpy(np.nan_to_num(y, nan=-1.0).astype(np.float32))
        for s in split.STAGES:
            m = ym[s][1].get(t, np.zeros(n, dtype=bool))
            data[t][f"{s}_mask"] = torch.from_numpy(m & ~np.isnan(y))
