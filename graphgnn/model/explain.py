"""Model-based attribution: which inputs moved a node's GNN score (gradient × input).

For a target node, the attribution of an input value ``x`` is ``x · ∂score/∂x`` where ``score``
is the node's GNN score (sigmoid of its head; for an unsupervised checkpoint, its calibrated
reconstruction score) and ``x`` ranges over the *normalised* features of the node itself and of
every node in its receptive field. A hybrid checkpoint's trees are not differentiable: the GNN
score of the same checkpoint is explained instead (the trees read the GNN's embedding).

Exact per node: the forward runs on the node's own L-hop subgraph (L = message-passing layers,
one more for the unsupervised score, which also reads the node's edges and, for users, their
orders), so other flagged nodes never mix into one another's gradients. A SAGE layer at hop
``d < L`` sees all its in-neighbours (hop ``≤ L``) in that subgraph, so its output equals the
full graph's. One forward/backward per node: at most ``max_nodes`` nodes (the highest-scoring
of the requested ones, default 500) are attributed per call; the rest are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from graph_build import schema
from graph_build.errors import FraudringError
from graph_build.frames import GraphFrames, canonical_order
from graphgnn.model.hetero import build_hetero, normalise
from graphgnn.model.prepare import known_from_json, snapshot

#: Nodes attributed per call at most (one forward and backward each).
MAX_NODES = 500


def _gnn_score(system, data, t: str) -> Tensor:
    """The differentiable score ``[N_t]`` of type ``t`` (never the hybrid's trees)."""
    if system.objective == "unsupervised":
        return system.node_scores(data)[t]
    model = system._model_for(t)
    emb = model(data.x_dict, data.edge_index_dict)
    return torch.sigmoid(model.score_logits({t: emb[t]})[t].float())


def _receptive_field(adj: dict[str, list[tuple[str, Tensor, Tensor]]], t: str, idx: int,
                     hops: int, device) -> dict[str, Tensor]:
    """Sorted node indices per type within ``hops`` of ``(t, idx)`` against message flow."""
    seen: dict[str, Tensor] = {t: torch.tensor([idx], device=device)}
    frontier = dict(seen)
    for _ in range(hops):
        nxt: dict[str, list[Tensor]] = {}
        for dst, nodes in frontier.items():
            for src, s, d in adj.get(dst, []):
                hit = torch.isin(d, nodes)
                if hit.any():
                    nxt.setdefault(src, []).append(s[hit])
        frontier = {}
        for src, parts in nxt.items():
            new = torch.unique(torch.cat(parts))
            old = seen.get(src)
            if old is not None:
                new = new[~torch.isin(new, old)]
                seen[src] = torch.cat([old, new])
            else:
                seen[src] = new
            if len(new):
                frontier[src] = new
        if not frontier:
            break
    return {k: torch.sort(v).values for k, v in seen.items()}


def _prepare(scorer, frames: GraphFrames, as_of: int | None, align: Callable | None):
    """The normalised graph exactly as :meth:`Scorer.score` builds it, plus the node keys."""
    frames = canonical_order(frames)
    fs = snapshot(frames, as_of, known_from_json(scorer.meta.get("known_labels")))
    if align is not None:
        align(fs, scorer.feature_names)
    if fs.names != scorer.feature_names:
        raise FraudringError("the features computed now differ from the checkpoint's",
                             hint="retrain with this version (fraudring train fit)")
    data = normalise(build_hetero(fs), scorer.normaliser)
    keys = {t: fs.tables[t][schema.node(t).key].astype(str).to_numpy()
            for t in data.node_types if t in fs.tables}
    return data, keys


def attribute(scorer, frames: GraphFrames, keys: dict[str, set[str]],
              as_of: int | None = None, top_features: int = 3, top_neighbours: int = 2,
              max_nodes: int = MAX_NODES, align: Callable | None = None,
              ) -> dict[str, dict[str, dict[str, Any]]]:
    """Gradient × input attribution of the GNN score of the nodes ``keys``.

    Args:
        scorer: a loaded :class:`graphgnn.model.checkpoint.Scorer`.
        frames: the graph (as given to ``scorer.score``).
        keys: label -> node keys to attribute (unknown keys are ignored).
        as_of: cut-off time (as for ``scorer.score``).
        top_features: own features kept per node (largest ``|grad × input|``).
        top_neighbours: neighbour nodes kept per node (largest summed ``|grad × input|``).
        max_nodes: attribute at most this many nodes, the highest GNN scores first.
        align: ``(feature set, feature names)`` giving the feature set the checkpoint's
            ``attr_*`` columns (:func:`graphgnn.model.checkpoint.align_attributes`; passed in
            because the checkpoint module imports this one).

    Returns:
        label -> key -> ``{"score": GNN score, "features": [(name, contribution, z)],
        "neighbours": [(label, key, contribution)], "total": sum of every grad × input}``;
        ``contribution`` is signed (positive raises the score), ``z`` the normalised input.
    """
    data, node_keys = _prepare(scorer, frames, as_of, align)
    return attribute_graph(scorer.system, data, node_keys, scorer.feature_names, keys,
                           top_features, top_neighbours, max_nodes)


def attribute_graph(system, data, node_keys: dict[str, np.ndarray],
                    feature_names: dict[str, list[str]], keys: dict[str, set[str]],
                    top_features: int = 3, top_neighbours: int = 2, max_nodes: int = MAX_NODES,
                    gnn_scores: dict[str, Tensor] | None = None,
                    ) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`attribute` on an already built, normalised graph ``data`` (row keys ``node_keys``).

    ``gnn_scores`` (type -> ``[N_t]``), when the caller has them, rank the nodes instead of a
    fresh forward pass (they must be the GNN's own scores, not the hybrid's trees).
    """
    # Subgraphs are tiny: intra-op threads only add synchronisation (measured 100x slower per
    # node on a busy 2-core machine), so run on one thread and restore the caller's setting.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _attribute(system, data, node_keys, feature_names, keys, top_features,
                          top_neighbours, max_nodes, gnn_scores or {})
    finally:
        torch.set_num_threads(threads)


def _attribute(system, data, node_keys, feature_names, keys, top_features, top_neighbours,
               max_nodes, gnn_scores):
    device = next(system.parameters()).device
    data = data.to(device)
    wanted: list[tuple[float, str, int]] = []
    with torch.no_grad():
        for t, ks in keys.items():
            if not ks or t not in node_keys:
                continue
            rows = np.flatnonzero(np.isin(node_keys[t], list(map(str, ks))))
            if not len(rows):
                continue
            full = gnn_scores[t] if t in gnn_scores else _gnn_score(system, data, t)
            full = full.float().cpu().numpy()
            wanted += [(float(full[i]), t, int(i)) for i in rows]
    wanted.sort(key=lambda w: (-w[0], w[1], w[2]))
    hops = system.hparams.num_layers + (1 if system.objective == "unsupervised" else 0)
    adj: dict[str, list[tuple[str, Tensor, Tensor]]] = {}
    for (src, _, dst), ei in data.edge_index_dict.items():
        adj.setdefault(dst, []).append((src, ei[0], ei[1]))
    empty = torch.empty(0, dtype=torch.long, device=device)
    was_training = system.training
    system.eval()
    out: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        # Callers score under no_grad (Scorer.score is decorated): gradients are needed here.
        with torch.enable_grad():
            for _, t, i in wanted[:max_nodes]:
                field = _receptive_field(adj, t, i, hops, device)
                sub = data.subgraph({nt: field.get(nt, empty) for nt in data.node_types})
                for nt in sub.node_types:
                    sub[nt].x = sub[nt].x.detach().clone().requires_grad_(True)
                pos = int(torch.searchsorted(field[t], torch.tensor(i, device=device)))
                score = _gnn_score(system, sub, t)[pos]
                xs = {nt: sub[nt].x for nt in sub.node_types if sub[nt].num_nodes}
                grads = torch.autograd.grad(score, list(xs.values()), allow_unused=True)
                out.setdefault(t, {})[str(node_keys[t][i])] = _summary(
                    t, pos, xs, grads, field, node_keys, feature_names,
                    float(score.detach()), top_features, top_neighbours)
    finally:
        system.train(was_training)
    return out


def _summary(t: str, pos: int, xs: dict[str, Tensor], grads, field: dict[str, Tensor],
             node_keys: dict[str, np.ndarray], names: dict[str, list[str]], score: float,
             top_features: int, top_neighbours: int) -> dict[str, Any]:
    """Top own features and neighbour nodes of one target from its grad × input."""
    own: np.ndarray = np.zeros(0)
    z: np.ndarray = np.zeros(0)
    neighbours: list[tuple[float, float, str, str]] = []
    total = 0.0
    for (nt, x), g in zip(xs.items(), grads, strict=True):
        if g is None:
            continue
        gx = (g * x).detach().float().cpu().numpy()
        total += float(gx.sum())
        per_node = np.abs(gx).sum(axis=1)
        signed = gx.sum(axis=1)
        idx = field[nt].cpu().numpy()
        for j in np.argsort(-per_node)[:top_neighbours + 1]:
            if nt == t and j == pos:
                continue
            if per_node[j] > 0:
                neighbours.append((float(per_node[j]), float(signed[j]), nt,
                                   str(node_keys[nt][idx[j]])))
        if nt == t:
            own, z = gx[pos], x[pos].detach().float().cpu().numpy()
    neighbours.sort(key=lambda n: (-n[0], n[2], n[3]))
    feats = [(names[t][j], float(own[j]), float(z[j]))
             for j in np.argsort(-np.abs(own))[:top_features] if own[j] != 0]
    return {"score": score, "features": feats,
            "neighbours": [(nt, k, c) for _, c, nt, k in neighbours[:top_neighbours]],
            "total": total}
