"""GraphFrames saved as Parquet + JSON: exact round trip, and no code runs from a crafted file."""

from __future__ import annotations

import pickle

import pandas as pd

from graph_build.export import export_frames
from graph_build.frames_io import MANIFEST, load_frames, save_frames


def test_round_trip_is_exact(built_store, tmp_path):
    frames = export_frames(built_store)
    frames.as_of = 1_767_225_600_000
    save_frames(frames, tmp_path / "f")
    back = load_frames(tmp_path / "f")
    assert back.as_of == frames.as_of
    assert set(back.nodes) == set(frames.nodes) and set(back.rels) == set(frames.rels)
    for label, frame in frames.nodes.items():
        pd.testing.assert_frame_equal(back.nodes[label], frame.reset_index(drop=True))
    for t, frame in frames.rels.items():
        pd.testing.assert_frame_equal(back.rels[t], frame.reset_index(drop=True))
    assert all((p.stat().st_mode & 0o077) == 0 for p in (tmp_path / "f").iterdir())


class _Boom:
    def __reduce__(self):
        return (exec, ("open('/tmp/fraudring-pwned', 'w').write('x')",))


def test_a_crafted_cache_runs_no_code(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / MANIFEST).write_bytes(pickle.dumps(_Boom()))
    (folder / "nodes-User.parquet").write_bytes(pickle.dumps(_Boom()))
    assert load_frames(folder) is None
    import os

    assert not os.path.exists("/tmp/fraudring-pwned")
