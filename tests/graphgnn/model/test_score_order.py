"""The same graph scores the same whatever order its rows come in (stores and subgraphs differ)."""

from __future__ import annotations

from graph_build import read_frames
from graph_build.frames import GraphFrames
from graphgnn import Detector


def test_scores_do_not_depend_on_row_order(generated_dir, trained_ckpt):
    frames = read_frames(generated_dir)
    shuffled = GraphFrames(
        nodes={k: v.sample(frac=1, random_state=1).reset_index(drop=True)
               for k, v in frames.nodes.items()},
        rels={k: v.sample(frac=1, random_state=2).reset_index(drop=True)
              for k, v in frames.rels.items()},
        as_of=frames.as_of, attributes=frames.attributes)
    det = Detector.load(trained_ckpt)
    a = det.score(frames).set_index(["label", "key"]).anomaly_score
    b = det.score(shuffled).set_index(["label", "key"]).anomaly_score.reindex(a.index)
    assert (a - b).abs().max() < 1e-6
