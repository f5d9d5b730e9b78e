"""1-D CNN over each user's event-type sequence (supervised; one of the seed methods)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from experiments.baselines.common import fit_supervised, seed_all
from experiments.baselines.sequences import StepEncoder, event_sequences


class SeqCNN(nn.Module):
    """Two 1-D convolutions, masked max + mean pooling over time, a linear head.

    Args:
        vocab_size: number of event types. channels: convolution width.
    """

    def __init__(self, vocab_size: int, channels: int = 32) -> None:
        super().__init__()
        self.step = StepEncoder(vocab_size)
        self.conv = nn.Sequential(
            nn.Conv1d(self.step.out_dim, channels, 3, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, padding=2), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * channels + 1, channels), nn.ReLU(),
                                  nn.Linear(channels, 1))

    def features(self, tokens: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        """``[B, L] x2 -> [B, 2C + 1]`` pooled convolution features plus log length."""
        h = self.conv(self.step(tokens, gaps).transpose(1, 2))  # [B, C, L]
        mask = (tokens > 0).unsqueeze(1)
        n = mask.sum(-1).clamp_min(1)
        mx = h.masked_fill(~mask, -1e4).amax(-1).clamp_min(0)
        mean = (h * mask).sum(-1) / n
        return torch.cat([mx, mean, torch.log1p(mask.sum(-1).float())], 1)

    def forward(self, tokens: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(tokens, gaps)).squeeze(-1)


def cnn1d_scores(p, seed: int, epochs: int = 40) -> np.ndarray:
    """Train on the training split's users (early stopping on validation); score every user."""
    seq = event_sequences(p)
    seed_all(seed)
    return fit_supervised(SeqCNN(len(seq.vocab)), (seq.tokens, seq.gaps), p.y, p.train, p.val,
                          seed, epochs=epochs)
