"""Values cached by object identity: a hit only for the very same live objects."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd

from graphgnn.model.identity_cache import IdentityCache


def test_built_once_per_live_object_and_never_for_an_equal_copy():
    cache, calls = IdentityCache(), []
    frame = pd.DataFrame({"a": [1, 2]})
    build = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("t", (frame,), build) == 1
    assert cache.get("t", (frame,), build) == 1
    assert cache.get("other tag", (frame,), build) == 2
    assert cache.get("t", (frame.copy(),), build) == 3  # equal content, another object
    assert len(calls) == 3


def test_dead_objects_are_dropped_and_a_reused_id_misses():
    cache = IdentityCache()
    first = np.zeros(3)
    cache.get("t", (first,), lambda: "first")
    del first
    gc.collect()
    second = np.zeros(3)  # may land at the freed address: must not see "first"
    assert cache.get("t", (second,), lambda: "second") == "second"
    assert len(cache._items) == 1
