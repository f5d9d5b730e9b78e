"""The graph as pandas frames: what the mapper produces, what export returns, what the model eats.

``nodes[label]`` has the label's key column (e.g. ``user_id``) and its schema properties; times
are int64 epoch milliseconds (missing values are ``pd.NA``). ``rels[type]`` has ``src`` and
``dst`` (the endpoint keys) and the type's properties. Both are keyed by schema names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from graph_build import schema


@dataclass
class GraphFrames:
    """A heterogeneous graph as one frame per node label and per relationship type.

    Attributes:
        nodes: label -> frame with the key column and properties.
        rels: relationship type -> frame with ``src``, ``dst`` and properties.
        as_of: epoch ms the graph was cut at (nothing later is present), or None.
        attributes: label -> the users' own attributes on it -> kind (numeric, categorical,
            boolean, time); each is the node column ``attr_<name>`` (graph_build.attributes).
    """

    nodes: dict[str, pd.DataFrame] = field(default_factory=dict)
    rels: dict[str, pd.DataFrame] = field(default_factory=dict)
    as_of: int | None = None
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def node_count(self, label: str) -> int:
        frame = self.nodes.get(label)
        return 0 if frame is None else len(frame)

    def rel_count(self, rel_type: str) -> int:
        frame = self.rels.get(rel_type)
        return 0 if frame is None else len(frame)

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts per label and type, in schema order, zeros included."""
        return {
            "nodes": {label: self.node_count(label) for label in schema.NODES},
            "relationships": {t: self.rel_count(t) for t in schema.RELATIONSHIPS},
        }

    def keys(self, label: str) -> pd.Series:
        """The key column of ``label`` (empty when the label has no nodes)."""
        frame = self.nodes.get(label)
        key = schema.node(label).key
        if frame is None:
            return pd.Series([], dtype="string", name=key)
        return frame[key]


def canonical_order(frames: GraphFrames) -> GraphFrames:
    """The same graph with rows in one order whatever the source: nodes by key, relationships
    by their endpoints and then their other sortable columns.

    Stores return rows in their own orders (FalkorDB and Neo4j differ; a subgraph read for one
    request differs from a full export); computations that cap or break ties by position must
    see one order, so that the same graph always gives the same result.
    """
    nodes = {label: _sorted(frame, [schema.node(label).key])
             for label, frame in frames.nodes.items()}
    rels = {t: _sorted(frame, ["src", "dst", *(c for c in frame.columns
                                               if c not in ("src", "dst"))])
            for t, frame in frames.rels.items()}
    return replace(frames, nodes=nodes, rels=rels)


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    # Columns of lists (observation times) cannot be compared; they never decide an order.
    usable = [c for c in columns if c in frame and not _holds_lists(frame[c])]
    if len(frame) < 2 or not usable:
        return frame.reset_index(drop=True)
    return frame.sort_values(usable, kind="stable", ignore_index=True)


def _holds_lists(column: pd.Series) -> bool:
    if column.dtype != object:
        return False
    first = column.dropna()
    return len(first) > 0 and not isinstance(first.iloc[0], str)


def empty_node_frame(label: str) -> pd.DataFrame:
    """A frame with the columns of ``label`` and no rows."""
    spec = schema.node(label)
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in (spec.key, *spec.properties)})


def empty_rel_frame(rel_type: str) -> pd.DataFrame:
    """A frame with the columns of ``rel_type`` and no rows."""
    spec = schema.rel(rel_type)
    cols = ("src", "dst", *spec.properties)
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
