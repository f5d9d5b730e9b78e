"""Each objective learns on a small graph; metrics use the right split; unsupervised reads no
labels."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from model_data import prepared

from graphgnn.model.metrics import ranking as ranking_metrics
from graphgnn.model.objectives import focal_loss
from graphgnn.model.system import System

STEPS = 12


@pytest.fixture(scope="module")
def dm(generated_dir):
    return prepared(generated_dir)


def _train(system: System, batch, steps: int = STEPS) -> list[float]:
    opt = system.configure_optimizers()
    losses = []
    system.train()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self.log() outside a Trainer
        for _ in range(steps):
            loss = system.training_step(batch, 0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
    return losses


@pytest.mark.parametrize("objective,loss", [("supervised", "weighted_bce"),
                                            ("supervised", "focal"),
                                            ("unsupervised", "weighted_bce"),
                                            ("semi", "weighted_bce")])
def test_loss_goes_down(dm, objective, loss):
    torch.manual_seed(0)
    system = System(in_dims=dm.in_dims, objective=objective, loss=loss, hidden=16, lr=0.01,
                    dropout=0.0)
    losses = _train(system, dm.data)
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.8 * losses[0], losses


def test_unsupervised_reads_no_labels(dm):
    garbled = copy.copy(dm.data)
    for t in ("User", "Order", "Device", "IP"):
        garbled[t].y = torch.randint(0, 2, garbled[t].y.shape).float()
    runs = []
    for batch in (dm.data, garbled):
        torch.manual_seed(1)
        system = System(in_dims=dm.in_dims, objective="unsupervised", hidden=16)
        runs.append(_train(system, batch, 4))
        system.eval()
        with torch.no_grad():
            runs.append(system.node_scores(batch)["User"])
    # Equal up to float summation order (scatter adds are not bit-reproducible across runs).
    np.testing.assert_allclose(runs[0], runs[2], rtol=1e-5)
    torch.testing.assert_close(runs[1], runs[3], rtol=1e-4, atol=1e-5)
    assert float(runs[1].min()) >= 0 and float(runs[1].max()) <= 1


def _evaluate(system: System, batch, stage: str) -> dict:
    system.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        system._eval = {}
        system._collect(batch, f"{stage}_mask")
        system._report(stage)
    return system.last_metrics[stage]


def test_metrics_use_only_their_split(dm):
    torch.manual_seed(0)
    system = System(in_dims=dm.in_dims, hidden=16)
    data, test_data = dm.stages["val"], dm.stages["test"]
    val = _evaluate(system, data, "val")
    test = _evaluate(system, test_data, "test")
    for t in ("User", "Order"):
        assert val[t]["n"] == int((data[t].val_mask & (data[t].y >= 0)).sum())
        assert test[t]["n"] == int((test_data[t].test_mask & (test_data[t].y >= 0)).sum())
        assert val[t]["positives"] == int(data[t].y[data[t].val_mask].sum())
    # Poisoning every label outside the validation split leaves validation metrics unchanged.
    poisoned = copy.copy(data)
    for t in ("User", "Order", "Device", "IP"):
        y = data[t].y.clone()
        y[~data[t].val_mask] = 1.0
        poisoned[t].y = y
    again = _evaluate(system, poisoned, "val")
    assert again["User"] == val["User"]


def test_minibatch_step(dm):
    from graphgnn.model.sampler import TemporalNeighborSampler

    sampler = TemporalNeighborSampler(dm.data, [5, 3])
    seeds = dm.data["User"].train_mask.nonzero().view(-1)[:256]
    batch = sampler.sample("User", seeds)
    for objective in ("supervised", "unsupervised"):
        torch.manual_seed(0)
        system = System(in_dims=dm.in_dims, objective=objective, hidden=16)
        losses = _train(system, batch, 3)
        assert np.isfinite(losses).all()


def test_ranking_metrics():
    y = np.array([0, 0, 1, 0, 1, 0, 0, 0])
    perfect = ranking_metrics(y.astype(float), y, top_k=2)
    assert perfect["auprc"] == perfect["auroc"] == perfect["recall_at_k"] == 1.0
    assert perfect["precision_at_k"] == 1.0
    worst = ranking_metrics(-y.astype(float), y, top_k=4)
    assert worst["auroc"] == 0.0 and worst["recall_at_k"] == 0.0 and worst["precision_at_k"] == 0
    assert np.isnan(ranking_metrics(np.zeros(3), np.zeros(3))["auprc"])


def test_focal_loss_downweights_easy_examples():
    y = torch.tensor([1.0, 0.0])
    easy = focal_loss(torch.tensor([5.0, -5.0]), y)
    hard = focal_loss(torch.tensor([-1.0, 1.0]), y)
    assert float(easy) < 1e-3 < float(hard)


def test_unsupervised_score_is_differentiable_for_attribution(dm):
    """Explanations take the gradient of the score: the calibrated anomaly score keeps it."""
    torch.manual_seed(0)
    system = System(in_dims=dm.in_dims, objective="unsupervised", hidden=16).eval()
    batch = dm.data.clone()
    for t in batch.node_types:
        batch[t].x = batch[t].x.clone().requires_grad_(True)
    score = system.node_scores(batch)["User"]
    (grad,) = torch.autograd.grad(score[:5].sum(), [batch["User"].x])
    assert score.requires_grad and grad.abs().sum() > 0
