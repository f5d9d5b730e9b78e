"""The last scoring run's export, kept so an incremental rescore reads only what changed.

A full export reads every node and relationship; between two runs a graph typically gains ~1%.
So each successful rescore stores the frames it scored (Parquet, one file per label and type:
never pickle, a cache file must not be able to run code) with the ingest position and as-of it
was cut at. The next incremental run loads them and exports only rows an ingest after that
position created or changed, or whose time entered the new window, and merges
(:func:`graph_build.export.merge_frames`). A missing, stale or unreadable cache means a full
export.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from graph_build import schema
from graph_build.export import export_frames, merge_frames
from graph_build.frames import GraphFrames
from graph_build.stores.embedded_server import data_home


def cache_dir(store) -> Path:
    """Where the frames of ``store`` are kept (under the data folder, one folder per store)."""
    digest = hashlib.sha1(store.location.encode()).hexdigest()[:12]
    return data_home() / "cache" / f"frames-{digest}"


def load(store, position: int, as_of: int) -> GraphFrames | None:
    """The cached frames if cut at ingest ``position`` and an as-of not after ``as_of``."""
    folder = cache_dir(store)
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("position") != position or meta.get("as_of") is None \
                or int(meta["as_of"]) > as_of:
            return None
        frames = GraphFrames(as_of=int(meta["as_of"]))
        for label in schema.NODES:
            frames.nodes[label] = pd.read_parquet(folder / f"nodes-{label}.parquet")
        for rel_type in schema.RELATIONSHIPS:
            frames.rels[rel_type] = pd.read_parquet(folder / f"rels-{rel_type}.parquet")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return frames


def save(store, frames: GraphFrames, position: int) -> None:
    """Replace the cache (a crash mid-write leaves the previous folder or none)."""
    folder = cache_dir(store)
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for label, frame in frames.nodes.items():
        frame.to_parquet(tmp / f"nodes-{label}.parquet", index=False)
    for rel_type, frame in frames.rels.items():
        frame.to_parquet(tmp / f"rels-{rel_type}.parquet", index=False)
    (tmp / "meta.json").write_text(json.dumps({"position": position, "as_of": frames.as_of}))
    old = folder.with_name(f"{folder.name}.{os.getpid()}.old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def export_changes(store, position: int | None, since_time: int | None, as_of: int,
                   log: Callable[[str], None] = lambda _m: None
                   ) -> tuple[GraphFrames, GraphFrames | None]:
    """The graph as of ``as_of`` and the delta since ingest ``position`` (None: full run).

    The delta holds what an ingest after ``position`` created or changed, plus what entered
    the window after ``since_time`` (the last run's as-of); the graph is the cached frames
    merged with it, or a full export when no usable cache exists.
    """
    if position is None:
        log(f"exporting the whole graph as of {as_of}")
        return export_frames(store, as_of=as_of), None
    delta = export_frames(store, as_of=as_of, since=since_time, changed_after=position)
    rows = sum(map(len, delta.nodes.values())) + sum(map(len, delta.rels.values()))
    base = load(store, position, as_of)
    if base is None:
        log(f"exporting the whole graph as of {as_of} ({rows:,} rows changed; no cache)")
        return export_frames(store, as_of=as_of), delta
    log(f"exported {rows:,} rows changed since ingest position {position} (the rest from "
        "the cache)")
    return merge_frames(base, delta), delta
