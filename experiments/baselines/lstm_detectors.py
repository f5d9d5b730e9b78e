"""LSTM sequence encoder whose embeddings feed IsolationForest or LOF (unsupervised seed method).

The encoder is trained without labels, self-supervised, to predict each next event type of the
training-period users' sequences; a user's embedding is the final hidden state (the sequence is
right-aligned, so that is after the latest event) concatenated with the log sequence length.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from experiments.baselines.common import fit_unsupervised, seed_all
from experiments.baselines.detectors import outlier_scores
from experiments.baselines.sequences import StepEncoder, event_sequences


class SeqLSTM(nn.Module):
    """One-layer LSTM with a next-event-type head.

    Args:
        vocab_size: number of event types. hidden: LSTM width.
    """

    def __init__(self, vocab_size: int, hidden: int = 32) -> None:
        super().__init__()
        self.step = StepEncoder(vocab_size)
        self.lstm = nn.LSTM(self.step.out_dim, hidden, batch_first=True)
        self.next = nn.Linear(hidden, vocab_size + 1)

    def forward(self, tokens: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        """``[B, L] x2 -> [B, L, H]`` hidden states."""
        return self.lstm(self.step(tokens, gaps))[0]

    def embed(self, tokens: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        """``[B, H + 1]``: last hidden state and log length."""
        h = self(tokens, gaps)[:, -1]
        return torch.cat([h, torch.log1p((tokens > 0).sum(1, keepdim=True).float())], 1)


def _next_event_loss(model: SeqLSTM, tokens: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
    h = model(tokens[:, :-1], gaps[:, :-1])
    target = tokens[:, 1:]
    valid = (target > 0) & (tokens[:, :-1] > 0)
    if not valid.any():
        return h.sum() * 0.0
    return F.cross_entropy(model.next(h[valid]), target[valid])


def lstm_detector_scores(p, seed: int, kind: str, epochs: int = 8) -> np.ndarray:
    """Embeddings of every user -> ``kind`` (``iforest``/``lof``) fitted on the training period."""
    seq = event_sequences(p)
    seed_all(seed)
    fit_rows = p.fit
    model = fit_unsupervised(SeqLSTM(len(seq.vocab)), _next_event_loss, (seq.tokens, seq.gaps),
                             fit_rows, seed, epochs=epochs)
    with torch.no_grad():
        z = torch.cat([model.embed(seq.tokens[i], seq.gaps[i])
                       for i in torch.arange(len(seq.tokens)).split(4096)]).numpy()
    z = (z - z[fit_rows].mean(0)) / (z[fit_rows].std(0) + 1e-6)
    return outlier_scores(z, fit_rows, kind, seed)
