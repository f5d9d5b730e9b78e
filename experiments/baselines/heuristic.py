"""Label-free sanity scores: the co-user component score and the best single feature.

- ``component``: the score that solved the old generator without labels — users linked when
  they share a device, IP, address or card (hub entities above ``MAX_ENTITY_USERS`` ignored);
  a user outside the giant component scores ``log(component size)``, one inside it 0. Orders
  take their user's score. A benchmark where this is high is separable without learning.
- ``best_single_feature``: each own feature (and its negation) as a score, the best by test
  AUPRC — an upper bound of any single column (chosen on test on purpose: a sanity check).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from experiments.baselines.neighbours import co_user_pairs
from graphgnn.model.metrics import average_precision


def _user_component_score(frames, keys: np.ndarray) -> np.ndarray:
    n = len(keys)
    a, b = co_user_pairs(frames, keys)
    adj = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    _, comp = connected_components(adj, directed=False)
    size = np.bincount(comp)
    giant = np.argmax(size)
    return np.where(comp == giant, 0.0, np.log(size[comp]))


def component_scores(p) -> np.ndarray:
    """The component score of every row (read on the end snapshot's co-user graph)."""
    fs = p.pg.stages["test"].fs
    user_keys = fs.tables["User"]["user_id"].astype(str).to_numpy()
    score = _user_component_score(fs.frames, user_keys)
    by_key = dict(zip(user_keys, score, strict=True))
    if p.target == "User":
        return np.array([by_key.get(k, 0.0) for k in p.keys])
    placed = fs.frames.rels["PLACED"]
    owner = dict(zip(placed["dst"].astype(str), placed["src"].astype(str), strict=True))
    return np.array([by_key.get(owner.get(k, ""), 0.0) for k in p.keys])


def best_single_feature(p) -> tuple[np.ndarray, str]:
    """The single own feature (or its negation) with the best test AUPRC, and its name."""
    y = np.nan_to_num(p.y[p.test]).astype(int)
    best, best_score, best_name = -1.0, np.zeros(len(p.y)), ""
    if y.sum() == 0:
        return best_score, best_name
    for j, name in enumerate(p.base_names):
        for sign in (1.0, -1.0):
            col = sign * p.x_base[:, j]
            ap = average_precision(col[p.test].astype(np.float64), y)
            if ap > best:
                best, best_score, best_name = ap, col, ("" if sign > 0 else "-") + name
    return best_score, best_name


def heuristic_scores(p) -> np.ndarray:
    """Kept for the registry: the component score."""
    return component_scores(p)

