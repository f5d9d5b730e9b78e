"""The hybrid trees' neighbour aggregates: mean and max of what a node is linked to.

GADBench's "trees + neighbours": per relationship type into the node (reverse types and the
derived co-user relation included), the mean and the max of the neighbours' own normalised
input features — the same numbers a GraphSAGE layer's mean aggregation starts from, handed to
the trees directly. On hard-mode orders they are what separated trees + neighbours (test
AUPRC 0.32) from the trees on the product's inputs alone (0.18).

The relationship types and their widths are fixed when the trees are fitted
(:func:`relations_of`, kept in the checkpoint's ``tree_info``), so a serving computation tree
that lacks some types still gives the columns in the same places (zeros: no such neighbours).
Sums run in float64 so a batch graph and a computation tree agree to the last float32 bit.
"""

from __future__ import annotations

import torch
from torch import Tensor

Relations = list[list]  # [[src type, relationship, dst type, src width], ...]


def relations_of(x_dict: dict[str, Tensor], edge_index_dict: dict, t: str) -> Relations:
    """The relationship types into ``t`` whose sources have features, in a fixed order."""
    return [[s, r, d, int(x_dict[s].shape[1])] for s, r, d in sorted(edge_index_dict)
            if d == t and s in x_dict and x_dict[s].shape[1] > 0]


def mean_max(vals: Tensor, dst: Tensor, n: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """``[n, 2 F]``: per destination row, the mean then the max of its ``vals`` rows (``[E, F]``,
    one per edge into ``dst``), summed in ``dtype``; 0 where a row has no edge."""
    width = vals.shape[1]
    vals = vals.to(dtype)
    total = torch.zeros(n, width, dtype=dtype).index_add_(0, dst, vals)
    count = torch.zeros(n, dtype=dtype).index_add_(
        0, dst, torch.ones(len(dst), dtype=dtype)).clamp_min(1.0)
    top = torch.zeros(n, width, dtype=dtype).scatter_reduce(
        0, dst.unsqueeze(1).expand(-1, width), vals, "amax", include_self=False)
    return torch.cat([total / count.unsqueeze(1), top], 1)


def neighbour_aggregates(x_dict: dict[str, Tensor], edge_index_dict: dict, t: str,
                         relations: Relations) -> Tensor:
    """``[N_t, sum 2 * width]``: per relation, the mean then the max of the sources' features
    over each node's in-edges (0 where a node has none)."""
    n = int(x_dict[t].shape[0])
    parts = []
    for s, r, d, width in relations:
        ei = edge_index_dict.get((s, r, d))
        if ei is None or ei.shape[1] == 0 or s not in x_dict:
            parts.append(torch.zeros(n, 2 * width))
            continue
        parts.append(mean_max(x_dict[s][ei[0].long()], ei[1].long(), n).float())
    return torch.cat(parts, 1) if parts else torch.zeros(n, 0)
