"""The graph as pandas frames: what the mapper produces, what export returns, what the model eats.

``nodes[label]`` has the label's key column (e.g. ``user_id``) and its schema properties; times
are int64 epoch milliseconds (missing values are ``pd.NA``). ``rels[type]`` has ``src`` and
``dst`` (the endpoint keys) and the type's properties. Both are keyed by schema names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def empty_node_frame(label: str) -> pd.DataFrame:
    """A frame with the columns of ``label`` and no rows."""
    spec = schema.node(label)
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in (spec.key, *spec.properties)})


def empty_rel_frame(rel_type: str) -> pd.DataFrame:
    """A frame with the columns of ``rel_type`` and no rows."""
    spec = schema.rel(rel_type)
    cols = ("src", "dst", *spec.properties)
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
