"""``Detector``: the Python API for scoring and explaining a graph with a trained checkpoint.

PyGOD's convention: a raw score, higher = more anomalous, in [0, 1]; thresholding is a separate,
explicit step (``flag``), never hidden in ``score``.

Example (a notebook)::

    from graph_build import generate, read_frames
    from graphgnn import Detector

    generate("data", users=3000)
    det = Detector.load("runs/demo/latest.ckpt")
    scores = det.score(read_frames("data"))          # or det.score(store) / det.score("data")
    top = scores[scores.label == "User"].nlargest(10, "anomaly_score")
    why = det.explain("data", keys=top.key.tolist())
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames

SCORE_COLUMNS = ["label", "key", "anomaly_score", "anomaly_pct"]


def _frames_of(source: Any, as_of: int | None) -> GraphFrames:
    """GraphFrames from frames, a store (exported as of ``as_of``) or a data folder."""
    if isinstance(source, GraphFrames):
        return source
    if isinstance(source, str | Path):
        from graph_build.read import read_frames

        return read_frames(source)
    from graph_build.export import export_frames
    from graph_build.stores.base import GraphStore

    if isinstance(source, GraphStore):
        return export_frames(source, as_of=as_of)
    raise TypeError(f"cannot score a {type(source).__name__}: give GraphFrames, a GraphStore "
                    "or a data folder")


class Detector:
    """A trained fraudring model: ``load`` a checkpoint, ``score`` a graph, ``explain`` nodes."""

    def __init__(self, scorer) -> None:
        self.scorer = scorer

    @classmethod
    def load(cls, ckpt: str | Path, map_location: str = "cpu") -> Detector:
        """Load a checkpoint written by ``fraudring train fit`` (weights only, no code run)."""
        from graphgnn.model.checkpoint import load_scorer

        return cls(load_scorer(ckpt, map_location=map_location))

    @property
    def model_version(self) -> str:
        return self.scorer.model_version

    def _scored(self, source: Any, as_of: int | None) -> tuple[GraphFrames, dict]:
        from graphgnn.scores.scoring import score_graph

        frames = _frames_of(source, as_of)
        return frames, score_graph(self.scorer, frames, as_of)

    def score(self, source: Any, as_of: int | None = None) -> pd.DataFrame:
        """Score every node of the scored labels.

        Args:
            source: :class:`GraphFrames`, a :class:`GraphStore` or a data folder.
            as_of: epoch ms to score as of (default: the latest event in the graph).

        Returns:
            One row per node: ``label``, ``key``, ``anomaly_score`` (in [0, 1], higher = more
            suspicious) and ``anomaly_pct`` (percentile within its label, 0..100).
        """
        from graphgnn.scores.scoring import percentiles

        _, scored = self._scored(source, as_of)
        parts = []
        for label, frame in scored.items():
            s = frame["anomaly_score"].to_numpy(dtype=float)
            parts.append(pd.DataFrame({
                "label": label, "key": frame[schema.node(label).key].astype(str).to_numpy(),
                "anomaly_score": s, "anomaly_pct": percentiles(s)}))
        if not parts:
            return pd.DataFrame(columns=SCORE_COLUMNS)
        return pd.concat(parts, ignore_index=True)[SCORE_COLUMNS]

    @staticmethod
    def flag(scores: pd.DataFrame, contamination: float = 0.02) -> pd.DataFrame:
        """The rows of ``scores`` above the per-label ``contamination`` threshold."""
        if not 0 < contamination < 1:
            raise ValueError("contamination must be in (0, 1)")
        return scores[scores["anomaly_pct"] >= 100.0 * (1.0 - contamination)]

    def explain(self, source: Any, keys: list[str] | None = None, as_of: int | None = None,
                contamination: float = 0.02) -> pd.DataFrame:
        """Reasons for ``keys`` (any scored label), or for the flagged nodes when none given.

        Returns:
            ``label``, ``key``, ``anomaly_score`` and ``reasons`` (a list of short sentences).
        """
        from graphgnn.scores.reasons import build_reasons

        frames, scored = self._scored(source, as_of)
        wanted = None if keys is None else {str(k) for k in keys}
        chosen: dict[str, set[str]] = {}
        for label, frame in scored.items():
            key = frame[schema.node(label).key].astype(str)
            if wanted is None:
                cut = np.quantile(frame["anomaly_score"], 1.0 - contamination)
                chosen[label] = set(key[frame["anomaly_score"] >= cut])
            else:
                chosen[label] = set(key[key.isin(wanted)])
        attributions = None
        if hasattr(self.scorer, "attribute"):
            try:
                attributions = self.scorer.attribute(frames, chosen, as_of=as_of)
            except Exception as e:  # model attribution is extra detail, never a failure
                import warnings

                warnings.warn(f"model attribution skipped: {type(e).__name__}: {e}",
                              stacklevel=2)
        reasons = build_reasons(frames, scored, chosen, self.scorer.feature_names,
                                attributions=attributions)
        rows = []
        for label, frame in scored.items():
            key = frame[schema.node(label).key].astype(str)
            for k, s in zip(key, frame["anomaly_score"], strict=True):
                if k in chosen.get(label, ()):
                    rows.append({"label": label, "key": k, "anomaly_score": float(s),
                                 "reasons": reasons.get(label, {}).get(k, [])})
        out = pd.DataFrame(rows, columns=["label", "key", "anomaly_score", "reasons"])
        return out.sort_values("anomaly_score", ascending=False, ignore_index=True)
