"""A hybrid checkpoint on the serve fast path: its trees read the order's neighbour aggregates
from the computation tree, and the answer equals the batch code on the merged graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_fast_features import fast_vs_exact

HYBRID = str(Path(__file__).resolve().parents[3] / "configs" / "hybrid.yaml")


@pytest.fixture(scope="module")
def hybrid_scorer(generated_dir, tmp_path_factory):
    from graphgnn.cli.train import run_lightning_cli
    from graphgnn.model.checkpoint import load_scorer

    root = tmp_path_factory.mktemp("hybrid_serve")
    run_lightning_cli(["fit", "--config", HYBRID, "--data.source=tables",
                       f"--data.data_dir={generated_dir}", "--data.cache_dir=null",
                       f"--trainer.default_root_dir={root}", "--trainer.max_epochs=2",
                       "--model.hidden=8"])
    return load_scorer(root / "latest.ckpt")


def test_hybrid_fast_scores_equal_the_batch_code(built_store, hybrid_scorer):
    from graphgnn.api.snapshot_cache import build_state

    relations = hybrid_scorer.system.tree_info["Order"]["neighbours"]
    assert any(r[0] == "User" for r in relations)  # the trees read the order's neighbours
    plain, worst = fast_vs_exact(build_state(built_store, hybrid_scorer, None), hybrid_scorer)
    assert plain and max(plain) <= 1e-5, plain
    assert worst < 1e-3, worst
