"""The forward pass for one new order on a computation tree of a few rows.

With a two-layer model, the order's output reads the layer-1 states of the order and of its
direct neighbours (the nodes it touches), and each of those reads its own in-neighbours'
input features through one aggregation per edge type. So the tree is: the order, the
touched nodes (with their recomputed features) and, per touched node and incoming edge type,
**one stand-in row** whose features are that aggregation over the node's in-neighbours in the
graph with the order added (cached neighbours' normalised features, touched ones' new
features, plus the new edges' sources). A SAGE ``mean`` (``sum``, ``max``) of one row is the
row itself, so every layer-1 state the order reads equals the full graph's, and the model runs
unchanged on a batch of tens of rows instead of the whole graph. The tree is built in numpy
(views of the cached state's arrays, no torch op per row): :class:`Tree` holds numpy arrays
and hands out zero-copy tensors for the torch fallback.

Deeper models (more than two layers) and the unsupervised objective (its score reads edge
reconstructions) are not served here: :func:`supports` says so and the caller falls back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphgnn.api.snapshot_cache import CachedState

Node = tuple[str, str]
Edge = tuple[Node, tuple[str, str, str], Node]  # (source, edge type, target)


def supports(scorer) -> bool:
    """Whether :func:`order_score` reproduces this model's order scores."""
    system = getattr(scorer, "system", None)
    hp = getattr(system, "hparams", None) or {}
    return (system is not None and int(hp.get("num_layers", 2)) <= 2
            and hp.get("objective", "supervised") != "unsupervised"
            and hp.get("aggr", "mean") in ("mean", "sum", "max"))


def _aggregate(rows: np.ndarray, aggr: str) -> np.ndarray:
    if aggr == "sum":
        return rows.sum(0)
    if aggr == "max":
        return rows.max(0)
    # rows.mean(0, dtype=float64): add.reduce, then one division by the count.
    return (np.add.reduce(rows, 0, dtype=np.float64) / rows.shape[0]).astype(rows.dtype)


def _as_np(v) -> np.ndarray:
    return v.numpy() if isinstance(v, Tensor) else np.asarray(v)


def computation_tree(state: CachedState, x: dict[Node, np.ndarray | Tensor],
                     rows: dict[Node, int | None], order: Node, edges: list[Edge], aggr: str,
                     changed: dict[tuple[str, int], np.ndarray | Tensor] | None = None,
                     ) -> Tree:
    """The batch described in the module docstring and the order's row in it (numpy).

    Args:
        x: normalised features of the order and of every touched node (recomputed).
        rows: touched node -> its row in the cached state (None: new).
        edges: the edges the order adds (both directions, co-user pairs included).
        changed: (type, cached row) -> new normalised features of other nodes the order
            moves (in-neighbours of touched nodes: the user's co-users).
    """
    node_types, edge_types, into = state.tree_types()
    x = {n: _as_np(v) for n, v in x.items()}
    feats: dict[str, list[np.ndarray]] = {t: [] for t in node_types}
    index: dict[Node, int] = {}

    def add(t: str, v: np.ndarray) -> int:
        feats[t].append(v)
        return len(feats[t]) - 1

    for node, v in x.items():
        index[node] = add(node[0], v)
    src_ids: dict[tuple, list[int]] = {et: [] for et in edge_types}
    dst_ids: dict[tuple, list[int]] = {et: [] for et in edge_types}
    subs = {k: _as_np(v) for k, v in (changed or {}).items()}
    subs |= {(n[0], r): x[n] for n, r in rows.items() if r is not None}
    fresh: dict[tuple[tuple, Node], list[np.ndarray]] = {}
    for s, et, d in edges:
        if d == order:  # the order's own in-edges: real rows of the tree
            src_ids[et].append(index[s])
            dst_ids[et].append(index[order])
        elif d in x:  # a new in-edge of a touched node: its source joins the aggregation
            r = state.row(*s) if s not in x else None
            v = x[s] if s in x else subs.get((s[0], r), None)
            fresh.setdefault((et, d), []).append(
                v if v is not None else state.x_np(s[0])[r])
    for node in x:
        if node == order:
            continue
        r = rows.get(node)
        for et in into[node[0]]:
            parts = list(fresh.get((et, node), []))
            if r is not None:
                indptr, by_row = state.in_edges[et]  # take(csr, [r]) of one row: a slice
                ids = by_row[indptr[r]:indptr[r + 1]]
                if len(ids):
                    src = state.src_np(et)[ids]
                    xs = state.x_np(et[0])[src]  # a copy: fancy indexing
                    for (t, row), v in subs.items():
                        if t == et[0]:
                            hit = src == row
                            if hit.any():
                                xs[hit] = v
                    parts.append(xs)
            if not parts:
                continue
            stacked = np.concatenate([p.reshape(-1, p.shape[-1]) for p in parts])
            v = add(et[0], _aggregate(stacked, aggr))
            src_ids[et].append(v)
            dst_ids[et].append(index[node])
    xs = {t: np.stack(feats[t]).astype(np.float32, copy=False) if feats[t] else
          np.zeros((0, state.x_np(t).shape[1]), np.float32) for t in node_types}
    none = np.zeros((2, 0), np.int64)  # shared by the (many) edge types without edges
    ei = {et: np.array([src_ids[et], dst_ids[et]], dtype=np.int64) if src_ids[et] else none
          for et in edge_types}
    return Tree(xs, ei, index[order])


@dataclass
class Tree:
    """A computation tree: features per node type, edges per edge type (numpy), the order's
    row; ``x_dict`` / ``edge_index_dict`` are the same arrays as tensors (no copy)."""

    x_np: dict[str, np.ndarray]
    edges_np: dict[tuple[str, str, str], np.ndarray]
    at: int

    @property
    def x_dict(self) -> dict[str, Tensor]:
        return {t: torch.from_numpy(v) for t, v in self.x_np.items()}

    @property
    def edge_index_dict(self) -> dict[tuple[str, str, str], Tensor]:
        return {et: torch.from_numpy(v) for et, v in self.edges_np.items()}

    @property
    def rows(self) -> int:
        return sum(int(x.shape[0]) for x in self.x_np.values())

    def hetero(self) -> HeteroData:
        """The tree as a HeteroData (every node and edge type present, as in batch)."""
        batch = HeteroData()
        for t, x in self.x_dict.items():
            batch[t].x = x
            batch[t].num_nodes = int(x.shape[0])
        for et, ei in self.edge_index_dict.items():
            batch[et].edge_index = ei
        return batch
