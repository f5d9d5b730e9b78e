"""The graph-database heuristic investigators use today (Neo4j's first-party-fraud guide).

Users who share an identifier (device, IP, shipping address, card) are linked; weakly connected
components of that graph are candidate rings; a user's score grows with the size of its
component and with its degree (how many other users it shares identifiers with):
``log1p(component size - 1) + 0.5 * log1p(degree)``. Identifiers shared by more than
``MAX_ENTITY_USERS`` users (carrier NAT, office gateways) are ignored, as an investigator
would. No labels, no features: sharing alone.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from experiments.baselines.neighbours import co_user_pairs


def heuristic_scores(p) -> np.ndarray:
    """Component-size plus degree score of every user (higher = more suspicious)."""
    n = len(p.keys)
    a, b = co_user_pairs(p)
    adj = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    _, comp = connected_components(adj, directed=False)
    size = np.bincount(comp, minlength=comp.max() + 1)[comp]
    degree = np.bincount(a, minlength=n)[:n]
    return np.log1p(size - 1) + 0.5 * np.log1p(degree)
