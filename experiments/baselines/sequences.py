"""Per-user event-type sequences up to the cut time T, for the sequence baselines.

Each user's events (``events`` table: login, session, add_to_cart, checkout, …) with
``ts <= T`` are sorted by time; the last ``max_len`` are kept, right-aligned (the latest event is
the last position; padding token 0 on the left). Two channels per position: the event-type
token and ``log1p`` of the minutes since the previous event (0 for the first one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn


@dataclass
class Sequences:
    """Right-aligned sequences of the target users.

    Attributes:
        tokens: ``[N, L]`` int64, 0 = padding, 1.. = event types of ``vocab``.
        gaps: ``[N, L]`` float32, log1p minutes since the previous event.
        vocab: event type names (token ``i + 1`` is ``vocab[i]``).
    """

    tokens: torch.Tensor
    gaps: torch.Tensor
    vocab: list[str]

    @property
    def lengths(self) -> torch.Tensor:
        return (self.tokens > 0).sum(1)


def event_sequences(p, max_len: int = 64) -> Sequences:
    """Sequences of every user of ``p`` (in feature-row order) from its ``events`` table."""
    ev = p.tables.get("events")
    n = len(p.keys)
    if ev is None or not len(ev):
        return Sequences(torch.zeros(n, max_len, dtype=torch.long), torch.zeros(n, max_len), [])
    # A user can be an example of several stages: join events to rows, and each row sees only
    # the events up to its own snapshot time (point in time).
    rows = pd.DataFrame({"row": np.arange(n), "key": p.keys.astype(str), "cut": p.row_time})
    events = pd.DataFrame({"key": ev["user_id"].astype(str),
                           "ts": pd.to_numeric(ev["ts"], errors="coerce").astype("float64"),
                           "etype": ev["event_type"].astype(str).fillna("unknown")})
    j = events.merge(rows, on="key")
    j = j[np.isfinite(j["ts"]) & (j["ts"] <= j["cut"])]
    user, ts, etype = j["row"].to_numpy(), j["ts"].to_numpy(), j["etype"].to_numpy()
    vocab = sorted(set(etype.tolist()))
    tok = pd.Index(vocab).get_indexer(etype) + 1
    order = np.lexsort((ts, user))
    user, ts, tok = user[order], ts[order], tok[order]
    first = np.ones(len(user), bool)
    first[1:] = user[1:] != user[:-1]
    gap = np.where(first, 0.0, np.diff(ts, prepend=ts[:1]) / 60_000.0)
    # Position from the end within each user's run: last event -> max_len - 1.
    run_end = np.flatnonzero(np.r_[user[1:] != user[:-1], True])
    ends = np.repeat(run_end, np.diff(np.r_[-1, run_end]))
    pos = max_len - 1 - (ends - np.arange(len(user)))
    keep = pos >= 0
    tokens = np.zeros((n, max_len), np.int64)
    gaps = np.zeros((n, max_len), np.float32)
    tokens[user[keep], pos[keep]] = tok[keep]
    gaps[user[keep], pos[keep]] = np.log1p(np.clip(gap[keep], 0, None))
    return Sequences(torch.from_numpy(tokens), torch.from_numpy(gaps), vocab)


class StepEncoder(nn.Module):
    """Token embedding concatenated with the gap channel: ``[B, L] x2 -> [B, L, E + 1]``."""

    def __init__(self, vocab_size: int, dim: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab_size + 1, dim, padding_idx=0)
        self.out_dim = dim + 1

    def forward(self, tokens: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.emb(tokens), gaps.unsqueeze(-1)], -1)
