"""Shared helpers of the neural baselines: seeding, supervised training with early stopping.

Supervised models train on the training split with a class-weighted BCE (positive weight =
negatives / positives, capped at 50, like the GNN's ``weighted_bce``) and keep the weights of the
epoch with the best validation AUPRC (patience in epochs), as the GNN does.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from experiments.metrics import ranking

THREADS = 1  # the machine is shared: more threads oversubscribe and run slower


def seed_all(seed: int) -> torch.Generator:
    """Seed numpy and torch; returns a generator for shuffling."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(THREADS)
    return torch.Generator().manual_seed(seed)


def batches(n: int, size: int, gen: torch.Generator | None) -> list[Tensor]:
    """Index batches over ``n`` rows (shuffled when ``gen`` is given)."""
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    return list(order.split(size))


@torch.no_grad()
def predict(model: nn.Module, inputs: tuple[Tensor, ...], size: int = 4096) -> np.ndarray:
    """Model outputs (one logit per row) for all rows, in evaluation mode."""
    model.eval()
    n = len(inputs[0])
    out = [model(*(t[idx] for t in inputs)).float() for idx in batches(n, size, None)]
    return torch.cat(out).view(-1).numpy() if out else np.zeros(0)


def fit_supervised(model: nn.Module, inputs: tuple[Tensor, ...], y: np.ndarray,
                   train: np.ndarray, val: np.ndarray, seed: int, epochs: int = 60,
                   patience: int = 8, lr: float = 3e-3, batch_size: int = 512) -> np.ndarray:
    """Train ``model`` (inputs -> logits) on ``train`` rows; return scores of all rows.

    Args:
        model: maps the row slices of ``inputs`` to ``[B]`` logits.
        inputs: tensors with one row per node.
        y: ``[N]`` labels (NaN outside the labelled rows).
        train, val: boolean row masks.
        seed: random seed.
        epochs: most epochs. patience: epochs without validation improvement before stopping.
        lr: AdamW learning rate. batch_size: rows per step.
    """
    gen = seed_all(seed)
    tr = torch.from_numpy(np.flatnonzero(train))
    yt = torch.from_numpy(np.nan_to_num(y, nan=0.0).astype(np.float32))
    pos = float(yt[tr].sum())
    pw = torch.tensor(min(max((len(tr) - pos) / max(pos, 1.0), 1.0), 50.0))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    val_rows = np.flatnonzero(val)
    best, best_state, waited = -1.0, copy.deepcopy(model.state_dict()), 0
    for _ in range(epochs):
        model.train()
        for idx in batches(len(tr), batch_size, gen):
            rows = tr[idx]
            logits = model(*(t[rows] for t in inputs)).view(-1)
            loss = F.binary_cross_entropy_with_logits(logits, yt[rows], pos_weight=pw)
            opt.zero_grad()
            loss.backward()
            opt.step()
        score = predict(model, tuple(t[val_rows] for t in inputs)) if len(val_rows) else None
        auprc = ranking(score, y[val_rows])["auprc"] if score is not None else float("nan")
        auprc = auprc if np.isfinite(auprc) else 0.0
        if auprc > best:
            best, best_state, waited = auprc, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    return predict(model, inputs)


def fit_unsupervised(model: nn.Module, loss_fn, inputs: tuple[Tensor, ...], rows: np.ndarray,
                     seed: int, epochs: int = 30, lr: float = 3e-3,
                     batch_size: int = 512) -> nn.Module:
    """Minimise ``loss_fn(model, *row slices)`` over ``rows`` for a fixed number of epochs."""
    gen = seed_all(seed)
    idx_all = torch.from_numpy(np.flatnonzero(rows))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    model.train()
    for _ in range(epochs):
        for idx in batches(len(idx_all), batch_size, gen):
            r = idx_all[idx]
            loss = loss_fn(model, *(t[r] for t in inputs))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model
