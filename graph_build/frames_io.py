"""Save and load :class:`GraphFrames` as a folder of Parquet files plus a JSON manifest.

A safe format for caches (no pickle: loading a crafted cache file cannot run code). Only the
schema's labels and relationship types are read back, each from ``<name>.parquet``; the
manifest holds ``as_of`` and the file names. Writes are atomic per folder: a crash leaves the
previous folder (or none), never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames

MANIFEST = "frames.json"
FORMAT = 1


def save_frames(frames: GraphFrames, folder: str | Path) -> Path:
    """Write ``frames`` to ``folder`` (replacing it atomically); files are owner-only."""
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, mode=0o700)
    manifest = {"format": FORMAT, "as_of": frames.as_of, "nodes": [], "rels": []}
    for kind, parts in (("nodes", frames.nodes), ("rels", frames.rels)):
        for name, frame in parts.items():
            frame.to_parquet(tmp / f"{kind}-{name}.parquet", index=False)
            manifest[kind].append(name)
    (tmp / MANIFEST).write_text(json.dumps(manifest))
    for path in tmp.iterdir():
        path.chmod(0o600)
    swap_folder(tmp, folder)
    return folder


def swap_folder(tmp: Path, folder: Path) -> None:
    """Put the finished folder ``tmp`` in place of ``folder``: readers see the old or the new
    one, never a half-written mix (the old one is moved aside, then removed)."""
    old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
    if folder.exists():
        folder.replace(old)
    tmp.replace(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_frames(folder: str | Path) -> GraphFrames | None:
    """The frames saved in ``folder``, or None when it is missing, damaged or of another format."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            return None
        nodes = {label: pd.read_parquet(folder / f"nodes-{label}.parquet")
                 for label in manifest["nodes"] if label in schema.NODES}
        rels = {t: pd.read_parquet(folder / f"rels-{t}.parquet")
                for t in manifest["rels"] if t in schema.RELATIONSHIPS}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    as_of = manifest.get("as_of")
    return GraphFrames(nodes=nodes, rels=rels,
                       as_of=int(as_of) if isinstance(as_of, int | float) else None)
