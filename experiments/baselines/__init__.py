"""Baselines, each a small module with one entry point, and the registry the runs iterate.

Every method maps a :class:`experiments.data.Prepared` dataset and a training seed to one score
per node of the target type (higher = more suspicious). ``needs`` says what a method requires:
``events`` (per-user event sequences) is unavailable when the evaluated type is Order. The
product is ``hybrid`` (GraphSAGE embeddings + point-in-time and context features into LightGBM)
and ``gnn`` (the GraphSAGE heads); ``gbt_context`` is the hybrid without embeddings (trees on the
product's inputs), the ablation that says what the graph embeddings add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Method:
    """One row family of ``quality.csv``.

    Attributes:
        name: method column. setting: ``supervised`` or ``unsupervised``.
        fn: ``fn(prepared, seed, quick) -> [N] scores``.
        needs: what the dataset must offer (``events``, ``users``).
        seed_free: gives the same result for every seed (run once).
    """

    name: str
    setting: str
    fn: Callable[..., np.ndarray]
    needs: tuple[str, ...] = ()
    seed_free: bool = False


#: Model settings of the quality runs (the shipped default's architecture; fewer epochs).
GNN_EPOCHS, GNN_PATIENCE = 60, 12


def _gnn(objective: str, head: str = "sage"):
    def run(p, seed: int, quick: bool) -> np.ndarray:
        from experiments.baselines.gnn import gnn_scores

        if objective == "unsupervised":
            return gnn_scores(p, seed, objective, max_epochs=10 if quick else 20)
        return gnn_scores(p, seed, objective, max_epochs=20 if quick else GNN_EPOCHS,
                          patience=6 if quick else GNN_PATIENCE, head=head)
    return run


def _gbt(neighbours: bool, product_inputs: bool = False):
    def run(p, seed: int, quick: bool) -> np.ndarray:
        from experiments.baselines.trees import gbt_scores

        return gbt_scores(p, seed, neighbours, product_inputs)
    return run


def _detector(kind: str):
    def run(p, seed: int, quick: bool) -> np.ndarray:
        from experiments.baselines.detectors import tabular_detector

        return tabular_detector(p, seed, kind)
    return run


def _lstm(kind: str):
    def run(p, seed: int, quick: bool) -> np.ndarray:
        from experiments.baselines.lstm_detectors import lstm_detector_scores

        return lstm_detector_scores(p, seed, kind, epochs=4 if quick else 8)
    return run


def _mlp(p, seed: int, quick: bool) -> np.ndarray:
    from experiments.baselines.mlp import mlp_scores

    return mlp_scores(p, seed)


def _autoencoder(p, seed: int, quick: bool) -> np.ndarray:
    from experiments.baselines.autoencoder import autoencoder_scores

    return autoencoder_scores(p, seed)


def _cnn1d(p, seed: int, quick: bool) -> np.ndarray:
    from experiments.baselines.cnn1d import cnn1d_scores

    return cnn1d_scores(p, seed)


def _hybrid(p, seed: int, quick: bool) -> np.ndarray:
    from experiments.baselines.hybrid import hybrid_scores

    return hybrid_scores(p, seed)


def _heuristic(p, seed: int, quick: bool) -> np.ndarray:
    from experiments.baselines.heuristic import component_scores

    return component_scores(p)


def _single(p, seed: int, quick: bool) -> np.ndarray:
    from experiments.baselines.heuristic import best_single_feature

    return best_single_feature(p)[0]


#: Sanity rows of every table (label-free component score, best single own feature).
SANITY = ("component_score", "best_single_feature")
#: The product's supervised methods; the best of the others is "the best baseline".
PRODUCT = ("hybrid", "gnn")

# Ordered so that an interrupted long run has the headline comparisons first.
METHODS: tuple[Method, ...] = (
    Method("hybrid", "supervised", _gnn("supervised", "hybrid")),
    Method("gbt_neighbours", "supervised", _gbt(True)),
    Method("component_score", "unsupervised", _heuristic, seed_free=True),
    Method("best_single_feature", "supervised", _single, seed_free=True),
    Method("gnn", "supervised", _gnn("supervised")),
    Method("gbt", "supervised", _gbt(False)),
    Method("gbt_context", "supervised", _gbt(False, product_inputs=True)),
    Method("gnn", "unsupervised", _gnn("unsupervised")),
    Method("isolation_forest", "unsupervised", _detector("iforest")),
    Method("mlp", "supervised", _mlp),
    Method("cnn1d_seq", "supervised", _cnn1d, needs=("events",)),
    Method("cnn_rnn_hybrid", "supervised", _hybrid, needs=("events",)),
    Method("lof", "unsupervised", _detector("lof"), seed_free=True),
    Method("autoencoder", "unsupervised", _autoencoder),
    Method("lstm_iforest", "unsupervised", _lstm("iforest"), needs=("events",)),
    Method("lstm_lof", "unsupervised", _lstm("lof"), needs=("events",)),
)
