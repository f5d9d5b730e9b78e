"""The mapping layer: the real IEEE-CIS slice, and clear errors for broken mappings."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_build.errors import MappingError
from graph_build.build import build, check_input
from graph_build.layouts import apply_mapping
from graph_build.stats import graph_stats

ROOT = Path(__file__).resolve().parents[2]
IEEE = ROOT.parent / "shared" / "data" / "ieee_cis_subset"
MAPPING = ROOT / "configs" / "mappings" / "ieee_cis.yaml"
needs_ieee = pytest.mark.skipif(not IEEE.is_dir(), reason=f"{IEEE} is absent (shared data)")


@needs_ieee
def test_ieee_cis_builds_a_graph(empty_store):
    report = build(IEEE, empty_store, mapping=MAPPING, log=lambda _m: None)
    assert report.rows_rejected == 0
    stats = graph_stats(empty_store)
    assert stats["nodes"]["Order"] == 5000
    assert stats["nodes"]["User"] == stats["nodes"]["PaymentMethod"] > 100  # one card = one user
    assert 0 < stats["relationships"]["FROM_DEVICE"] < 5000  # only some rows join identity
    fraud = empty_store.read("MATCH (o:Order) WHERE o.verdict = 'fraud' RETURN count(o) AS n")
    assert fraud[0]["n"] == 109
    # Float-coded identifiers became clean keys.
    rows = empty_store.read("MATCH (a:Address) RETURN a.address_id AS id LIMIT 3")
    assert all(r["id"].startswith("addr-") and "." not in r["id"] for r in rows)


@needs_ieee
def test_ieee_cis_is_stable_on_rebuild(empty_store):
    build(IEEE, empty_store, mapping=MAPPING, log=lambda _m: None)
    first = graph_stats(empty_store)
    build(IEEE, empty_store, mapping=MAPPING, log=lambda _m: None)
    assert graph_stats(empty_store) == first


def test_mapping_errors_are_clear(tmp_path):
    (tmp_path / "t.csv").write_text("id,when\n1,2026-01-01\n")
    bad = tmp_path / "m.yaml"
    bad.write_text("sources: {t: {file: t.csv}}\ntables:\n  users:\n    from: t\n"
                   "    columns: {user_id: nope}\n")
    with pytest.raises(MappingError, match=r"tables.users.columns.user_id: source has no column"):
        apply_mapping(bad, tmp_path)
    bad.write_text("sources: {t: {file: t.csv}}\n"
                   "tables:\n  customers: {from: t, columns: {a: id}}\n")
    with pytest.raises(MappingError, match="not a canonical table"):
        apply_mapping(bad, tmp_path)
    bad.write_text("sources: [")
    with pytest.raises(MappingError, match="not valid YAML"):
        apply_mapping(bad, tmp_path)


def test_explicit_time_format_and_problems_point_at_the_source(tmp_path):
    (tmp_path / "people.csv").write_text("pid,joined\n7,03/02/2026 10:30\n8,31/31/2026 10:30\n")
    (tmp_path / "buys.csv").write_text("bid,pid,when,total\nb1,7,04/02/2026 11:00,9.5\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "sources: {people: {file: people.csv}, buys: {file: buys.csv}}\n"
        "tables:\n"
        "  users: {from: people, columns: {user_id: pid, created_at: {column: joined, "
        "format: '%d/%m/%Y %H:%M'}}}\n"
        "  products: {from: buys, columns: {product_id: {value: generic}}, "
        "distinct: [product_id]}\n"
        "  orders: {from: buys, columns: {order_id: bid, user_id: pid, created_at: {column: when, "
        "format: '%d/%m/%Y %H:%M'}, amount: total}}\n"
        "  events: {from: buys, columns: {user_id: pid, ts: {column: when, "
        "format: '%d/%m/%Y %H:%M'}, event_type: {value: checkout}}}\n")
    from graph_build.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        check_input(tmp_path, mapping=mapping)
    (problem,) = err.value.problems
    assert problem.file.endswith("people.csv") and problem.row == 3
    assert problem.column == "created_at" and problem.value == "31/31/2026 10:30"


@pytest.mark.parametrize("file", ["/etc/passwd", "../outside.csv", "sub/../../outside.csv"])
def test_mapping_sources_stay_inside_the_data_folder(tmp_path, file):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "outside.csv").write_text("user_id,created_at\nsecret,2026-01-01\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(f"sources: {{t: {{file: '{file}'}}}}\n"
                       "tables:\n  users: {from: t, columns: {user_id: user_id}}\n")
    with pytest.raises(MappingError, match="outside the data folder") as err:
        apply_mapping(mapping, data)
    assert "secret" not in str(err.value) and "root:" not in str(err.value)


def test_mapping_sources_outside_when_allowed_explicitly(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "outside.csv").write_text("user_id,created_at\nu1,2026-01-01\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("sources: {t: {file: ../outside.csv}}\n"
                       "tables:\n  users: {from: t, columns: {user_id: user_id}}\n")
    tables = apply_mapping(mapping, data, allow_outside=True)
    assert tables["users"].frame["user_id"].tolist() == ["u1"]
