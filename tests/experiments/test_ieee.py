"""experiments.ieee on the real IEEE-CIS slices (skipped when ../shared/data is absent)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from experiments import ieee_timed as timed
from experiments import ieee_unlabelled as unlabelled
from experiments.ieee_unlabelled_report import agreement, hub_table, size_distribution

needs_timed = pytest.mark.skipif(not timed.DATA.is_dir(),
                                 reason=f"IEEE-CIS timed slice not found at {timed.DATA}")
ROWS = 800  # the first ~4 hours: 13 frauds, 5 of them in the last fifth


@pytest.fixture(scope="module")
def slice_dir(tmp_path_factory):
    return timed.capped(ROWS, timed.DATA, tmp_path_factory.mktemp("ieee"))


@pytest.fixture(scope="module")
def prepared(slice_dir):
    return timed.prepare_timed(slice_dir, name="ieee-test")


@needs_timed
def test_labels_are_dated_by_the_maturity_and_test_is_judged_on_isfraud(slice_dir, prepared):
    order, user = prepared
    tx = pd.read_csv(slice_dir / "transactions.csv")
    assert len(tx) == ROWS
    t1 = order.meta["t1"]
    created = order.tables["orders"].set_index("order_id")["created_at"].astype("int64")
    maturity = int(timed.MATURITY_HOURS * timed.HOUR_MS)
    # a training order has a label only when it was known by T1: created + maturity <= T1
    train = order.train & ~np.isnan(order.y)
    assert train.sum() > 0
    assert bool((created.reindex(order.keys[train]).to_numpy() + maturity <= t1).all())
    recent = created[(created > t1 - maturity) & (created <= t1)].index
    assert len(recent) and not set(order.keys[order.train]) & set(recent)
    # test orders: the final isFraud of the file
    truth = tx.set_index(tx["TransactionID"].astype(str))["isFraud"]
    np.testing.assert_array_equal(order.y[order.test], truth.reindex(order.keys[order.test]))
    assert np.nansum(order.y[order.test]) > 0
    # test users (cards): fraud when any of its transactions is
    card = tx.assign(user="card-" + tx["card1"].astype(str)).groupby("user")["isFraud"].max()
    np.testing.assert_array_equal(user.y[user.test], card.reindex(user.keys[user.test]))
    assert user.test.sum() > 0 and order.test.sum() > 0


@needs_timed
def test_timed_rows_go_into_the_quality_table(tmp_path, slice_dir):
    out = tmp_path / "quality.csv"
    rows, ci = timed.run_timed([0], ["gbt", "component_score", "best_single_feature"],
                               rows=ROWS, out=out, name="ieee-test", pr=False,
                               cap_dir=tmp_path / "cap")
    with open(out, newline="") as f:
        written = list(csv.DictReader(f))
    assert {(r["target"], r["method"]) for r in written} >= {("Order", "gbt"),
                                                             ("Order", "component_score")}
    assert all(r["dataset"] == "ieee-test" for r in written)
    for r in written:
        assert 0.0 <= float(r["auprc"]) <= 1.0 and 0.0 <= float(r["auroc"]) <= 1.0
    assert "| Order | gbt (super) | 1 |" in timed.table(rows)
    assert all(r["baseline"] == "gbt" for r in ci)  # the only non-sanity supervised method


def test_ring_summary_names_the_entities_members_share():
    links = pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u1", "u2", "u9", "u4", "u5", "u6"],
        "kind": ["device"] * 3 + ["IP"] * 2 + ["device"] + ["device"] * 3,
        "entity": ["d1", "d1", "d1", "i1", "i1", "d1", "d2", "d2", "d2"],
        "t": [0] * 9})
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(1, 10)],
                          "email_domain": ["a.com"] * 4 + ["b.com"] * 5})
    rings = [{"ring_id": "r1", "size": 3, "score": 0.5, "first_seen": 0, "last_seen": 1,
              "members": ["u1", "u2", "u3"], "shared": ["device d1 (3)"]},
             {"ring_id": "r2", "size": 3, "score": 0.4, "first_seen": 0, "last_seen": 1,
              "members": ["u4", "u5", "u6"], "shared": ["device d2 (3)"]}]
    table = unlabelled.ring_rows(rings, links, users)
    r1 = table.set_index("ring_id").loc["r1"]
    assert r1["top_device"] == "d1 (3/4)" and r1["top_IP"] == "i1 (2/2)"
    assert r1["top_email_domain"] == "a.com (3/4)"
    hubs = hub_table(links, table)
    assert "| d1 | device | 1 | 3 | 4 |" in hubs and "| d2 | device | 1 | 3 | 3 |" in hubs
    assert "| rings | 2 | 0 |" in size_distribution(table["size"].to_numpy())
    gnn = pd.Series(np.arange(9.0), index=users["user_id"])
    ag = agreement(gnn, gnn * 2, rings, pct=50.0)
    assert ag["rho"] == pytest.approx(1.0) and ag["overlap"] == 1.0 and ag["members"] == 6


@pytest.mark.slow
@pytest.mark.skipif(not unlabelled.DATA.is_dir(), reason=f"no slice at {unlabelled.DATA}")
def test_unlabelled_run_writes_rings_summary_and_picture(tmp_path):
    f = unlabelled.run_unlabelled(rows=3000, epochs=1, work=tmp_path / "work",
                                  results=tmp_path / "results")
    assert (tmp_path / "results" / "ieee_unlabelled.md").read_text().startswith("# IEEE-CIS")
    assert (tmp_path / "results" / "ieee_unlabelled_rings.csv").is_file()
    assert f["users"] > 0 and len(f["gnn"]) == len(f["iforest"]) == f["users"]
    assert ((f["gnn"] >= 0) & (f["gnn"] <= 1)).all()
