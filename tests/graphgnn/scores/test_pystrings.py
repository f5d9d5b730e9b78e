"""Scoring on Python-backed strings gives bit-for-bit the features and scores of Arrow ones."""

from __future__ import annotations

import numpy as np

from graph_build import read_frames, schema


def test_python_string_frames_keep_values(generated_dir):
    from graphgnn.scores.pystrings import PYTHON_STR, with_python_strings

    frames = read_frames(generated_dir)
    converted = with_python_strings(frames)
    for label, frame in frames.nodes.items():
        key = schema.node(label).key
        assert converted.nodes[label][key].dtype == PYTHON_STR
        assert converted.nodes[label][key].tolist() == frame[key].tolist()
    assert converted.as_of == frames.as_of and converted.attributes == frames.attributes


def test_session_on_python_strings_is_bit_identical(generated_dir, trained_ckpt):
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.pystrings import python_strings, with_python_strings

    scorer = load_scorer(trained_ckpt)
    frames = read_frames(generated_dir)
    arrow = scorer.session(frames)
    with python_strings():
        python = scorer.session(with_python_strings(frames))
        python_scores = python.scores()
    arrow_scores = arrow.scores()
    for label, table in arrow.fs.tables.items():
        key = schema.node(label).key
        other = python.fs.tables[label]
        assert other[key].tolist() == table[key].tolist()
        assert np.array_equal(other.drop(columns=key).to_numpy(),
                              table.drop(columns=key).to_numpy()), label
    for label, frame in arrow_scores.items():
        assert np.array_equal(python_scores[label]["anomaly_score"].to_numpy(),
                              frame["anomaly_score"].to_numpy()), label
        assert len(frame) > 0
