"""Mapping power: row filters, several specs per table, joins by IP range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graph_build.build import check_input
from graph_build.errors import MappingError, ValidationError
from graph_build.layouts import apply_mapping
from graph_build.layouts_expr import apply_filter, parse
from graph_build.layouts_join import as_integers

ROWS = pd.DataFrame({
    "Labels": ["0", "1", "2", "", "1"],
    "Amount": ["5", "12.5", "3", "7", "oops"],
    "Type": ["TP1", "TP2", "TP1", "TP3", "it's"],
    "odd col": ["a", None, "b", "c", "d"],
})


@pytest.mark.parametrize("text, kept", [
    ("Labels != 2", [0, 1, 4]),                 # a missing cell matches no comparison
    ("Labels in [0, 1]", [0, 1, 4]),
    ("Labels in [0, 1] and Amount > 4", [0, 1]),  # "oops" is not a number: no match
    ("Amount >= 5 and Amount <= 7", [0, 3]),
    ("Type == 'TP1'", [0, 2]),
    ("Type in ['TP2', \"it's\"]", [1, 4]),
    ("Type == 'it\\'s'", [4]),
    ("Type < 'TP2'", [0, 2]),
    ("`odd col` not null", [0, 2, 3, 4]),
    ("`odd col` is null", [1]),
    ("Labels is not null AND Labels == 1", [1, 4]),
    (["Labels != 2", "Amount < 10"], [0]),
])
def test_filters(text, kept):
    assert apply_filter(ROWS, text, "w").index.tolist() == kept


@pytest.mark.parametrize("text, why", [
    ("Labels = 2", "cannot read the filter"),
    ("Labels != 2 or Amount > 3", "expected 'and'"),
    ("Labels > Amount", "expected a number or a 'quoted' text"),
    ("Labels in [0, 'x']", "numbers or texts, not both"),
    ("Labels in [0, 1", "expected , or ]"),
    ("__import__('os') == 1", "cannot read the filter"),
    ("Type == TP1", "expected a number or a 'quoted' text"),
    ("", "a filter is text"),
    ("Nope == 1", "filter names column 'Nope'"),
])
def test_bad_filters_are_located_errors(text, why):
    with pytest.raises(MappingError, match=f"tables.x.where: .*{why}"):
        apply_filter(ROWS, text, "tables.x.where")


def test_parse_is_data_not_code():
    (cond,) = parse("a.b >= -1.5e3", "w")
    assert (cond.column, cond.op, cond.value) == ("a.b", ">=", -1500.0)


def test_ipv4_as_integers():
    values = pd.Series(["0.0.0.0", "10.0.0.1", "255.255.255.255", "256.1.1.1", "3232235777",
                        "1.2.3", "x", None])
    out = as_integers(values)
    assert out.tolist()[:3] == [0, 167772161, 4294967295]
    assert out.tolist()[4] == 3232235777
    assert out.isna().tolist() == [False, False, False, True, False, True, True, True]


def _write(tmp_path, **files: str):
    for name, text in files.items():
        (tmp_path / name).write_text(text)


RANGES = ("start_ip,end_ip,country\n"
          "10.0.0.0,10.0.0.255,DE\n"
          "1.0.0.0,1.255.255.255,AU\n"
          "3232235776,3232236031,FR\n")  # 192.168.1.0/24 as integers
SESSIONS = ("uid,ip,joined\n"
            "u1,10.0.0.7,2026-01-01T00:00:00Z\n"
            "u2,1.2.3.4,2026-01-01T00:00:00Z\n"
            "u3,192.168.1.9,2026-01-01T00:00:00Z\n"
            "u4,8.8.8.8,2026-01-01T00:00:00Z\n"
            "u5,,2026-01-01T00:00:00Z\n")


def _range_mapping(ranges: str = "geo") -> str:
    return ("sources: {s: {file: sessions.csv}, geo: {file: ranges.csv}}\n"
            "tables:\n  users:\n    from: s\n"
            f"    range_join: {{table: {ranges}, value: ip, start: start_ip, end: end_ip, "
            "take: {ip_country: country}}\n"
            "    columns: {user_id: uid, created_at: joined, country: ip_country}\n")


def test_range_join_ip_to_country(tmp_path):
    _write(tmp_path, **{"sessions.csv": SESSIONS, "ranges.csv": RANGES,
                        "m.yaml": _range_mapping()})
    users = apply_mapping(tmp_path / "m.yaml", tmp_path)["users"].frame
    assert users["country"].tolist()[:3] == ["DE", "AU", "FR"]
    assert users["country"].isna().tolist()[3:] == [True, True]


def test_range_join_matches_a_brute_force_search(tmp_path):
    """Random disjoint ranges and values: searchsorted agrees with checking every range."""
    rng = np.random.default_rng(3)
    edges = np.sort(rng.choice(2**32, size=400, replace=False))
    starts, ends = edges[0::2], edges[1::2]
    values = rng.integers(0, 2**32, size=2000)
    ranges = pd.DataFrame({"start_ip": starts, "end_ip": ends,
                           "country": [f"c{i}" for i in range(len(starts))]}).sample(
        frac=1, random_state=1)  # unsorted on disk
    ranges.to_csv(tmp_path / "ranges.csv", index=False)
    pd.DataFrame({"uid": [f"u{i}" for i in range(len(values))], "ip": values,
                  "joined": "2026-01-01T00:00:00Z"}).to_csv(tmp_path / "sessions.csv",
                                                            index=False)
    (tmp_path / "m.yaml").write_text(_range_mapping())
    got = apply_mapping(tmp_path / "m.yaml", tmp_path)["users"].frame["country"]
    inside = (values[:, None] >= starts[None, :]) & (values[:, None] <= ends[None, :])
    want = [f"c{row.argmax()}" if row.any() else None for row in inside]
    assert [None if pd.isna(v) else v for v in got] == want
    assert sum(w is not None for w in want) > 100  # the test covers hits and misses


def test_range_join_errors_are_located(tmp_path):
    _write(tmp_path, **{"sessions.csv": SESSIONS, "m.yaml": _range_mapping()})
    (tmp_path / "ranges.csv").write_text(RANGES + "10.0.0.128,10.0.1.0,XX\n")
    with pytest.raises(MappingError, match=r"ranges.csv:5: .*overlaps the one on line 2"):
        apply_mapping(tmp_path / "m.yaml", tmp_path)
    (tmp_path / "ranges.csv").write_text(RANGES + "10.9.0.9,nope,XX\n")
    with pytest.raises(MappingError, match=r"ranges.csv:5: .*start/end must be integers"):
        apply_mapping(tmp_path / "m.yaml", tmp_path)
    (tmp_path / "m.yaml").write_text(_range_mapping("nowhere"))
    with pytest.raises(MappingError, match="range_join.table: unknown source 'nowhere'"):
        apply_mapping(tmp_path / "m.yaml", tmp_path)


BUYERS = "bid,joined\nb1,2026-01-01T00:00:00Z\nb2,2026-01-02T00:00:00Z\nb2,2026-01-03T00:00:00Z\n"
SELLERS = "sid,since,tier\ns1,2026-01-01T00:00:00Z,gold\nb1,2026-01-05T00:00:00Z,silver\n"
SALES = ("oid,buyer,when,total,state\n"
         "o1,b1,2026-01-06T00:00:00Z,3,ok\n"
         "o2,b2,2026-01-06T00:00:00Z,4,void\n"
         "o3,s1,2026-01-07T00:00:00Z,5,ok\n")
SPECS = (
    "sources: {b: {file: buyers.csv}, s: {file: sellers.csv}, o: {file: sales.csv}}\n"
    "tables:\n"
    "  users:\n"
    "    - {from: b, columns: {user_id: bid, created_at: joined}, distinct: [user_id]}\n"
    "    - {from: s, columns: {user_id: sid, created_at: since}, distinct: [user_id],\n"
    "       attributes: {tier: categorical}}\n"
    "  orders:\n"
    "    from: o\n"
    "    where: \"state != 'void'\"\n"
    "    columns: {order_id: oid, user_id: buyer, created_at: when, amount: total}\n"
)


def test_several_specs_concatenate_and_dedupe(tmp_path):
    _write(tmp_path, **{"buyers.csv": BUYERS, "sellers.csv": SELLERS, "sales.csv": SALES,
                        "m.yaml": SPECS})
    result, _ = check_input(tmp_path, mapping=tmp_path / "m.yaml")
    users = result.tables["users"].set_index("user_id")
    # b1 is both a buyer and a seller: one user (the first spec's row), b2 once.
    assert sorted(users.index) == ["b1", "b2", "s1"]
    assert users.loc["s1", "attr_tier"] == "gold" and pd.isna(users.loc["b1", "attr_tier"])
    assert result.tables["orders"]["order_id"].tolist() == ["o1", "o3"]  # o2 filtered out
    assert result.attributes == {"User": {"tier": "categorical"}}


def test_problems_in_several_specs_name_their_own_file(tmp_path):
    sellers = SELLERS + "s2,not a time,gold\n"
    _write(tmp_path, **{"buyers.csv": BUYERS, "sellers.csv": sellers, "sales.csv": SALES,
                        "m.yaml": SPECS})
    with pytest.raises(ValidationError) as err:
        check_input(tmp_path, mapping=tmp_path / "m.yaml", rejects=tmp_path / "rejects.csv")
    (problem,) = err.value.problems
    assert problem.file.endswith("sellers.csv") and problem.row == 4
    assert problem.column == "created_at"
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert rejects["file"].str.endswith("sellers.csv").all()
    assert '"user_id": "s2"' in rejects["raw_row"].iloc[0]


def test_spec_mistakes_are_located(tmp_path):
    _write(tmp_path, **{"buyers.csv": BUYERS, "sellers.csv": SELLERS, "sales.csv": SALES})
    (tmp_path / "m.yaml").write_text(SPECS.replace("distinct: [user_id],\n",
                                                   "distinct: [user_id], wher: x,\n"))
    with pytest.raises(MappingError, match=r"tables.users\[1\]: unknown keys \['wher'\]"):
        apply_mapping(tmp_path / "m.yaml", tmp_path)
    (tmp_path / "m.yaml").write_text(SPECS.replace("tier: categorical", "tier: colour"))
    with pytest.raises(MappingError, match=r"tables.users\[1\].attributes.tier: unknown "):
        check_input(tmp_path, mapping=tmp_path / "m.yaml")
