"""The hybrid head: GraphSAGE embeddings + point-in-time features into gradient-boosted trees.

As NVIDIA's fraud blueprint feeds GraphSAGE embeddings to XGBoost: per scored type, LightGBM
learns from the point-in-time and context features and the GNN embedding of the training
examples (training snapshot) for a fixed number of rounds;
:meth:`graphgnn.model.selection.Selection.fit_hybrid` chooses on validation whether the
embedding goes in and how much of the GNN logit is blended in. The trees travel inside the
checkpoint as LightGBM's own text model (a string: JSON-safe, no pickle).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: LightGBM settings. With a hundred-odd positives among tens of thousands of examples, trees
#: memorise the positives when they are up-weighted: on hard-mode orders (50k users,
#: ``python -m experiments.diagnose_trees --settings``) positives weighted by negatives /
#: positives (capped at 50) gave test AUPRC 0.08-0.19, unweighted with L2 = 10 and large
#: leaves 0.30-0.31 (L2 = 1: 0.27-0.29). AUPRC is a ranking metric and needs no
#: re-weighting; unweighted probabilities also stay calibrated for the action thresholds.
PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 31,
    "feature_fraction": 0.5, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 10.0,
    "verbose": -1, "num_threads": 2, "deterministic": True, "force_col_wise": True,
}
#: A fixed budget: validation labels are the reports known by T2 (few, late, partly noise), so
#: early stopping on them stopped at 1-2 rounds in half the hard-mode runs.
ROUNDS = 300


def min_leaf(n_train: int) -> int:
    """Examples per leaf: 100 on tens of thousands of examples, down to 20 on small graphs."""
    return int(np.clip(n_train // 400, 20, 100))


def fit_trees(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
              seed: int = 0, pos_weight: float = 1.0) -> tuple[str, dict]:
    """Fit boosted trees for :data:`ROUNDS` rounds; report the validation AUPRC.

    Args:
        x_train, y_train: ``[N, F]`` inputs and 0/1 labels of the training examples.
        x_val, y_val: the validation examples (may be empty; only measured).
        seed: random seed of bagging and feature sampling.
        pos_weight: weight of the positive class (1: none; see :data:`PARAMS`).

    Returns:
        ``(model text, info)``: LightGBM's model string and ``{"rounds", "val_auprc"}``
        (NaN without both classes in validation).
    """
    import lightgbm as lgb

    from graphgnn.model.metrics import average_precision

    params = PARAMS | {"seed": seed, "scale_pos_weight": pos_weight,
                       "min_data_in_leaf": min_leaf(len(y_train))}
    booster = lgb.train(params, lgb.Dataset(x_train, y_train, free_raw_data=True), ROUNDS)
    model = booster.model_to_string()
    score = float("nan")
    if len(y_val) and 0 < y_val.sum() < len(y_val):
        score = float(average_precision(predict_trees(model, x_val), y_val))
    return model, {"rounds": ROUNDS, "val_auprc": score}


@lru_cache(maxsize=16)
def _booster(model: str):
    """The parsed Booster of a model string: parsing costs ~ms per call, a server scores often."""
    import lightgbm as lgb

    return lgb.Booster(model_str=model)


def predict_trees(model: str, x: np.ndarray) -> np.ndarray:
    """Fraud probabilities ``[N]`` from a model string of :func:`fit_trees`."""
    if len(x) == 0:
        return np.zeros(0)
    # One thread for a handful of rows: thread start-up costs more than it saves.
    return _booster(model).predict(x, num_threads=1 if len(x) < 256 else 2)
