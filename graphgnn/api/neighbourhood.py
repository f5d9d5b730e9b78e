"""Fetch the exact receptive field of a few nodes from the store, hop by hop.

A node's score depends on the features of every node within ``k`` hops (``k`` = model depth;
messages flow both ways along every relationship type), and the features of a node of label
``L`` depend on the graph within :data:`FEATURE_RADIUS` ``[L]`` hops of it (e.g. a user's
``addr_users_max`` counts the users of the addresses its orders shipped to: user -> order ->
address -> order -> user, 4 hops). So each fetched node carries a *need* (how many more hops
must be read around it): seeds need ``max(k + radius)``-style coverage, computed exactly by
propagating, per node, the embedding layers still to cover and the feature radius still to
read. Every relationship of a node whose need is >= 1 is read (at or before ``as_of``), so the
subgraph is exact for the seeds as long as no cap is hit.

Reads are one statement per label per hop (``cypher/serve/incident.cypher``) plus one for the
properties of the nodes found (``cypher/serve/nodes.cypher``). Hubs: at most ``max_degree``
relationships per node are read, and the fetch stops growing at ``max_nodes``; either cap
makes the result ``exact = False``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from graph_build import cypher, schema
from graph_build.stores.base import GraphStore

Node = tuple[str, str]  # (label, key)

#: Hops around a node of each label that its point-in-time features read (graphgnn.model
#: features): users 4 (address/card users via orders), orders 3 (users of the order's device
#: via the device's orders), products/addresses/cards 2 (users via orders), devices/IPs 1.
#: The consistency test (tests/graphgnn/api) fails if a feature ever reads further.
FEATURE_RADIUS: dict[str, int] = {"User": 4, "Order": 3, "Product": 2, "Address": 2,
                                  "PaymentMethod": 2, "Device": 1, "IP": 1}
_TYPES = list(schema.RELATIONSHIPS)
_KEY_OF = {label: spec.key for label, spec in schema.NODES.items()}


@dataclass
class Subgraph:
    """What a fetch read: node rows per label, relationship rows per type, and caps hit."""

    nodes: dict[str, dict[str, dict]] = field(default_factory=lambda: defaultdict(dict))
    rels: dict[str, dict[tuple[str, str], dict]] = field(
        default_factory=lambda: defaultdict(dict))
    flagged: set[Node] = field(default_factory=set)
    ring_of: dict[Node, str] = field(default_factory=dict)
    exact: bool = True
    statements: int = 0

    def size(self) -> int:
        return sum(len(v) for v in self.nodes.values())


def _schema_label(labels: list[str]) -> str | None:
    for label in labels or ():
        if label in _KEY_OF:
            return label
    return None


class NeighbourhoodFetcher:
    """Reads receptive fields from one store (statements rendered once)."""

    def __init__(self, store: GraphStore, depth: int, max_degree: int = 5_000,
                 max_nodes: int = 20_000, hops_per_layer: int = 1,
                 feature_radius: dict[str, int] | None = None) -> None:
        self.store, self.depth, self.hops_per_layer = store, depth, hops_per_layer
        self.radius = dict(feature_radius or FEATURE_RADIUS)
        self.max_degree, self.max_nodes = max_degree, max_nodes
        self._incident = {label: cypher.render("serve/incident", label=label)
                          for label in schema.NODES}
        self._nodes = {label: cypher.render("serve/nodes", label=label)
                       for label in schema.NODES}

    def fetch(self, seeds: dict[Node, int], as_of: int,
              extra_edges: list[tuple[Node, Node]] = ()) -> Subgraph:
        """The subgraph that makes the scores of ``seeds`` exact.

        Args:
            seeds: node -> embedding layers to cover around it (the model depth for the nodes
                to score; a hypothetical order's neighbours get depth - 1).
            as_of: nothing later is read.
            extra_edges: links the store does not have yet (a hypothetical order's own): the
                neighbourhood grows through them as through stored ones.
        """
        sub = Subgraph()
        emb: dict[Node, int] = {}
        need: dict[Node, int] = {}
        adj: dict[Node, set[Node]] = defaultdict(set)
        for a, b in extra_edges:
            adj[a].add(b)
            adj[b].add(a)
        # Embedding layers become store hops: a derived edge type (co-users) spans several.
        work = [(node, layers * self.hops_per_layer) for node, layers in seeds.items()]
        expanded: set[Node] = set()
        to_describe: set[Node] = set(seeds)
        while True:
            self._propagate(work, emb, need, adj)
            frontier = [n for n, r in need.items() if r >= 1 and n not in expanded]
            if not frontier:
                break
            if sub.size() + len(frontier) > self.max_nodes:
                sub.exact = False
                break
            new_edges = self._expand(frontier, as_of, sub, adj)
            expanded.update(frontier)
            to_describe.update(frontier)
            to_describe.update(new_edges)
            # Re-propagate from the expanded nodes: their neighbours just became known.
            work = [(n, emb.get(n, -1)) for n in frontier]
        to_describe.update(need)
        self._describe(to_describe, sub)
        return sub

    def _propagate(self, work: list[tuple[Node, int]], emb: dict[Node, int], need: dict[Node, int],
                   adj: dict[Node, set[Node]]) -> None:
        """Spread embedding layers and feature needs over the known adjacency (worklist)."""
        stack = list(work)
        for node, layers in work:
            if layers > emb.get(node, -1):
                emb[node] = layers
            need[node] = max(need.get(node, 0), self.radius[node[0]] if
                             emb.get(node, -1) >= 0 else 0)
        while stack:
            node, _ = stack.pop()
            e, r = emb.get(node, -1), need.get(node, 0)
            for other in adj.get(node, ()):
                changed = False
                if e - 1 > emb.get(other, -1):
                    emb[other] = e - 1
                    changed = True
                want = max(r - 1, self.radius[other[0]] if emb.get(other, -1) >= 0 else 0)
                if want > need.get(other, 0):
                    need[other] = want
                    changed = True
                elif other not in need:
                    need[other] = 0
                if changed:
                    stack.append((other, emb.get(other, -1)))

    def _expand(self, frontier: list[Node], as_of: int, sub: Subgraph,
                adj: dict[Node, set[Node]]) -> set[Node]:
        by_label: dict[str, list[str]] = defaultdict(list)
        for label, key in frontier:
            by_label[label].append(key)
        found: set[Node] = set()
        for label, keys in by_label.items():
            rows = self.store.read(self._incident[label], {
                "keys": keys, "types": _TYPES, "as_of": int(as_of),
                "limit": self.max_degree})
            sub.statements += 1
            per_node: dict[str, int] = defaultdict(int)
            for row in rows:
                other_label = _schema_label(row["labels"])
                if other_label is None:
                    continue
                me, other = (label, row["key"]), (other_label, str(row["other"]))
                per_node[row["key"]] += 1
                src, dst = (me, other) if row["out"] else (other, me)
                spec = schema.rel(row["type"])
                if (src[0], dst[0]) != (spec.source, spec.target):
                    continue
                props = {p: row.get(p) for p in spec.properties if p in row}
                sub.rels[row["type"]][(src[1], dst[1])] = props
                adj[me].add(other)
                adj[other].add(me)
                found.add(other)
            if any(c >= self.max_degree for c in per_node.values()):
                sub.exact = False
        return found

    def _describe(self, nodes: set[Node], sub: Subgraph) -> None:
        """Read the properties of every node of the subgraph (absent ones: not in the store)."""
        by_label: dict[str, list[str]] = defaultdict(list)
        for label, key in nodes:
            by_label[label].append(key)
        for label, keys in by_label.items():
            rows = self.store.read(self._nodes[label], {"keys": keys})
            sub.statements += 1
            for row in rows:
                key = str(row[_KEY_OF[label]])
                if row.pop("_flagged", False):
                    sub.flagged.add((label, key))
                ring = row.pop("_ring_id", None)
                if ring is not None:
                    sub.ring_of[(label, key)] = str(ring)
                sub.nodes[label][key] = row
