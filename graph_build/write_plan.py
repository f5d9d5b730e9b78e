"""The write plan of a build: which statement writes which frame, and the rows it sends.

Nodes first (so relationships find both ends), then relationships, the declared attributes and
the labels table's verdicts. Rows are made from slices of a frame as they are written, so a
million-user build never holds every row as Python dicts at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from graph_build import attributes, attributes_io, cypher, schema
from graph_build.frames import GraphFrames


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as Python values with None for missing (the falkordb client inlines params)."""
    values = frame[name]
    if pd.api.types.is_float_dtype(values.dtype) and not isinstance(values.dtype, pd.Float64Dtype):
        arr = values.to_numpy()
        return [None if v != v else float(v) for v in arr.tolist()]
    obj = values.astype(object)
    return obj.where(values.notna(), None).tolist()


def _prop_maps(frame: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """One property map per row, leaving out missing values (``SET +=`` would erase them)."""
    columns = [_column(frame, n) for n in names]
    if not columns:
        return [{} for _ in range(len(frame))]
    if all(None not in col for col in columns):  # the common case: no filtering per row
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return [{n: v for n, v in zip(names, values, strict=True) if v is not None}
            for values in zip(*columns, strict=True)]


def node_rows(frame: pd.DataFrame, label: str, extra: tuple[str, ...] = ()) -> list[dict]:
    """Rows for ``build/merge_nodes*``: key, props without missing values (and first_seen).

    ``extra``: validated attribute properties (``attr_*``) written in the same property map.
    """
    spec = schema.node(label)
    with_first_seen = spec.time == "first_seen"
    props = [p for p in spec.properties if not (with_first_seen and p == "first_seen")]
    props += list(extra)
    keys = _column(frame, spec.key)
    props_list = _prop_maps(frame, [p for p in props if p in frame.columns])
    rows: list[dict[str, Any]] = [{"key": k, "props": m} for k, m in
                                  zip(keys, props_list, strict=True)]
    if with_first_seen:
        for row, first in zip(rows, _column(frame, "first_seen"), strict=True):
            row["first_seen"] = None if first is None else int(first)
    return rows


def rel_rows(frame: pd.DataFrame, rel_type: str) -> list[dict]:
    """Rows for ``build/merge_rels*``: src, dst and properties (or times when aggregated)."""
    spec = schema.rel(rel_type)
    src, dst = _column(frame, "src"), _column(frame, "dst")
    if spec.aggregated:
        first = frame["first_seen"].to_numpy(dtype=np.int64).tolist()
        last = frame["last_seen"].to_numpy(dtype=np.int64).tolist()
        times = [t.tolist() for t in frame["times"]]
        return [
            {"src": s, "dst": d, "first_seen": f, "last_seen": la, "times": t}
            for s, d, f, la, t in zip(src, dst, first, last, times, strict=True)
        ]
    props_list = _prop_maps(frame, [p for p in spec.properties if p in frame.columns])
    return [{"src": s, "dst": d, "props": m}
            for s, d, m in zip(src, dst, props_list, strict=True)]


def label_rows(sub: pd.DataFrame) -> list[dict]:
    """Rows for ``build/set_labels``: key, verdict ('fraud' | 'legit') and labeled_at."""
    when = _column(sub, "labeled_at")
    return [
        {"key": key, "verdict": "fraud" if bool(fraud) else "legit", "labeled_at": at}
        for key, fraud, at in zip(_column(sub, "id"), _column(sub, "is_fraud"), when,
                                  strict=True)
    ]


RowMaker = Callable[[pd.DataFrame], list[dict]]


def write_plan(
    frames: GraphFrames, labels: pd.DataFrame | None = None
) -> Iterator[tuple[str, str, pd.DataFrame, RowMaker]]:
    """(what, statement text, frame, row maker) for every label, type, then verdicts.

    Rows are made from slices of the frame as they are written (see :func:`build`), so a
    million-user build never holds every row as Python dicts at once.
    """
    for label in schema.NODES:
        frame = frames.nodes.get(label)
        if frame is None or frame.empty:
            continue
        name = ("build/merge_nodes_first_seen" if schema.node(label).time == "first_seen"
                else "build/merge_nodes")
        extra = tuple(attributes.columns(frames.attributes.get(label, {})))
        yield label, cypher.render(name, label=label), frame, partial(node_rows, label=label,
                                                                      extra=extra)
    for rel_type, spec in schema.RELATIONSHIPS.items():
        frame = frames.rels.get(rel_type)
        if frame is None or frame.empty:
            continue
        name = "build/merge_rels_aggregated" if spec.aggregated else "build/merge_rels"
        yield (rel_type, cypher.render(name, rel_type=rel_type), frame,
               partial(rel_rows, rel_type=rel_type))
    declared = attributes_io.schema_rows(frames.attributes)
    if len(declared):
        yield ("attributes", cypher.render("build/merge_attribute_schema"), declared,
               attributes_io.schema_row_maker)
    if labels is not None and len(labels):
        for entity, label in schema.LABELLED_ENTITIES.items():
            subset = labels[labels["entity"] == entity]
            if len(subset):
                yield (f"{label} labels", cypher.render("build/set_labels", label=label),
                       subset, label_rows)
