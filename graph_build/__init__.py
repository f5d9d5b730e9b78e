"""Tables → a heterogeneous, timestamped property graph in Neo4j or the embedded FalkorDB.

The public API (imported lazily, so ``import graph_build.schema`` stays cheap)::

    from graph_build import generate, read_frames, open_store, build, export_frames

    generate("data", users=3000, seed=1)          # synthetic tables + truth/
    frames = read_frames("data")                  # validated GraphFrames, no store involved
    store = open_store("embedded")                # or a bolt:// / neo4j+s:// URI
    build("data", store)                          # validate, then batched idempotent MERGE
    graph = export_frames(store, as_of=None)      # the store's graph as GraphFrames
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "read_frames": "graph_build.read",
    "open_store": "graph_build.stores",
    "export_frames": "graph_build.export",
    "GraphFrames": "graph_build.frames",
    "FraudringError": "graph_build.errors",
}

__all__ = sorted([*_EXPORTS, "build", "generate"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'graph_build' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


# ``build`` and ``generate`` are also the names of their modules: bind the functions once the
# modules are loaded, so the package attribute is the function (``from graph_build.build
# import …`` still reaches the module through sys.modules).
from graph_build.build import build  # noqa: E402, F401
from graph_build.generate import generate  # noqa: E402, F401
