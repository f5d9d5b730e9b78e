"""One fast, whole-graph forward pass of the GraphSAGE heads, for batch scoring.

:meth:`HeteroSAGE.forward` runs PyG's message passing: per edge type it gathers ``[E, F]``
source rows and scatters them back (measured: ~70% of a 20k-user scoring pass, most of it in
``scatter_add_`` over the first layer's 100+ raw feature columns). Mean aggregation is a
sparse matrix product, so here each edge type's row-normalised adjacency is built once per
graph (CSR, shared by every model and layer) and a layer is ``A @ (x W_l^T) + b_l + x_dst W_r^T``
— the projection first when it narrows the rows (``A (x W) = (A x) W``). Only the types a
model's heads read are computed in its last layer.

The result equals :meth:`System.node_scores` up to float rounding (a test holds them within
1e-6); every scoring run (full and incremental) uses this one path, so runs agree with each
other exactly. Anything else — another aggregation, normalised or projecting convolutions,
the hybrid's trees, the unsupervised score — goes through :meth:`System.node_scores`.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from graphgnn.model.hetero import SCORED_TYPES

EdgeType = tuple[str, str, str]


def mean_adjacency(edge_index_dict: dict[EdgeType, Tensor],
                   sizes: dict[str, int]) -> dict[EdgeType, Tensor]:
    """Per edge type, the ``[N_dst, N_src]`` CSR matrix whose row ``v`` averages ``v``'s
    in-neighbours (a row of zeros when it has none, as PyG's mean of nothing)."""
    out = {}
    for et, ei in edge_index_dict.items():
        n_src, n_dst = sizes[et[0]], sizes[et[2]]
        src, dst = ei[0], ei[1]
        counts = torch.bincount(dst, minlength=n_dst)
        # Reverse types arrive sorted by target already (frames are in canonical order).
        if len(dst) > 1 and not bool((dst[1:] >= dst[:-1]).all()):
            order = torch.from_numpy(np.argsort(dst.numpy(), kind="stable"))
            src, dst = src[order], dst[order]
        crow = torch.zeros(n_dst + 1, dtype=torch.int64)
        crow[1:] = torch.cumsum(counts, 0)
        values = (1.0 / counts.clamp_min(1).to(torch.float32))[dst]
        with warnings.catch_warnings():  # "CSR support is in beta": mm on CSR is all we use
            warnings.simplefilter("ignore", UserWarning)
            out[et] = torch.sparse_csr_tensor(crow, src, values, (n_dst, n_src),
                                              check_invariants=False)
    return out


def supported(system) -> bool:
    """Whether :func:`node_scores` can take the fast path for ``system``."""
    if system.objective == "unsupervised" or getattr(system, "trees", None):
        return False
    return all(system._model_for(t).plain_aggregations() == {"MeanAggregation"}
               for t in SCORED_TYPES)


def _conv(c: SAGEConv, adj: Tensor, x_src: Tensor, x_dst: Tensor) -> Tensor:
    w = c.lin_l.weight
    if w.shape[0] < w.shape[1]:  # project first: fewer columns to average
        out = torch.sparse.mm(adj, x_src @ w.T)
    else:
        out = torch.sparse.mm(adj, x_src) @ w.T
    if c.lin_l.bias is not None:
        out = out + c.lin_l.bias
    if c.root_weight:
        out = out + c.lin_r(x_dst)
    return out


def embeddings(model, x_dict: dict[str, Tensor], adj: dict[EdgeType, Tensor],
               wanted: set[str]) -> dict[str, Tensor]:
    """What ``model(x_dict, edges)`` returns (eval mode) for the types ``wanted``."""
    h = dict(x_dict)
    outs: list[dict[str, Tensor]] = []
    last = len(model.convs) - 1
    for i, conv in enumerate(model.convs):
        targets = set(h) if (i < last or model.jk != "last") else wanted
        msg: dict[str, Tensor] = {}
        for et, a in adj.items():
            if et not in conv.convs or et[0] not in h or et[2] not in targets:
                continue
            y = _conv(conv.convs[et], a, h[et[0]], h[et[2]])
            msg[et[2]] = msg[et[2]] + y if et[2] in msg else y
        h = {t: model.update(i, t, h[t], msg.get(t)) for t in targets}
        outs.append(h)
    return model.jump(outs)


@torch.no_grad()
def node_scores(system, data) -> dict[str, Tensor]:
    """Scores per scored type, as :meth:`System.node_scores` (eval mode) computes them."""
    if system.training or not supported(system):
        return system.node_scores(data)
    sizes = {t: data[t].num_nodes for t in data.node_types}
    adj = mean_adjacency({et: data[et].edge_index for et in data.edge_types}, sizes)
    x_dict = data.x_dict
    groups: dict[int, tuple[nn.Module, set[str]]] = {}
    for t in SCORED_TYPES:
        if t in data.node_types:
            model = system._model_for(t)
            groups.setdefault(id(model), (model, set()))[1].add(t)
    out: dict[str, Tensor] = {}
    for model, types in groups.values():
        emb = embeddings(model, x_dict, {et: a for et, a in adj.items()
                                         if et in model.edge_types}, types)
        for t, logit in model.score_logits(emb).items():
            if t in types:
                out[t] = torch.sigmoid(logit.float())
    return out
