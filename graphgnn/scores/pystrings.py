"""Scoring on frames whose strings are Python objects: the features' key lookups, ~2x faster.

The feature code maps node keys to rows again and again (``pd.Index(keys.astype(str))
.get_indexer(...)``: 45 lookups per feature pass, plus the canonical sort and the graph
build). Under pandas 3 ``astype(str)`` yields Arrow-backed strings, and each lookup first turns
both sides into fresh Python ``str`` objects, whose hashes are then computed anew: measured at
100k users, 10 of 24 s of a scoring session. With Python-backed strings (the
``mode.string_storage = "python"`` option, and the frames' string columns converted once) the
same ``str`` objects are reused and their hashes cached: the feature pass took 7.6 s instead of
14.4 s, with every feature and score bit-for-bit the same (same strings, same operations, same
order; a test compares them).

The option is process-wide while the block runs: another thread's new strings are then
Python-backed too — equal values, another storage.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd

from graph_build.frames import GraphFrames

PYTHON_STR = pd.StringDtype("python", na_value=np.nan)


@contextlib.contextmanager
def python_strings() -> Iterator[None]:
    """New string arrays (``astype(str)``) are Python-backed inside the block."""
    with pd.option_context("mode.string_storage", "python"):
        yield


def _convert(frame: pd.DataFrame) -> pd.DataFrame:
    cols = {c: frame[c].astype(PYTHON_STR) for c in frame.columns
            if isinstance(frame[c].dtype, pd.StringDtype) and frame[c].dtype != PYTHON_STR}
    return frame.assign(**cols) if cols else frame


def with_python_strings(frames: GraphFrames) -> GraphFrames:
    """A shallow copy of ``frames`` whose string columns are Python-backed (values equal)."""
    out = GraphFrames(as_of=frames.as_of, attributes=frames.attributes)
    out.nodes = {label: _convert(f) for label, f in frames.nodes.items()}
    out.rels = {rel_type: _convert(f) for rel_type, f in frames.rels.items()}
    return out
