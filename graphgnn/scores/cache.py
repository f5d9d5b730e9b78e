"""The last scoring run's export, kept so an incremental rescore reads only what changed.

A full export reads every node and relationship; between two runs a graph typically gains ~1%.
So each successful rescore stores the frames it scored (Parquet, one file per label and type:
never pickle, a cache file must not be able to run code) with the ingest position and as-of it
was cut at. The next incremental run loads them and exports only rows an ingest after that
position created or changed, or whose time entered the new window, and merges
(:func:`graph_build.export.merge_frames`). A missing, stale or unreadable cache means a full
export.

Beside the frames: the scores the store holds after the last succeeded run (as written: rounded
to 6 decimals), keyed by that run's id (:func:`save_scores`). An incremental run rewrites
exactly the nodes whose written score would change (:func:`graphgnn.scores.region.changed`);
without this file it reads them from the store.
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
from graph_build.frames_io import swap_folder
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
    swap_folder(tmp, folder)


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


def _scores_dir(store) -> Path:
    folder = cache_dir(store)
    return folder.with_name(folder.name.replace("frames-", "scores-", 1))


def load_scores(store, run_id: str | None) -> dict[str, pd.Series] | None:
    """label -> stored score by key, if the cache was written by run ``run_id``."""
    folder = _scores_dir(store)
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if run_id is None or meta.get("run_id") != run_id:
            return None
        out = {}
        for label in schema.SCORED_LABELS:
            frame = pd.read_parquet(folder / f"{label}.parquet")
            out[label] = pd.Series(frame["score"].to_numpy(float),
                                   index=frame["key"].astype(str).to_numpy())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return out


def save_scores(store, run_id: str, previous: dict[str, pd.Series] | None,
                written: dict[str, dict[str, float]]) -> dict[str, pd.Series]:
    """``previous`` updated with what run ``run_id`` wrote, saved (atomically) and returned."""
    out = {}
    for label in schema.SCORED_LABELS:
        new = pd.Series(written.get(label, {}), dtype=float)
        old = (previous or {}).get(label)
        if old is not None and len(old):
            new = pd.concat([old[~old.index.isin(new.index)], new])
        out[label] = new
    folder = _scores_dir(store)
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for label, series in out.items():
        pd.DataFrame({"key": series.index.astype(str), "score": series.to_numpy(float)}
                     ).to_parquet(tmp / f"{label}.parquet", index=False)
    (tmp / "meta.json").write_text(json.dumps({"run_id": run_id}))
    swap_folder(tmp, folder)
    return out


def _attr_file(store) -> Path:
    folder = cache_dir(store)
    return folder.with_name(folder.name.replace("frames-", "attributions-", 1) + ".json")


def load_attributions(store, run_id: str | None) -> dict[str, dict[str, dict]]:
    """The model attributions behind run ``run_id``'s reasons (JSON; empty if not that run's)."""
    try:
        blob = json.loads(_attr_file(store).read_text())
        if run_id is None or blob.get("run_id") != run_id:
            return {}
        return {label: dict(per) for label, per in blob["attributions"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save_attributions(store, run_id: str, attributions: dict[str, dict[str, dict]]) -> None:
    """Keep run ``run_id``'s attributions for the next incremental run (atomic replace)."""
    path = _attr_file(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "attributions": attributions}, default=float))
    tmp.replace(path)
