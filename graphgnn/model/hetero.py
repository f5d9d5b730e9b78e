"""From point-in-time features to a PyG :class:`~torch_geometric.data.HeteroData`.

Every schema label becomes a node type (always all of them, in schema order, so a checkpoint's
metadata matches whatever graph it later scores); every relationship type becomes an edge type
plus its reverse (``rev_<TYPE>``) so messages flow both ways; every edge keeps its time
(``edge_time``, epoch ms) for the time-respecting sampler. Features are z-scored by a
:class:`Normaliser` fitted on training-period nodes only and stored with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graph_build import schema
from graphgnn.model.features import FeatureSet, _edges

EdgeType = tuple[str, str, str]
NODE_TYPES: tuple[str, ...] = tuple(schema.NODES)
SCORED_TYPES: tuple[str, ...] = schema.SCORED_LABELS


def edge_types() -> list[EdgeType]:
    """Forward and reverse edge types of the schema, in a fixed order."""
    out: list[EdgeType] = []
    for spec in schema.RELATIONSHIPS.values():
        out.append((spec.source, spec.type, spec.target))
        out.append((spec.target, f"rev_{spec.type}", spec.source))
    return out


def metadata() -> tuple[list[str], list[EdgeType]]:
    """``(node types, edge types)`` as PyG's ``HeteroData.metadata()`` returns them."""
    return list(NODE_TYPES), edge_types()


@dataclass
class Normaliser:
    """Per-type feature means and standard deviations (fitted on training nodes only).

    Attributes:
        mean: node type -> ``[F]`` means.
        std: node type -> ``[F]`` standard deviations (at least ``1e-6``).
    """

    mean: dict[str, Tensor] = field(default_factory=dict)
    std: dict[str, Tensor] = field(default_factory=dict)

    @classmethod
    def fit(cls, x: dict[str, Tensor], masks: dict[str, Tensor] | None = None) -> Normaliser:
        """Statistics of ``x[t][masks[t]]`` per type (all rows when a mask is absent/empty)."""
        norm = cls()
        for t, values in x.items():
            m = None if masks is None else masks.get(t)
            rows = values[m] if m is not None and bool(m.any()) else values
            if len(rows) == 0:
                norm.mean[t] = torch.zeros(values.shape[1])
                norm.std[t] = torch.ones(values.shape[1])
                continue
            norm.mean[t] = rows.mean(0)
            norm.std[t] = rows.std(0, unbiased=False).clamp_min(1e-6)
        return norm

    def apply(self, t: str, x: Tensor) -> Tensor:
        """``(x - mean) / std`` clipped to [-10, 10] (extreme counts must not blow up a layer)."""
        return ((x - self.mean[t]) / self.std[t]).clamp(-10.0, 10.0)

    def state_dict(self) -> dict[str, dict[str, list[float]]]:
        """Plain lists, so checkpoints stay readable without this class."""
        return {t: {"mean": self.mean[t].tolist(), "std": self.std[t].tolist()}
                for t in self.mean}

    @classmethod
    def from_state(cls, state: dict[str, dict[str, list[float]]]) -> Normaliser:
        return cls(mean={t: torch.tensor(v["mean"]) for t, v in state.items()},
                   std={t: torch.tensor(v["std"]) for t, v in state.items()})


def build_hetero(fs: FeatureSet) -> HeteroData:
    """The graph of ``fs`` with raw (not yet normalised) features.

    Returns:
        ``data[t].x`` float ``[N_t, F_t]``, ``data[t].time`` int64 ``[N_t]`` (latest activity),
        ``data[t].first_time`` int64 ``[N_t]`` (first activity),
        ``data[et].edge_index`` int64 ``[2, E]`` and ``data[et].edge_time`` int64 ``[E]`` for
        every type of :func:`metadata`; ``data.as_of`` the cut-off.
    """
    data = HeteroData()
    for t in NODE_TYPES:
        names = fs.names[t]
        table = fs.tables[t]
        x = np.array(table[names].to_numpy(np.float32), copy=True).reshape(len(table), len(names))
        data[t].x = torch.from_numpy(x)
        data[t].time = torch.from_numpy(fs.times[t].astype(np.int64))
        data[t].first_time = torch.from_numpy(fs.first_times[t].astype(np.int64))
        data[t].num_nodes = len(table)
    for spec in schema.RELATIONSHIPS.values():
        s, d, tm = _edges(fs.frames, spec.type)
        ei = torch.from_numpy(np.stack([s, d]).astype(np.int64).reshape(2, -1))
        et = torch.from_numpy(tm.astype(np.int64))
        data[spec.source, spec.type, spec.target].edge_index = ei
        data[spec.source, spec.type, spec.target].edge_time = et
        data[spec.target, f"rev_{spec.type}", spec.source].edge_index = ei.flip(0)
        data[spec.target, f"rev_{spec.type}", spec.source].edge_time = et
    data.as_of = int(fs.as_of)
    return data


def split_times(times: np.ndarray, val_frac: float, test_frac: float) -> tuple[int, int]:
    """``(T1, T2)``: train on activity up to T1, validate on (T1, T2], test after T2."""
    if len(times) == 0:
        return 0, 0
    q1, q2 = np.quantile(times, [1 - val_frac - test_frac, 1 - test_frac], method="lower")
    return int(q1), int(q2)


def make_masks(data: HeteroData, y: dict[str, np.ndarray], split: str = "temporal",
               val_frac: float = 0.2, test_frac: float = 0.2, seed: int = 0) -> dict[str, int]:
    """Attach ``y`` (NaN = unknown), ``train_mask``, ``val_mask``, ``test_mask`` per scored type.

    ``temporal``: thresholds T1 < T2 are quantiles of the labelled users' first activity; a
    node is in train when it became known (first activity) by T1, val when in (T1, T2], test
    after T2 (the same T1/T2 for every type): the model learns from what was known by T1 and
    is judged on nodes that appeared later. ``random``: stratified by label per type.

    Returns:
        ``{"t1": T1, "t2": T2}`` (for ``random`` both are the graph's ``as_of``).
    """
    rng = np.random.default_rng(seed)
    times_u = data["User"].first_time.numpy()[~np.isnan(y["User"])] \
        if "User" in y else np.array([])
    if split == "temporal":
        t1, t2 = split_times(times_u if len(times_u) else data["Order"].first_time.numpy(),
                             val_frac, test_frac)
    elif split == "random":
        t1 = t2 = int(data.as_of)
    else:
        raise ValueError(f"split must be 'temporal' or 'random', not {split!r}")
    for t in SCORED_TYPES:
        n = data[t].num_nodes
        labels = y.get(t, np.full(n, np.nan, np.float32))
        known = ~np.isnan(labels)
        part = np.full(n, -1)
        if split == "temporal":
            times = data[t].first_time.numpy()
            part[known] = np.where(times[known] <= t1, 0, np.where(times[known] <= t2, 1, 2))
        else:
            for cls in (0.0, 1.0):
                idx = rng.permutation(np.flatnonzero(labels == cls))
                n_val, n_test = round(len(idx) * val_frac), round(len(idx) * test_frac)
                part[idx[:n_test]] = 2
                part[idx[n_test:n_test + n_val]] = 1
                part[idx[n_test + n_val:]] = 0
        data[t].y = torch.from_numpy(np.nan_to_num(labels, nan=-1.0).astype(np.float32))
        for i, name in enumerate(("train_mask", "val_mask", "test_mask")):
            data[t][name] = torch.from_numpy(part == i)
    return {"t1": t1, "t2": t2}


def fit_normaliser(data: HeteroData, split: str, t1: int) -> Normaliser:
    """Fit on the training period and attach it as ``data[t].fit_mask``: nodes known by T1
    (temporal split only) that are in neither the validation nor the test mask."""
    masks = {}
    for t in data.node_types:
        keep = torch.ones(data[t].num_nodes, dtype=torch.bool)
        if split == "temporal":
            keep &= data[t].first_time <= t1
        for name in ("val_mask", "test_mask"):
            if name in data[t]:
                keep &= ~data[t][name]
        data[t].fit_mask = masks[t] = keep
    return Normaliser.fit({t: data[t].x for t in data.node_types}, masks)


def normalise(data: HeteroData, norm: Normaliser) -> HeteroData:
    """Replace every ``x`` by its z-scores under ``norm`` (in place; returns ``data``)."""
    for t in data.node_types:
        data[t].x = norm.apply(t, data[t].x)
    return data
