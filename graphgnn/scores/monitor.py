"""Model monitoring: drift of the score distribution and of every input feature.

Each run compares what it scored with a **reference** — per label, the quantile bins of the
score and of each (normalised) feature column — by the population stability index
(PSI = Σ (a − e)·ln(a / e) over the reference's bins) and by the share of values outside the
reference's range. Rule of thumb: PSI < 0.1 stable, 0.1–0.25 moving, > 0.25 shifted (retrain).

The reference is the **training reference** that ``fraudring train`` stores in the checkpoint
(``meta["feature_reference"]``, written by :mod:`graphgnn.model.reference` with
:func:`column_bins`): JSON-safe lists, no pickle. A checkpoint trained before it was stored has
none; then the first run of that model version computes one from what it scored and keeps it
on its ``ScoringRun`` record, later runs of the version compare against it, and every run
record says so (``drift_reference``: ``training snapshot …`` / ``first run <id> …``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from graph_build import cypher, schema

BINS = 10
DEFAULT_DRIFT_LEVEL = 0.25
REFERENCE_FORMAT = 1
SCORE = "anomaly_score"
_EPS = 1e-4
NO_TRAINING_REFERENCE = "the checkpoint has no training reference: retrain to monitor against it"


def column_bins(values: np.ndarray) -> dict[str, Any]:
    """Quantile bins of one column: ``{"edges", "share", "lo", "hi"}`` (JSON-safe floats).

    ``edges`` are the inner deciles (ties merged: a count column may have fewer bins), a value
    equal to an edge falls in the bin above it; ``share[i]`` is the share of values in bin i.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {"edges": [], "share": [], "lo": None, "hi": None}
    edges = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return {"edges": [float(e) for e in edges], "share": (counts / len(values)).tolist(),
            "lo": float(values.min()), "hi": float(values.max())}


def reference_from(scores: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """Bins of the score and every numeric column, per label (``{label: {column: bins}}``)."""
    out: dict[str, dict[str, Any]] = {}
    for label, frame in scores.items():
        key = schema.node(label).key
        cols = [c for c in frame.columns if c != key and pd.api.types.is_numeric_dtype(frame[c])]
        out[label] = {c: column_bins(frame[c].to_numpy(dtype=float)) for c in cols}
    return out


def psi(ref: dict[str, Any], values: np.ndarray) -> tuple[float, float]:
    """(PSI against ``ref``'s bins, share of values outside ``ref``'s range)."""
    values = values[np.isfinite(values)]
    if not ref.get("share") or len(values) == 0:
        return 0.0, 0.0
    edges = np.asarray(ref["edges"], dtype=float)
    expected = np.clip(np.asarray(ref["share"], dtype=float), _EPS, None)
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(expected))
    actual = np.clip(counts / len(values), _EPS, None)
    value = float(np.sum((actual - expected) * np.log(actual / expected)))
    outside = float(np.mean((values < ref["lo"]) | (values > ref["hi"])))
    return round(value, 6), round(outside, 6)


@dataclass
class Drift:
    """One run's drift against the reference."""

    score_psi: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)  # label -> PSI of its score
    features: dict[str, float] = field(default_factory=dict)  # "Label.column" -> PSI
    outside: dict[str, float] = field(default_factory=dict)  # "Label.column" -> share outside
    reference: str = ""  # where the reference came from (recorded on the run)
    model_version: str = ""  # the model measured (drift alerts are raised once per model)

    def moved(self, level: float = DEFAULT_DRIFT_LEVEL) -> list[str]:
        """Features (``Label.column``) whose PSI reached ``level``, most moved first."""
        hit = [(v, k) for k, v in self.features.items() if v >= level]
        return [k for _, k in sorted(hit, reverse=True)]

    def scores_moved(self, level: float = DEFAULT_DRIFT_LEVEL) -> list[str]:
        """Labels whose score distribution's PSI reached ``level``."""
        return sorted(k for k, v in self.scores.items() if v >= level)

    def figures(self, level: float = DEFAULT_DRIFT_LEVEL) -> dict[str, Any]:
        """Figures for the run record (scalars and lists), the metrics and the alerts.

        ``features`` (feature -> PSI) and ``scores`` (label -> PSI of its score) are dicts for
        the per-feature metric and the alerts; the run record keeps the features as parallel
        lists (``feature_names``, ``feature_psi``, ``feature_outside``): a store holds lists.
        """
        names = sorted(self.features)
        return {"score_psi": self.score_psi,
                "feature_psi_max": max(self.features.values(), default=0.0),
                "outside_max": max(self.outside.values(), default=0.0),
                "moved": self.moved(level), "score_moved": self.scores_moved(level),
                "reference": self.reference, "level": level,
                "model_version": self.model_version,
                "features": dict(self.features), "scores": dict(self.scores),
                "feature_names": names, "feature_psi": [self.features[n] for n in names],
                "feature_outside": [self.outside.get(n, 0.0) for n in names]}


def measure(reference: dict[str, dict[str, Any]], scores: dict[str, pd.DataFrame]) -> Drift:
    """Drift of ``scores`` (score + feature columns per label) against ``reference``."""
    drift = Drift()
    for label, frame in scores.items():
        ref = reference.get(label, {})
        for col, bins in ref.items():
            if col not in frame:
                continue
            value, outside = psi(bins, pd.to_numeric(frame[col], errors="coerce")
                                 .to_numpy(dtype=float))
            if col == SCORE:
                drift.scores[label] = value
                drift.score_psi = max(drift.score_psi, value)
            else:
                drift.features[f"{label}.{col}"] = value
                drift.outside[f"{label}.{col}"] = outside
    return drift


def training_reference(meta: Any) -> tuple[dict | None, str]:
    """The checkpoint's training reference (``{label: {column: bins}}``) and how to name it.

    Returns ``(None, "")`` when the checkpoint has none (trained before it was stored) or
    holds one of another format (never guessed at).
    """
    blob = meta.get("feature_reference") if isinstance(meta, dict) else None
    if not isinstance(blob, dict) or blob.get("format") != REFERENCE_FORMAT \
            or not isinstance(blob.get("columns"), dict):
        return None, ""
    snapshot = blob.get("snapshot", "training")
    where = f" as of {blob['as_of']}" if blob.get("as_of") is not None else ""
    # A fit cut short before its last save stores feature bins only: no score drift then.
    scores = "" if blob.get("scores", True) else "; features only, no score bins"
    return blob["columns"], f"training snapshot ({snapshot}{where}{scores})"


def stored_reference(store, model_version: str) -> tuple[dict | None, str]:
    """The reference kept by the first full run of ``model_version`` (None when none yet)."""
    rows = store.read(cypher.render("scoring/monitor_reference"),
                      {"model_version": model_version})
    if not rows or not rows[0]["reference"]:
        return None, ""
    try:
        return json.loads(rows[0]["reference"]), f"first run {rows[0]['run_id']}"
    except ValueError:
        return None, ""


class Monitor:
    """The ``after_score`` hook of a scoring pass: measure drift, keep a reference if needed.

    Args:
        store: the graph store (fallback references live on ``ScoringRun`` records).
        scorer: the loaded checkpoint (its ``meta`` holds the training reference).
        level: PSI from which a feature (or a label's score) counts as moved.
    """

    def __init__(self, store, scorer, level: float = DEFAULT_DRIFT_LEVEL) -> None:
        self.level = level
        self.model_version = str(getattr(scorer, "model_version", "unknown"))
        self.reference, self.source = training_reference(getattr(scorer, "meta", None))
        if self.reference is None:
            self.reference, self.source = stored_reference(store, self.model_version)
            if self.reference is not None:
                self.source += f" ({NO_TRAINING_REFERENCE})"
        self.drift: Drift | None = None
        self.new_reference: str | None = None

    def __call__(self, frames, scores: dict[str, pd.DataFrame]) -> dict[str, Any]:
        if self.reference is None:
            # No reference at all: this run's distribution becomes it (drift 0 by definition).
            self.new_reference = json.dumps(reference_from(scores))
            self.drift = Drift(reference=f"this run ({NO_TRAINING_REFERENCE})",
                               model_version=self.model_version)
            return {**self.drift.figures(self.level), "reference_json": self.new_reference}
        self.drift = measure(self.reference, scores)
        self.drift.reference, self.drift.model_version = self.source, self.model_version
        return self.drift.figures(self.level)
