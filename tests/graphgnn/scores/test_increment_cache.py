"""The incremental export: cache + uncut delta equal a fresh export as of the latest event."""

from __future__ import annotations

import pandas as pd

from graph_build import schema
from graph_build.export import export_frames
from graph_build.frames import GraphFrames


def _touch(store, rows: list[tuple[str, int]]) -> None:
    """Each (user, time): a new device used by that user at that time, as one ingest."""
    from graph_build.ingest import begin_ingest, finish_ingest

    seq = begin_ingest(store)
    store.write_rows(
        "UNWIND $rows AS row MATCH (u:User {user_id: row.u}) "
        "MERGE (d:Device {device_id: row.d}) SET d.first_seen = row.t, d.ingest_seq = $seq "
        "MERGE (u)-[r:USED_DEVICE]->(d) SET r.first_seen = row.t, r.last_seen = row.t, "
        "r.count = 1, r.times = [row.t], r.ingest_seq = $seq",
        [{"u": u, "d": f"cache-test-{u}", "t": t} for u, t in rows], params={"seq": seq})
    finish_ingest(store, seq)


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    # Missing is missing (None from a merge, NaN from a read): the features read both as NA.
    frame = frame.astype({c: str for c in by}).sort_values(by).reset_index(drop=True)
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)[sorted(frame.columns)]


def _assert_same_graph(a: GraphFrames, b: GraphFrames) -> None:
    for label in schema.NODES:
        key = schema.node(label).key
        pd.testing.assert_frame_equal(_sorted(a.nodes[label], [key]),
                                      _sorted(b.nodes[label], [key]), check_dtype=False)
    for rel_type in schema.RELATIONSHIPS:
        pd.testing.assert_frame_equal(_sorted(a.rels[rel_type], ["src", "dst"]),
                                      _sorted(b.rels[rel_type], ["src", "dst"]),
                                      check_dtype=False)


def test_cache_and_delta_are_the_store_as_of_its_latest_event(store):
    from graphgnn.scores import cache
    from graphgnn.scores.ingest import ingest_position, latest_event_time

    t0 = latest_event_time(store)
    position = ingest_position(store)
    cache.save(store, export_frames(store, as_of=t0), position)
    users = sorted(r["k"] for r in store.read("MATCH (u:User) RETURN u.user_id AS k"))
    # One event after the last as-of (the as-of moves) and one late row (a day before it).
    _touch(store, [(users[0], t0 + 60_000), (users[1], t0 - 86_400_000)])

    export = cache.export_latest(store, position, t0)
    latest = latest_event_time(store)
    assert latest == t0 + 60_000
    assert export is not None and export.from_cache and export.frames.as_of == latest
    _assert_same_graph(export.frames, export_frames(store, as_of=latest))
    keys = set(export.delta.nodes["Device"]["device_id"].astype(str))
    assert {f"cache-test-{users[0]}", f"cache-test-{users[1]}"} <= keys  # the late row too
    unchanged = export.unchanged_files()
    assert "nodes-Order" in unchanged and "nodes-Device" not in unchanged
    assert "rels-USED_DEVICE" not in unchanged

    # Saved with the unchanged files linked, the cache reads back as the merged graph.
    cache.save(store, export.frames, position + 1, unchanged)
    again = cache.load(store, position + 1, latest)
    assert again is not None and again.as_of == latest
    _assert_same_graph(again, export.frames)


def test_no_incremental_export_without_a_matching_cache(store):
    from graphgnn.scores import cache
    from graphgnn.scores.ingest import ingest_position, latest_event_time

    t0 = latest_event_time(store)
    position = ingest_position(store)
    cache.save(store, export_frames(store, as_of=t0 - 1), position)  # another run's as-of
    assert cache.export_latest(store, position, t0) is None
    assert cache.export_latest(store, position + 5, t0 - 1) is None  # another position
