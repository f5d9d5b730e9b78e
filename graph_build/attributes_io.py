"""The users' own attributes in a store: the declaration node, and attribute values on export.

The build writes attribute values with the nodes (the same batched MERGE: they are ``attr_*``
keys of each row's property map) and the declaration as one ``GraphSchema`` node. Export reads
the declaration first and then, per label that has attributes, one row per (node, attribute)
with the attribute's property name passed as a query parameter: no attribute name is ever
spliced into Cypher text, and names read back from the store are checked again.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from graph_build import attributes, cypher, schema
from graph_build.stores.base import GraphStore


def read_declaration(store: GraphStore) -> attributes.Declaration:
    """The declaration recorded in ``store`` (label -> name -> kind), empty when none."""
    rows = store.read(cypher.render("export/attribute_schema"))
    return attributes.from_json(rows[0]["attributes_json"] if rows else None)


def schema_rows(declared: attributes.Declaration) -> pd.DataFrame:
    """The one-row frame ``build/merge_attribute_schema`` writes (empty when none declared)."""
    if not any(declared.values()):
        return pd.DataFrame({"name": [], "attributes_json": []})
    return pd.DataFrame({"name": [attributes.SCHEMA_NAME],
                         "attributes_json": [attributes.to_json(declared)]})


def schema_row_maker(frame: pd.DataFrame) -> list[dict]:
    """Rows for ``build/merge_attribute_schema`` from :func:`schema_rows`' frame."""
    return [{"name": str(n), "attributes_json": str(j)}
            for n, j in zip(frame["name"], frame["attributes_json"], strict=True)]


def _typed(values: pd.Series, kind: str) -> pd.Series:
    """Values as read back (FalkorDB's fast path gives floats and booleans as text) -> typed."""
    if kind == "numeric":
        return pd.to_numeric(values, errors="coerce").astype("Float64")
    if kind == "time":
        return pd.to_numeric(values, errors="coerce").astype("Int64")
    if kind == "boolean":
        text = values.astype("string").str.lower()
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[(text == "true").fillna(False).astype(bool)] = True
        out[(text == "false").fillna(False).astype(bool)] = False
        return out
    return values.astype("string")


def attach(frame: pd.DataFrame, label: str, long: pd.DataFrame | None,
           kinds: dict[str, str]) -> pd.DataFrame:
    """``frame`` (a label's exported nodes) with one typed ``attr_*`` column per attribute.

    ``long`` has the label's key column, ``name`` (the property) and ``value``.
    """
    key = schema.node(label).key
    frame = frame.copy()
    keys = frame[key].astype("string") if len(frame) else frame[key]
    for name in sorted(kinds):
        prop = attributes.property_name(name)
        if long is None or not len(long):
            values = pd.Series(pd.NA, index=frame.index, dtype="object")
        else:
            sub = long[long["name"] == prop]
            by_key = pd.Series(sub["value"].to_numpy(), index=sub[key].astype("string"))
            by_key = by_key[~by_key.index.duplicated(keep="last")]
            values = pd.Series(by_key.reindex(keys.to_numpy()).to_numpy(), index=frame.index)
        frame[prop] = _typed(values, kinds[name])
    return frame


#: ``read(query, extra parameters, label)``: every page of an export query for one label.
Reader = Callable[[str, dict, str], pd.DataFrame | None]


def export_attributes(frames, declared: attributes.Declaration, read: Reader,
                      by_id: bool) -> None:
    """Add the declared attributes to ``frames`` (in place) for every label it holds.

    Args:
        frames: the exported :class:`~graph_build.frames.GraphFrames`.
        declared: the store's declaration (:func:`read_declaration`).
        read: runs a rendered export query with extra parameters, all pages (export's reader,
            with its as-of, since and ingest filters).
        by_id: use the embedded store's id-range variant.
    """
    found: attributes.Declaration = {}
    for label, kinds in declared.items():
        if label not in frames.nodes or not kinds:
            continue
        name = "export/node_attributes_by_id" if by_id else "export/node_attributes"
        long = read(cypher.render(name, label=label), {"names": attributes.columns(kinds)},
                    label)
        frames.nodes[label] = attach(frames.nodes[label], label, long, kinds)
        found[label] = dict(kinds)
    frames.attributes = found
