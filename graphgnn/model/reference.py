"""The training reference of model monitoring, stored in the checkpoint's metadata.

At every checkpoint save, :func:`training_reference` bins — per scored label — each normalised
input feature column and the model's anomaly score over one snapshot of the training data, in
the format :mod:`graphgnn.scores.monitor` compares scoring runs against (PSI over the bins, share
of values outside ``[lo, hi]``): ``{"format": 1, "snapshot", "as_of", "nodes": {label: n},
"columns": {label: {column: {"edges", "share", "lo", "hi"}}}}``; lists of floats only, so the
checkpoint still loads with ``torch.load(weights_only=True)``.

The snapshot is the training data's **last** one (the ``test`` stage: every node the training
read, with features as of the end of the training data, the model's input exactly as
``fraudring score`` computes it on that graph), not the graph at T1: scoring the very graph the
model was trained on then shows no drift, and drift measures what changed since training (on the
2,000-user fixture graph, a T1 reference flags 17 features of the unchanged graph, PSI up to 6.1;
this one flags none). The scores come from the model in eval mode (the hybrid's trees included
once fitted) under a forked RNG, so computing them changes neither the training run nor its
reproducibility. A forward pass over the whole snapshot costs about a training epoch, so it runs
only for a checkpoint that may be the one scoring reads (:func:`final_save`): with the
supervised/semi objectives, the saves inside the fit loop are rewritten at the fit's end (every
type's selected weights, the trees), and only that save scores; feature bins are in every save.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import torch

from graphgnn.model.hetero import SCORED_TYPES
from graphgnn.model.identity_cache import IdentityCache
from graphgnn.scores.monitor import REFERENCE_FORMAT, SCORE, column_bins

#: The stage whose snapshot is the reference (see the module docstring).
STAGE = "test"


def feature_bins(x: np.ndarray, names: list[str]) -> dict[str, dict[str, Any]]:
    """Bins of every column of ``x`` ``[N, F]`` (the normalised features), by name."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), len(names))
    return {name: column_bins(x[:, i].astype(np.float64)) for i, name in enumerate(names)}


@torch.no_grad()
def model_scores(system, data) -> dict[str, np.ndarray]:
    """The anomaly scores ``system`` gives every scored node of ``data`` (eval mode, as scoring
    does), leaving the module's mode, ``data`` and the random number streams untouched."""
    was_training = system.training
    device = system.device
    cuda = [device.index or 0] if device.type == "cuda" else []
    # A shallow copy: .to() replaces tensors in the copy's stores, never in the stage's data.
    batch = copy.copy(data).to(device)
    with torch.random.fork_rng(devices=cuda):
        system.eval()
        try:
            scores = system.node_scores(batch)
        finally:
            system.train(was_training)
    return {t: np.clip(np.nan_to_num(s.float().cpu().numpy().astype(np.float64)), 0.0, 1.0)
            for t, s in scores.items()}


def final_save(system) -> bool:
    """False for a save the fit's end will rewrite: a supervised/semi fit still in its loop
    (:meth:`graphgnn.model.selection.Selection.on_fit_end` saves the best checkpoint again)."""
    trainer = getattr(system, "_trainer", None)
    if trainer is None or getattr(system, "objective", "") == "unsupervised":
        return True
    if trainer.state.fn != "fit":  # a str enum
        return True
    loop = getattr(trainer, "fit_loop", None)
    return loop is None or bool(loop.done)


#: Feature bins of each training snapshot, by identity.
_BINS = IdentityCache()


def training_reference(system, datamodule) -> dict[str, Any] | None:
    """The reference of ``system`` on ``datamodule``'s last snapshot (None without data).

    Failing to score (e.g. out of memory on a graph trained in mini-batches) keeps the feature
    bins and warns: the monitor then measures feature drift only, never fails the training.
    """
    stages = getattr(datamodule, "stages", None) or {}
    data = stages.get(STAGE)
    names = (getattr(datamodule, "meta", None) or {}).get("feature_names")
    if data is None or not names:
        return None
    # The bins depend on the data only, not on the weights: computed once per snapshot (they
    # cost 6 s of a 30k-user fit when every improved epoch's save recomputed them).
    def build() -> tuple[dict, dict[str, int]]:
        bins, nodes = {}, {}
        for t in SCORED_TYPES:
            if t in data.node_types and t in names and data[t].x.shape[1] == len(names[t]):
                bins[t] = feature_bins(data[t].x.cpu().numpy(), list(names[t]))
                nodes[t] = int(data[t].num_nodes)
        return bins, nodes

    bins, nodes = _BINS.get("feature bins", (data,), build)
    columns: dict[str, dict[str, Any]] = {t: dict(c) for t, c in bins.items()}
    if not final_save(system):
        return _reference(data, nodes, columns, scored=False)
    try:
        for t, s in model_scores(system, data).items():
            if t in columns:
                columns[t][SCORE] = column_bins(s)
    except (RuntimeError, ValueError) as e:  # torch's out-of-memory is a RuntimeError
        warnings.warn(f"training reference without score bins: {type(e).__name__}: {e}",
                      stacklevel=2)
    return _reference(data, nodes, columns, scored=True)


def _reference(data, nodes: dict[str, int], columns: dict, scored: bool) -> dict[str, Any]:
    return {"format": REFERENCE_FORMAT, "snapshot": STAGE,
            "as_of": int(getattr(data, "as_of", 0) or 0) or None, "nodes": nodes,
            "scores": scored and all(SCORE in c for c in columns.values()), "columns": columns}
