"""Inductive scoring of one request from its receptive field in the live graph.

The request's neighbourhood is read from the store (:mod:`graphgnn.api.neighbourhood`), the
hypothetical order or user is mapped to graph rows by the build's own mapping
(:mod:`graphgnn.api.ingest`), and the result goes through the batch path's scorer
(``score_graph`` -> ``Scorer.score(frames, as_of)``): no second copy of feature or model code.

Population-level features (``*_freq``: the share of users with the same country, of devices
with the same OS …) depend on every node of a label, not on a neighbourhood; for those labels
the subgraph carries the whole label's node rows (cached here, refreshed with each new scoring
run), isolated, so those shares come out as in batch.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from graph_build import cypher, schema
from graph_build.frames import GraphFrames, empty_node_frame, empty_rel_frame
from graph_build.stores.base import GraphStore
from graphgnn.api.distribution import ScoreDistribution
from graphgnn.api.ingest import hypothetical_frames, order_tables, user_row, write_tables
from graphgnn.api.neighbourhood import FEATURE_RADIUS, NeighbourhoodFetcher, Node, Subgraph
from graphgnn.api.schemas import OrderRequest, ScoreResponse, UserRequest
from graphgnn.api.settings import ServeSettings
from graphgnn.scores.scoring import score_graph
from graphgnn.timeutil import now_ms

_ORDER_LINKS = (("device_id", "Device"), ("ip", "IP"), ("address_id", "Address"),
                ("payment_id", "PaymentMethod"))


def model_depth(scorer) -> int:
    """Message-passing layers of the scorer's model (its receptive field in hops)."""
    hparams = getattr(getattr(scorer, "system", None), "hparams", None) or {}
    return int(hparams.get("num_layers", 2))


def receptive_field(scorer) -> tuple[int, dict[str, int]]:
    """(store hops per message layer, feature radius per label) of the scorer's model.

    The co-user edge type (users sharing a device, IP, address or card) spans up to 4 store
    hops (user -> order -> address -> order -> user), and the co-user context features of a
    user aggregate its co-users' own features: 4 more hops of feature radius.
    """
    from graphgnn.model import hetero

    co_user = any(et[1] == "co_user" for et in hetero.edge_types())
    radius = dict(FEATURE_RADIUS)
    names = getattr(scorer, "feature_names", {}) or {}
    if any(n.startswith("co_") for n in names.get("User", ())):
        radius["User"] += 4
    return (4 if co_user else 1), radius


def population_labels(feature_names: dict[str, list[str]]) -> list[str]:
    """Labels with features computed over every node of the label (value shares)."""
    return [label for label, names in feature_names.items()
            if any(n.endswith("_freq") for n in names)]


class OnlineScorer:
    """Scores orders and users as the batch path would, from their neighbourhood.

    Args:
        store: the live graph.
        scorer: a loaded :class:`graphgnn.model.checkpoint.Scorer`.
        settings: caps, thresholds and refresh period.
    """

    def __init__(self, store: GraphStore, scorer, settings: ServeSettings,
                 metrics=None) -> None:
        from graphgnn.api.fast_path import FastPath
        from graphgnn.api.snapshot_cache import SnapshotCache

        self.store, self.scorer, self.settings = store, scorer, settings
        self.metrics = metrics
        self.model_version = str(getattr(scorer, "model_version", "unknown"))
        self.depth = model_depth(scorer)
        hops, radius = receptive_field(scorer)
        self.fetcher = NeighbourhoodFetcher(store, self.depth, settings.max_degree,
                                            settings.max_nodes, hops, radius)
        self.population_labels = population_labels(getattr(scorer, "feature_names", {}))
        self.population: dict[str, pd.DataFrame] = {}
        self.reload_population()
        # The batch state the fast path answers from: built now in the background, and again
        # with every newer scoring run (as the percentiles are).
        self.cache = SnapshotCache(store, scorer)
        self.fast = FastPath(self)
        self.distribution = ScoreDistribution(store, settings.refresh_s,
                                              on_new_run=self._new_run)
        self.distribution.refresh(force=True)
        if not self.cache.ready:
            self.cache.refresh(self.distribution.run.get("run_id"))

    def _new_run(self, run: dict) -> None:
        self.reload_population()
        self.cache.refresh(run.get("run_id"))

    def metrics_path(self, path: str) -> None:
        """Count one answer by the path that gave it."""
        if self.metrics is not None:
            self.metrics.paths.labels(path).inc()

    # -- caches ---------------------------------------------------------------------------------
    def reload_population(self) -> None:
        """Read the node rows of every population label (the export statement's columns)."""
        fresh = {}
        for label in self.population_labels:
            query = cypher.render("export/nodes", label=label)
            params = {"as_of": None, "since": None, "changed_after": None}
            pages = list(self.store.read_frames(query, params, numeric=schema.FLOAT_PROPERTIES))
            fresh[label] = pd.concat(pages, ignore_index=True) if pages else empty_node_frame(label)
        self.population = fresh

    def refresh_distribution(self) -> dict:
        """Readiness: ask the store for its latest run now (raises StoreError when it is
        down), reloading the distribution if that run is newer; returns the run in use."""
        from graphgnn.scores.runs import last_succeeded_run

        latest = last_succeeded_run(self.store) or {}
        if latest.get("run_id") != self.distribution.run.get("run_id"):
            self.distribution.refresh(force=True)
        return self.distribution.run

    # -- requests -------------------------------------------------------------------------------
    def quick_order(self, body: OrderRequest) -> ScoreResponse | None:
        """The fast path's answer when it needs nothing slow (run on the event loop), else
        None: the caller runs :meth:`score_order` in a thread. Slow are the exact path and a
        due check for a newer scoring run (it may reload every batch score)."""
        if self.distribution.due():
            return None
        return self.fast.order(body)

    def quick_user(self, body: UserRequest) -> ScoreResponse | None:
        """:meth:`quick_order` for a user (the cached batch score of a known user)."""
        if self.distribution.due():
            return None
        return self.fast.user(body)

    def score_user(self, body: UserRequest) -> ScoreResponse:
        """Score one user as of ``body.as_of`` (default now)."""
        self.distribution.refresh()
        fast = self.fast.user(body)
        if fast is not None:
            return fast
        t0 = time.perf_counter()
        as_of = body.as_of if body.as_of is not None else now_ms()
        node = ("User", body.user_id)
        sub = self.fetcher.fetch({node: self.depth}, as_of)
        known = body.user_id in sub.nodes.get("User", {})
        hyp, written = None, False
        if not known:
            tables = {"users": [user_row(body.user_id, body.user, None, as_of)]}
            if body.write:
                write_tables(self.store, tables)
                self.cache.mark_written([node])
                written = True
            hyp = hypothetical_frames(tables)
        t1 = time.perf_counter()
        return self._answer(node, sub, hyp, as_of, known, written, t0, t1, None)

    def score_existing(self, label: str, keys: list[str], as_of: int) -> dict[str, float]:
        """Scores of existing nodes from one fetch of their joint receptive field (the path
        of a single request, for many seeds at once: consistency checks and warm-up)."""
        sub = self.fetcher.fetch({(label, k): self.depth for k in keys}, as_of)
        scores = score_graph(self.scorer, self.frames(sub, None, as_of), as_of)
        frame = scores.get(label)
        if frame is None:
            return {}
        key = schema.node(label).key
        wanted = set(keys)
        return {str(k): float(s) for k, s in zip(frame[key], frame["anomaly_score"],
                                                 strict=True) if str(k) in wanted}

    def score_order(self, body: OrderRequest) -> ScoreResponse:
        """Score one order as of ``body.as_of`` (default its own time); ``write`` merges it."""
        self.distribution.refresh()
        fast = self.fast.order(body)
        if fast is not None:
            return fast
        t0 = time.perf_counter()
        as_of = body.as_of if body.as_of is not None else body.created_at
        order, user = ("Order", body.order_id), ("User", body.user_id)
        links: list[tuple[Node, Node]] = [(order, user)]
        for field, label in _ORDER_LINKS:
            value = getattr(body, field)
            if value is not None:
                links.append((order, (label, value)))
                if label in ("Device", "IP"):
                    links.append((user, (label, value)))
        links += [(order, ("Product", item.product_id)) for item in body.items]
        sub = self.fetcher.fetch({order: self.depth}, as_of, extra_edges=links)
        known = body.order_id in sub.nodes.get("Order", {})
        existing_user = sub.nodes.get("User", {}).get(body.user_id)
        tables = order_tables(body, user_row(body.user_id, body.user, existing_user,
                                             body.created_at))
        written = False
        if body.write:
            write_tables(self.store, tables)
            from graphgnn.api.fast_path import order_nodes

            self.cache.mark_written([order, *order_nodes(body)])
            written = True
        hyp = hypothetical_frames(tables)
        t1 = time.perf_counter()
        return self._answer(order, sub, hyp, as_of, known, written, t0, t1, user)

    # -- shared ---------------------------------------------------------------------------------
    def frames(self, sub: Subgraph, hyp: GraphFrames | None, as_of: int) -> GraphFrames:
        """The subgraph (+ hypothetical rows, + population rows) as batch-shaped frames."""
        g = GraphFrames(as_of=int(as_of))
        for label, spec in schema.NODES.items():
            rows = sub.nodes.get(label)
            parts = [pd.DataFrame.from_records(list(rows.values()))] if rows else []
            extra = hyp.nodes.get(label) if hyp is not None else None
            if extra is not None and len(extra):
                parts.append(extra[[c for c in extra.columns if c in (spec.key,
                                                                       *spec.properties)]])
            pop = self.population.get(label)
            if pop is not None and len(pop):
                seen = set().union(*(set(p[spec.key].astype(str)) for p in parts)) \
                    if parts else set()
                parts.append(pop[~pop[spec.key].astype(str).isin(seen)] if seen else pop)
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (
                parts[0] if parts else empty_node_frame(label))
            if spec.time == "first_seen" and extra is not None and len(extra):
                # A node first seen by this order is older of the two sightings, as the
                # build's MERGE keeps the minimum.
                t = pd.to_numeric(frame["first_seen"], errors="coerce")
                frame = frame.assign(first_seen=t.groupby(frame[spec.key]).transform("min"))
            g.nodes[label] = frame.drop_duplicates(spec.key, keep="first").reset_index(
                drop=True)
        for rel_type, spec in schema.RELATIONSHIPS.items():
            rows = sub.rels.get(rel_type)
            parts = [pd.DataFrame.from_records([{"src": s, "dst": d, **p} for (s, d), p in
                                                rows.items()])] if rows else []
            extra = hyp.rels.get(rel_type) if hyp is not None else None
            if extra is not None and len(extra):
                parts.append(extra[[c for c in extra.columns if c in ("src", "dst",
                                                                       *spec.properties)]])
            if not parts:
                g.rels[rel_type] = empty_rel_frame(rel_type)
                continue
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            if spec.aggregated:
                frame = frame.sort_values("first_seen", kind="stable")
            g.rels[rel_type] = frame.drop_duplicates(["src", "dst"], keep="first").reset_index(
                drop=True)
        return g

    def _answer(self, node: Node, sub: Subgraph, hyp: GraphFrames | None, as_of: int,
                known: bool, written: bool, t0: float, t1: float,
                user: Node | None) -> ScoreResponse:
        label, key = node
        frames = self.frames(sub, hyp, as_of)
        scores = score_graph(self.scorer, frames, as_of)
        t2 = time.perf_counter()
        frame = scores.get(label)
        spec = schema.node(label)
        row = frame[frame[spec.key].astype(str) == key] if frame is not None else None
        if row is None or not len(row):
            from graph_build.errors import FraudringError

            raise FraudringError(f"{label} {key!r} does not exist as of {as_of} "
                                 "(created later than as_of?)")
        score = float(row["anomaly_score"].iloc[0])
        pct = self.distribution.pct(label, score)
        action = self.settings.thresholds.action(score, pct if pct is not None else
                                                 100.0 * score)
        reasons = self._reasons(frames, scores, label, key, sub) if action != "allow" else []
        ring = sub.ring_of.get(user or node)
        t3 = time.perf_counter()
        self.metrics_path("exact")
        return ScoreResponse(
            label=label, key=key, anomaly_score=round(score, 6), anomaly_pct=pct,
            action=action, reasons=reasons, ring_id=ring, model_version=self.model_version,
            as_of=int(as_of), known=known, written=written, exact=sub.exact,
            subgraph_nodes=sub.size(),
            timing_ms={"fetch": _ms(t1 - t0), "score": _ms(t2 - t1),
                       "reasons": _ms(t3 - t2), "total": _ms(t3 - t0),
                       "statements": float(sub.statements)})

    def _reasons(self, frames: GraphFrames, scores: dict, label: str, key: str,
                 sub: Subgraph) -> list[str]:
        from graphgnn.scores.reasons import build_reasons

        flagged_users = {k for lab, k in sub.flagged if lab == "User"}
        flagged = {"User": flagged_users, label: {key}} if label != "User" else \
            {"User": flagged_users | {key}}
        return build_reasons(frames, scores, flagged,
                             getattr(self.scorer, "feature_names", None)).get(
            label, {}).get(key, [])


def _ms(seconds: float) -> float:
    return float(np.round(1000.0 * seconds, 3))
