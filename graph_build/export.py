"""Read the store's graph as of a time T into per-label and per-type pandas frames.

Streams page by page (``SKIP/LIMIT``) so no single result holds the whole graph, and keeps
only what existed at T: nodes whose time is <= T, relationships first seen <= T. Aggregated
edges keep ``first_seen`` exact; their ``last_seen`` and ``count`` describe the whole history
and must not be used as point-in-time features.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from graph_build import attributes, attributes_io, cypher, schema
from graph_build.frames import GraphFrames, empty_node_frame, empty_rel_frame
from graph_build.stores.base import DEFAULT_PAGE, GraphStore


def _frame(store: GraphStore, query: str, as_of: int | None, since: int | None, page_size: int,
           progress: Callable[[int], None] | None, id_label: str | None = None,
           changed_after: int | None = None, extra: dict | None = None) -> pd.DataFrame | None:
    """All rows of one export query; with ``id_label`` (embedded store), range by range of
    that label's internal node ids (the query filters on ``$lo <= id < $hi``); ``extra``
    parameters are added to every page's."""
    params = {"as_of": as_of, "since": since, "changed_after": changed_after, **(extra or {})}
    if id_label is None:
        ranges: list[dict] = [{}]
    else:
        bounds = store.read(cypher.render("export/id_bounds", label=id_label))
        lo, hi = (bounds[0]["lo"], bounds[0]["hi"]) if bounds else (None, None)
        if lo is None:
            return None
        ranges = [{"lo": start, "hi": start + page_size}
                  for start in range(int(lo), int(hi) + 1, page_size)]
    pages = []
    for extra in ranges:
        for page in store.read_frames(query, params | extra, page_size=page_size,
                                      numeric=schema.FLOAT_PROPERTIES):
            pages.append(page)
            if progress:
                progress(len(page))
    if not pages:
        return None
    return pd.concat(pages, ignore_index=True) if len(pages) > 1 else pages[0]


def export_frames(
    store: GraphStore,
    as_of: int | None = None,
    labels: list[str] | None = None,
    rel_types: list[str] | None = None,
    page_size: int = DEFAULT_PAGE,
    progress: Callable[[int], None] | None = None,
    since: int | None = None,
    changed_after: int | None = None,
) -> GraphFrames:
    """The graph in ``store`` as it was at ``as_of`` (epoch ms; None = everything).

    Args:
        store: where to read.
        as_of: cut-off time in epoch ms; nothing later is returned.
        labels: node labels to read (default: all of the schema).
        rel_types: relationship types to read (default: all of the schema).
        page_size: rows per read.
        progress: called with the number of rows of each page.
        since: only what came into being after this epoch ms (timeless nodes included) — the
            delta to add to an earlier export with :func:`merge_frames`.
        changed_after: an ingest position (:func:`graph_build.ingest.begin_ingest`): only
            what builds after it created or changed (late and backfilled rows included). With
            ``since`` too, rows matching either are returned.

    Returns:
        Frames keyed by schema names; labels and types with no rows get empty frames. Node
        frames carry the graph's declared attributes as ``attr_*`` columns, and
        ``attributes`` their kinds.
    """
    frames = GraphFrames(as_of=as_of)
    # SKIP re-reads every skipped row, so paging a big label with it costs O(rows^2 / page);
    # the embedded store pages by ranges of internal ids instead (Neo4j streams each query).
    by_id = store.kind == "falkordb"
    for label in labels or list(schema.NODES):
        query = cypher.render("export/nodes_by_id" if by_id else "export/nodes", label=label)
        frame = _frame(store, query, as_of, since, page_size, progress,
                       label if by_id else None, changed_after)
        frames.nodes[label] = frame if frame is not None else empty_node_frame(label)
    for rel_type in rel_types or list(schema.RELATIONSHIPS):
        query = cypher.render("export/rels_by_id" if by_id else "export/rels", rel_type=rel_type)
        source = schema.rel(rel_type).source if by_id else None
        frame = _frame(store, query, as_of, since, page_size, progress, source, changed_after)
        frames.rels[rel_type] = frame if frame is not None else empty_rel_frame(rel_type)
    # The users' own attributes (attr_* columns), read with the same filters, by declaration.
    declared = attributes_io.read_declaration(store)
    if declared:
        attributes_io.export_attributes(
            frames, declared, by_id=by_id,
            read=lambda query, extra, label: _frame(
                store, query, as_of, since, page_size, progress, label if by_id else None,
                changed_after, extra))
    return frames


def merge_frames(base: GraphFrames, delta: GraphFrames) -> GraphFrames:
    """``base`` updated with ``delta`` (a later export with ``since``): rows of ``delta`` win.

    Nodes are matched by key and relationships by (src, dst); as the store only grows between
    runs, ``merge_frames(export(as_of=T0), export(since=T0, as_of=T1))`` equals
    ``export(as_of=T1)`` for every property the features read.
    """
    merged = GraphFrames(as_of=delta.as_of,
                         attributes=attributes.merge(base.attributes, delta.attributes))
    for label in {*base.nodes, *delta.nodes}:
        key = schema.node(label).key
        parts = [f for f in (base.nodes.get(label), delta.nodes.get(label)) if f is not None]
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        merged.nodes[label] = frame.drop_duplicates(subset=[key], keep="last").reset_index(
            drop=True)
    for rel_type in {*base.rels, *delta.rels}:
        parts = [f for f in (base.rels.get(rel_type), delta.rels.get(rel_type)) if f is not None]
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        merged.rels[rel_type] = frame.drop_duplicates(subset=["src", "dst"], keep="last"
                                                      ).reset_index(drop=True)
    return merged
