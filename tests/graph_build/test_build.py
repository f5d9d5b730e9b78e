"""Building the generated graph into a real embedded store: idempotent, incremental, exact."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from graph_build import schema
from graph_build.errors import ValidationError
from graph_build.export import export_frames
from graph_build.to_graph import tables_to_frames
from graph_build.build import build, check_input
from graph_build.stats import graph_stats
from graphgnn.cli import main as cli_main


def _quiet(_msg: str) -> None:
    pass


def test_build_matches_the_tables(built_store, generated_dir):
    """Every label and type has exactly the rows the mapper derives from the tables."""
    result, _ = check_input(generated_dir)
    expected = tables_to_frames(result.tables).summary()
    stats = graph_stats(built_store)
    assert stats["nodes"] == expected["nodes"]
    assert stats["relationships"] == expected["relationships"]
    assert stats["nodes"]["User"] > 0 and stats["relationships"]["USED_DEVICE"] > 0
    assert stats["scored"] == {label: 0 for label in schema.SCORED_LABELS}
    assert stats["rings"] == 0 and stats["runs"] == []


def test_id_range_export_equals_skip_paging(built_store, monkeypatch):
    """The embedded store's id-range export returns what SKIP/LIMIT paging (Neo4j's) does."""
    by_id = export_frames(built_store, page_size=2000)
    monkeypatch.setattr(built_store, "kind", "neo4j")  # the generic statements, same server
    paged = export_frames(built_store, page_size=2000)
    for label, frame in by_id.nodes.items():
        key = schema.node(label).key
        pd.testing.assert_frame_equal(frame.sort_values(key).reset_index(drop=True),
                                      paged.nodes[label].sort_values(key).reset_index(drop=True))
    for rel_type, frame in by_id.rels.items():
        order = ["src", "dst"]
        pd.testing.assert_frame_equal(
            frame.sort_values(order).reset_index(drop=True),
            paged.rels[rel_type].sort_values(order).reset_index(drop=True))
    assert sum(len(f) for f in by_id.rels.values()) > 10_000


def test_export_round_trips_the_mapped_graph(built_store, generated_dir):
    """Export reads back exactly what was mapped: keys, times, aggregated edge counters."""
    result, _ = check_input(generated_dir)
    mapped = tables_to_frames(result.tables)
    exported = export_frames(built_store, page_size=3000)  # several pages per label
    for label in ("User", "Device", "Order"):
        key = schema.node(label).key
        left = mapped.nodes[label].sort_values(key).reset_index(drop=True)
        right = exported.nodes[label].sort_values(key).reset_index(drop=True)
        assert left[key].tolist() == right[key].tolist()
        time_col = schema.node(label).time
        assert left[time_col].astype("int64").tolist() == right[time_col].astype("int64").tolist()
    used = ["src", "dst", "first_seen", "last_seen", "count"]
    left = mapped.rels["USED_DEVICE"][used].sort_values(["src", "dst"]).reset_index(drop=True)
    right = exported.rels["USED_DEVICE"][used].sort_values(["src", "dst"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(left.astype("int64", errors="ignore"),
                                  right.astype("int64", errors="ignore"), check_dtype=False)


def test_export_as_of_keeps_only_the_past(built_store):
    everything = export_frames(built_store, labels=["User", "Order"], rel_types=["PLACED"])
    cut = int(everything.nodes["Order"]["created_at"].median())
    past = export_frames(built_store, as_of=cut, labels=["User", "Order"], rel_types=["PLACED"])
    assert 0 < len(past.nodes["Order"]) < len(everything.nodes["Order"])
    assert past.nodes["Order"]["created_at"].max() <= cut
    assert past.nodes["User"]["created_at"].max() <= cut
    assert past.rels["PLACED"]["created_at"].max() <= cut


def test_rebuild_changes_nothing(empty_store, generated_dir):
    build(generated_dir, empty_store, log=_quiet)
    first = graph_stats(empty_store)
    before = export_frames(empty_store, labels=["Device"], rel_types=["USED_IP"])
    build(generated_dir, empty_store, log=_quiet)
    assert graph_stats(empty_store) == first
    after = export_frames(empty_store, labels=["Device"], rel_types=["USED_IP"])
    key = ["src", "dst"]
    pd.testing.assert_frame_equal(
        before.rels["USED_IP"].sort_values(key).reset_index(drop=True),
        after.rels["USED_IP"].sort_values(key).reset_index(drop=True))


def test_incremental_build_adds_only_new_rows(empty_store, data_copy):
    """Load the first half of events and orders, then the whole: counts equal a full load."""
    events = pd.read_csv(data_copy / "events.csv", dtype=str)
    orders = pd.read_csv(data_copy / "orders.csv", dtype=str)
    items = pd.read_csv(data_copy / "order_items.csv", dtype=str)
    events = events.sort_values("ts")
    cut = events["ts"].iloc[len(events) // 2]
    early = data_copy.parent / "early"
    early.mkdir()
    for name in ("users", "devices", "products", "addresses", "payments"):
        (early / f"{name}.csv").write_bytes((data_copy / f"{name}.csv").read_bytes())
    events[events["ts"] <= cut].to_csv(early / "events.csv", index=False)
    early_orders = orders[orders["created_at"] <= cut]
    early_orders.to_csv(early / "orders.csv", index=False)
    items[items["order_id"].isin(early_orders["order_id"])].to_csv(
        early / "order_items.csv", index=False)

    build(early, empty_store, log=_quiet)
    partial = graph_stats(empty_store)
    build(data_copy, empty_store, log=_quiet)
    incremental = export_frames(empty_store, labels=["Device"], rel_types=["USED_DEVICE"])

    result, _ = check_input(data_copy)
    full = tables_to_frames(result.tables)
    assert graph_stats(empty_store)["nodes"] == full.summary()["nodes"]
    assert partial["nodes"]["Order"] < full.node_count("Order")
    cols = ["src", "dst", "first_seen", "last_seen", "count"]
    want = full.rels["USED_DEVICE"][cols].sort_values(["src", "dst"]).reset_index(drop=True)
    got = incremental.rels["USED_DEVICE"][cols].sort_values(["src", "dst"]).reset_index(drop=True)
    assert (want.to_numpy() == got.to_numpy()).all(), "edge counters differ after incremental load"
    devices = incremental.nodes["Device"].set_index("device_id")["first_seen"]
    wanted = full.nodes["Device"].set_index("device_id")["first_seen"]
    assert (devices.sort_index().astype("int64") == wanted.sort_index().astype("int64")).all()


def test_corrupted_orders_are_rejected_and_the_graph_is_unchanged(built_store, data_copy,
                                                                 tmp_path, capsys):
    before = graph_stats(built_store)
    lines = (data_copy / "orders.csv").read_text().splitlines()
    fields = lines[5].split(",")
    fields[3] = "-12.5"  # amount
    lines[5] = ",".join(fields)
    fields = lines[9].split(",")
    fields[2] = "2026-13-45T99:00:00Z"  # created_at
    lines[9] = ",".join(fields)
    fields = lines[12].split(",")
    fields[1] = "u_nobody"  # user_id
    lines[12] = ",".join(fields)
    (data_copy / "orders.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError) as err:
        build(data_copy, built_store, log=_quiet)
    message = str(err.value)
    assert "orders.csv:6 column 'amount'" in message
    assert "orders.csv:10 column 'created_at'" in message
    assert "orders.csv:13 column 'user_id'" in message
    rejects = pd.read_csv(data_copy / "rejects.csv")
    in_orders = rejects[rejects["file"].str.endswith("orders.csv")
                        & ~rejects["file"].str.endswith("order_items.csv")]
    assert set(in_orders["row"]) == {6, 10, 13}
    # Items of the rejected orders are listed too, as consequences.
    items = rejects[rejects["file"].str.endswith("order_items.csv")]
    assert (items["why"].str.contains("rejected")).all()
    assert json.loads(in_orders.loc[in_orders["row"] == 6, "raw_row"].iloc[0])["amount"] == "-12.5"
    assert graph_stats(built_store) == before

    # The same through the command line: one clear line, a hint, a non-zero exit.
    code = cli_main(["build", "--data", str(data_copy), "--store", "embedded"])
    err_text = capsys.readouterr().err
    assert code != 0 and "problem(s) in the input" in err_text and "hint:" in err_text
    assert "Traceback" not in err_text


def test_lenient_loads_good_rows_and_counts_the_rest(empty_store, data_copy):
    lines = (data_copy / "orders.csv").read_text().splitlines()
    fields = lines[3].split(",")
    bad_order = fields[0]
    fields[3] = "lots"
    lines[3] = ",".join(fields)
    (data_copy / "orders.csv").write_text("\n".join(lines) + "\n")
    report = build(data_copy, empty_store, lenient=True, log=_quiet)
    items = pd.read_csv(data_copy / "order_items.csv", dtype=str)
    dependent_items = int((items["order_id"] == bad_order).sum())
    # The bad order and the items that point at it are both rejected.
    assert report.rows_rejected == 1 + dependent_items
    rows = empty_store.read("MATCH (o:Order {order_id: $id}) RETURN o.order_id AS id",
                            {"id": bad_order})
    assert rows == []


def test_delta_export_merged_equals_full_export(built_store):
    from graph_build.export import merge_frames

    everything = export_frames(built_store)
    cut = int(everything.nodes["Order"]["created_at"].median())
    later = int(everything.nodes["Order"]["created_at"].max())
    merged = merge_frames(export_frames(built_store, as_of=cut),
                          export_frames(built_store, as_of=later, since=cut))
    full = export_frames(built_store, as_of=later)
    for label, frame in full.nodes.items():
        key = schema.node(label).key
        assert sorted(merged.nodes[label][key]) == sorted(frame[key]), label
    for rel_type, frame in full.rels.items():
        got = merged.rels[rel_type][["src", "dst"]].sort_values(["src", "dst"]).to_numpy()
        want = frame[["src", "dst"]].sort_values(["src", "dst"]).to_numpy()
        assert (got == want).all(), rel_type
