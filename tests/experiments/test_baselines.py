"""Every baseline fits and scores on a small generated graph; metric helpers on hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.metrics import ranking, recovered


@pytest.fixture(scope="module")
def prepared(generated_dir):
    from experiments.data import prepare

    return prepare(generated_dir, name="synthetic-test")


def test_prepare_matches_the_gnn_datamodule(prepared, generated_dir):
    from graphgnn.model.datamodule import DataModule

    dm = DataModule.from_frames(prepared.frames, data_dir=str(generated_dir), split="temporal")
    data = dm.prepare()
    for t in ("User", "Order"):
        for mask in ("train_mask", "val_mask", "test_mask"):
            assert bool((data[t][mask] == prepared.data[t][mask]).all()), (t, mask)
        assert np.allclose(data[t].x.numpy(), prepared.data[t].x.numpy(), atol=1e-5)
    assert prepared.target == "User"
    assert prepared.test.any() and prepared.train.any()
    assert np.nansum(prepared.y[prepared.test]) > 0
    assert prepared.rings


def _small(name):
    """Entry points with tiny budgets (the registry's settings are for real runs)."""
    from experiments.baselines import autoencoder, cnn1d, detectors, gnn, heuristic, hybrid, mlp
    from experiments.baselines import lstm_detectors as lstm
    from experiments.baselines import trees

    return {
        "gnn_supervised": lambda p: gnn.gnn_scores(p, 0, "supervised", max_epochs=2),
        "gnn_unsupervised": lambda p: gnn.gnn_scores(p, 0, "unsupervised", max_epochs=2),
        # what graphs of LARGE_USERS and more train with: configs/large.yaml's sampled subgraphs
        "gnn_minibatch": lambda p: gnn.gnn_scores(p, 0, "supervised", max_epochs=1,
                                                  data_args=gnn.large_settings()["data"]),
        "gnn_minibatch_unsupervised": lambda p: gnn.gnn_scores(
            p, 0, "unsupervised", max_epochs=1, data_args=gnn.large_settings()["data"]),
        "gbt": lambda p: trees.gbt_scores(p, 0),
        "gbt_neighbours": lambda p: trees.gbt_scores(p, 0, neighbours=True),
        "mlp": lambda p: mlp.mlp_scores(p, 0, epochs=2),
        "autoencoder": lambda p: autoencoder.autoencoder_scores(p, 0, epochs=2),
        "isolation_forest": lambda p: detectors.tabular_detector(p, 0, "iforest"),
        "lof": lambda p: detectors.tabular_detector(p, 0, "lof"),
        "cnn1d_seq": lambda p: cnn1d.cnn1d_scores(p, 0, epochs=1),
        "cnn_rnn_hybrid": lambda p: hybrid.hybrid_scores(p, 0, epochs=1),
        "lstm_iforest": lambda p: lstm.lstm_detector_scores(p, 0, "iforest", epochs=1),
        "lstm_lof": lambda p: lstm.lstm_detector_scores(p, 0, "lof", epochs=1),
        "graph_heuristic": heuristic.heuristic_scores,
    }[name]


@pytest.mark.parametrize("name", ["gnn_supervised", "gnn_unsupervised", "gnn_minibatch",
                                  "gnn_minibatch_unsupervised", "gbt",
                                  "gbt_neighbours",
                                  "mlp", "autoencoder", "isolation_forest", "lof", "cnn1d_seq",
                                  "cnn_rnn_hybrid", "lstm_iforest", "lstm_lof",
                                  "graph_heuristic"])
def test_baseline_scores_every_user(prepared, name):
    score = np.asarray(_small(name)(prepared))
    assert score.shape == (len(prepared.keys),)
    assert np.isfinite(score).all()
    assert score.std() > 0  # it ranks, not a constant
    m = ranking(score[prepared.test], prepared.y[prepared.test])
    assert all(0.0 <= v <= 1.0 for v in m.values())


def test_registry_covers_every_seed_method():
    from experiments.baselines import METHODS

    names = {(m.name, m.setting) for m in METHODS}
    for expected in [("gnn", "supervised"), ("gnn", "unsupervised"), ("cnn1d_seq", "supervised"),
                     ("lstm_iforest", "unsupervised"), ("lstm_lof", "unsupervised"),
                     ("mlp", "supervised"), ("autoencoder", "unsupervised"),
                     ("cnn_rnn_hybrid", "supervised"), ("isolation_forest", "unsupervised"),
                     ("lof", "unsupervised"), ("gbt", "supervised"),
                     ("gbt_neighbours", "supervised"), ("graph_heuristic", "unsupervised")]:
        assert expected in names


def test_sequences_are_right_aligned_and_cut_at_t(prepared):
    from experiments.baselines.sequences import event_sequences

    seq = event_sequences(prepared, max_len=8)
    assert seq.tokens.shape == (len(prepared.keys), 8)
    has = seq.lengths > 0
    assert bool((seq.tokens[has, -1] > 0).all())  # the latest event is the last position
    # padding only on the left: once a token appears, no padding follows
    t = seq.tokens.numpy() > 0
    assert not (t[:, :-1] & ~t[:, 1:]).any()


def test_ranking_metrics_on_a_hand_made_example():
    score = np.array([0.9, 0.8, 0.7, 0.1])
    y = np.array([1, 0, 1, 0])
    m = ranking(score, y)
    assert m["auprc"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert m["auroc"] == pytest.approx(0.75)
    assert m["recall_at_k"] == pytest.approx(0.5)  # K = 2 positives: top 2 = [1, 0]
    assert m["precision_at_100"] == pytest.approx(0.5)  # budget larger than N: all 4 rows
    assert np.isnan(ranking(score, np.zeros(4))["auprc"])


def test_ring_recovery_on_a_hand_made_example():
    rings = {"a": np.array([0, 1, 2, 3]), "b": np.array([4, 5, 6]), "small": np.array([7, 8])}
    within = np.ones(9, bool)
    # ring a: 2 of 4 in one group (50 %: recovered); ring b: split 1/1/1 (not); "small" ignored
    groups = [{0, 1, 9}, {4}, {5, 2}, {6}]
    assert recovered(groups, rings, within) == pytest.approx(0.5)
    # outside the evaluated rows, members do not count: ring b drops below 3 members
    within[6] = False
    assert recovered(groups, rings, within) == pytest.approx(1.0)
    assert np.isnan(recovered([], {}, within))


def test_quality_rows_replace_same_key(tmp_path):
    from experiments.quality import merge_rows

    path = tmp_path / "q.csv"
    row = {"dataset": "synthetic-5k-g101", "method": "gbt", "setting": "supervised", "seed": 0,
           "auprc": "0.5"}
    merge_rows([row, row | {"seed": 1}], path)
    merge_rows([row | {"auprc": "0.7"}], path)
    q = pd.read_csv(path)
    assert len(q) == 2
    assert q.loc[q["seed"] == 0, "auprc"].item() == pytest.approx(0.7)


def test_report_summarises_and_words_the_headline():
    from experiments.report import headline, headline_table, summary

    rows = []
    for seed, (g, b, u, i) in enumerate([(0.8, 0.7, 0.3, 0.2), (0.9, 0.7, 0.3, 0.2)]):
        for method, setting, v in (("gnn", "supervised", g), ("gbt", "supervised", b),
                                   ("gnn", "unsupervised", u),
                                   ("isolation_forest", "unsupervised", i)):
            rows.append({"dataset": "synthetic-5k-g101", "family": "synthetic-5k",
                         "method": method, "setting": setting, "seed": seed, "auprc": v,
                         "auroc": v, "recall_at_k": v, "precision_at_100": v,
                         "ring_recall": np.nan, "seconds": 1.0})
    h = headline(summary(pd.DataFrame(rows)))
    assert h[0]["gnn"] == pytest.approx(0.85) and h[0]["best"] == "gbt"
    text = headline_table(h)
    assert "+0.150" in text and "met" in text and "yes" in text
