"""IsolationForest and LOF on the tabular point-in-time features (unsupervised).

Both are fitted on the training-period nodes only (the GNN's ``fit_mask``: known by T1, not in
validation or test), read no labels, and score every node (higher = more anomalous).
"""

from __future__ import annotations

import numpy as np

MAX_LOF_FIT = 20_000  # LOF's neighbour search grows ~quadratically; a sample describes "normal"


def outlier_scores(x: np.ndarray, fit_rows: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """Anomaly scores of all rows of ``x`` from a detector fitted on ``fit_rows``.

    Args:
        x: ``[N, F]`` features (standardised).
        fit_rows: boolean ``[N]`` rows to fit on.
        kind: ``iforest`` or ``lof``.
        seed: random seed.

    Returns:
        ``[N]`` scores, higher = more anomalous.
    """
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    rows = np.flatnonzero(fit_rows)
    if kind == "iforest":
        model = IsolationForest(n_estimators=200, random_state=seed, n_jobs=1)
        model.fit(x[rows])
    elif kind == "lof":
        rng = np.random.default_rng(seed)
        if len(rows) > MAX_LOF_FIT:
            rows = rng.choice(rows, MAX_LOF_FIT, replace=False)
        model = LocalOutlierFactor(n_neighbors=20, novelty=True, n_jobs=1)
        model.fit(x[rows])
    else:
        raise ValueError(f"unknown detector {kind!r}")
    return -model.score_samples(x)


def tabular_detector(p, seed: int, kind: str) -> np.ndarray:
    """IsolationForest (``kind="iforest"``) or LOF (``"lof"``) on the target's own features."""
    return outlier_scores(p.x_base, p.fit, kind, seed)
