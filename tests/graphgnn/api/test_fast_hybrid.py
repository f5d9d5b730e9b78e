"""A hybrid checkpoint on the serve fast path: its trees read the order's neighbour aggregates
from the computation tree, and the answer equals the batch code on the merged graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_fast_features import _orders, _reference

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
    from graphgnn.api.fast_order import score_new_order
    from graphgnn.api.snapshot_cache import build_state

    relations = hybrid_scorer.system.tree_info["Order"]["neighbours"]
    assert any(r[0] == "User" for r in relations)  # the trees read the order's neighbours
    state = build_state(built_store, hybrid_scorer, None)
    plain = []
    for i, body in enumerate(_orders(state, 12, 11)):
        if body["created_at"] < state.as_of:
            continue
        req, as_of, ref = _reference(state, hybrid_scorer, body)
        ans = score_new_order(state, hybrid_scorer, req, as_of)
        keys = ref.fs.tables["Order"]["order_id"].astype(str).to_numpy()
        expected = float(ref.scores["Order"][np.flatnonzero(keys == req.order_id)[0]])
        if i % 4 == 3 and i % 3 != 2 and i % 5:  # existing user, own device, nothing shared
            plain.append(abs(ans.score - expected))
    assert plain and max(plain) <= 1e-5, plain
