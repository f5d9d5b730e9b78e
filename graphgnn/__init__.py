"""Scores, rings and reasons from a heterogeneous GraphSAGE over point-in-time features.

The public API is :class:`graphgnn.Detector` (``load``, ``score``, ``flag``, ``explain``),
imported lazily so that ``graphgnn.scores`` and the command line never pay for torch unless a
model is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Detector"]


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from graphgnn.detector import Detector

        return Detector
    raise AttributeError(f"module 'graphgnn' has no attribute {name!r}")
