"""Which nodes are flagged (a review budget, a contamination rate or a score) and percentiles.

Thresholding is a separate, explicit step (pygod's convention): scores are comparable within a
run, and the rule turns them into flags per label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from graph_build.errors import ConfigError

DEFAULT_CONTAMINATION = 0.02


@dataclass(frozen=True)
class Threshold:
    """Which nodes of a label are flagged: a review budget, a contamination rate or a score.

    Exactly one of the three is used, in this order: ``top_k`` (flag the k highest scores per
    label), ``score`` (flag scores >= it), ``contamination`` (flag the top fraction per label).
    """

    top_k: int | None = None
    contamination: float | None = DEFAULT_CONTAMINATION
    score: float | None = None

    def __post_init__(self) -> None:
        if self.top_k is not None and self.top_k < 0:
            raise ConfigError(f"--top-k must be >= 0, got {self.top_k}")
        if self.contamination is not None and not 0 <= self.contamination < 1:
            raise ConfigError(f"--contamination must be in [0, 1), got {self.contamination}")
        if self.score is not None and not 0 <= self.score <= 1:
            raise ConfigError(f"--threshold must be in [0, 1], got {self.score}")

    def flags(self, scores: np.ndarray) -> np.ndarray:
        """Boolean mask of flagged entries of ``scores`` (ties broken by position)."""
        n = len(scores)
        if self.top_k is not None:
            k = min(self.top_k, n)
        elif self.score is not None:
            return scores >= self.score
        else:
            k = int(math.ceil((self.contamination or 0.0) * n))
        mask = np.zeros(n, dtype=bool)
        if k > 0:
            mask[np.argsort(-scores, kind="stable")[:k]] = True
        return mask

    def describe(self) -> str:
        """The rule in words; also its identity on the run record (a change forces a full run)."""
        if self.top_k is not None:
            return f"top-{self.top_k} per label"
        if self.score is not None:
            return f"score >= {self.score}"
        return f"contamination {self.contamination:g} per label"


def percentiles(scores: np.ndarray) -> np.ndarray:
    """Percentile of each score within ``scores`` (100 = highest; ties share the top rank)."""
    if len(scores) == 0:
        return np.zeros(0)
    ranks = pd.Series(scores).rank(method="max").to_numpy()
    return np.round(100.0 * ranks / len(scores), 3)
