"""The model's forward pass on a computation tree of tens of rows, without PyG's propagate.

:func:`order_score` runs the numpy pass of :mod:`graphgnn.api.numpy_forward` (weights read
once per model) where it mirrors the model; :func:`embed` below is the torch mirror it falls
back to (and the reference its tests compare with).

:class:`graphgnn.model.sage.HeteroSAGE` on the whole graph runs one ``SAGEConv`` per edge type
per layer; on a tree of ~15 rows PyG's per-call machinery (input checks, ``propagate``'s
collect / scatter) costs ~0.2 ms per conv, ~7 ms per order. Here each conv is its own
``lin_l(aggregate) + lin_r(root)`` (the same modules, the same weights, one ``index_add``),
and the layer loop is :meth:`HeteroSAGE.forward`'s (norm, ReLU, residual, jumping knowledge;
eval mode: no dropout). :func:`order_score` then applies the order's head as
:meth:`graphgnn.model.system.System.node_scores` does: the hybrid's trees (with the embedding
and the blend with the GNN logit when chosen) or the sigmoid of the GNN head.

Only plain SAGE convs are mirrored (no ``project``, no ``normalize``, ``mean`` / ``sum`` /
``max``): :func:`mirrors` says whether a model is one; otherwise the caller uses PyG itself.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.nn import SAGEConv

from graphgnn.api.numpy_forward import compile_model
from graphgnn.model.serving import type_scores

_AGGR = {"MeanAggregation": "mean", "SumAggregation": "sum", "MaxAggregation": "max"}


def mirrors(model) -> bool:
    """Whether :func:`embed` computes exactly what ``model`` (a HeteroSAGE) computes."""
    kinds = model.plain_aggregations() if hasattr(model, "plain_aggregations") else None
    return bool(kinds) and kinds <= _AGGR.keys() and not model.training


def _conv(c: SAGEConv, x_src: Tensor, x_dst: Tensor, ei: Tensor) -> Tensor:
    out = c.lin_r(x_dst) if c.root_weight else None
    if not ei.shape[1]:  # nothing aggregated: lin_l(0) is its bias
        bias = c.lin_l.bias
        if out is None:
            out = torch.zeros((x_dst.shape[0], c.lin_l.weight.shape[0]))
        return out + bias if bias is not None else out
    kind = _AGGR[type(c.aggr_module).__name__]
    agg = torch.zeros((x_dst.shape[0], x_src.shape[1]), dtype=x_src.dtype)
    msg = x_src[ei[0]]
    if kind == "max":
        agg = agg.index_reduce(0, ei[1], msg, "amax", include_self=False)
    else:
        agg = agg.index_add(0, ei[1], msg)
        if kind == "mean":
            cnt = torch.bincount(ei[1], minlength=x_dst.shape[0]).clamp_min(1)
            agg = agg / cnt.unsqueeze(1).to(agg.dtype)
    return c.lin_l(agg) + out if out is not None else c.lin_l(agg)


@torch.no_grad()
def embed(model, x_dict: dict[str, Tensor], edges: dict[tuple, Tensor],
          only: str | None = None) -> dict[str, Tensor]:
    """``model(x_dict, edges)`` (HeteroSAGE, eval mode) with the convs of :func:`_conv`;
    with ``only``, the last layer (and the result) for that node type alone."""
    h = dict(x_dict)
    edges = {et: ei for et, ei in edges.items() if et in model.edge_types}
    outs = []
    last = len(model.convs) - 1
    for i, conv in enumerate(model.convs):
        if only is not None and i == last:
            h = {t: v for t, v in h.items() if t == only} | {
                t: v for t, v in h.items() if t != only and any(
                    et[0] == t and et[2] == only for et in edges)}
        msg: dict[str, Tensor] = {}
        for et, ei in edges.items():
            if et[0] not in h or et[2] not in h or (only is not None and i == last
                                                     and et[2] != only):
                continue
            y = _conv(conv.convs[et], h[et[0]], h[et[2]], ei)
            msg[et[2]] = msg[et[2]] + y if et[2] in msg else y
        h = {t: model.update(i, t, prev, msg.get(t)) for t, prev in h.items()
             if not (only is not None and i == last and t != only)}
        outs.append(h)
    return model.jump(outs)


@torch.no_grad()
def order_score(system, tree, t: str = "Order") -> float:
    """Score of the tree's row ``tree.at`` of type ``t``, as ``system.node_scores`` gives it
    (:class:`graphgnn.api.fast_forward.Tree`): the numpy forward pass
    (:mod:`graphgnn.api.numpy_forward`) where it mirrors the model, else the torch one."""
    at = tree.at
    model = system._model_for(t)  # noqa: SLF001 - the selection node_scores itself uses
    compiled = compile_model(model)  # None unless it mirrors the model (mirrors() included)
    if compiled is None and not mirrors(model):
        return float(type_scores(system, tree.hetero(), t)[at].item())
    if compiled is not None:
        emb_np = compiled.embed(tree.x_np, tree.edges_np, only=t)[t][at:at + 1]
        logit_np = compiled.logits(t, emb_np)
        if t not in system.trees:
            return float(0.5 * (1.0 + np.tanh(0.5 * logit_np[0])))  # the sigmoid, no overflow
        emb = torch.from_numpy(emb_np.astype(np.float32))
        logit = torch.from_numpy(logit_np.astype(np.float32))
    else:
        emb = embed(model, tree.x_dict, tree.edge_index_dict, only=t)[t][at:at + 1]
        logit = model.score_logits({t: emb})[t].float()
        if t not in system.trees:
            return float(torch.sigmoid(logit)[0].item())
    x = torch.from_numpy(tree.x_np[t][at:at + 1])
    # The order's in-edges in the tree are its real neighbours' rows: their mean / max are
    # the batch graph's (a 1-hop aggregate).
    nb = system.tree_neighbours(tree.x_dict, tree.edge_index_dict, t)
    p = system.tree_probabilities(t, x, emb, logit, None if nb is None else nb[at:at + 1])
    return float(np.asarray(p, np.float32)[0])
