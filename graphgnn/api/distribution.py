"""The batch score distribution an online score is ranked in (``anomaly_pct``), and the rings.

Read once at startup from the scores on the graph, and again when a newer succeeded
``ScoringRun`` appears (checked at most every ``refresh_s`` seconds, by the request that finds
the check due). The percentile is the batch one: 100 * (scores <= s) / n, as
:func:`graphgnn.scores.threshold.percentiles` ranks (ties share the top rank).

Users' ``ring_id`` are read at the same moments (``cypher/serve/ring_ids.cypher``): only a
scoring run writes them (:func:`graphgnn.scores.rings.write_rings`, before the run is marked
succeeded), so the map is exactly the rings of the run the percentiles come from; a written
order or a build adds no ring. A newer run's rings show up with its percentiles, within
``refresh_s`` of its end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from graph_build import cypher, schema
from graph_build.stores.base import GraphStore
from graphgnn.scores.runs import last_succeeded_run


class ScoreDistribution:
    """Sorted batch scores per scored label, refreshed with the scoring runs."""

    def __init__(self, store: GraphStore, refresh_s: float = 30.0,
                 on_new_run: Callable[[dict], None] | None = None) -> None:
        self.store, self.refresh_s, self.on_new_run = store, refresh_s, on_new_run
        self.sorted: dict[str, np.ndarray] = {}
        self.rings: dict[str, str] = {}  # user key -> ring id
        self.run: dict = {}
        self._checked = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether the next :meth:`refresh` asks the store (the check period has passed)."""
        return time.monotonic() - self._checked >= self.refresh_s

    def refresh(self, force: bool = False) -> dict:
        """Reload when a newer run succeeded (or ``force``); returns the run it reflects."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_s:
            return self.run
        with self._lock:
            self._checked = now
            run = last_succeeded_run(self.store) or {}
            if force or run.get("run_id") != self.run.get("run_id") or not self.sorted:
                fresh = {}
                for label in schema.SCORED_LABELS:
                    rows = self.store.read(cypher.render("serve/score_distribution",
                                                         label=label))
                    fresh[label] = np.sort(np.array([float(r["score"]) for r in rows]))
                self.rings = {str(r["key"]): str(r["ring_id"]) for r in
                              self.store.read(cypher.render("serve/ring_ids"))}
                self.sorted = fresh
                changed = run.get("run_id") != self.run.get("run_id")
                self.run = run
                if changed and self.on_new_run is not None:
                    self.on_new_run(run)
        return self.run

    def ring_of(self, user: str) -> str | None:
        """The user's ring in the run the distribution reflects (None: in no ring)."""
        return self.rings.get(user)

    def pct(self, label: str, score: float) -> float | None:
        """Percentile of ``score`` among the label's batch scores (None before any run)."""
        values = self.sorted.get(label)
        if values is None or len(values) == 0:
            return None
        # Batch scores are written rounded to 6 places; rank the online score the same way.
        at = np.searchsorted(values, round(float(score), 6), side="right")
        return round(100.0 * at / len(values), 3)
