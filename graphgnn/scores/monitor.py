"""Model monitoring: drift of the score distribution and of every input feature.

Each run compares what it scored with the **training reference** — per label, the quantile bins
of the score and of each (normalised) feature column — by the population stability index
(PSI = Σ (a − e)·ln(a / e) over the reference's bins) and by the share of values outside the
reference's range. The reference comes from the checkpoint (``meta["feature_reference"]``, in
the format :func:`reference_from` writes) when the training code stores one; otherwise the first
full run of a model version computes it from what it scored and keeps it on its ``ScoringRun``
record, and later runs of that version compare against it. Rule of thumb: PSI < 0.1 stable,
0.1–0.25 moving, > 0.25 shifted (retrain).
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
_EPS = 1e-4


def _bins(values: np.ndarray) -> dict[str, Any]:
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
        out[label] = {c: _bins(frame[c].to_numpy(dtype=float)) for c in cols}
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
    features: dict[str, float] = field(default_factory=dict)
    outside: dict[str, float] = field(default_factory=dict)
    reference: str = ""  # "checkpoint" | "first run <id>" | "" (none yet: this run made it)

    def moved(self, level: float = DEFAULT_DRIFT_LEVEL) -> list[str]:
        """Features (``Label.column``) whose PSI reached ``level``, most moved first."""
        hit = [(v, k) for k, v in self.features.items() if v >= level]
        return [k for _, k in sorted(hit, reverse=True)]

    def figures(self, level: float = DEFAULT_DRIFT_LEVEL) -> dict[str, Any]:
        """Scalars for the run record and the metrics."""
        return {"score_psi": self.score_psi,
                "feature_psi_max": max(self.features.values(), default=0.0),
                "outside_max": max(self.outside.values(), default=0.0),
                "moved": self.moved(level), "reference": self.reference}


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
            if col == "anomaly_score":
                drift.score_psi = max(drift.score_psi, value)
            else:
                drift.features[f"{label}.{col}"] = value
                drift.outside[f"{label}.{col}"] = outside
    return drift


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
    """The ``after_score`` hook of a scoring pass: measure drift, keep a reference if needed."""

    def __init__(self, store, scorer, level: float = DEFAULT_DRIFT_LEVEL) -> None:
        self.level = level
        meta = getattr(scorer, "meta", None) or {}
        self.reference = meta.get("feature_reference") if isinstance(meta, dict) else None
        self.source = "checkpoint" if self.reference else ""
        if self.reference is None:
            self.reference, self.source = stored_reference(
                store, str(getattr(scorer, "model_version", "unknown")))
        self.drift: Drift | None = None
        self.new_reference: str | None = None

    def __call__(self, frames, scores: dict[str, pd.DataFrame]) -> dict[str, Any]:
        if self.reference is None:
            # No reference yet: this run's distribution becomes it (drift 0 by definition).
            self.new_reference = json.dumps(reference_from(scores))
            self.drift = Drift(reference="")
            return {**self.drift.figures(self.level), "reference_json": self.new_reference}
        self.drift = measure(self.reference, scores)
        self.drift.reference = self.source
        return self.drift.figures(self.level)
