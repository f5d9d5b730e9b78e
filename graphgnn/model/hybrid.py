"""The hybrid head: GraphSAGE embeddings + point-in-time features into gradient-boosted trees.

As NVIDIA's fraud blueprint feeds GraphSAGE embeddings to XGBoost: per scored type, LightGBM
learns from the point-in-time and context features and the GNN embedding of the training
examples (training snapshot) and stops early on the validation examples (validation snapshot);
:meth:`graphgnn.model.selection.Selection.fit_hybrid` chooses on validation whether the
embedding goes in and how much of the GNN logit is blended in. The trees travel inside the
checkpoint as LightGBM's own text model (a string: JSON-safe, no pickle).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: LightGBM settings: small leaves and strong regularisation (a few hundred positives).
PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
    "feature_fraction": 0.5, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "verbose": -1, "num_threads": 2, "deterministic": True, "force_col_wise": True,
}
ROUNDS, PATIENCE = 600, 40


def fit_trees(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
              seed: int = 0, pos_weight_cap: float = 50.0) -> tuple[str, dict]:
    """Fit boosted trees; early stopping on validation AUPRC when it has both classes.

    Args:
        x_train, y_train: ``[N, F]`` inputs and 0/1 labels of the training examples.
        x_val, y_val: the validation examples (may be empty).
        seed: random seed of bagging and feature sampling.
        pos_weight_cap: cap of the positive-class weight (negatives / positives).

    Returns:
        ``(model text, info)``: LightGBM's model string and ``{"rounds", "val_auprc"}``.
    """
    import lightgbm as lgb

    pos = float(y_train.sum())
    weight = min(max((len(y_train) - pos) / max(pos, 1.0), 1.0), pos_weight_cap)
    params = PARAMS | {"seed": seed, "scale_pos_weight": weight}
    train = lgb.Dataset(x_train, y_train, free_raw_data=True)
    has_val = len(y_val) > 0 and 0 < y_val.sum() < len(y_val)
    if has_val:
        val = lgb.Dataset(x_val, y_val, reference=train)
        booster = lgb.train(params | {"metric": "average_precision"}, train, ROUNDS,
                            valid_sets=[val],
                            callbacks=[lgb.early_stopping(PATIENCE, verbose=False)])
        best = booster.best_iteration or ROUNDS
        score = booster.best_score["valid_0"]["average_precision"]
    else:
        booster = lgb.train(params, train, ROUNDS // 3)
        best, score = ROUNDS // 3, float("nan")
    return booster.model_to_string(num_iteration=best), {"rounds": int(best),
                                                          "val_auprc": float(score)}


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
