"""Every baseline fits and scores on a small generated graph; metric helpers on hand-made cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.metrics import match_rings, paired_bootstrap, ranking


@pytest.fixture(scope="module")
def prepared(generated_dir):
    from experiments.data import prepare

    # a longer test window: the small fixture's last rings fall after T2 then
    return prepare(generated_dir, name="synthetic-test", test_frac=0.35)


def test_prepared_table_is_the_products_point_in_time_examples(prepared):
    pg = prepared.pg
    assert prepared.target == "User"
    for stage, mask in (("train", prepared.train), ("val", prepared.val),
                        ("test", prepared.test)):
        data = pg.data(stage)
        rows = prepared.rows[stage]
        assert mask.sum() == len(rows) == int(data["User"][f"{stage}_mask"].sum())
        np.testing.assert_array_equal(prepared.x[mask], data["User"].x.numpy()[rows])
        assert bool((prepared.row_time[mask] == pg.stages[stage].as_of).all())
    assert prepared.x_base.shape[1] < prepared.x.shape[1]  # baselines: own features only
    assert np.nansum(prepared.y[prepared.test]) > 0 and np.nansum(prepared.y[prepared.train]) > 0
    assert prepared.rings


def _small(name):
    """Entry points with tiny budgets (the registry's settings are for real runs)."""
    from experiments.baselines import autoencoder, cnn1d, detectors, gnn, heuristic, hybrid, mlp
    from experiments.baselines import lstm_detectors as lstm
    from experiments.baselines import trees

    return {
        "gnn_supervised": lambda p: gnn.gnn_scores(p, 0, "supervised", max_epochs=2),
        "hybrid": lambda p: gnn.gnn_scores(p, 0, "supervised", max_epochs=2, head="hybrid"),
        "gbt_context": lambda p: trees.gbt_scores(p, 0, product_inputs=True),
        "best_single_feature": lambda p: heuristic.best_single_feature(p)[0],
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
        "component_score": heuristic.component_scores,
    }[name]


@pytest.mark.parametrize("name", ["gnn_supervised", "hybrid", "gnn_unsupervised",
                                  "gnn_minibatch", "gnn_minibatch_unsupervised", "gbt",
                                  "gbt_neighbours", "gbt_context", "best_single_feature",
                                  "mlp", "autoencoder", "isolation_forest", "lof", "cnn1d_seq",
                                  "cnn_rnn_hybrid", "lstm_iforest", "lstm_lof",
                                  "component_score"])
def test_baseline_scores_every_user(prepared, name):
    score = np.asarray(_small(name)(prepared))
    assert score.shape == (len(prepared.keys),)
    assert np.isfinite(score).all()
    assert score.std() > 0  # it ranks, not a constant
    m = ranking(score[prepared.test], prepared.y[prepared.test])
    assert all(0.0 <= v <= 1.0 for v in m.values() if np.isfinite(v))


def test_registry_covers_every_seed_method():
    from experiments.baselines import METHODS

    names = {(m.name, m.setting) for m in METHODS}
    for expected in [("gnn", "supervised"), ("gnn", "unsupervised"), ("cnn1d_seq", "supervised"),
                     ("lstm_iforest", "unsupervised"), ("lstm_lof", "unsupervised"),
                     ("mlp", "supervised"), ("autoencoder", "unsupervised"),
                     ("cnn_rnn_hybrid", "supervised"), ("isolation_forest", "unsupervised"),
                     ("lof", "unsupervised"), ("gbt", "supervised"),
                     ("gbt_neighbours", "supervised"), ("component_score", "unsupervised"),
                     ("hybrid", "supervised"), ("gbt_context", "supervised"),
                     ("best_single_feature", "supervised")]:
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
    assert m["precision_at_1pct"] == pytest.approx(1.0)  # at least one alert: the top row
    assert m["recall_at_1pct"] == pytest.approx(0.5)
    assert np.isnan(ranking(score, np.zeros(4))["auprc"])


def test_metrics_agree_with_scikit_learn():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.05).astype(int)
    score = np.round(rng.random(2000) + 0.4 * y, 2)  # ties on purpose
    m = ranking(score, y)
    assert m["auprc"] == pytest.approx(average_precision_score(y, score))
    assert m["auroc"] == pytest.approx(roc_auc_score(y, score))


def test_rings_match_one_to_one_at_jaccard_half():
    rings = {"a": np.array([0, 1, 2, 3]), "b": np.array([4, 5, 6]), "small": np.array([7, 8])}
    within = np.ones(10, bool)
    # a: {0,1,2} vs ring a -> J = 3/4 (match); {0,1} competes for ring a too, loses (one to
    # one); b split into singletons -> no match; "small" has < 3 members: not counted
    groups = [{0, 1, 2}, {0, 1}, {4}, {5, 9}]
    m = match_rings(groups, rings, within)
    assert m["rings"] == 2 and m["groups"] == 4
    assert m["ring_recall"] == pytest.approx(0.5)
    assert m["ring_precision"] == pytest.approx(0.25)
    assert m["ring_f1"] == pytest.approx(2 * 0.25 * 0.5 / 0.75)
    assert np.isnan(match_rings([], {}, within)["ring_recall"])


def test_paired_bootstrap_brackets_a_real_difference():
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.05).astype(int)
    good = y + rng.normal(0, 0.5, 3000)
    bad = y + rng.normal(0, 2.0, 3000)
    point, lo, hi = paired_bootstrap([(good, bad, y, 0)], reps=200)
    assert lo <= point <= hi and lo > 0
    _, lo0, hi0 = paired_bootstrap([(good, good, y, 0)], reps=50)
    assert lo0 == hi0 == 0


def test_quality_rows_replace_same_key(tmp_path):
    from experiments.quality import merge_rows

    path = tmp_path / "q.csv"
    row = {"dataset": "hard-5k-g101", "target": "User", "method": "gbt",
           "setting": "supervised", "seed": 0, "auprc": "0.5"}
    merge_rows([row, row | {"seed": 1}], path)
    merge_rows([row | {"auprc": "0.7"}], path)
    q = pd.read_csv(path)
    assert len(q) == 2
    assert q.loc[q["seed"] == 0, "auprc"].item() == pytest.approx(0.7)


def _merge_many(path: str, worker: int) -> None:
    from experiments.result_files import merge_rows

    for seed in range(20):
        merge_rows([{"dataset": f"d{worker}", "target": "User", "method": "gbt",
                     "setting": "supervised", "seed": seed, "auprc": "0.5"}], Path(path))


def test_concurrent_jobs_lose_no_rows(tmp_path):
    """Two processes merging into one CSV at once (``quality --jobs 2``) keep every row."""
    import multiprocessing

    path = tmp_path / "q.csv"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_merge_many, args=(str(path), w)) for w in (0, 1)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    q = pd.read_csv(path)
    assert len(q) == 40 and q.groupby("dataset").size().to_dict() == {"d0": 20, "d1": 20}


def test_report_tables_headline_and_flag_saturation():
    from experiments.report_quality import headline, summary, table

    rows = []
    for seed, (g, b, c) in enumerate([(0.8, 0.7, 0.95), (0.9, 0.7, 0.95)]):
        for method, setting, v in (("hybrid", "supervised", g), ("gbt_neighbours", "supervised", b),
                                   ("component_score", "unsupervised", c),
                                   ("best_single_feature", "supervised", 0.2)):
            rows.append({"dataset": "hard-5k-g101", "target": "User", "method": method,
                         "setting": setting, "seed": seed, "auprc": v, "auroc": v,
                         "recall_at_k": v, "seconds": 1.0})
    q = pd.DataFrame(rows)
    q["family"] = "hard-5k"
    s = summary(q)
    ci = pd.DataFrame([{"target": "User", "product": "hybrid", "baseline": "gbt_neighbours",
                        "pairs": 2, "diff": 0.15, "ci_low": 0.05, "ci_high": 0.25}])
    text = headline(s, ci)
    assert "+0.150" in text and "[+0.050, +0.250]" in text and "| met |" in text
    assert "0.950" in text  # the sanity row beside the headline
    assert "Saturated" in table(s, "hard-5k", "User")


def test_tree_settings_diagnosis_measures_each_setting_on_val_and_test(prepared):
    from experiments.diagnose_trees import SETTINGS, settings_rows

    y = np.nan_to_num(prepared.y, nan=0.0).astype(int)
    rows = settings_rows(prepared, prepared.x, y)
    assert [r["trees"] for r in rows] == [s[0] for s in SETTINGS for _ in (0, 1)]
    assert all(0.0 <= r["test_auprc"] <= 1.0 and 0.0 <= r["val_auprc"] <= 1.0 for r in rows)
    assert rows[0]["test_pos"] == int(y[prepared.test].sum()) > 0
