"""Real data through the shipped mappings: S-FFSD and the timed IEEE-CIS slice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graph_build.build import build
from graph_build.export import export_frames
from graph_build.stats import graph_stats

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SFFSD = DATA / "s_ffsd"
IEEE_TIMED = DATA / "ieee_cis_timed"
MAPPINGS = ROOT / "configs" / "mappings"
needs_sffsd = pytest.mark.skipif(not SFFSD.is_dir(), reason=f"{SFFSD} is absent (shared data)")
needs_ieee = pytest.mark.skipif(not IEEE_TIMED.is_dir(),
                                reason=f"{IEEE_TIMED} is absent (shared data)")
MINUTE_MS = 60_000
ORIGIN_MS = int(pd.Timestamp("2020-01-01T00:00:00Z").value // 1_000_000)


def _check_sffsd(store, source: pd.DataFrame) -> None:
    stats = graph_stats(store)
    assert stats["nodes"]["Order"] == len(source)
    assert stats["nodes"]["User"] == source["Source"].nunique()
    assert stats["nodes"]["Product"] == source["Target"].nunique()
    assert stats["nodes"]["Address"] == source["Location"].nunique()
    assert stats["relationships"]["SHIPPED_TO"] == stats["relationships"]["CONTAINS"] \
        == len(source)
    frames = export_frames(store)
    assert frames.attributes == {"Order": {"type": "categorical"}}
    orders = frames.nodes["Order"].set_index("order_id")
    want = source.assign(order_id="tx-" + source["Time"].astype(str)).set_index("order_id")
    orders = orders.loc[want.index]
    assert (orders["attr_type"].astype(str) == want["Type"]).all()
    assert (orders["created_at"] == ORIGIN_MS + want["Time"] * MINUTE_MS).all()
    assert (orders["amount"].astype(float) - want["Amount"]).abs().max() < 1e-9
    verdicts = store.read("MATCH (o:Order) WHERE o.verdict IS NOT NULL "
                          "RETURN o.verdict AS v, count(o) AS n")
    counts = {r["v"]: r["n"] for r in verdicts}
    assert counts == {"fraud": int((source["Labels"] == 1).sum()),
                      "legit": int((source["Labels"] == 0).sum())}  # 2 = unlabelled: none


@needs_sffsd
def test_sffsd_first_rows_build(tmp_path, empty_store):
    source = pd.read_csv(SFFSD / "S-FFSD.csv", nrows=2000)
    source.to_csv(tmp_path / "S-FFSD.csv", index=False)
    report = build(tmp_path, empty_store, mapping=MAPPINGS / "s_ffsd.yaml", log=lambda _m: None)
    assert report.rows_rejected == 0
    _check_sffsd(empty_store, source)


@needs_sffsd
@pytest.mark.slow
def test_sffsd_full_build(empty_store, tmp_path):
    report = build(SFFSD, empty_store, mapping=MAPPINGS / "s_ffsd.yaml", log=lambda _m: None,
                   rejects=tmp_path / "rejects.csv")
    assert report.rows_rejected == 0
    _check_sffsd(empty_store, pd.read_csv(SFFSD / "S-FFSD.csv"))


@needs_ieee
def test_ieee_cis_timed_builds_with_real_time(empty_store, tmp_path):
    report = build(IEEE_TIMED, empty_store, mapping=MAPPINGS / "ieee_cis_timed.yaml",
                   log=lambda _m: None, rejects=tmp_path / "rejects.csv")
    assert report.rows_rejected == 0
    tx = pd.read_csv(IEEE_TIMED / "transactions.csv")
    frames = export_frames(empty_store)
    orders = frames.nodes["Order"].set_index("order_id").loc[tx["TransactionID"].astype(str)]
    origin = int(pd.Timestamp("2017-12-01T00:00:00Z").value // 1_000_000)
    assert (orders["created_at"].to_numpy() == origin + tx["TransactionDT"].to_numpy() * 1000
            ).all()
    assert frames.attributes == {
        "Order": {"c1": "numeric", "c3": "numeric", "d1": "numeric", "d3": "numeric"},
        "PaymentMethod": {"card_type": "categorical"},
        "Device": {"os_version": "categorical"}}
    assert orders["attr_d3"].isna().sum() == tx["D3"].isna().sum()
    assert (orders["attr_c1"].astype(float).to_numpy() == tx["C1"].to_numpy()).all()
    cards = frames.nodes["PaymentMethod"]["attr_card_type"]
    assert set(cards.dropna()) == {"debit", "credit"}
    # A user is created at its card's first transaction, never after one of its orders.
    users = frames.nodes["User"].set_index("user_id")["created_at"]
    placed = frames.rels["PLACED"]
    assert (users.loc[placed["src"]].to_numpy() <= placed["created_at"].to_numpy()).all()
    fraud = empty_store.read("MATCH (o:Order) WHERE o.verdict = 'fraud' RETURN count(o) AS n")
    assert fraud[0]["n"] == int(tx["isFraud"].sum())
