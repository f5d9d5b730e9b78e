"""Reasons: one to five short sentences per flagged node that a person understands.

Two sources, shared entities first (they are what an investigator checks next):

- **shared entities with flagged neighbours** — "shares device d0000081 with 6 flagged users",
  "shipped to address a0000012 used by 4 flagged users", "used by 7 flagged users (of 9)";
- **feature deviations** — the scorer's normalised (z-scored) features with the largest
  deviation, "orders in last 24h 5.1σ above typical".

A node with nothing notable still gets one reason: its score's rank within its label.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames

MAX_REASONS = 5
MAX_SHARED = 3
MAX_FEATURES = 3
MIN_Z = 2.0
_WINDOW = re.compile(r"^\d+[mhdw]$")
_WORDS = {"n": "", "num": "", "cnt": "", "avg": "average", "std": "spread of", "pct": "share of",
          "ts": "time", "dt": "time between", "amt": "amount", "distinct": "distinct",
          "log": "", "per": "per", "ip": "IP", "ips": "IPs", "since": "since"}


def describe_feature(name: str) -> str:
    """A readable name for a feature column: ``orders_24h`` -> ``orders in last 24h``."""
    words, window = [], ""
    for token in name.split("_"):
        if _WINDOW.match(token):
            window = f"in last {token}"
            continue
        word = _WORDS.get(token.lower(), token)
        if word:
            words.append(word)
    return " ".join([*words, window]).strip() or name


def _feature_reasons(frame: pd.DataFrame, key: str, keys: set[str],
                     names: list[str] | None) -> dict[str, list[str]]:
    cols = [c for c in (names or frame.columns) if c in frame.columns
            and c not in (key, "anomaly_score") and pd.api.types.is_numeric_dtype(frame[c])]
    if not cols or not keys:
        return {}
    sub = frame[frame[key].astype(str).isin(keys)]
    z = np.nan_to_num(sub[cols].to_numpy(dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    order = np.argsort(-np.abs(z), axis=1)[:, :MAX_FEATURES]
    out: dict[str, list[str]] = {}
    for row_keys, zs, idx in zip(sub[key].astype(str), z, order, strict=True):
        lines = []
        for j in idx:
            if abs(zs[j]) < MIN_Z:
                break
            side = "above" if zs[j] > 0 else "below"
            lines.append(f"{describe_feature(cols[j])} {abs(zs[j]):.1f}σ {side} typical")
        out[row_keys] = lines
    return out


def _plural(kind: str, n: int) -> str:
    return f"{n} flagged {kind}{'' if n == 1 else 's'}"


def _user_shared(links: pd.DataFrame, flagged_users: set[str],
                 keys: set[str]) -> dict[str, list[str]]:
    """User -> "shares device X with N flagged users" for its most shared entities."""
    fl = links[links["user_id"].isin(flagged_users)]
    per_entity = fl.groupby(["kind", "entity"])["user_id"].nunique().rename("flagged")
    mine = links[links["user_id"].isin(keys)].join(per_entity, on=["kind", "entity"])
    mine = mine[mine["flagged"].fillna(0) >= 2]  # someone other than the user
    mine = mine.sort_values(["user_id", "flagged", "kind", "entity"],
                            ascending=[True, False, True, True])
    out: dict[str, list[str]] = {}
    for user, grp in mine.groupby("user_id", sort=False):
        out[user] = [f"shares {k} {e} with {_plural('user', int(n) - 1)}"
                     for k, e, n in grp[["kind", "entity", "flagged"]].head(MAX_SHARED)
                     .itertuples(index=False)]
    return out


def _order_shared(frames: GraphFrames, links: pd.DataFrame, flagged_users: set[str],
                  keys: set[str]) -> dict[str, list[str]]:
    """Order -> "shipped to address X used by N flagged users"."""
    verbs = {"SHIPPED_TO": ("shipped to address", "address"), "PAID_WITH": ("paid with card",
             "card"), "FROM_DEVICE": ("placed from device", "device"),
             "FROM_IP": ("placed from IP", "IP")}
    fl = links[links["user_id"].isin(flagged_users)]
    per_entity = fl.groupby(["kind", "entity"])["user_id"].nunique()
    out: dict[str, list[tuple[int, str]]] = {}
    for rel_type, (verb, kind) in verbs.items():
        f = frames.rels.get(rel_type)
        if f is None or not len(f):
            continue
        f = f[f["src"].astype(str).isin(keys)]
        for order, ent in zip(f["src"].astype(str), f["dst"].astype(str), strict=True):
            n = int(per_entity.get((kind, ent), 0))
            if n >= 2:
                out.setdefault(order, []).append((n, f"{verb} {ent} used by "
                                                     f"{_plural('user', n)}"))
    return {k: [t for _, t in sorted(v, key=lambda x: -x[0])[:MAX_SHARED]]
            for k, v in out.items()}


def _entity_shared(links: pd.DataFrame, flagged_users: set[str], kind: str,
                   keys: set[str]) -> dict[str, list[str]]:
    """Device/IP -> "used by N flagged users (of M)"."""
    sub = links[(links["kind"] == kind) & links["entity"].isin(keys)]
    total = sub.groupby("entity")["user_id"].nunique()
    flagged = sub[sub["user_id"].isin(flagged_users)].groupby("entity")["user_id"].nunique()
    return {e: [f"used by {_plural('user', int(n))} (of {int(total.get(e, n))})"]
            for e, n in flagged.items() if n >= 1}


def build_reasons(frames: GraphFrames, scores: dict[str, pd.DataFrame],
                  flagged: dict[str, set[str]],
                  feature_names: dict[str, list[str]] | None = None,
                  max_reasons: int = MAX_REASONS) -> dict[str, dict[str, list[str]]]:
    """Reasons for every flagged node.

    Args:
        frames: the exported graph the scores were computed on.
        scores: label -> scorer frame (key, ``anomaly_score``, z-scored feature columns).
        flagged: label -> keys flagged in this run.
        feature_names: label -> feature columns to consider (default: numeric columns).
        max_reasons: at most this many per node (at least one is always given).

    Returns:
        label -> key -> list of 1..``max_reasons`` strings.
    """
    from graphgnn.scores.rings import entity_links

    links = entity_links(frames)
    flagged_users = flagged.get("User", set())
    out: dict[str, dict[str, list[str]]] = {}
    for label, keys in flagged.items():
        if not keys or label not in scores:
            continue
        frame = scores[label]
        key = schema.node(label).key
        if label == "User":
            shared = _user_shared(links, flagged_users, keys)
        elif label == "Order":
            shared = _order_shared(frames, links, flagged_users, keys)
        elif label in ("Device", "IP"):
            shared = _entity_shared(links, flagged_users, "device" if label == "Device"
                                    else "IP", keys)
        else:
            shared = {}
        feats = _feature_reasons(frame, key, keys, (feature_names or {}).get(label))
        sub = frame[frame[key].astype(str).isin(keys)]
        ranks = sub["anomaly_score"].rank(ascending=False, method="min").to_numpy()
        total = len(frame)
        per: dict[str, list[str]] = {}
        for k, rank in zip(sub[key].astype(str), ranks, strict=True):
            lines = (shared.get(k, []) + feats.get(k, []))[:max_reasons]
            if not lines:
                lines = [f"score ranks {int(rank):,} of {total:,} {label} nodes"]
            per[k] = lines
        out[label] = per
    return out
