"""The numpy forward pass of the serving tree against the model's own (PyG) forward pass."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from graphgnn.api.numpy_forward import compile_model
from graphgnn.model.sage import HeteroSAGE

DIMS = {"User": 7, "Order": 5, "Device": 3, "Lonely": 4}  # Lonely: no edge points at it
EDGES = [("User", "PLACED", "Order"), ("Order", "rev_PLACED", "User"),
         ("Device", "FROM", "Order"), ("Order", "rev_FROM", "Device"),
         ("User", "co_user", "User"), ("Lonely", "to", "Order")]


def _graph(seed: int):
    g = torch.Generator().manual_seed(seed)
    n = {"User": 6, "Order": 9, "Device": 4, "Lonely": 3}
    x = {t: torch.randn(n[t], d, generator=g) * 2 for t, d in DIMS.items()}
    edges = {}
    for i, et in enumerate(EDGES):
        m = 0 if i == 3 else 12  # one edge type with no edges at all (bias only)
        edges[et] = torch.stack([torch.randint(0, n[et[0]], (m,), generator=g),
                                 torch.randint(0, n[et[2]], (m,), generator=g)])
    return x, edges


def _model(aggr: str, norm: str, jk: str, skip: bool, layers: int = 2) -> HeteroSAGE:
    torch.manual_seed(len(aggr) + len(norm) * 3 + len(jk) * 7 + skip)
    model = HeteroSAGE(DIMS, EDGES, hidden=8, num_layers=layers, aggr=aggr, norm=norm,
                       dropout=0.3, skip=skip, jk=jk, scored_types=("User", "Order"))
    with torch.no_grad():  # non-trivial affine and running statistics
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize(("aggr", "norm", "jk", "skip"), [
    c for c in itertools.product(("mean", "sum", "max"), ("layer", "batch", "none"),
                                 ("last", "cat", "max"), (True, False))
    if c[1] == "layer" or (c[2] == "last" and c[3])])  # every aggr x jk, every norm once
def test_numpy_embed_equals_pyg(aggr, norm, jk, skip):
    model = _model(aggr, norm, jk, skip)
    compiled = compile_model(model)
    assert compiled is not None
    for seed in range(3):
        x, edges = _graph(seed)
        with torch.no_grad():
            theirs = model(x, edges)
            logits = model.score_logits(theirs)
        ours = compiled.embed({t: v.numpy() for t, v in x.items()},
                              {et: ei.numpy() for et, ei in edges.items()})
        assert set(ours) == set(theirs)
        for t in theirs:
            np.testing.assert_allclose(ours[t], theirs[t].numpy(), atol=1e-5, rtol=1e-5)
            assert np.abs(ours[t]).max() > 0.1, t  # something was computed
        only = compiled.embed({t: v.numpy() for t, v in x.items()},
                              {et: ei.numpy() for et, ei in edges.items()}, only="Order")
        assert set(only) == {"Order"}
        np.testing.assert_allclose(only["Order"], theirs["Order"].numpy(), atol=1e-5,
                                   rtol=1e-5)
        for t in ("User", "Order"):
            p_ours = 1 / (1 + np.exp(-compiled.logits(t, ours[t])))
            p_theirs = torch.sigmoid(logits[t]).numpy()
            assert np.abs(p_ours - p_theirs).max() <= 1e-6, t


def test_one_layer_model():
    model = _model("mean", "layer", "last", True, layers=1)
    x, edges = _graph(7)
    with torch.no_grad():
        theirs = model(x, edges)
    ours = compile_model(model).embed({t: v.numpy() for t, v in x.items()},
                                      {et: ei.numpy() for et, ei in edges.items()})
    np.testing.assert_allclose(ours["Order"], theirs["Order"].numpy(), atol=1e-5)


def test_unsupported_models_fall_back():
    model = _model("mean", "layer", "last", True)
    assert compile_model(model.train()) is None  # training: dropout is live
    assert compile_model(model.eval()) is not None
    fresh = _model("sum", "none", "last", False)
    fresh.convs[1].convs[EDGES[2]].normalize = True  # an L2-normalising SAGEConv
    assert compile_model(fresh) is None
