"""Baselines, each a small module with one entry point, and the registry the runs iterate.

Every method maps a :class:`experiments.data.Prepared` dataset and a training seed to one score
per node of the target type (higher = more suspicious). ``needs`` says what a method requires:
``events`` (per-user event sequences) and ``users`` (user-level graph: co-users, rings) are
unavailable when the labelled type is Order (IEEE-CIS).
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


def _gnn(objective: str):
    def run(p, seed: int, quick: bool) -> np.ndarray:
        from experiments.baselines.gnn import LARGE_USERS, gnn_scores, large_settings

        if len(p.y) >= LARGE_USERS and p.target == "User":  # as the product trains big graphs
            big = large_settings()
            # unsupervised runs have no early stopping: 5 epochs of sampled batches are more
            # optimiser steps than the 80 full-batch epochs of the smaller graphs
            epochs = 5 if objective == "unsupervised" else big["max_epochs"]
            return gnn_scores(p, seed, objective, max_epochs=epochs,
                              patience=big["patience"], data_args=big["data"])
        if objective == "unsupervised":
            return gnn_scores(p, seed, objective, max_epochs=30 if quick else 80)
        return gnn_scores(p, seed, objective, max_epochs=60 if quick else 200,
                          patience=15 if quick else 30)
    return run


def _gbt(neighbours: bool):
    def run(p, seed: int, quick: bool) -> np.ndarray:
        from experiments.baselines.trees import gbt_scores

        return gbt_scores(p, seed, neighbours)
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
    from experiments.baselines.heuristic import heuristic_scores

    return heuristic_scores(p)


# Ordered so that an interrupted long run has the headline comparisons first.
METHODS: tuple[Method, ...] = (
    Method("gnn", "supervised", _gnn("supervised")),
    Method("gbt_neighbours", "supervised", _gbt(True)),
    Method("gbt", "supervised", _gbt(False)),
    Method("gnn", "unsupervised", _gnn("unsupervised")),
    Method("isolation_forest", "unsupervised", _detector("iforest")),
    Method("mlp", "supervised", _mlp),
    Method("cnn1d_seq", "supervised", _cnn1d, needs=("events",)),
    Method("cnn_rnn_hybrid", "supervised", _hybrid, needs=("events",)),
    Method("lof", "unsupervised", _detector("lof"), seed_free=True),
    Method("autoencoder", "unsupervised", _autoencoder),
    Method("lstm_iforest", "unsupervised", _lstm("iforest"), needs=("events",)),
    Method("lstm_lof", "unsupervised", _lstm("lof"), needs=("events",)),
    Method("graph_heuristic", "unsupervised", _heuristic, needs=("users",), seed_free=True),
)
