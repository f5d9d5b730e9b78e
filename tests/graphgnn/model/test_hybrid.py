"""The hybrid head: trained by ``train fit``, both parts in one checkpoint, scored by the Scorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from model_data import frames_of

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def trained(generated_dir, tmp_path_factory):
    from graphgnn.cli.train import run_lightning_cli

    root = tmp_path_factory.mktemp("hybrid")
    run_lightning_cli(["fit", "--config", str(ROOT / "configs" / "hybrid.yaml"),
                       "--data.source=tables", f"--data.data_dir={generated_dir}",
                       "--data.cache_dir=null", f"--trainer.default_root_dir={root}",
                       "--trainer.max_epochs=3", "--model.hidden=8"])
    return root / "latest.ckpt"


def test_checkpoint_holds_trees_and_each_types_weights(trained):
    ckpt = torch.load(trained, weights_only=True)  # no pickle: tensors, strings, numbers
    meta = ckpt["fraudring"]
    assert meta["head"] == "hybrid" and meta["model_version"].startswith("hybrid-")
    assert set(meta["trees"]) == {"User", "Order"}
    assert all(t.startswith("tree") for t in meta["trees"].values())  # LightGBM text models
    assert set(ckpt["fraudring_states"]) == {"User", "Order"}
    assert meta["known_labels"]["User"]  # the label-aware features' training labels travel


def test_scorer_scores_with_the_trees(trained, generated_dir):
    from graphgnn.model.checkpoint import load_scorer

    scorer = load_scorer(trained)
    assert set(scorer.system.trees) == {"User", "Order"}
    frames = frames_of(generated_dir)
    out = scorer.score(frames)
    for t in ("User", "Order", "Device", "IP"):
        s = out[t]["anomaly_score"].to_numpy()
        assert len(s) == frames.node_count(t) and np.isfinite(s).all()
        assert s.min() >= 0 and s.max() <= 1
    assert out["User"]["anomaly_score"].std() > 0
    # the trees, not the GNN heads, score users: dropping them changes the scores
    trees, scorer.system.trees = scorer.system.trees, {}
    plain = scorer.score(frames)["User"]["anomaly_score"].to_numpy()
    scorer.system.trees = trees
    assert not np.allclose(plain, out["User"]["anomaly_score"].to_numpy())


def test_trees_fit_a_fixed_budget_and_measure_validation():
    from graphgnn.model.hybrid import ROUNDS, fit_trees, predict_trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=3000) > 1.5).astype(np.float32)
    model, info = fit_trees(x[:2000], y[:2000], x[2000:], y[2000:])
    assert info["rounds"] == ROUNDS and 0.5 < info["val_auprc"] <= 1.0
    p = predict_trees(model, x[2000:])
    # unweighted: the probabilities stay calibrated (mean near the base rate)
    assert abs(p.mean() - y[2000:].mean()) < 0.05
    assert np.isnan(fit_trees(x[:2000], y[:2000], x[:0], y[:0])[1]["val_auprc"])


def test_clearly_better_needs_more_than_a_lucky_validation_draw():
    from graphgnn.model.selection import clearly_better

    rng = np.random.default_rng(1)
    y = (rng.random(5000) < 0.02).astype(float)
    signal = y + rng.normal(scale=0.8, size=5000)
    assert clearly_better(signal, rng.random(5000), y)  # real signal against noise
    # the same scores with noise too small to rank differently in a stable way: not taken
    assert not clearly_better(signal + rng.normal(scale=1e-3, size=5000), signal, y)
    assert not clearly_better(rng.random(5000), signal, y)


def test_the_validation_halves_are_fixed_balanced_and_disjoint():
    from graphgnn.model.selection import for_hybrid_choices

    index = torch.arange(20_000)
    half = for_hybrid_choices(index)
    assert 0.48 < half.float().mean() < 0.52
    assert torch.equal(half, for_hybrid_choices(index.clone()))  # no state, no seed
    assert torch.equal(half[5_000:7_000], for_hybrid_choices(index[5_000:7_000]))  # by index


def test_the_gnn_selects_its_epoch_on_the_half_the_trees_never_read(generated_dir,
                                                                     monkeypatch):
    """With the hybrid head, validation metrics during fit count only the GNN's half; the
    trees' choices (fit_hybrid) read the other half, so the GNN is not judged on rows its
    epoch was picked on."""
    from model_data import prepared

    from graphgnn.model.selection import for_hybrid_choices
    from graphgnn.model.system import System

    dm = prepared(generated_dir)
    val = dm.stages["val"]
    counted = {}
    for head in ("sage", "hybrid"):
        system = System(in_dims=dm.in_dims, head=head, hidden=8)
        monkeypatch.setattr(system, "_selecting", lambda: True)  # as inside trainer.fit
        system._eval = {}
        system._collect(val, "val_mask")
        counted[head] = {t: len(parts[0][1]) for t, parts in system._eval.items()}
    for t in ("User", "Order"):
        store = val[t]
        labelled = store.val_mask & (store.y >= 0)
        assert counted["sage"][t] == int(labelled.sum())
        gnn_half = labelled & ~for_hybrid_choices(torch.arange(store.num_nodes))
        assert counted["hybrid"][t] == int(gnn_half.sum()) < counted["sage"][t]
