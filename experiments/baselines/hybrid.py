"""CNN+RNN hybrid over event sequences plus tabular features (supervised seed method).

A 1-D convolution extracts local patterns from the event sequence, a GRU summarises them in
order; the GRU's final state is concatenated with an MLP encoding of the user's tabular
point-in-time features and a linear head gives the logit.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from experiments.baselines.common import fit_supervised, seed_all
from experiments.baselines.sequences import StepEncoder, event_sequences


class CNNRNN(nn.Module):
    """Conv1d -> GRU over the sequence, MLP over the tabular row, joint head.

    Args:
        vocab_size: number of event types. tab_dim: tabular features. hidden: width.
    """

    def __init__(self, vocab_size: int, tab_dim: int, hidden: int = 32) -> None:
        super().__init__()
        self.step = StepEncoder(vocab_size)
        self.conv = nn.Sequential(nn.Conv1d(self.step.out_dim, hidden, 3, padding=1), nn.ReLU())
        self.rnn = nn.GRU(hidden, hidden, batch_first=True)
        self.tab = nn.Sequential(nn.Linear(tab_dim, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Dropout(0.2),
                                  nn.Linear(hidden, 1))

    def forward(self, tokens: torch.Tensor, gaps: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``[B, L], [B, L], [B, F] -> [B]`` logits."""
        h = self.conv(self.step(tokens, gaps).transpose(1, 2)).transpose(1, 2)
        last = self.rnn(h)[0][:, -1]
        return self.head(torch.cat([last, self.tab(x)], 1)).squeeze(-1)


def hybrid_scores(p, seed: int, epochs: int = 40) -> np.ndarray:
    """Train on the training split (early stopping on validation); score every user."""
    seq = event_sequences(p)
    seed_all(seed)
    x = torch.from_numpy(np.ascontiguousarray(p.x_base, dtype=np.float32))
    model = CNNRNN(len(seq.vocab), x.shape[1])
    return fit_supervised(model, (seq.tokens, seq.gaps, x), p.y, p.train, p.val, seed,
                          epochs=epochs)
