"""A prepared-data cache that loads with ``torch.load(weights_only=True)``: tensors and JSON only.

A :class:`~torch_geometric.data.HeteroData` is stored as nested dicts of tensors (node type ->
attribute -> tensor; ``"src|rel|dst"`` -> attribute -> tensor) and the metadata as a JSON
string, so reading a cache never unpickles anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData


def to_tensors(data: HeteroData) -> dict[str, Any]:
    """Plain nested dicts of tensors (plus ``as_of``) describing ``data``."""
    nodes = {t: {k: v for k, v in data[t].items() if isinstance(v, Tensor)}
             | {"num_nodes": torch.tensor(int(data[t].num_nodes))} for t in data.node_types}
    edges = {"|".join(et): {k: v for k, v in data[et].items() if isinstance(v, Tensor)}
             for et in data.edge_types}
    return {"nodes": nodes, "edges": edges, "as_of": torch.tensor(int(data.as_of))}


def from_tensors(blob: dict[str, Any]) -> HeteroData:
    """The inverse of :func:`to_tensors`."""
    data = HeteroData()
    for t, attrs in blob["nodes"].items():
        for k, v in attrs.items():
            if k != "num_nodes":
                data[t][k] = v
        data[t].num_nodes = int(attrs["num_nodes"])
    for key, attrs in blob["edges"].items():
        et = tuple(key.split("|"))
        for k, v in attrs.items():
            data[et][k] = v
    data.as_of = int(blob["as_of"])
    return data


def save(path: Path, stages: dict[str, HeteroData], meta: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed into place), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shared: dict[int, str] = {}
    blob: dict[str, Any] = {"meta": json.dumps(meta), "stages": {}, "alias": {}}
    for name, data in stages.items():
        if id(data) in shared:  # the random split shares one graph between stages
            blob["alias"][name] = shared[id(data)]
            continue
        shared[id(data)] = name
        blob["stages"][name] = to_tensors(data)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(blob, tmp)
    tmp.chmod(0o600)  # the cache holds the graph's features: as private as the store
    tmp.replace(path)


def load(path: Path) -> tuple[dict[str, HeteroData], dict[str, Any]]:
    """Read a cache written by :func:`save` (safe loader only)."""
    blob = torch.load(path, weights_only=True)
    stages = {name: from_tensors(b) for name, b in blob["stages"].items()}
    for name, target in blob["alias"].items():
        stages[name] = stages[target]
    return stages, json.loads(blob["meta"])
