"""Autoencoder on the standardised tabular features, scored by reconstruction error.

Unsupervised: trained on the training-period nodes only, reads no labels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from experiments.baselines.common import fit_unsupervised, seed_all


class AutoEncoder(nn.Module):
    """``F -> 32 -> 8 -> 32 -> F`` with ReLU.

    Args:
        in_dim: features ``F``. hidden: outer width. code: bottleneck width.
    """

    def __init__(self, in_dim: int, hidden: int = 32, code: int = 8) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, code))
        self.dec = nn.Sequential(nn.ReLU(), nn.Linear(code, hidden), nn.ReLU(),
                                 nn.Linear(hidden, in_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, F] -> [B, F]`` reconstruction."""
        return self.dec(self.enc(x))


def _loss(model: AutoEncoder, x: torch.Tensor) -> torch.Tensor:
    return ((model(x) - x) ** 2).mean()


def autoencoder_scores(p, seed: int, epochs: int = 40) -> np.ndarray:
    """Per-node mean squared reconstruction error (higher = more anomalous)."""
    seed_all(seed)
    x = torch.from_numpy(np.ascontiguousarray(p.x_base, dtype=np.float32))
    model = fit_unsupervised(AutoEncoder(x.shape[1]), _loss, (x,),
                             p.fit, seed, epochs=epochs)
    with torch.no_grad():
        return ((model(x) - x) ** 2).mean(-1).numpy()
