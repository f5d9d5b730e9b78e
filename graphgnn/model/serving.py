"""The pieces of :meth:`graphgnn.model.checkpoint.Scorer.score`, kept apart for online serving.

The serving cache (:mod:`graphgnn.api.snapshot_cache`) needs what batch scoring computes on the
way to its scores — the canonical frames, the FeatureSet, the raw and normalised HeteroData and
the per-node outputs — and, per request, the features of a few nodes from a small frames
subgraph. Everything here only calls the functions ``Scorer.score`` calls, in the same order,
so a cached score is the batch score by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from graph_build.frames import GraphFrames, canonical_order
from graphgnn.model import context
from graphgnn.model import features as feats
from graphgnn.model.checkpoint import align_attributes
from graphgnn.model.hetero import build_hetero, normalise
from graphgnn.model.prepare import known_from_json


@dataclass
class BatchOutputs:
    """What one batch pass computed (see :func:`batch_outputs`).

    Attributes:
        fs: the FeatureSet (``fs.frames``: the graph cut at ``as_of``, rows in feature order).
        raw: node type -> raw (un-normalised) features ``[N_t, F_t]``.
        data: the normalised HeteroData the model scored.
        scores: scored type -> ``[N_t]`` anomaly scores in [0, 1] (as ``Scorer.score``).
    """

    fs: feats.FeatureSet
    raw: dict[str, torch.Tensor]
    data: HeteroData
    scores: dict[str, np.ndarray]


@torch.no_grad()
def batch_outputs(scorer, frames: GraphFrames, as_of: int | None) -> BatchOutputs:
    """``Scorer.score``'s steps on the whole graph, keeping every intermediate result."""
    fs = scorer.features(frames, as_of)
    data = build_hetero(fs)
    raw = {t: data[t].x.clone() for t in data.node_types}
    data = normalise(data, scorer.normaliser)
    device = next(scorer.system.parameters()).device
    out = scorer.system.node_scores(data.to(device))
    scores = {t: np.clip(np.nan_to_num(s.float().cpu().numpy().astype(np.float64)), 0.0, 1.0)
              for t, s in out.items()}
    return BatchOutputs(fs, raw, data, scores)


def local_features(scorer, frames: GraphFrames, as_of: int,
                   user_context: bool) -> feats.FeatureSet:
    """Point-in-time features of a small frames subgraph, by the batch feature code.

    ``user_context=False`` skips the users' co-user columns (the caller takes them from the
    batch state: they read four hops further than any subgraph a request can afford); the
    order context columns are always computed (they are exact from the orders' own history).
    The columns are then those of the checkpoint, missing ones absent.
    """
    frames = canonical_order(frames)
    known = known_from_json(scorer.meta.get("known_labels"))
    fs = feats.build_features(frames, as_of)
    if user_context:
        context.add_context(fs, known)
    else:
        # add_context's order half only (the same functions, in the same order).
        cols = pd.DataFrame(feats._finish(context._order_context(fs, known)),
                            index=fs.tables["Order"].index)
        fs.tables["Order"] = pd.concat([fs.tables["Order"], cols], axis=1)
        user = fs.tables["User"]
        absent = [c for c in scorer.feature_names["User"]
                  if c not in user.columns and not c.startswith(feats.ATTR_PREFIX)]
        # NaN placeholders: the caller fills them from the batch state.
        fs.tables["User"] = pd.concat([user, pd.DataFrame(np.nan, index=user.index, columns=absent,
                                                          dtype=np.float32)], axis=1)
    align_attributes(fs, scorer.feature_names)
    return fs


@torch.no_grad()
def type_scores(system, batch: HeteroData, t: str) -> torch.Tensor:
    """``system.node_scores(batch)[t]`` for one scored type only (the same branches: the
    hybrid's trees when the type has them, else its selected model's head)."""
    if t in system.trees and not system.training:
        return system.tree_scores(batch, t)
    model = system._model_for(t)  # noqa: SLF001 - the selection node_scores itself uses
    emb = model(batch.x_dict, batch.edge_index_dict)
    return torch.sigmoid(model.score_logits({t: emb[t]})[t].float())
