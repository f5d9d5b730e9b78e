"""The sparse-product forward used for whole graphs on the CPU equals PyG's message passing,
in outputs and in gradients, and is used only where it applies."""

from __future__ import annotations

import copy

import pytest
import torch
from model_data import prepared

from graphgnn.model import fastscore
from graphgnn.model.sage import _dropout
from graphgnn.model.system import System


@pytest.fixture(scope="module")
def dm(generated_dir):
    return prepared(generated_dir)


def _grads(model, emb) -> dict[str, torch.Tensor]:
    model.zero_grad()
    loss = sum((z * torch.linspace(-1, 1, z.shape[1])).pow(2).sum() for z in emb.values())
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_sparse_forward_matches_pyg_outputs_and_gradients(dm):
    torch.manual_seed(0)
    model = System(in_dims=dm.in_dims, hidden=16, dropout=0.0).model.train()
    batch = dm.data
    sparse = fastscore.embed(model, batch)
    pyg = model(batch.x_dict, batch.edge_index_dict)
    assert set(sparse) == set(pyg)
    for t in pyg:
        assert torch.allclose(sparse[t], pyg[t], atol=1e-5), t
    g_sparse, g_pyg = _grads(model, sparse), _grads(model, pyg)
    assert set(g_sparse) == set(g_pyg) and len(g_pyg) > 10
    for name, g in g_pyg.items():
        assert torch.allclose(g_sparse[name], g, atol=1e-4, rtol=1e-3), name
    # Built once per graph object: the second pass reuses the operators.
    assert fastscore.cached_adjacency(batch) is fastscore.cached_adjacency(batch)


def test_sampled_subgraphs_take_pygs_path(dm, monkeypatch):
    batch = copy.copy(dm.data)
    batch["User"].n_id = torch.arange(batch["User"].num_nodes)
    model = System(in_dims=dm.in_dims, hidden=16).model.eval()
    monkeypatch.setattr(fastscore, "cached_adjacency", lambda _d: pytest.fail("sparse path"))
    out = fastscore.embed(model, batch)
    assert set(out) == set(batch.node_types)


def test_dropout_keeps_the_expected_share_and_scale():
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = _dropout(x, 0.2, True)
    assert abs(float((y == 0).float().mean()) - 0.2) < 0.01
    assert torch.allclose(y[y > 0], torch.full_like(y[y > 0], 1.25))
    assert abs(float(y.mean()) - 1.0) < 0.01
    assert _dropout(x, 0.2, False) is x
