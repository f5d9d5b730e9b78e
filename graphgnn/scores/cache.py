"""The last scoring run's export, kept so an incremental rescore reads only what is new.

A full export reads every node and relationship; between two runs a graph typically gains ~1%.
So each successful rescore saves the frames it scored (cut at its ``as_of``; Parquet, never
pickle: a crafted cache file cannot run code), and the next
incremental run loads them and exports only rows newer than that watermark
(:func:`graph_build.export.merge_frames`). A missing, stale or unreadable cache just means a
full export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from graph_build.export import export_frames, merge_frames
from graph_build.frames import GraphFrames
from graph_build.frames_io import load_frames, save_frames
from graph_build.stores.embedded_server import data_home


def cache_path(store) -> Path:
    """Where the frames of ``store`` are kept (under the data folder, one file per store)."""
    digest = hashlib.sha1(store.location.encode()).hexdigest()[:12]
    return data_home() / "cache" / f"frames-{digest}"


def load(store, as_of: int) -> GraphFrames | None:
    """The cached frames if they were cut exactly at ``as_of``, else None."""
    frames = load_frames(cache_path(store))
    return frames if frames is not None and frames.as_of == as_of else None


def save(store, frames: GraphFrames) -> None:
    """Replace the cache atomically (a crash mid-write leaves the previous file or none)."""
    path = cache_path(store)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    save_frames(frames, path)


def export_since_watermark(store, watermark: int | None, as_of: int,
                           log: Callable[[str], None] = lambda _m: None) -> GraphFrames:
    """The graph as of ``as_of``: cached frames at ``watermark`` plus the delta, or a full read."""
    base = load(store, watermark) if watermark is not None else None
    if base is None:
        log(f"exporting the whole graph as of {as_of}")
        return export_frames(store, as_of=as_of)
    delta = export_frames(store, as_of=as_of, since=watermark)
    rows = sum(map(len, delta.nodes.values())) + sum(map(len, delta.rels.values()))
    log(f"exported {rows:,} rows new since the last run (the rest from the cache)")
    return merge_frames(base, delta)
