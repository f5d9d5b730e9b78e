"""The built-in generator: shape, integrity, determinism, formats and *hardness*.

The hardness test is the important one: no single tabular column (nor a per-user aggregate of
the user's own orders) may find the fraudsters (AUPRC <= 0.5), while relational features
(users sharing a device / address / card) clearly do. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from graph_build.generate import (
    HARD_RING_TYPES,
    RING_TYPES,
    GeneratedSummary,
    add_generate_arguments,
    generate,
    run_generate,
)
from graph_build.schema import TABLES

TABLE_NAMES = ("users", "devices", "products", "addresses", "payments", "events", "orders",
               "order_items")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    """A canonical CSV with text columns as text (postcodes and BINs are not numbers)."""
    spec = TABLES[name]
    dtypes = {c.name: str for c in spec.columns if c.type in ("str", "time")}
    return pd.read_csv(path / f"{name}.csv", dtype=dtypes)


def _load(path: Path) -> dict[str, pd.DataFrame]:
    frames = {n: _read_csv(path, n) for n in TABLE_NAMES}
    for n in ("users", "orders", "rings"):
        frames[f"truth_{n}"] = pd.read_csv(path / "truth" / f"{n}.csv", dtype={"ring_id": str})
    return frames


@dataclass
class Generated:
    path: Path
    summary: GeneratedSummary
    frames: dict[str, pd.DataFrame]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The default size (5,000 users), generated once for the module."""
    out = tmp_path_factory.mktemp("gen5k")
    messages: list[str] = []
    summary = generate(out, users=5000, seed=0, progress=messages.append)
    assert messages and messages[-1] == "done"
    return Generated(out, summary, _load(out))


def test_determinism(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, users=1000, seed=7)
    generate(b, users=1000, seed=7)
    generate(c, users=1000, seed=8)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == len(TABLE_NAMES) + 4 + 1  # tables, truth/*, generator.json
    assert not any(p.suffix == ".tmp" for p in files)
    for rel in files:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    assert not filecmp.cmp(a / "users.csv", c / "users.csv", shallow=False)
    assert not filecmp.cmp(a / "events.csv", c / "events.csv", shallow=False)


def test_columns_keys_and_foreign_keys(data: Generated) -> None:
    for name in TABLE_NAMES:
        frame = data[name]
        assert tuple(frame.columns) == TABLES[name].column_names, name
        assert len(frame) > 0, name
        key = list(TABLES[name].key)
        if key:
            assert not frame.duplicated(key).any(), name
        for col in TABLES[name].columns:
            if col.required:
                assert frame[col.name].notna().all(), (name, col.name)
    keys = {n: set(data[n][TABLES[n].key[0]]) for n in ("users", "devices", "products",
                                                      "addresses", "payments")}
    keys["orders"] = set(data["orders"]["order_id"])
    keys["ips"] = set(data["events"]["ip"])
    ev, orders, items = data["events"], data["orders"], data["order_items"]
    assert set(ev["user_id"]) <= keys["users"]
    assert set(ev["device_id"]) <= keys["devices"]
    assert set(orders["user_id"]) <= keys["users"]
    assert set(orders["device_id"]) <= keys["devices"]
    assert set(orders["ip"]) <= keys["ips"]
    assert set(orders["address_id"].dropna()) <= keys["addresses"]
    assert set(orders["payment_id"].dropna()) <= keys["payments"]
    assert set(items["order_id"]) == keys["orders"]
    assert set(items["product_id"]) <= keys["products"]
    # Every device in the devices table is seen in the events.
    assert set(ev["device_id"]) == keys["devices"]


def test_values(data: Generated) -> None:
    users, orders, items, ev = data["users"], data["orders"], data["order_items"], data["events"]
    assert users["user_id"].str.fullmatch(r"u\d{7}").all()
    assert orders["order_id"].str.fullmatch(r"o\d{7}").all()
    assert data["payments"]["payment_id"].str.startswith("pm").all()
    assert data["payments"]["bin"].dropna().str.fullmatch(r"\d{6}").all()
    assert set(data["payments"]["kind"]) == {"card", "wallet", "bank"}
    assert ev["ip"].str.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}").all()
    assert set(ev["event_type"]) == {"login", "session", "add_to_cart", "checkout",
                                     "password_reset", "profile_update"}
    assert set(orders["status"]) == {"completed", "cancelled", "refunded"}
    for frame, col in ((users, "created_at"), (orders, "created_at"), (ev, "ts")):
        assert frame[col].str.match(ISO).all(), col
    start, end = pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-04-01", tz="UTC")
    for col in (pd.to_datetime(orders["created_at"]), pd.to_datetime(ev["ts"])):
        assert col.min() >= start and col.max() < end
    # Older accounts exist, and nobody acts before signing up.
    created = pd.to_datetime(users.set_index("user_id")["created_at"])
    assert (created < start).mean() > 0.3
    first = pd.to_datetime(ev["ts"]).groupby(ev["user_id"]).min()
    assert (first >= created.loc[first.index]).all()
    # amount = sum(price * quantity) of the order's lines.
    line = (items["price"] * items["quantity"]).groupby(items["order_id"]).sum()
    np.testing.assert_allclose(orders.set_index("order_id")["amount"], line.loc[orders["order_id"]],
                               atol=0.006)
    # Legit-looking shape: most users have 1-2 devices, orders have 1-4 lines.
    per_user = ev.groupby("user_id")["device_id"].nunique()
    assert per_user.median() <= 2
    assert items.groupby("order_id").size().max() <= 4


def test_rings_and_truth(data: Generated) -> None:
    tu, to, rings = data["truth_users"], data["truth_orders"], data["truth_rings"]
    # The first columns are what readers rely on; later ones were added.
    assert list(tu.columns) == ["user_id", "is_fraud", "ring_id", "ring_type", "fraud_type",
                                "labeled_fraud", "labeled_at"]
    assert list(to.columns) == ["order_id", "is_fraud", "ring_id", "fraud_type",
                                "labeled_fraud", "labeled_at"]
    assert list(rings.columns) == ["ring_id", "ring_type", "size", "start_ms", "end_ms", "link",
                                   "basket", "active_at_end"]
    assert set(tu["user_id"]) == set(data["users"]["user_id"])
    assert set(to["order_id"]) == set(data["orders"]["order_id"])
    assert rings["size"].between(3, 50).all()
    assert set(rings["ring_type"]) == set(RING_TYPES)
    share = tu["is_fraud"].mean()
    assert 0.02 <= share <= 0.08
    assert (tu["is_fraud"] == 1).eq(tu["ring_id"].notna()).all()
    members = tu.dropna(subset=["ring_id"]).groupby("ring_id").size()
    assert members.to_dict() == rings.set_index("ring_id")["size"].to_dict()
    assert (rings["start_ms"] <= rings["end_ms"]).all()
    # A fraud order is placed by a member of the same ring; members' pre-takeover orders are not
    # fraud (account takeover victims have a legit history).
    orders = data["orders"].merge(to, on="order_id").merge(
        tu[["user_id", "ring_id", "ring_type"]], on="user_id", suffixes=("", "_user"))
    fraud = orders[orders["is_fraud"] == 1]
    assert (fraud["ring_id"] == fraud["ring_id_user"]).all()
    ato = orders[orders["ring_type"] == "account_takeover"]
    assert (ato["is_fraud"] == 0).any() and (ato["is_fraud"] == 1).any()
    assert data.summary.fraud_orders == len(fraud)
    assert data.summary.as_dict()["fraud_users"] == int(tu["is_fraud"].sum())
    meta = json.loads((data.path / "generator.json").read_text())
    assert meta["users"] == 5000 and meta["seed"] == 0 and meta["days"] == 90
    assert meta["start"] == "2026-01-01T00:00:00.000Z"
    assert meta["counts"]["orders"] == len(data["orders"])


def test_default_mode_unchanged(data: Generated) -> None:
    """The demo's default mode: the same tables, byte for byte, as before the package split
    and the hard mode (the demo and tests rely on its rings being visible in a minute).
    Change these numbers only on purpose."""
    assert data.summary.counts == {"users": 5000, "devices": 6865, "products": 300,
                                   "addresses": 6274, "payments": 7119, "events": 89635,
                                   "orders": 11351, "order_items": 15176}
    assert (data.summary.rings, data.summary.fraud_users, data.summary.fraud_orders) == (
        36, 216, 646)
    assert data.summary.ring_types == {"device_farm": 8, "proxy_ring": 7, "promo_abuse": 7,
                                       "card_testing": 7, "account_takeover": 7}
    assert not data.summary.hard and data.summary.lone_fraud_users == 0
    digest = hashlib.sha256((data.path / "orders.csv").read_bytes()).hexdigest()
    assert digest == "fce2e68b9f235c386087d16c4299fd33f1e38c43dd72afd5bbe036bc4897a04e"
    digest = hashlib.sha256((data.path / "events.csv").read_bytes()).hexdigest()
    assert digest == "6556c27c637130a6ab46cc7045e4909d774631ce7e5c0e0d10292a6818a65bef"


def test_labels_are_dated(data: Generated) -> None:
    """truth/ and the labels table say when each label became known (epoch ms)."""
    tu, to = data["truth_users"], data["truth_orders"]
    # Default mode: every fraud is reported, nobody innocent, about a week later.
    assert (tu["labeled_fraud"] == tu["is_fraud"]).all()
    assert (to["labeled_fraud"] == to["is_fraud"]).all()
    assert tu.loc[tu["is_fraud"] == 1, "labeled_at"].notna().all()
    assert tu.loc[tu["is_fraud"] == 0, "labeled_at"].isna().all()
    assert (tu["fraud_type"].fillna("") == tu["ring_type"].fillna("")).all()
    orders = data["orders"].merge(to, on="order_id")
    fraud = orders[orders["is_fraud"] == 1]
    delay = (fraud["labeled_at"] - _ms(fraud["created_at"])) / 86_400_000
    assert (delay > 0).all() and 4 <= delay.median() <= 12
    first = _ms(fraud["created_at"]).min()
    assert tu["labeled_at"].min() > first
    # The labels table (canonical columns): what was known by the end of the window.
    labels = pd.read_csv(data.path / "truth" / "labels.csv", dtype=str)
    assert tuple(labels.columns) == TABLES["labels"].column_names
    assert set(labels["entity"]) == {"user", "order"} and (labels["is_fraud"] == "true").all()
    meta = json.loads((data.path / "generator.json").read_text())
    assert labels["labeled_at"].astype("int64").max() <= meta["end_ms"]
    users = labels[labels["entity"] == "user"]
    known = tu[tu["labeled_at"] <= meta["end_ms"]]
    assert set(users["id"]) == set(known["user_id"])
    assert set(labels.loc[labels["entity"] == "order", "id"]) <= set(fraud["order_id"])
    assert meta["labelled_users"] == len(users)


def test_hard_mode_determinism_and_days(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    sa = generate(a, users=2000, seed=5, days=60, hard=True)
    generate(b, users=2000, seed=5, days=60, hard=True)
    for rel in sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file()):
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    assert sa.hard and sa.lone_fraud_users >= sa.fraud_users / 2
    assert set(sa.ring_types) == set(HARD_RING_TYPES)
    with pytest.raises(ValueError, match="--hard needs --days"):
        generate(tmp_path / "c", users=2000, days=30, hard=True)


# --- hardness -----------------------------------------------------------------------------


def _auprc(y: np.ndarray, score: np.ndarray) -> float:
    """AUPRC of ``score`` as a fraud score in its better direction."""
    s = np.asarray(score, dtype=float)
    s = np.where(np.isnan(s), np.nanmedian(s), s)
    return max(average_precision_score(y, s), average_precision_score(y, -s))


def _target_encoded(col: pd.Series, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per-category fraud rate learned on the other half (2-fold, smoothed): honest."""
    fold = np.random.default_rng(seed).integers(0, 2, len(col))
    col, target, out = col.reset_index(drop=True), pd.Series(y), np.zeros(len(col))
    for f in (0, 1):
        train, prior = fold != f, y[fold != f].mean()
        g = target[train].groupby(col[train])
        rate = (g.sum() + 10 * prior) / (g.count() + 10)
        out[fold == f] = col[fold == f].map(rate).fillna(prior).to_numpy()
    return out


def _frequency(col: pd.Series) -> np.ndarray:
    col = col.fillna("<null>")
    return col.map(col.value_counts()).to_numpy()


def _ms(col: pd.Series) -> np.ndarray:
    return pd.to_datetime(col, utc=True).dt.as_unit("ms").astype("int64").to_numpy()


def _max_users_sharing(frame: pd.DataFrame, col: str, users: pd.Series) -> np.ndarray:
    """Per user: the most distinct users on any one of the user's ``col`` values."""
    pairs = frame[["user_id", col]].dropna().drop_duplicates()
    pairs = pairs.assign(n=pairs[col].map(pairs.groupby(col)["user_id"].nunique()))
    return pairs.groupby("user_id")["n"].max().reindex(users).fillna(0).to_numpy()


def test_hardness_single_columns_weak_relations_strong(data: Generated) -> None:
    users, orders, ev = data["users"], data["orders"], data["events"]
    y_u = data["truth_users"].set_index("user_id").loc[users["user_id"], "is_fraud"].to_numpy()
    y_o = data["truth_orders"].set_index("order_id").loc[orders["order_id"], "is_fraud"].to_numpy()
    uid = users["user_id"]
    single: dict[str, float] = {
        "users.user_id (number)": _auprc(y_u, uid.str[1:].astype(int)),
        "users.created_at": _auprc(y_u, _ms(users["created_at"])),
        "orders.order_id (number)": _auprc(y_o, orders["order_id"].str[1:].astype(int)),
        "orders.created_at": _auprc(y_o, _ms(orders["created_at"])),
        "orders.amount": _auprc(y_o, orders["amount"]),
        "orders.user_id (frequency)": _auprc(y_o, _frequency(orders["user_id"])),
    }
    for table, frame, y, col in (("users", users, y_u, "country"),
                                 ("users", users, y_u, "email_domain"),
                                 ("orders", orders, y_o, "status")):
        single[f"{table}.{col} (frequency)"] = _auprc(y, _frequency(frame[col]))
        single[f"{table}.{col} (target enc.)"] = _auprc(y, _target_encoded(frame[col], y))
    own = orders.assign(t=_ms(orders["created_at"])).groupby("user_id")
    first_order = own["t"].min().reindex(uid).to_numpy()
    signup_to_first = (first_order - _ms(users["created_at"])) / 3.6e6
    single |= {
        "user: own orders count": _auprc(y_u, own.size().reindex(uid).fillna(0)),
        "user: own orders mean amount": _auprc(y_u, own["amount"].mean().reindex(uid).fillna(0)),
        "user: own orders max amount": _auprc(y_u, own["amount"].max().reindex(uid).fillna(0)),
        "user: signup -> first order": _auprc(y_u, np.nan_to_num(signup_to_first, nan=1e6)),
        "user: distinct own devices": _auprc(
            y_u, ev.groupby("user_id")["device_id"].nunique().reindex(uid).fillna(0)),
    }
    # Reference columns of orders: their frequency is a degree, i.e. already relational.
    refs = {f"orders.{c} (frequency)": _auprc(y_o, _frequency(orders[c]))
            for c in ("device_id", "ip", "address_id", "payment_id")}
    share = {"device": _max_users_sharing(ev, "device_id", uid),
             "ip": _max_users_sharing(ev, "ip", uid),
             "address": _max_users_sharing(orders, "address_id", uid),
             "payment": _max_users_sharing(orders, "payment_id", uid)}
    relational = {f"user: max users per {k}": _auprc(y_u, v) for k, v in share.items()}
    combined = np.maximum.reduce([share["device"], share["address"], share["payment"]])
    relational["user: max users per device/address/payment"] = _auprc(y_u, combined)

    print(f"\nbase rate: users {y_u.mean():.4f}, orders {y_o.mean():.4f}")
    for title, table in (("single columns / own aggregates (must be <= 0.5)", single),
                         ("reference columns (relational, info only)", refs),
                         ("relational features", relational)):
        print(f"-- {title}")
        for name, value in table.items():
            print(f"   {name:48s} AUPRC {value:.3f}")
    best_single = max(single.values())
    best_relational = max(relational.values())
    print(f"best single {best_single:.3f}  best relational {best_relational:.3f}")
    too_easy = {k: v for k, v in single.items() if v > 0.5}
    assert not too_easy, f"a single column separates the fraud: {too_easy}"
    assert best_relational >= best_single + 0.15
    assert relational["user: max users per device"] > best_single
    assert relational["user: max users per device/address/payment"] >= 0.4


# --- formats and arguments ----------------------------------------------------------------


def test_parquet_round_trip(tmp_path: Path) -> None:
    generate(tmp_path / "csv", users=1000, seed=3)
    summary = generate(tmp_path / "pq", users=1000, seed=3, fmt="parquet")
    generate(tmp_path / "pq2", users=1000, seed=3, fmt="parquet")
    assert summary.counts["users"] == 1000
    for name in TABLE_NAMES:
        assert not (tmp_path / "pq" / f"{name}.csv").exists()
        from_pq = pd.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        from_csv = _read_csv(tmp_path / "csv", name)
        assert tuple(from_pq.columns) == TABLES[name].column_names
        assert filecmp.cmp(tmp_path / "pq" / f"{name}.parquet",
                           tmp_path / "pq2" / f"{name}.parquet", shallow=False)
        text = [c.name for c in TABLES[name].columns if c.type in ("str", "time")]
        pd.testing.assert_frame_equal(from_pq.astype({c: "string" for c in text}),
                                      from_csv.astype({c: "string" for c in text}))
    for name in ("users", "orders", "rings", "labels"):  # truth is always CSV
        assert filecmp.cmp(tmp_path / "csv" / "truth" / f"{name}.csv",
                           tmp_path / "pq" / "truth" / f"{name}.csv", shallow=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"users": 999}, "between 1,000 and 1,000,000"),
    ({"users": 1_000_001}, "between 1,000 and 1,000,000"),
    ({"days": 6}, "--days"),
    ({"fmt": "xlsx"}, "csv or parquet"),
    ({"seed": -1}, "--seed"),
])
def test_argument_validation(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path / "x", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_generate_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path / "g"), "--users", "1000", "--days", "30"])
    assert (args.seed, args.format) == (0, "csv")
    assert run_generate(args) == 0
    err = capsys.readouterr().err
    assert "1,000 users" in err and "rings" in err and err.count("\n") == 1
    assert (tmp_path / "g" / "users.csv").is_file()
    with pytest.raises(ValueError, match="between 1,000"):
        run_generate(parser.parse_args(["--out", str(tmp_path / "h"), "--users", "10"]))
    with pytest.raises(SystemExit):
        parser.parse_args(["--users", "1000"])  # --out is required
    args = parser.parse_args(["--out", str(tmp_path / "hard"), "--users", "1000", "--hard"])
    assert args.hard and run_generate(args) == 0
    assert "outside rings" in capsys.readouterr().err
    assert json.loads((tmp_path / "hard" / "generator.json").read_text())["hard"] is True
