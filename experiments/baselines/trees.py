"""Gradient-boosted trees on tabular features, optionally plus neighbour aggregates.

scikit-learn's ``HistGradientBoostingClassifier`` (LightGBM-style histogram boosting, no new
dependency) with balanced class weights and early stopping on the validation split's log-loss.
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
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = p.x if product_inputs else p.x_base
    if neighbours:
        x = np.concatenate([x, neighbour_features(p)], 1)
    tr, va = np.flatnonzero(p.train), np.flatnonzero(p.val)
    y = np.nan_to_num(p.y, nan=0.0).astype(int)
    model = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=500, max_leaf_nodes=31, l2_regularization=1.0,
        class_weight="balanced", random_state=seed, early_stopping=True,
        validation_fraction=None if len(va) else 0.15, n_iter_no_change=30)
    if len(va):  # early stopping on the same validation split the GNN selects on
        model.fit(x[tr], y[tr], X_val=x[va], y_val=y[va])
    else:
        model.fit(x[tr], y[tr])
    return model.predict_proba(x)[:, 1]
