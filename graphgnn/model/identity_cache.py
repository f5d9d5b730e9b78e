"""Values computed once per live object, looked up by identity (never by equality or content).

Full-batch training passes the same snapshot objects every epoch; what is derived from them
(sparse operators, relationship positions) is built once. An entry holds only weak references
to its objects: it is a hit only while every one of them is the very object it was built from
(an ``id`` can be reused once an object is freed), and dead entries are dropped on insert.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any


class IdentityCache:
    """``cache.get(tag, objects, build)``: ``build()`` once per (tag, those live objects)."""

    def __init__(self) -> None:
        self._items: dict[tuple, tuple[tuple[weakref.ref, ...], Any]] = {}

    def get(self, tag: object, objects: tuple, build: Callable[[], Any]) -> Any:
        """The value built for ``tag`` and exactly these ``objects`` (built now if missing)."""
        key = (tag, *(id(o) for o in objects))
        hit = self._items.get(key)
        if hit is not None and all(r() is o for r, o in zip(hit[0], objects, strict=True)):
            return hit[1]
        value = build()
        for k in [k for k, (refs, _) in self._items.items() if any(r() is None for r in refs)]:
            del self._items[k]
        self._items[key] = (tuple(weakref.ref(o) for o in objects), value)
        return value
