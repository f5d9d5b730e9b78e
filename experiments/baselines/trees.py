"""Gradient-boosted trees on tabular features, optionally plus neighbour aggregates.

The learner is the product's own (:func:`graphgnn.model.hybrid.fit_trees`: LightGBM, the same
settings, rounds and validation use as the hybrid head), so a difference between ``gbt*`` and
the hybrid is the inputs' — the graph's — not the tuning's.
"""

from __future__ import annotations

import numpy as np

from experiments.baselines.neighbours import neighbour_features


def gbt_scores(p, seed: int, neighbours: bool = False, product_inputs: bool = False
               ) -> np.ndarray:
    """Fit on the training rows; return fraud probabilities of every row.

    Args:
        p: the prepared dataset.
        seed: random seed.
        neighbours: append :func:`neighbour_features` (GADBench's "trees + neighbours").
        product_inputs: use the product's inputs (own features + co-user and label-aware
            context) instead of the own features: the hybrid without its embeddings.
    """
    from graphgnn.model.hybrid import fit_trees, predict_trees

    x = p.x if product_inputs else p.x_base
    if neighbours:
        x = np.concatenate([x, neighbour_features(p)], 1)
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.nan_to_num(p.y, nan=0.0).astype(np.float32)
    tr, va = np.flatnonzero(p.train), np.flatnonzero(p.val)
    model, _ = fit_trees(x[tr], y[tr], x[va], y[va], seed)
    return predict_trees(model, x)
