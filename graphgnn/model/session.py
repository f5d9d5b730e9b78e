"""One scoring pass's model state: features, graph and scores built once, read by every step.

:meth:`Scorer.score` then :meth:`Scorer.attribute` each compute the point-in-time features,
build the graph and run a whole-graph forward pass (attribution orders its candidates by their
GNN score): three feature passes and up to four forward passes per scoring run. A
:class:`ScoreSession` does each once — features (:meth:`Scorer.features`, the one feature step),
the normalised graph, the fast forward pass (:mod:`graphgnn.model.fastscore`) — and attributes
on that same graph (:func:`graphgnn.model.explain`'s per-node subgraphs, unchanged).

Threads. A session's torch work (the co-user context's scatters, the sparse forward pass,
attribution's small per-node passes) runs with :func:`score_threads` torch threads, 1 unless
``FRAUDRING_SCORE_THREADS`` says otherwise. Why: these are many small kernels, and torch's
OpenMP threads spin-wait for each other; on a machine whose cores are shared (a 2-core box
with other jobs running) one 20k-user forward pass took 8.3 s with 2 threads and 0.5 s with 1
(measured back to back). The thread count can move a float's last bit (measured: Order
scores by at most 1.5e-8 between 1 and 2 threads); full and incremental runs use the same
count, so they still agree exactly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from graph_build import schema
from graphgnn.model import explain, fastscore
from graphgnn.model.hetero import SCORED_TYPES, build_hetero, normalise


def score_threads() -> int:
    """Torch threads of a scoring session: ``FRAUDRING_SCORE_THREADS`` (default 1)."""
    try:
        return max(1, int(os.environ.get("FRAUDRING_SCORE_THREADS", "1")))
    except ValueError:
        return 1


@contextlib.contextmanager
def torch_threads(n: int | None = None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (default :func:`score_threads`), then restore."""
    n = score_threads() if n is None else n
    before = torch.get_num_threads()
    if n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class ScoreSession:
    """The features, graph and scores of ``frames`` as of ``as_of`` under ``scorer``."""

    def __init__(self, scorer, frames, as_of: int | None = None) -> None:
        self.scorer = scorer
        with torch_threads():
            self.fs = scorer.features(frames, as_of)
            self.data = normalise(build_hetero(self.fs), scorer.normaliser)
        self.keys = {t: self.fs.tables[t][schema.node(t).key].astype(str).to_numpy()
                     for t in self.data.node_types if t in self.fs.tables}
        self._raw: dict[str, torch.Tensor] | None = None

    @torch.no_grad()
    def raw_scores(self) -> dict[str, torch.Tensor]:
        """Per scored type, the score of every node (row order of ``fs.tables``)."""
        if self._raw is None:
            system = self.scorer.system
            device = next(system.parameters()).device
            with torch_threads():
                self._raw = {t: s.float().cpu() for t, s in
                             fastscore.node_scores(system, self.data.to(device)).items()}
        return self._raw

    def scores(self) -> dict[str, pd.DataFrame]:
        """What :meth:`Scorer.score` returns (key, ``anomaly_score``, normalised features)."""
        raw = self.raw_scores()
        out = {}
        for t in SCORED_TYPES:
            key = schema.node(t).key
            frame = pd.DataFrame(self.data[t].x.cpu().numpy(),
                                 columns=self.scorer.feature_names[t])
            s = raw[t].numpy().astype(np.float64) if t in raw else np.zeros(len(frame))
            frame.insert(0, "anomaly_score", np.clip(np.nan_to_num(s), 0.0, 1.0))
            frame.insert(0, key, self.fs.tables[t][key].to_numpy())
            out[t] = frame
        return out

    def attribute(self, keys: dict[str, set[str]], top_features: int = 3,
                  top_neighbours: int = 2, max_nodes: int = explain.MAX_NODES
                  ) -> dict[str, dict[str, dict[str, Any]]]:
        """:func:`graphgnn.model.explain.attribute` of ``keys`` on this session's graph."""
        system = self.scorer.system
        # The ranking reads the GNN score: the node score itself unless trees score the type.
        gnn = None if getattr(system, "trees", None) else self.raw_scores()
        with torch_threads():
            return explain.attribute_graph(system, self.data, self.keys,
                                           self.scorer.feature_names, keys, top_features,
                                           top_neighbours, max_nodes, gnn)
