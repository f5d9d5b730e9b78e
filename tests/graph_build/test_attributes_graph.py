"""The users' own attributes: declared in a mapping, validated, stored as attr_* and exported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graph_build import attributes
from graph_build.build import build, check_input
from graph_build.errors import MappingError, ValidationError
from graph_build.export import export_frames

PEOPLE = (
    "pid,joined,Age,Sex,src,vip,first\n"
    "u1,2026-01-01T00:00:00Z,34,F,ads,yes,2025-12-01\n"
    "u2,2026-01-02T00:00:00Z,,M,organic,no,\n"
    "u3,2026-01-03T00:00:00Z,51.5,F,ads,1,2025-11-02T10:00:00Z\n"
)
BUYS = (
    "bid,pid,when,total,channel\n"
    "b1,u1,2026-01-04T00:00:00Z,9.5,web\n"
    "b2,u2,2026-01-05T00:00:00Z,19,app\n"
    "b3,u3,2026-01-06T00:00:00Z,5,web\n"
)
USERS_ATTRS = ("    attributes:\n"
               "      age: {kind: numeric, column: Age}\n"
               "      sex: {kind: categorical, column: Sex}\n"
               "      source: {kind: categorical, column: src}\n"
               "      is_vip: {kind: boolean, column: vip}\n"
               "      first_visit: {kind: time, column: first}\n")


def _mapping(users_attrs: str = USERS_ATTRS, orders_attrs: str = "{channel: categorical}"):
    return ("sources: {people: {file: people.csv}, buys: {file: buys.csv}}\n"
            "tables:\n"
            "  users:\n    from: people\n    columns: {user_id: pid, created_at: joined}\n"
            + users_attrs +
            "  orders:\n    from: buys\n"
            "    columns: {order_id: bid, user_id: pid, created_at: when, amount: total}\n"
            f"    attributes: {orders_attrs}\n")


def _folder(tmp_path: Path, people: str = PEOPLE, mapping: str | None = None) -> Path:
    (tmp_path / "people.csv").write_text(people)
    (tmp_path / "buys.csv").write_text(BUYS)
    (tmp_path / "m.yaml").write_text(mapping or _mapping())
    return tmp_path / "m.yaml"


@pytest.mark.parametrize("name, why", [
    ("Age", "not an identifier"), ("1st", "not an identifier"), ("a-b", "not an identifier"),
    ("x" * 42, "not an identifier"), ("country", "taken by the schema"),
    ("anomaly_score", "taken by the schema"), ("verdict", "taken by the schema"),
    ("reasons", "taken by the schema"), ("ingest_seq", "taken by the schema"),
])
def test_bad_names_are_located_errors(tmp_path, name, why):
    attrs = f"    attributes: {{'{name}': numeric}}\n"
    mapping = _folder(tmp_path, mapping=_mapping(attrs))
    with pytest.raises(MappingError, match=f"tables.users.attributes.*{why}"):
        check_input(tmp_path, mapping=mapping)


def test_bad_kind_and_non_node_table(tmp_path):
    mapping = _folder(tmp_path, mapping=_mapping("    attributes: {age: integer}\n"))
    with pytest.raises(MappingError, match="tables.users.attributes.age: unknown attribute kind"):
        check_input(tmp_path, mapping=mapping)
    text = _mapping() + ("  labels: {from: buys, columns: {entity: {value: order}, id: bid, "
                         "is_fraud: {value: 0}}, attributes: {x: numeric}}\n")
    mapping = _folder(tmp_path, mapping=text)
    with pytest.raises(MappingError, match="tables.labels.attributes: attributes go on node"):
        check_input(tmp_path, mapping=mapping)


@pytest.mark.parametrize("column, cell, why", [
    ("Age", "old", "attribute age (numeric): not a finite number"),
    ("Age", "inf", "attribute age (numeric): not a finite number"),
    ("vip", "maybe", "attribute is_vip (boolean): not a boolean"),
    ("first", "yesterday", "attribute first_visit (time): not a time"),
    ("first", "1850-01-01", "attribute first_visit (time): not a time"),
    ("Sex", "F\x00", "attribute sex (categorical): contains a control character"),
    ("Sex", "x" * 201, "attribute sex (categorical): longer than 200"),
])
def test_bad_values_are_located(tmp_path, column, cell, why):
    frame = pd.read_csv(pd.io.common.StringIO(PEOPLE), dtype=str, keep_default_na=False)
    frame.loc[1, column] = cell  # the second data row: line 3 of the file
    mapping = _folder(tmp_path, people=frame.to_csv(index=False))
    with pytest.raises(ValidationError) as err:
        check_input(tmp_path, mapping=mapping)
    # (The user's order then refers to a rejected user: a second problem, in buys.csv.)
    (problem,) = [p for p in err.value.problems if p.file.endswith("people.csv")]
    assert problem.row == 3, problem
    assert problem.column == {"Age": "age", "vip": "is_vip", "first": "first_visit",
                              "Sex": "sex"}[column]
    assert problem.why.startswith(why), problem.why


def test_typed_values(tmp_path):
    result, _ = check_input(tmp_path, mapping=_folder(tmp_path))
    users = result.tables["users"].set_index("user_id")
    assert users["attr_age"].tolist()[0] == 34.0 and pd.isna(users.loc["u2", "attr_age"])
    assert users["attr_is_vip"].tolist() == [True, False, True]
    assert users.loc["u1", "attr_first_visit"] == pd.Timestamp("2025-12-01", tz="UTC").value \
        // 1_000_000
    assert users["attr_sex"].tolist() == ["F", "M", "F"]
    assert result.attributes == {
        "User": {"age": "numeric", "sex": "categorical", "source": "categorical",
                 "is_vip": "boolean", "first_visit": "time"},
        "Order": {"channel": "categorical"}}


def test_undeclared_column_says_how_to_declare_it(tmp_path):
    (tmp_path / "users.csv").write_text("user_id,created_at,age\nu1,2026-01-01T00:00:00Z,3\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,user_id,created_at,amount\no1,u1,2026-01-02T00:00:00Z,3\n")
    with pytest.raises(ValidationError, match="declare it as an attribute"):
        check_input(tmp_path)
    (tmp_path / attributes.FOLDER_FILE).write_text("users: {age: numeric}\n")
    result, _ = check_input(tmp_path)  # canonical tables: attributes.yaml declares it
    assert result.tables["users"]["attr_age"].tolist() == [3.0]


def test_declared_but_missing_column_in_canonical_tables(tmp_path):
    (tmp_path / "users.csv").write_text("user_id,created_at\nu1,2026-01-01T00:00:00Z\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,user_id,created_at,amount\no1,u1,2026-01-02T00:00:00Z,3\n")
    (tmp_path / attributes.FOLDER_FILE).write_text("users: {age: numeric}\n")
    with pytest.raises(ValidationError, match="declared numeric attribute is missing"):
        check_input(tmp_path)


def test_build_and_export_round_trip(tmp_path, empty_store):
    """Users + orders only (no products, no events): attributes reach the graph and back."""
    mapping = _folder(tmp_path)
    report = build(tmp_path, empty_store, mapping=mapping, log=lambda _m: None)
    assert report.rows_rejected == 0 and set(report.nodes) == {"User", "Order"}
    stored = empty_store.read("MATCH (u:User {user_id: 'u1'}) RETURN u.attr_age AS age, "
                              "u.attr_is_vip AS vip, u.attr_sex AS sex")
    assert stored == [{"age": 34.0, "vip": True, "sex": "F"}]
    frames = export_frames(empty_store)
    assert frames.attributes == {
        "User": {"age": "numeric", "first_visit": "time", "is_vip": "boolean",
                 "sex": "categorical", "source": "categorical"},
        "Order": {"channel": "categorical"}}
    users = frames.nodes["User"].set_index("user_id").sort_index()
    assert users["attr_age"].dtype == "Float64" and users["attr_is_vip"].dtype == "boolean"
    assert users["attr_first_visit"].dtype == "Int64"
    assert users["attr_age"].tolist()[::2] == [34.0, 51.5] and pd.isna(users.loc["u2",
                                                                                 "attr_age"])
    assert users["attr_is_vip"].tolist() == [True, False, True]
    assert users["attr_source"].tolist() == ["ads", "organic", "ads"]
    orders = frames.nodes["Order"].set_index("order_id").sort_index()
    assert orders["attr_channel"].tolist() == ["web", "app", "web"]
    # As of a time, attributes follow their nodes' cut.
    early = export_frames(empty_store, as_of=frames.nodes["User"]["created_at"].min())
    assert early.nodes["User"]["attr_sex"].tolist() == ["F"]
    # A rebuild changes nothing.
    build(tmp_path, empty_store, mapping=mapping, log=lambda _m: None)
    again = export_frames(empty_store).nodes["User"].set_index("user_id").sort_index()
    pd.testing.assert_frame_equal(again, users)


def test_a_later_build_cannot_change_a_kind(tmp_path, empty_store):
    build(tmp_path, empty_store, mapping=_folder(tmp_path), log=lambda _m: None)
    before = export_frames(empty_store).nodes["User"]
    changed = _mapping(USERS_ATTRS.replace("sex: {kind: categorical", "sex: {kind: numeric"))
    (tmp_path / "m.yaml").write_text(changed.replace("Sex}", "Age}"))
    with pytest.raises(MappingError, match="User.sex is numeric here but categorical"):
        build(tmp_path, empty_store, mapping=tmp_path / "m.yaml", log=lambda _m: None)
    pd.testing.assert_frame_equal(export_frames(empty_store).nodes["User"], before)


def test_declaration_read_from_a_tampered_store_is_checked():
    with pytest.raises(MappingError, match="not an identifier"):
        attributes.from_json('{"User": {"x) RETURN 1 //": "numeric"}}')
    with pytest.raises(MappingError, match="names 'Nope'"):
        attributes.from_json('{"Nope": {"x": "numeric"}}')
    assert attributes.from_json(attributes.to_json({"User": {"age": "numeric"}})) == {
        "User": {"age": "numeric"}}
