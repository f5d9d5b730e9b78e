"""The users' own attributes (``attr_*`` node columns) as numeric model features.

Declared attributes (:mod:`graph_build.attributes`: numeric, boolean, time, categorical) become
feature columns with no code change:

- numeric: the value as it is (missing -> 0) plus ``__missing`` (1 where it was missing);
- boolean: 0/1 (missing -> 0) plus ``__missing``;
- time: age at the example's time T in days (``__age_days``: T - value), plus ``__missing``
  (1 where missing, or after T: a value from T's future is not known at T);
- categorical: one-hot over the top-N categories (by frequency at fit time; ``__0`` …) plus
  ``__other`` for any other category (unseen ones included); missing -> all zeros.

The category lists are frozen by :func:`fit_attribute_encoder` at training and stored in the
checkpoint (the encoder is plain JSON), so scoring builds exactly the same columns, in the same
order, whatever the scored graph holds. No torch here: pandas and numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from graph_build import attributes as declared_attributes
from graph_build import schema
from graph_build.frames import GraphFrames

ENCODER_FORMAT = 1
TOP_N = 10
DAY_MS = 86_400_000


def declared(frames: GraphFrames) -> dict[str, dict[str, str]]:
    """label -> attribute -> kind: ``frames.attributes``, else read from the columns' dtypes."""
    if frames.attributes:
        return {label: dict(kinds) for label, kinds in frames.attributes.items() if kinds}
    out = {}
    for label, frame in frames.nodes.items():
        kinds = declared_attributes.kinds_from_columns(frame)
        if kinds:
            out[label] = kinds
    return out


def _categories(values: pd.Series, top_n: int) -> list[str]:
    """The ``top_n`` most frequent categories (ties: by text), as JSON-safe strings."""
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return []
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [str(k) for k, _ in ranked[:top_n]]


def fit_attribute_encoder(frames: GraphFrames, top_n: int = TOP_N,
                          rows: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Freeze the feature layout of every declared attribute (JSON-safe, for the checkpoint).

    Args:
        frames: the training graph (its ``attributes`` or ``attr_*`` columns).
        top_n: categories kept per categorical attribute (the rest share ``__other``).
        rows: optional label -> boolean mask (or row positions) of the nodes to count
            categories on (e.g. training nodes only); default every node.

    Returns:
        ``{"format": 1, "top_n": N, "labels": {label: {name: {"kind": k, "categories": [...]}}}}``
    """
    labels: dict[str, dict[str, dict[str, Any]]] = {}
    for label, kinds in sorted(declared(frames).items()):
        frame = frames.nodes.get(label)
        if label not in schema.NODES:
            continue
        entry: dict[str, dict[str, Any]] = {}
        for name in sorted(kinds):
            kind = kinds[name]
            spec: dict[str, Any] = {"kind": kind}
            if kind == "categorical":
                column = declared_attributes.property_name(name)
                values = (frame[column] if frame is not None and column in frame
                          else pd.Series([], dtype="string"))
                if rows is not None and label in rows and len(values):
                    sel = np.asarray(rows[label])
                    values = values[sel] if sel.dtype == bool else values.iloc[sel]
                spec["categories"] = _categories(values, top_n)
            entry[name] = spec
        labels[label] = entry
    return {"format": ENCODER_FORMAT, "top_n": int(top_n), "labels": labels}


def _check(encoder: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(encoder, Mapping) or encoder.get("format") != ENCODER_FORMAT \
            or not isinstance(encoder.get("labels"), Mapping):
        raise ValueError("not an attribute encoder of format "
                         f"{ENCODER_FORMAT} (see fit_attribute_encoder)")
    return encoder


def feature_names(encoder: Mapping[str, Any], label: str) -> list[str]:
    """The columns :func:`attribute_features` returns for ``label``, in order."""
    out: list[str] = []
    for name, spec in _check(encoder)["labels"].get(label, {}).items():
        prop = declared_attributes.property_name(name)
        kind = spec["kind"]
        if kind in ("numeric", "boolean"):
            out += [prop, f"{prop}__missing"]
        elif kind == "time":
            out += [f"{prop}__age_days", f"{prop}__missing"]
        elif kind == "categorical":
            out += [f"{prop}__{i}" for i in range(len(spec["categories"]))]
            out.append(f"{prop}__other")
        else:
            raise ValueError(f"attribute {label}.{name}: unknown kind {kind!r}")
    return out


def _latest_time(frames: GraphFrames) -> int:
    """The latest node time in the graph (the default T when ``frames.as_of`` is unset)."""
    latest = 0
    for label, frame in frames.nodes.items():
        prop = schema.node(label).time if label in schema.NODES else None
        if prop and prop in frame and len(frame):
            t = pd.to_numeric(frame[prop], errors="coerce").max()
            if pd.notna(t):
                latest = max(latest, int(t))
    return latest


def attribute_features(frames: GraphFrames, label: str, encoder: Mapping[str, Any],
                       as_of: int | np.ndarray | None = None) -> pd.DataFrame:
    """Numeric features of ``label``'s declared attributes, one row per node of the label.

    Args:
        frames: the graph; rows follow ``frames.nodes[label]`` (same order, same index).
        label: a node label.
        encoder: from :func:`fit_attribute_encoder` (at training; reused at scoring).
        as_of: T for time attributes: one epoch ms for all rows, or one per row (the
            examples' own timestamps); default ``frames.as_of``, else the latest node time.

    Returns:
        float32 columns :func:`feature_names` ``(encoder, label)`` (no columns when the label
        has no attributes). An attribute the encoder knows but the graph lacks gives missing
        values; attributes the encoder does not know are ignored.
    """
    frame = frames.nodes.get(label)
    index = frame.index if frame is not None else pd.RangeIndex(0)
    n = len(index)
    if as_of is None:
        as_of = frames.as_of if frames.as_of is not None else _latest_time(frames)
    t = np.broadcast_to(np.asarray(as_of, dtype=np.float64), (n,))
    cols: dict[str, np.ndarray] = {}
    for name, spec in _check(encoder)["labels"].get(label, {}).items():
        prop = declared_attributes.property_name(name)
        raw = frame[prop] if frame is not None and prop in frame else pd.Series(
            pd.NA, index=index, dtype="object")
        kind = spec["kind"]
        if kind in ("numeric", "boolean", "time"):
            num = pd.to_numeric(raw.astype("object").where(raw.notna(), np.nan),
                                errors="coerce").to_numpy(dtype=np.float64)
            missing = ~np.isfinite(num)
            if kind == "time":
                missing |= np.where(missing, False, num > t)
                cols[f"{prop}__age_days"] = np.where(missing, 0.0, (t - num) / DAY_MS)
            else:
                cols[prop] = np.where(missing, 0.0, num)
            cols[f"{prop}__missing"] = missing.astype(np.float64)
        else:
            categories = list(spec["categories"])
            text = raw.astype("string")
            code = pd.Categorical(text, categories=categories).codes  # -1: other or missing
            present = text.notna().to_numpy(dtype=bool)
            for i in range(len(categories)):
                cols[f"{prop}__{i}"] = (code == i).astype(np.float64)
            cols[f"{prop}__other"] = (present & (code < 0)).astype(np.float64)
    names = feature_names(encoder, label)
    out = pd.DataFrame({c: cols[c].astype(np.float32) for c in names}, index=index)
    return out[names]
