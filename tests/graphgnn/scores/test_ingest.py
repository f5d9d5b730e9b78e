"""Change tracking by ingestion: exact edge aggregates in any chunk order, ingest positions."""

from __future__ import annotations

import random
import shutil

import pandas as pd

from graph_build import schema


def _quiet(_msg: str) -> None:
    pass


def _aggregates(store) -> dict[str, list[tuple]]:
    out = {}
    for rel_type, spec in schema.RELATIONSHIPS.items():
        if not spec.aggregated:
            continue
        rows = store.read(
            f"MATCH (a:{spec.source})-[r:{rel_type}]->(b:{spec.target}) "
            f"RETURN a.{schema.node(spec.source).key} AS s, b.{schema.node(spec.target).key} "
            "AS d, r.count AS c, r.first_seen AS f, r.last_seen AS l")
        out[rel_type] = sorted((r["s"], r["d"], r["c"], r["f"], r["l"]) for r in rows)
    out["first_seen"] = sorted(
        (label, r["k"], r["f"]) for label in ("Device", "IP")
        for r in store.read(f"MATCH (n:{label}) RETURN n.{schema.node(label).key} AS k, "
                            "n.first_seen AS f"))
    return out


def test_random_chunk_orders_give_the_graph_of_one_clean_build(generated_dir, tmp_path):
    from graph_build.build import build
    from graph_build.stores.falkor import FalkorStore

    clean = FalkorStore(home=tmp_path / "clean")
    chunked = FalkorStore(home=tmp_path / "chunked")
    try:
        build(generated_dir, clean, log=_quiet)
        want = _aggregates(clean)
        events = pd.read_csv(generated_dir / "events.csv", dtype=str)
        # Rows arrive in random order and random chunks; one chunk arrives twice (a re-run).
        rng = random.Random(11)
        shuffled = events.sample(frac=1.0, random_state=3).reset_index(drop=True)
        cuts = sorted(rng.sample(range(1, len(shuffled)), 3))
        chunks = [shuffled.iloc[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)],
                                                     strict=True)]
        chunks.append(chunks[1])
        seqs = []
        for i, chunk in enumerate(chunks):
            part = tmp_path / f"part{i}"
            shutil.copytree(generated_dir, part)
            chunk.to_csv(part / "events.csv", index=False)
            seqs.append(build(part, chunked, log=_quiet).ingest_seq)
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # monotonic positions
        got = _aggregates(chunked)
        for what in want:
            assert got[what] == want[what], what
    finally:
        for s in (clean, chunked):
            s.close()
            s.server.stop()


def test_ingest_position_and_changed_rows(store, data_copy):
    from graph_build.build import build
    from graph_build.export import export_frames

    from graphgnn.scores.ingest import ingest_position, latest_event_time

    first = ingest_position(store)
    assert first == 1
    # The same input again changes nothing: no row carries the new position.
    again = build(data_copy, store, log=_quiet).ingest_seq
    assert ingest_position(store) == again == 2
    delta = export_frames(store, changed_after=first)
    assert sum(map(len, delta.nodes.values())) + sum(map(len, delta.rels.values())) == 0
    # A late user (created long before the latest event) is a change all the same.
    users = pd.read_csv(data_copy / "users.csv", dtype=str)
    late = users.iloc[:1].copy()
    late["user_id"] = "late-user-1"
    late["created_at"] = users["created_at"].min()
    late.to_csv(data_copy / "users.csv", mode="a", header=False, index=False)
    build(data_copy, store, log=_quiet)
    delta = export_frames(store, changed_after=again)
    assert delta.nodes["User"]["user_id"].tolist() == ["late-user-1"]
    latest = latest_event_time(store)
    orders = store.read("MATCH (o:Order) RETURN max(o.created_at) AS t")[0]["t"]
    assert latest >= orders
