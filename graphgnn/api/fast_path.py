"""Which requests the cached batch state answers, and their answers.

- an **existing node** (a known user; an order already in the graph), nothing written, as of
  the state's time (or no time given): the cached batch score — equal to batch by
  construction, ``exact = True``;
- a **new order** created (and scored) at or after the state's time, nothing written:
  :func:`graphgnn.api.fast_order.score_new_order`, ``exact = False``, its reasons from
  :mod:`graphgnn.api.fast_reasons` (no frames);
- everything else goes to the exact path (:class:`graphgnn.api.online.OnlineScorer`): writes
  (and, until a rebuild includes them, requests touching written nodes), orders or users as
  of an earlier time, orders scored before their own time, models the computation tree does
  not reproduce (more than two layers, the unsupervised objective:
  :func:`graphgnn.api.fast_forward.supports`), and every request while the first state is
  still being built (``ServeSettings.while_warming = "exact"``; ``"unavailable"`` answers
  503 instead).

The user's ring comes from the run's ring map (:class:`graphgnn.api.distribution.
ScoreDistribution`), so an answer here needs no store statement; one is made anyway, a
``RETURN 1``, whenever none succeeded for ``ServeSettings.liveness_s`` (0.1 s): a store that
went down is still a 503 (within that time), at one round trip per ~40 answers under load
instead of one per answer (with the store's CPU, ~8 % of a request's CPU across processes).
"""

from __future__ import annotations

import time

from graph_build import cypher, schema
from graphgnn.api.errors import WarmingUp
from graphgnn.api.fast_forward import supports
from graphgnn.api.fast_order import frames_subgraph, score_new_order
from graphgnn.api.ingest import hypothetical_frames, order_tables, user_row
from graphgnn.api.schemas import OrderRequest, ScoreResponse, UserRequest
from graphgnn.api.snapshot_cache import CachedState

Node = tuple[str, str]
_LINKS = (("device_id", "Device"), ("ip", "IP"), ("address_id", "Address"),
          ("payment_id", "PaymentMethod"))


def order_nodes(body: OrderRequest) -> list[Node]:
    """The nodes an order touches besides itself: user, device, IP, address, card, products."""
    out: list[Node] = [("User", body.user_id)]
    out += [(label, getattr(body, f)) for f, label in _LINKS if getattr(body, f) is not None]
    out += [("Product", p) for p in dict.fromkeys(i.product_id for i in body.items)]
    return out


def order_frames(state: CachedState, body: OrderRequest):
    """The order's own graph rows by the build's mapping (a cached user keeps its own row)."""
    existing = None
    r = state.row("User", body.user_id)
    if r is not None:
        existing = {"created_at": state.out.fs.frames.nodes["User"]["created_at"].iloc[r]}
    return hypothetical_frames(order_tables(body, user_row(body.user_id, body.user, existing,
                                                           body.created_at)))


class FastPath:
    """Answers from ``online.cache`` where it can (None: use the exact path)."""

    def __init__(self, online) -> None:
        self.online = online
        self._ping = cypher.render("serve/ping")
        self._alive_at = -float("inf")  # monotonic time of the last statement that answered

    def _state(self) -> CachedState | None:
        state = self.online.cache.state
        if state is None and self.online.settings.while_warming == "unavailable":
            raise WarmingUp("the serving cache is warming up (first batch state in progress)")
        return state

    def _check_store(self) -> int:
        """Statements this answer made: none when the store answered one within
        ``liveness_s``, else a ``RETURN 1`` (a StoreError, hence a 503, when it is down)."""
        window = self.online.settings.liveness_s
        if window > 0 and time.monotonic() - self._alive_at < window:
            return 0
        self.online.store.read(self._ping)
        self._alive_at = time.monotonic()
        return 1

    def user(self, body: UserRequest) -> ScoreResponse | None:
        state = self._state()
        node = ("User", body.user_id)
        if state is None or body.write or (body.as_of is not None and body.as_of != state.as_of) \
                or self.online.cache.touches_written([node]):
            return None
        t0 = time.perf_counter()
        score = state.score(*node)
        if score is None:
            return None
        statements = self._check_store()
        return self._respond(node, score, state, t0, True,
                             self.online.distribution.ring_of(body.user_id), state.as_of,
                             True, 0, "cache", statements=statements)

    def order(self, body: OrderRequest) -> ScoreResponse | None:
        state = self._state()
        order = ("Order", body.order_id)
        touched = order_nodes(body)
        as_of = body.as_of if body.as_of is not None else body.created_at
        if state is None or body.write or self.online.cache.touches_written([order, *touched]):
            return None
        t0 = time.perf_counter()
        statements = self._check_store()
        ring = self.online.distribution.ring_of(body.user_id)
        known = state.score(*order)
        if known is not None:  # already in the graph: its batch score
            return self._respond(order, known, state, t0, True, ring, state.as_of, True, 0,
                                 "cache", statements=statements)
        if as_of < state.as_of or body.created_at < state.as_of or as_of < body.created_at \
                or not supports(self.online.scorer) or state.history is None:
            # A what-if in the past (the cache holds the present), an order before the cached
            # events, or a model the computation tree does not reproduce: the exact path.
            return None
        t1 = time.perf_counter()
        ans = score_new_order(state, self.online.scorer, body, as_of, make_frames=lambda: (
            frames_subgraph(state, touched, order_frames(state, body))[0]))
        return self._respond(order, ans.score, state, t0, False, ring, as_of, ans.exact,
                             ans.nodes, "fast", ans=ans, t_mid=t1, statements=statements)

    def _respond(self, node: Node, score: float, state: CachedState, t0: float, known: bool,
                 ring, as_of: int, exact: bool, nodes: int, path: str, ans=None,
                 t_mid: float | None = None, statements: int = 0) -> ScoreResponse:
        online = self.online
        label, key = node
        pct = online.distribution.pct(label, score)
        action = online.settings.thresholds.action(score, pct if pct is not None else
                                                   100.0 * score)
        t2 = time.perf_counter()
        reasons = self._reasons(state, node, score, ans) if action != "allow" else []
        t3 = time.perf_counter()
        online.metrics_path(path)
        timing = {"score": round(1000 * (t2 - t0), 3), "reasons": round(1000 * (t3 - t2), 3),
                  "total": round(1000 * (t3 - t0), 3), "statements": float(statements)}
        if t_mid is not None:
            timing["rows"] = round(1000 * (t_mid - t0), 3)
        return ScoreResponse(
            label=label, key=key, anomaly_score=round(score, 6), anomaly_pct=pct,
            action=action, reasons=reasons, ring_id=None if ring is None else str(ring),
            model_version=online.model_version, as_of=int(as_of), known=known, written=False,
            exact=exact, subgraph_nodes=nodes, path=path, timing_ms=timing)

    def _reasons(self, state: CachedState, node: Node, score: float, ans) -> list[str]:
        import numpy as np
        import pandas as pd

        from graphgnn.scores.reasons import build_reasons

        label, key = node
        if ans is not None and ans.req is not None and state.flagged_entities:
            from graphgnn.api.fast_reasons import order_reasons

            return order_reasons(state, self.online.scorer, ans.req, ans.rows, ans.x, score)
        names = self.online.scorer.feature_names[label]
        spec = schema.node(label)
        if ans is None:  # an existing node: its batch features, the graph around it
            from graph_build.frames import GraphFrames
            from graphgnn.api.fast_order import frames_subgraph

            r = state.row(label, key)
            x = state.out.data[label].x[r].numpy()[None, :]
            frames, _ = frames_subgraph(state, [node], GraphFrames())
        else:
            x, frames = ans.x[None, :], ans.frames
        frame = pd.DataFrame(np.asarray(x, np.float64), columns=names)
        frame.insert(0, "anomaly_score", [score])
        frame.insert(0, spec.key, [key])
        users = set(frames.nodes["User"][schema.node("User").key].astype(str))
        flagged = {"User": state.flagged.get("User", set()) & users}
        flagged[label] = flagged.get(label, set()) | {key}
        return build_reasons(frames, {label: frame}, flagged,
                             self.online.scorer.feature_names).get(label, {}).get(key, [])
