"""A deterministic stand-in for the trained model, for fast write-back/rings/rescore tests.

It scores users by how many other users share their devices/IPs/addresses/cards (the relational
signal the generator plants), everything else by degree, and returns z-scored features like the
real :class:`graphgnn.model.checkpoint.Scorer`. Tests of the real model path use a checkpoint.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from graph_build import schema


def _noise(keys: pd.Series) -> np.ndarray:
    return np.array([int(hashlib.md5(k.encode()).hexdigest()[:6], 16) / 16**6 for k in keys])


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std() or 1.0
    return (x - x.mean()) / sd


class FakeScorer:
    """``score(frames, as_of)`` -> {label: [key, anomaly_score, z-features]}."""

    model_version = "fake-1"
    num_layers = 2
    trained_until = None

    def __init__(self, bump: float = 0.0) -> None:
        self.bump = bump  # shift scores between runs to make runs distinguishable
        self.feature_names = {"User": ["shared_entities", "orders_24h"],
                              "Device": ["users_30d"], "IP": ["users_30d"],
                              "Order": ["amount_z"]}

    def score(self, frames, as_of=None) -> dict[str, pd.DataFrame]:
        from graphgnn.scores.rings import entity_links

        links = entity_links(frames)
        per_entity = links.groupby(["kind", "entity"])["user_id"].transform("nunique")
        links = links.assign(others=(per_entity - 1).clip(upper=20))
        shared = links.groupby("user_id")["others"].sum()
        out = {}
        users = frames.nodes["User"]
        keys = users["user_id"].astype(str)
        s = shared.reindex(keys).fillna(0).to_numpy(dtype=float)
        orders = frames.rels["PLACED"].groupby("src").size().reindex(keys).fillna(0).to_numpy()
        score = 1 - np.exp(-s / 8) * 0.9 - 0.1 * _noise(keys) + self.bump
        out["User"] = pd.DataFrame({"user_id": keys, "anomaly_score": np.clip(score, 0, 1),
                                    "shared_entities": _z(s), "orders_24h": _z(orders)})
        for label, rel in (("Device", "USED_DEVICE"), ("IP", "USED_IP")):
            key = schema.node(label).key
            k = frames.nodes[label][key].astype(str)
            deg = frames.rels[rel].groupby("dst").size().reindex(k).fillna(0).to_numpy(float)
            out[label] = pd.DataFrame({key: k, "anomaly_score": np.clip(
                1 - np.exp(-deg / 6) + self.bump, 0, 1) * (0.9 + 0.1 * _noise(k)),
                "users_30d": _z(deg)})
        o = frames.nodes["Order"]
        k = o["order_id"].astype(str)
        amount = pd.to_numeric(o["amount"], errors="coerce").fillna(0).to_numpy(float)
        out["Order"] = pd.DataFrame({"order_id": k, "anomaly_score": np.clip(
            _noise(k) * 0.5 + 0.5 * (1 - np.exp(-amount / 500)) + self.bump, 0, 1),
            "amount_z": _z(amount)})
        return out
