"""What scoring needs from a training checkpoint, and a :class:`Scorer` that uses it.

A checkpoint written by ``fraudring train fit`` is a Lightning ``.ckpt`` whose extra key
``"fraudring"`` (added by :meth:`graphgnn.model.system.System.on_save_checkpoint`) holds:

- ``schema``: :class:`graph_build.schema.SchemaSummary` as a dict;
- ``feature_version`` and ``feature_names`` (label -> list of feature columns);
- ``normaliser``: label -> ``{"mean": [...], "std": [...]}`` fitted on training nodes;
- ``model_version`` (``sage|hybrid-<objective>-<UTC timestamp>``), ``objective``, ``head``;
- ``as_of``, ``t1``, ``t2``, ``split``, ``trained_from``, ``trained_until`` (epoch ms);
- ``known_labels``: the training labels the label-aware features read (scoring reads the same);
- ``trees``: the hybrid's LightGBM text models per type (empty for the ``sage`` head);
- ``feature_reference``: per-feature and score bins of the training data's last snapshot, the
  drift monitor's reference (:mod:`graphgnn.model.reference`).

Each type's selected weights are under the checkpoint's ``"fraudring_states"`` (tensors). The
file loads with ``torch.load(weights_only=True)``: tensors, numbers, strings, lists, dicts.

Model hyperparameters are Lightning's ``hyper_parameters``; weights (and the unsupervised
score calibration buffers) are its ``state_dict``. :func:`load_scorer` refuses a checkpoint
whose schema or feature list differs from this code's, so scoring never guesses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from graph_build import schema
from graph_build.errors import FraudringError
from graph_build.frames import GraphFrames, canonical_order
from graphgnn.model import features as feats
from graphgnn.model.hetero import SCORED_TYPES, Normaliser, build_hetero, normalise
from graphgnn.model.prepare import known_from_json, snapshot
from graphgnn.model.system import System

RETRAIN_HINT = "retrain with this version: fraudring train fit --config configs/demo.yaml"


def current_feature_names() -> dict[str, list[str]]:
    """The feature columns this code computes, per label (from an empty graph: no data read);
    the ``attr_*`` columns of a mapping's own attributes come on top of these."""
    return snapshot(GraphFrames(as_of=0), 0, None).names


def _base(names: dict[str, list[str]]) -> dict[str, list[str]]:
    return {t: [c for c in cols if not c.startswith(feats.ATTR_PREFIX)]
            for t, cols in names.items()}


def align_attributes(fs: feats.FeatureSet, names: dict[str, list[str]]) -> None:
    """Give ``fs`` exactly the ``attr_*`` columns of ``names`` (missing ones as 0), in order."""
    for t, cols in names.items():
        table = fs.tables.get(t)
        if table is None:
            continue
        key = schema.node(t).key
        missing = [c for c in cols if c not in table.columns]
        if missing and all(c.startswith(feats.ATTR_PREFIX) for c in missing):
            table = table.assign(**{c: np.float32(0.0) for c in missing})
        extra = [c for c in table.columns if c.startswith(feats.ATTR_PREFIX) and c not in cols]
        fs.tables[t] = table.drop(columns=extra)[[key, *[c for c in cols if c in table.columns
                                                         or c in missing]]]


@dataclass
class Scorer:
    """A trained model ready to score a graph.

    Attributes:
        model_version: e.g. ``sage-supervised-20260401T120000Z``.
        feature_names: label -> feature columns, in model input order.
        trained_until: end of the training period (T1, epoch ms), or None.
        trained_from: earliest node time of the training data (epoch ms), or None.
        objective: ``supervised``, ``unsupervised`` or ``semi``.
        normaliser: the training-time feature normaliser.
        system: the model (eval mode).
        meta: everything the checkpoint's ``"fraudring"`` key held.
    """

    model_version: str
    feature_names: dict[str, list[str]]
    trained_until: int | None
    trained_from: int | None = None
    objective: str = "supervised"
    normaliser: Normaliser = field(default_factory=Normaliser)
    system: System | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def score(self, frames: GraphFrames, as_of: int | None = None) -> dict[str, pd.DataFrame]:
        """Score every node of the scored labels (User, Order, Device, IP).

        Args:
            frames: the graph (e.g. from :func:`graph_build.export.export_frames`).
            as_of: cut-off time T (epoch ms; default ``frames.as_of`` or the latest time).

        Returns:
            Per scored label, a frame with the key column (e.g. ``user_id``), ``anomaly_score``
            (float in [0, 1], higher = more suspicious) and the normalised feature columns
            (z-scores, named as ``feature_names[label]``) for explanations; one row per node of
            that label present at ``as_of``.
        """
        fs = self.features(frames, as_of)
        data = normalise(build_hetero(fs), self.normaliser)
        device = next(self.system.parameters()).device
        scores = self.system.node_scores(data.to(device))
        out = {}
        for t in SCORED_TYPES:
            key = schema.node(t).key
            frame = pd.DataFrame(data[t].x.cpu().numpy(), columns=self.feature_names[t])
            s = scores[t].float().cpu().numpy().astype(np.float64) if t in scores else \
                np.zeros(len(frame))
            frame.insert(0, "anomaly_score", np.clip(np.nan_to_num(s), 0.0, 1.0))
            frame.insert(0, key, fs.tables[t][key].to_numpy())
            out[t] = frame
        return out

    def features(self, frames: GraphFrames, as_of: int | None = None) -> feats.FeatureSet:
        """The point-in-time features this checkpoint's model reads, as of ``as_of``.

        Raises:
            FraudringError: the features computed now differ from the checkpoint's.
        """
        # One row order whatever the source (a store's export, a request's subgraph, tables):
        # the same graph must always give the same scores.
        frames = canonical_order(frames)
        fs = snapshot(frames, as_of, known_from_json(self.meta.get("known_labels")))
        align_attributes(fs, self.feature_names)
        if fs.names != self.feature_names:
            raise FraudringError("the features computed now differ from the checkpoint's",
                                 hint=RETRAIN_HINT)
        return fs

    def attribute(self, frames: GraphFrames, keys: dict[str, set[str]],
                  as_of: int | None = None) -> dict[str, dict[str, dict[str, Any]]]:
        """Gradient x input attribution of ``keys``' GNN scores
        (:func:`graphgnn.model.explain.attribute`)."""
        from graphgnn.model import explain  # imports this module: load it when needed

        return explain.attribute(self, frames, keys, as_of=as_of, align=align_attributes)

    def session(self, frames: GraphFrames, as_of: int | None = None):
        """Features, graph and scores of ``frames`` built once for a scoring run: its
        ``scores()`` equal :meth:`score`'s (to float rounding) and its ``attribute(keys)``
        :meth:`attribute`'s (:class:`graphgnn.model.session.ScoreSession`)."""
        from graphgnn.model.session import ScoreSession  # imports explain, like attribute

        return ScoreSession(self, frames, as_of)


def load_scorer(ckpt_path: str | Path, map_location: str | torch.device = "cpu") -> Scorer:
    """Load a training checkpoint for scoring.

    Raises:
        FraudringError: the file is missing or unreadable, was not written by
            ``fraudring train``, or its schema or feature list does not match this code.
    """
    path = Path(ckpt_path)
    if not path.is_file():
        raise FraudringError(f"no checkpoint at {path}",
                             hint="train one: fraudring train fit --config configs/demo.yaml")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        raise FraudringError(f"cannot read checkpoint {path}: {e}") from e
    meta = ckpt.get("fraudring") if isinstance(ckpt, dict) else None
    if not meta or "feature_names" not in meta:
        raise FraudringError(f"{path} is not a fraudring checkpoint (no model metadata)",
                             hint=RETRAIN_HINT)
    if meta.get("schema") != asdict(schema.SchemaSummary.current()):
        raise FraudringError(f"{path} was trained on another graph schema", hint=RETRAIN_HINT)
    if meta.get("feature_version") != feats.FEATURE_VERSION or \
            _base(meta["feature_names"]) != current_feature_names():
        raise FraudringError(
            f"{path} was trained with features {meta.get('feature_version')!r}; this code "
            f"computes {feats.FEATURE_VERSION!r} with a different feature list",
            hint=RETRAIN_HINT)
    try:
        # LightningCLI adds private keys (``_instantiator``, ``_class_path``) to hparams.
        hparams = {k: v for k, v in ckpt["hyper_parameters"].items() if not k.startswith("_")}
        system = System(**hparams)
        system.load_state_dict(ckpt["state_dict"])
        system.on_load_checkpoint(ckpt)  # per-type weights and the hybrid's trees
    except Exception as e:
        raise FraudringError(f"{path}: the model does not fit this code: {e}",
                             hint=RETRAIN_HINT) from e
    system.model_version = meta["model_version"]
    system.to(map_location).eval()
    return Scorer(
        model_version=meta["model_version"],
        feature_names=meta["feature_names"],
        trained_until=meta.get("trained_until"),
        trained_from=meta.get("trained_from"),
        objective=meta.get("objective", system.objective),
        normaliser=Normaliser.from_state(meta["normaliser"]),
        system=system,
        meta=meta,
    )
