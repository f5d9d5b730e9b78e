"""Reasons: one to five short sentences per flagged node that a person understands.

Two sources, shared entities first (they are what an investigator checks next):

- **shared entities with flagged neighbours** — "shares device d0000081 with 6 flagged users",
  "shipped to address a0000012 used by 4 flagged users", "used by 7 flagged users (of 9)";
- **feature deviations** — the scorer's normalised (z-scored) features with the largest
  deviation, "orders in last 24h 5.1σ above typical". "Typical" is this run's population at its
  own as-of: the scorer normalises with statistics fitted at training time, so a graph scored
  later (or a clock-dependent feature such as an age) shifts every node alike; each feature is
  re-centred on the run's median and scaled by its spread (robust z), and a deviation almost
  every node shares is no reason for any of them.

Besides the flagged nodes, callers may pass ``explain`` — more keys to explain, e.g. the ring
candidates above the ring percentile, so that every ring member carries reasons. Shared-entity
reasons then count the other *suspects* (flagged or explained) too, always naming the entity.

Callers with a differentiable model may pass ``attributions`` (gradient × input of the GNN
score, :func:`graphgnn.model.explain.attribute`): "model: high orders in last 24h (+0.41)" and
"model: driven by Device d0000042 and User u0000123" follow the shared-entity reasons.

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
#: Re-centre features on the run's own population only when there is one (online scoring
#: passes a small neighbourhood, whose median is not "typical").
MIN_POPULATION = 50
#: Entities with more users say nothing (carrier NAT IPs, office gateways): as in rings.py.
MAX_ENTITY_USERS = 100
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
    full = np.nan_to_num(frame[cols].to_numpy(dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    mask = frame[key].astype(str).isin(keys).to_numpy()
    sub = frame[mask]
    z = full[mask]
    if len(frame) >= MIN_POPULATION:
        z = _relative_to_run(full, z)
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


def _relative_to_run(full: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``z`` re-expressed against the run's population ``full`` (robust z per column)."""
    median = np.median(full, axis=0)
    spread = 1.4826 * np.median(np.abs(full - median), axis=0)
    std = full.std(axis=0)
    # A column constant for most nodes has no MAD: fall back to its standard deviation.
    spread = np.where(spread > 1e-9, spread, np.where(std > 1e-9, std, 1.0))
    out = (z - median) / spread
    # A deviation (nearly) every node shares explains none of them.
    common = (np.abs((full - median) / spread) >= MIN_Z).mean(axis=0) >= 0.5
    out[:, common] = 0.0
    return out


def _plural(kind: str, n: int) -> str:
    return f"{n} flagged {kind}{'' if n == 1 else 's'}"


def _user_shared(links: pd.DataFrame, flagged_users: set[str], keys: set[str],
                 suspects: set[str] | None = None) -> dict[str, list[str]]:
    """User -> "shares card X with N flagged users" for its most shared entities.

    Others are counted among the flagged users and, when given, the other ``suspects``
    (users explained beside the flagged ones: "… and 2 other high-scoring users").
    """
    suspects = (suspects or set()) | flagged_users
    total = links.groupby(["kind", "entity"])["user_id"].transform("nunique")
    links = links[total <= MAX_ENTITY_USERS]
    sus = links[links["user_id"].isin(suspects)][["kind", "entity", "user_id"]]
    mine = links[links["user_id"].isin(keys)][["kind", "entity", "user_id"]]
    pairs = mine.merge(sus, on=["kind", "entity"], suffixes=("", "_other"))
    pairs = pairs[pairs["user_id"] != pairs["user_id_other"]]
    if pairs.empty:
        return {}
    pairs = pairs.assign(flagged=pairs["user_id_other"].isin(flagged_users))
    grouped = pairs.groupby(["user_id", "kind", "entity"], sort=False)
    counts = grouped.agg(others=("user_id_other", "nunique"),
                         flagged=("flagged", "sum")).reset_index()
    counts = counts.sort_values(["user_id", "others", "flagged", "kind", "entity"],
                                ascending=[True, False, False, True, True])
    out: dict[str, list[str]] = {}
    for user, grp in counts.groupby("user_id", sort=False):
        lines = []
        for k, e, others, flagged in grp[["kind", "entity", "others", "flagged"]].head(
                MAX_SHARED).itertuples(index=False):
            rest = int(others) - int(flagged)
            if flagged:
                text = f"shares {k} {e} with {_plural('user', int(flagged))}"
                if rest:
                    text += f" and {rest} other high-scoring user{'' if rest == 1 else 's'}"
            else:
                text = f"shares {k} {e} with {rest} high-scoring user{'' if rest == 1 else 's'}"
            lines.append(text)
        out[str(user)] = lines
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


def _model_reasons(attr: dict | None) -> list[str]:
    """The sentences of one node's attribution (features that moved its score, neighbours)."""
    if not attr:
        return []
    lines = []
    feats = [f"{'high' if z > 0 else 'low'} {describe_feature(name)} ({c:+.2g})"
             for name, c, z in attr.get("features", []) if c != 0]
    if feats:
        lines.append("model: " + ", ".join(feats))
    # Only neighbours that raised the score "drove" it.
    near = [f"{label} {key}" for label, key, c in attr.get("neighbours", []) if c > 0]
    if near:
        lines.append("model: driven by " + " and ".join(near))
    return lines


def build_reasons(frames: GraphFrames, scores: dict[str, pd.DataFrame],
                  flagged: dict[str, set[str]],
                  feature_names: dict[str, list[str]] | None = None,
                  max_reasons: int = MAX_REASONS, *,
                  explain: dict[str, set[str]] | None = None,
                  attributions: dict[str, dict[str, dict]] | None = None,
                  ) -> dict[str, dict[str, list[str]]]:
    """Reasons for every flagged node (and every node of ``explain``).

    Args:
        frames: the exported graph the scores were computed on.
        scores: label -> scorer frame (key, ``anomaly_score``, z-scored feature columns).
        flagged: label -> keys flagged in this run.
        feature_names: label -> feature columns to consider (default: numeric columns).
        max_reasons: at most this many per node (at least one is always given).
        explain: label -> more keys to explain, e.g. the ring candidates (users at or above
            the ring percentile): every ring member then has reasons.
        attributions: label -> key -> a node's model attribution (``features``:
            ``(name, contribution, z)``, ``neighbours``: ``(label, key, contribution)``), as
            :func:`graphgnn.model.explain.attribute` returns; its sentences come right after
            the shared-entity reasons.

    Returns:
        label -> key -> list of 1..``max_reasons`` strings.
    """
    from graphgnn.scores.rings import entity_links

    links = entity_links(frames)
    flagged_users = flagged.get("User", set())
    wanted = {label: set(keys) for label, keys in flagged.items()}
    for label, keys in (explain or {}).items():
        wanted[label] = wanted.get(label, set()) | set(keys)
    suspects = wanted.get("User", set())
    out: dict[str, dict[str, list[str]]] = {}
    for label, keys in wanted.items():
        if not keys or label not in scores:
            continue
        frame = scores[label]
        key = schema.node(label).key
        if label == "User":
            shared = _user_shared(links, flagged_users, keys, suspects)
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
            model = _model_reasons((attributions or {}).get(label, {}).get(k))
            lines = (shared.get(k, []) + model + feats.get(k, []))[:max_reasons]
            if not lines:
                lines = [f"score ranks {int(rank):,} of {total:,} {label} nodes"]
            per[k] = lines
        out[label] = per
    return out
