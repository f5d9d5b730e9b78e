"""Neighbour-aggregated features (GADBench style): mean and max of what a node is linked to.

Per stage snapshot, for the target type and each relationship type leaving it (reverse types
included, so User gets its devices, IPs and orders), the mean and the max of the neighbours'
own (normalised) point-in-time features; for users also over *co-users* — users sharing a
device, IP, shipping address or card with them (entities used by more than
``MAX_ENTITY_USERS`` users are ignored, as the ring detector does). The rows of the stacked
example table (:mod:`experiments.data`) take their own stage's aggregates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from experiments.data import base_feature_names
from graph_build import schema
from graphgnn.model.neighbour_inputs import mean_max
from graphgnn.model.split import STAGES

MAX_ENTITY_USERS = 100


def _mean_max(src: torch.Tensor, x_dst: torch.Tensor, dst: torch.Tensor,
              n: int) -> torch.Tensor:
    """Mean and max of ``x_dst[dst]`` per ``src`` row (float32, as these baselines always were)."""
    return mean_max(x_dst[dst], src, n, dtype=torch.float32)


def co_user_pairs(frames, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user row, other user row) pairs sharing a non-hub entity (both directions)."""
    from graphgnn.scores.rings import entity_links

    links = entity_links(frames)
    size = links.groupby(["kind", "entity"])["user_id"].transform("size")
    links = links[(size >= 2) & (size <= MAX_ENTITY_USERS)]
    rows = pd.Index(keys).get_indexer(links["user_id"].astype(str))
    links = pd.DataFrame({"u": rows, "e": links["kind"] + "|" + links["entity"]})[rows >= 0]
    pairs = links.merge(links, on="e")
    pairs = pairs[pairs["u_x"] != pairs["u_y"]].drop_duplicates(["u_x", "u_y"])
    return pairs["u_x"].to_numpy(np.int64), pairs["u_y"].to_numpy(np.int64)


def _base_x(pg, stage: str, t: str) -> torch.Tensor:
    data = pg.data(stage)
    names = pg.meta["feature_names"][t]
    cols = [names.index(c) for c in base_feature_names()[t] if c in names]
    return data[t].x[:, cols]


def stage_features(pg, stage: str, t: str) -> np.ndarray:
    """``[N_t, F_agg]`` aggregates of every node of type ``t`` in ``stage``'s snapshot."""
    data = pg.data(stage)
    n = data[t].num_nodes
    parts = []
    for et in data.edge_types:
        if et[0] != t or et[2] == t:
            continue
        ei = data[et].edge_index
        parts.append(_mean_max(ei[0], _base_x(pg, stage, et[2]), ei[1], n))
    if t == "User":
        fs = pg.stages[stage].fs
        keys = fs.tables[t][schema.node(t).key].astype(str).to_numpy()
        a, b = co_user_pairs(fs.frames, keys)
        parts.append(_mean_max(torch.tensor(a), _base_x(pg, stage, t), torch.tensor(b), n))
    return torch.cat(parts, 1).numpy() if parts else np.zeros((n, 0), np.float32)


def neighbour_features(p) -> np.ndarray:
    """``[N_rows, F_agg]`` aggregates for the rows of the stacked example table."""
    done: dict[int, np.ndarray] = {}
    out = []
    for s in STAGES:
        key = id(p.pg.data(s))
        if key not in done:
            done[key] = stage_features(p.pg, s, p.target)
        out.append(done[key][p.rows[s]])
    return np.concatenate(out)
