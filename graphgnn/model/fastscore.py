"""One fast, whole-graph forward pass of the GraphSAGE heads, for batch scoring.

:meth:`HeteroSAGE.forward` runs PyG's message passing: per edge type it gathers ``[E, F]``
source rows and scatters them back (measured: ~70% of a 20k-user scoring pass, most of it in
``scatter_add_`` over the first layer's 100+ raw feature columns). Mean aggregation is a
sparse matrix product, so here each edge type's row-normalised adjacency is built once per
graph (CSR, shared by every model and layer) and a layer is ``A @ (x W_l^T) + b_l + x_dst W_r^T``
— the projection first when it narrows the rows (``A (x W) = (A x) W``), and the root terms of
every edge type into one node type summed as one product with the summed weights. Only the types a
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
from graphgnn.model.identity_cache import IdentityCache

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


#: Full-batch training and validation pass the same snapshot every epoch: its operators and
#: their transposes are built once.
_OPERATORS = IdentityCache()


def cached_adjacency(data) -> dict[EdgeType, Tensor]:
    """:func:`mean_adjacency` of the graph ``data``, built once per graph object."""
    def build() -> dict[EdgeType, Tensor]:
        sizes = {t: data[t].num_nodes for t in data.node_types}
        return mean_adjacency({et: data[et].edge_index for et in data.edge_types}, sizes)

    return _OPERATORS.get("adjacency", (data,), build)


def embed(model, data) -> dict[str, Tensor]:
    """``model(data.x_dict, data.edge_index_dict)``, with gradients, as sparse products where
    that is faster.

    Measured on a 30k-user snapshot (733k relationships): a training step 0.72 -> 0.65 s, a
    validation forward pass 0.35 -> 0.26 s against PyG's gather and scatter per edge type,
    the operators built once per snapshot. Used for whole graphs on the CPU in full
    precision with mean aggregation; sampled subgraphs (new every step: ``n_id``), other
    devices, autocast and other aggregations take PyG's path.
    """
    x_dict = data.x_dict
    whole = not any("n_id" in data[t] for t in data.node_types)
    cpu = all(x.device.type == "cpu" and x.dtype == torch.float32 for x in x_dict.values())
    if not (whole and cpu and not torch.is_autocast_enabled("cpu")
            and model.plain_aggregations() == {"MeanAggregation"}):
        return model(x_dict, data.edge_index_dict)
    adj = cached_adjacency(data)
    return embeddings(model, x_dict, {et: a for et, a in adj.items() if et in model.edge_types},
                      set(x_dict))


def supported(system) -> bool:
    """Whether :func:`node_scores` can take the fast path for ``system``."""
    if system.objective == "unsupervised" or getattr(system, "trees", None):
        return False
    return all(system._model_for(t).plain_aggregations() == {"MeanAggregation"}
               for t in SCORED_TYPES)


def _transpose(a: Tensor) -> Tensor:
    def build() -> Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return a.to_sparse_coo().t().coalesce().to_sparse_csr()

    return _OPERATORS.get("transpose", (a,), build)


class _Product(torch.autograd.Function):
    """``a @ x`` for a constant sparse ``a``; the backward ``a.T @ g`` uses a transpose built
    once per matrix (torch's own backward converts the layout at every step)."""

    @staticmethod
    def forward(ctx, x: Tensor, a: Tensor) -> Tensor:
        ctx.a = a
        return torch.sparse.mm(a, x)

    @staticmethod
    def backward(ctx, g: Tensor):
        return torch.sparse.mm(_transpose(ctx.a), g.contiguous()), None


def _product(a: Tensor, x: Tensor) -> Tensor:
    if x.requires_grad and torch.is_grad_enabled():
        return _Product.apply(x, a)
    return torch.sparse.mm(a, x)


def _neighbour_term(c: SAGEConv, adj: Tensor, x_src: Tensor) -> Tensor:
    """``lin_l(mean of the in-neighbours)`` of one convolution."""
    w = c.lin_l.weight
    # Project first when that narrows the rows: fewer columns to average.
    out = _product(adj, x_src @ w.T) if w.shape[0] < w.shape[1] else _product(adj, x_src) @ w.T
    return out + c.lin_l.bias if c.lin_l.bias is not None else out


def _root_term(convs: list[SAGEConv], x_dst: Tensor) -> Tensor | None:
    """The sum of the convolutions' ``lin_r(x_dst)`` as one product with the summed weights
    (orders are the target of six edge types: one product instead of six)."""
    convs = [c for c in convs if c.root_weight]
    if not convs:
        return None
    w = convs[0].lin_r.weight if len(convs) == 1 else torch.stack(
        [c.lin_r.weight for c in convs]).sum(0)
    out = x_dst @ w.T
    for c in convs:
        if c.lin_r.bias is not None:
            out = out + c.lin_r.bias
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
        roots: dict[str, list[SAGEConv]] = {}
        for et, a in adj.items():
            if et not in conv.convs or et[0] not in h or et[2] not in targets:
                continue
            y = _neighbour_term(conv.convs[et], a, h[et[0]])
            msg[et[2]] = msg[et[2]] + y if et[2] in msg else y
            roots.setdefault(et[2], []).append(conv.convs[et])
        for t, convs in roots.items():
            root = _root_term(convs, h[t])
            if root is not None:
                msg[t] = msg[t] + root
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
