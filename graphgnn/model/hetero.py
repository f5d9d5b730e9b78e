"""From point-in-time features to a PyG :class:`~torch_geometric.data.HeteroData`.

Every schema label becomes a node type (always all of them, in schema order, so a checkpoint's
metadata matches whatever graph it later scores); every relationship type becomes an edge type
plus its reverse (``rev_<TYPE>``) so messages flow both ways, and the derived co-user relation
(``CO_USER``) joins users sharing a device, IP, address or card; every edge keeps its time
(``edge_time``, epoch ms) for the time-respecting sampler. Features are z-scored by a
:class:`Normaliser` fitted on the training snapshot only and stored with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graph_build import schema
from graphgnn.model.features import FeatureSet, _edges

from torch_geometric.typing import EdgeType  # (src type, relation, dst type), as PyG names it
NODE_TYPES: tuple[str, ...] = tuple(schema.NODES)
SCORED_TYPES: tuple[str, ...] = schema.SCORED_LABELS
#: The derived, time-stamped co-user relation (:mod:`graphgnn.model.context`): a model-side
#: edge type only (never written to a store), so one hop reaches through cards and addresses.
CO_USER: EdgeType = ("User", "co_user", "User")


def edge_types() -> list[EdgeType]:
    """Forward and reverse edge types of the schema, then the co-user relation; fixed order."""
    out: list[EdgeType] = []
    for spec in schema.RELATIONSHIPS.values():
        out.append((spec.source, spec.type, spec.target))
        out.append((spec.target, f"rev_{spec.type}", spec.source))
    out.append(CO_USER)
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
    a, b, tm = fs.co_users if fs.co_users is not None else (np.zeros(0, np.int64),) * 3
    data[CO_USER].edge_index = torch.from_numpy(np.stack([b, a]).astype(np.int64).reshape(2, -1))
    data[CO_USER].edge_time = torch.from_numpy(np.array(tm, np.int64))
    data.as_of = int(fs.as_of)
    return data


def normalise(data: HeteroData, norm: Normaliser) -> HeteroData:
    """Replace every ``x`` by its z-scores under ``norm`` (in place; returns ``data``)."""
    for t in data.node_types:
        data[t].x = norm.apply(t, data[t].x)
    return data
