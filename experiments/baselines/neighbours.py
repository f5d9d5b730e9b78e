"""Neighbour-aggregated features (GADBench style): mean and max of what a node is linked to.

For the target type, per relationship type leaving it (reverse types included, so User gets its
devices, IPs and orders), the mean and the max of the neighbours' (normalised) point-in-time
features; for users also the mean and max over *co-users* — users sharing a device, IP, shipping
address or card with them (entities used by more than ``max_entity_users`` users are ignored,
as the ring detector does). Nodes without such neighbours get zeros.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

MAX_ENTITY_USERS = 100


def _mean_max(src: torch.Tensor, x_dst: torch.Tensor, dst: torch.Tensor,
              n: int) -> torch.Tensor:
    f = x_dst.shape[1]
    vals = x_dst[dst]
    total = torch.zeros(n, f).index_add_(0, src, vals)
    cnt = torch.zeros(n).index_add_(0, src, torch.ones(len(src))).clamp_min(1).unsqueeze(1)
    mx = torch.zeros(n, f).scatter_reduce(0, src.unsqueeze(1).expand(-1, f), vals, "amax",
                                          include_self=False)
    return torch.cat([total / cnt, mx], 1)


def co_user_pairs(p) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user row, other user row) pairs sharing a non-hub entity (both directions)."""
    from graphgnn.scores.rings import entity_links

    links = entity_links(p.frames)
    size = links.groupby(["kind", "entity"])["user_id"].transform("size")
    links = links[(size >= 2) & (size <= MAX_ENTITY_USERS)]
    rows = pd.Index(p.keys).get_indexer(links["user_id"].astype(str))
    links = pd.DataFrame({"u": rows, "e": links["kind"] + "|" + links["entity"]})[rows >= 0]
    pairs = links.merge(links, on="e")
    pairs = pairs[pairs["u_x"] != pairs["u_y"]].drop_duplicates(["u_x", "u_y"])
    return pairs["u_x"].to_numpy(np.int64), pairs["u_y"].to_numpy(np.int64)


def neighbour_features(p) -> np.ndarray:
    """``[N_target, F_agg]`` aggregates to append to the target's own features."""
    data, t = p.data, p.target
    n = data[t].num_nodes
    parts = []
    for et in data.edge_types:
        if et[0] != t or et[2] == t:
            continue
        ei = data[et].edge_index
        parts.append(_mean_max(ei[0], data[et[2]].x, ei[1], n))
    if t == "User":
        a, b = co_user_pairs(p)
        parts.append(_mean_max(torch.tensor(a), data[t].x, torch.tensor(b), n))
    return torch.cat(parts, 1).numpy() if parts else np.zeros((n, 0), np.float32)
