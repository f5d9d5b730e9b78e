"""Supervised MLP on the standardised tabular features (one of the seed methods)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from experiments.baselines.common import fit_supervised, seed_all


class MLP(nn.Module):
    """Two hidden layers with ReLU and dropout; one logit per row.

    Args:
        in_dim: features ``F``. hidden: width. dropout: dropout probability.
    """

    def __init__(self, in_dim: int, hidden: int = 64, dropout: float = 0.2) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, F] -> [B]`` logits."""
        return self.net(x).squeeze(-1)


def mlp_scores(p, seed: int, epochs: int = 80) -> np.ndarray:
    """Train on the training split (early stopping on validation AUPRC); score every node."""
    seed_all(seed)
    x = torch.from_numpy(np.ascontiguousarray(p.x_base, dtype=np.float32))
    return fit_supervised(MLP(x.shape[1]), (x,), p.y, p.train, p.val, seed, epochs=epochs)
