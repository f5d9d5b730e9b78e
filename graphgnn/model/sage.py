"""Heterogeneous GraphSAGE as a plain ``nn.Module`` (Lightning: :mod:`graphgnn.model.system`).

Each layer is a :class:`~torch_geometric.nn.HeteroConv` with one
:class:`~torch_geometric.nn.SAGEConv` per edge type (messages summed over the types arriving at a
node type), then normalisation, ReLU, dropout and an optional residual (from the second layer
on: the first maps each type's raw features to ``hidden``, so its messages are only as wide as
the features — what a plain ``to_hetero(GraphSAGE)`` does too); ``jk`` combines the layers'
outputs. On top sit a scoring head
per scored type and, for the unsupervised objective, a feature decoder per type and a
structure projection whose dot products reconstruct edges.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch_geometric.nn import HeteroConv, SAGEConv

from torch_geometric.typing import EdgeType  # (src type, relation, dst type), as PyG names it


def _norm(kind: str, dim: int) -> nn.Module:
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'layer', 'batch' or 'none', not {kind!r}")


def _dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout, as ``nn.functional.dropout``, from a uniform draw: on the CPU torch's
    Bernoulli sampler took a fifth of a full-graph training step (12 ms per [41k, 32] tensor,
    5.6 ms this way)."""
    if not training or p <= 0.0:
        return x
    keep = (torch.rand_like(x) >= p).to(x.dtype)
    return x * keep * (1.0 / (1.0 - p))


def _sum_messages(conv: HeteroConv, h: dict[str, Tensor],
                  edges: dict[EdgeType, Tensor]) -> dict[str, Tensor]:
    """What ``conv(h, edges)`` computes for ``HeteroConv(aggr="sum")``, one edge type at a time.

    HeteroConv stacks every edge type's output of a target type before summing them; a running
    sum keeps one ``[N_t, H]`` tensor per type instead (scoring 1M users: gigabytes less).
    """
    out: dict[str, Tensor] = {}
    for et, edge_index in edges.items():
        if et[0] not in h or et[2] not in h:  # as HeteroConv: a type absent from the batch
            continue
        y = conv.convs[et]((h[et[0]], h[et[2]]), edge_index)
        out[et[2]] = out[et[2]] + y if et[2] in out else y
    return out


class HeteroSAGE(nn.Module):
    """Heterogeneous GraphSAGE with a head per scored node type.

    Args:
        in_dims: node type -> number of input features ``F_t``.
        edge_types: ``(source, relation, target)`` triples (reverse edges included).
        hidden: width ``H`` of every layer.
        num_layers: message-passing layers ``L`` (>= 1).
        aggr: neighbour aggregation of each SAGEConv (``mean``, ``max``, ``sum``).
        norm: ``layer``, ``batch`` or ``none`` after each layer.
        dropout: dropout probability after each layer.
        skip: add each layer's input to its output (residual).
        jk: jumping knowledge over layer outputs: ``last``, ``cat`` (``L * H`` wide) or ``max``.
        scored_types: node types that get a scoring head.
        recon_dim: width of the bottleneck the feature decoders reconstruct from (small, so
            only typical feature combinations reconstruct well: the unsupervised score).
    """

    def __init__(
        self,
        in_dims: dict[str, int],
        edge_types: list[EdgeType],
        hidden: int = 64,
        num_layers: int = 2,
        aggr: str = "mean",
        norm: Literal["layer", "batch", "none"] = "layer",
        dropout: float = 0.2,
        skip: bool = True,
        jk: Literal["last", "cat", "max"] = "last",
        scored_types: tuple[str, ...] = ("User", "Order", "Device", "IP"),
        recon_dim: int = 4,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be >= 1")
        if jk not in ("last", "cat", "max"):
            raise ValueError(f"jk must be 'last', 'cat' or 'max', not {jk!r}")
        self.node_types = list(in_dims)
        self.edge_types = [tuple(et) for et in edge_types]
        self.dropout, self.skip, self.jk = dropout, skip, jk
        self.scored_types = [t for t in scored_types if t in in_dims]
        self.convs = nn.ModuleList(
            HeteroConv({et: SAGEConv((in_dims[et[0]], in_dims[et[2]]) if i == 0 else hidden,
                                     hidden, aggr=aggr) for et in self.edge_types}, aggr="sum")
            for i in range(num_layers)
        )
        # A type no edge type points at keeps its features: project them to the width.
        targets = {et[2] for et in self.edge_types}
        self.bypass = nn.ModuleDict({t: nn.Linear(d, hidden) for t, d in in_dims.items()
                                     if t not in targets})
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: _norm(norm, hidden) for t in in_dims}) for _ in range(num_layers)
        )
        self.out_dim = hidden * num_layers if jk == "cat" else hidden
        self.heads = nn.ModuleDict({
            t: nn.Sequential(nn.Linear(self.out_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            for t in self.scored_types
        })
        self.decoders = nn.ModuleDict({
            t: nn.Sequential(nn.Linear(self.out_dim, recon_dim), nn.ReLU(), nn.Linear(recon_dim, d))
            for t, d in in_dims.items()
        })
        self.struct = nn.Linear(self.out_dim, hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every learnable parameter."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x_dict: dict[str, Tensor],
                edge_index_dict: dict[EdgeType, Tensor]) -> dict[str, Tensor]:
        """Node embeddings.

        Args:
            x_dict: node type -> features ``[N_t, F_t]``.
            edge_index_dict: edge type -> ``[2, E]`` (row 0 sources, row 1 targets).

        Returns:
            node type -> embeddings ``[N_t, out_dim]``.
        """
        h = dict(x_dict)
        edges = {et: ei for et, ei in edge_index_dict.items() if et in self.edge_types}
        outs: list[dict[str, Tensor]] = []
        for i, conv in enumerate(self.convs):
            msg = _sum_messages(conv, h, edges)
            h = {t: self.update(i, t, prev, msg.get(t)) for t, prev in h.items()}
            outs.append(h)
        return self.jump(outs)

    def update(self, layer: int, t: str, prev: Tensor, msg: Tensor | None) -> Tensor:
        """Layer ``layer``'s output of type ``t`` from its input ``prev`` and summed messages.

        One definition for every forward pass (batch, the rescoring fast pass, the serving
        tree), so they cannot drift apart: a type without messages keeps its input (through
        the first layer's bypass), then norm, ReLU, dropout and the skip connection.
        """
        if msg is not None:
            out = msg
        elif layer == 0:
            out = self.bypass[t](prev) if t in self.bypass else prev
        else:
            out = prev
        out = torch.relu(self.norms[layer][t](out))
        out = _dropout(out, self.dropout, self.training)
        return out + prev if self.skip and layer > 0 else out

    def jump(self, outs: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        """The jumping-knowledge combination of every layer's outputs (types of the last)."""
        last = outs[-1]
        if self.jk == "last":
            return last
        if self.jk == "cat":  # type by type, letting each layer's output go once used
            return {t: torch.cat([o.pop(t) for o in outs], -1) for t in list(last)}
        return {t: torch.stack([o[t] for o in outs], 0).amax(0) for t in last}

    def plain_aggregations(self) -> set[str] | None:
        """The aggregations of the convs (``MeanAggregation`` …) when every conv is a plain
        ``SAGEConv`` (no projection, no normalisation) — what the hand-written fast forward
        passes mirror — else None."""
        kinds = set()
        for conv in self.convs:
            for c in conv.convs.values():
                if not isinstance(c, SAGEConv) or c.project or c.normalize:
                    return None
                kinds.add(type(c.aggr_module).__name__)
        return kinds

    def score_logits(self, emb: dict[str, Tensor]) -> dict[str, Tensor]:
        """Per scored type, one logit per node ``[N_t]`` (higher = more suspicious)."""
        return {t: self.heads[t](emb[t]).squeeze(-1) for t in self.scored_types if t in emb}

    def reconstruct(self, emb: dict[str, Tensor]) -> dict[str, Tensor]:
        """Per type, reconstructed (normalised) features ``[N_t, F_t]``."""
        return {t: self.decoders[t](z) for t, z in emb.items()}

    def edge_logits(self, z_src: Tensor, z_dst: Tensor) -> Tensor:
        """Logits that an edge joins each row pair: ``[E, out_dim] x [E, out_dim] -> [E]``."""
        return (self.struct(z_src) * self.struct(z_dst)).sum(-1)
