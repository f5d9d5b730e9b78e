"""The batch state at the graph's as-of, held in memory for the fast serving path.

Built in a background thread at startup and again whenever a newer ``ScoringRun`` appears (or
after a request wrote to the graph), with the batch code itself
(:func:`graphgnn.model.serving.batch_outputs`: export at the latest event time, features,
normalised HeteroData, per-node scores). A request for an existing node is then a dictionary
look-up, equal to the batch score by construction; a new order is scored by
:mod:`graphgnn.api.fast_order` on a small piece of this state.

Swapping states is one attribute assignment: a request reads ``cache.state`` once and works on
that snapshot while a rebuild prepares the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from graph_build import cypher, schema
from graph_build.stores.base import GraphStore
from graphgnn.api.history import History, build_history
from graphgnn.model.features import _edges
from graphgnn.model.prepare import known_from_json
from graphgnn.model.serving import BatchOutputs, batch_outputs

log = logging.getLogger("fraudring.serve")
CSR = tuple[np.ndarray, np.ndarray]  # (indptr [n + 1], edge ids sorted by row)


def csr(rows: np.ndarray, n: int) -> CSR:
    """Edge ids grouped by ``rows`` (one group per node row ``0..n-1``)."""
    rows = np.asarray(rows, np.int64)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n)[:n], out=indptr[1:])
    return indptr, np.argsort(rows, kind="stable")


def take(c: CSR, rows: np.ndarray, cap: int | None = None) -> tuple[np.ndarray, bool]:
    """Edge ids of ``rows`` (at most ``cap`` per row, the last ones) and whether a cap hit."""
    indptr, order = c
    rows = np.asarray(rows, np.int64)
    if not len(rows):
        return np.zeros(0, np.int64), False
    start, end = indptr[rows], indptr[rows + 1]
    capped = cap is not None and bool(((end - start) > cap).any())
    if capped:
        start = np.maximum(start, end - cap)
    lens = end - start
    offsets = np.repeat(start - np.cumsum(lens) + lens, lens)
    return order[offsets + np.arange(int(lens.sum()))], capped


@dataclass
class CachedState:
    """One batch state and the indexes the fast path reads.

    Attributes:
        as_of: the graph's latest event time the state was computed at.
        run_id: the ScoringRun current when the build started (None before any).
        out: the batch outputs (FeatureSet, raw and normalised HeteroData, scores).
        index: label -> key -> row (feature row order).
        rel_rows: relationship type -> (source rows, target rows) in ``out.fs.frames``.
        by_src, by_dst: relationship type -> edge ids grouped by source / target row.
        in_edges: HeteroData edge type -> edge ids grouped by target row (message inputs).
        flagged: scored label -> keys flagged by the latest run.
        build_s: seconds the build took.
        history: the per-node event streams a new order's features read
            (:mod:`graphgnn.api.history`).
        flagged_entities: label -> flagged users per entity row (new orders' reasons).
    """

    as_of: int
    run_id: str | None
    out: BatchOutputs
    index: dict[str, dict[str, int]]
    rel_rows: dict[str, tuple[np.ndarray, np.ndarray]]
    by_src: dict[str, CSR]
    by_dst: dict[str, CSR]
    in_edges: dict[tuple[str, str, str], CSR]
    flagged: dict[str, set[str]] = field(default_factory=dict)
    build_s: float = 0.0
    history: History | None = None
    flagged_entities: dict[str, np.ndarray] = field(default_factory=dict)
    _views: dict = field(default_factory=dict, repr=False)

    def row(self, label: str, key: str) -> int | None:
        return self.index.get(label, {}).get(key)

    def x_np(self, t: str) -> np.ndarray:
        """The normalised features of type ``t`` as a numpy view (no copy; read-only use)."""
        key = ("x", t)
        if key not in self._views:  # HeteroData look-ups cost microseconds each
            self._views[key] = self.out.data[t].x.numpy()
        return self._views[key]

    def raw_np(self, t: str) -> np.ndarray:
        """The raw (un-normalised) features of type ``t`` as a numpy view (read-only use)."""
        key = ("raw", t)
        if key not in self._views:
            self._views[key] = self.out.raw[t].numpy()
        return self._views[key]

    def key_of(self, label: str, row: int) -> str:
        """The key of a cached row (a list kept: a pandas look-up per request costs ~50 us)."""
        key = ("keys", label)
        if key not in self._views:
            self._views[key] = self.out.fs.frames.keys(label).astype(str).tolist()
        return self._views[key][row]

    def src_np(self, et: tuple[str, str, str]) -> np.ndarray:
        """The source rows of edge type ``et`` in the normalised HeteroData (numpy view)."""
        key = ("src", et)
        if key not in self._views:
            self._views[key] = self.out.data[et].edge_index[0].numpy()
        return self._views[key]

    def tree_types(self) -> tuple[list[str], list[tuple[str, str, str]],
                                  dict[str, list[tuple[str, str, str]]]]:
        """(node types, edge types, target type -> its incoming edge types) of the
        HeteroData, in its order (``HeteroData.edge_types`` builds a new list on every read)."""
        key = ("types",)
        if key not in self._views:
            data = self.out.data
            nts, ets = list(data.node_types), list(data.edge_types)
            self._views[key] = (nts, ets, {t: [et for et in ets if et[2] == t] for t in nts})
        return self._views[key]

    def score(self, label: str, key: str) -> float | None:
        """The batch score of an existing node (None when the state does not have it)."""
        r = self.row(label, key)
        s = self.out.scores.get(label)
        return None if r is None or s is None else float(s[r])


def build_state(store: GraphStore, scorer, run_id: str | None) -> CachedState:
    """Export the graph at its latest event time and run the batch pass on it, once."""
    from graph_build.export import export_frames
    from graphgnn.scores.ingest import latest_event_time

    t0 = time.perf_counter()
    as_of = latest_event_time(store) or 0
    out = batch_outputs(scorer, export_frames(store, as_of=as_of), as_of)
    g = out.fs.frames
    index = {label: {str(k): i for i, k in enumerate(g.keys(label).astype(str))}
             for label in schema.NODES}
    rel_rows, by_src, by_dst = {}, {}, {}
    for rel_type, spec in schema.RELATIONSHIPS.items():
        s, d, _ = _edges(g, rel_type)
        rel_rows[rel_type] = (s, d)
        by_src[rel_type] = csr(s, g.node_count(spec.source))
        by_dst[rel_type] = csr(d, g.node_count(spec.target))
    in_edges = {et: csr(out.data[et].edge_index[1].numpy(), out.data[et[2]].num_nodes)
                for et in out.data.edge_types}
    flagged = {label: {str(r["key"]) for r in store.read(
        cypher.render("scoring/flagged_keys", label=label))} for label in schema.SCORED_LABELS}
    history = build_history(out.fs, known_from_json(scorer.meta.get("known_labels")))
    from graphgnn.api.fast_reasons import flagged_per_entity

    state = CachedState(int(out.fs.as_of), run_id, out, index, rel_rows, by_src, by_dst,
                        in_edges, flagged, 0.0, history)
    state.flagged_entities = flagged_per_entity(state)
    state.build_s = time.perf_counter() - t0
    return state


class SnapshotCache:
    """The current :class:`CachedState`, rebuilt in the background on demand.

    Args:
        store: the live graph. scorer: the loaded model.
    """

    def __init__(self, store: GraphStore, scorer) -> None:
        self.store, self.scorer = store, scorer
        self.state: CachedState | None = None
        self.builds = 0
        self.last_error: str | None = None
        self._dirty: dict[tuple[str, str], int] = {}  # written node -> build generation
        self._lock = threading.Lock()
        self._again = False
        self._running = False
        self._building: str | None = None
        self._next_run: str | None = None
        self._ready = threading.Event()
        self._generation = 0

    @property
    def ready(self) -> bool:
        return self.state is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a first state exists (True) or ``timeout`` passes (False)."""
        return self._ready.wait(timeout)

    def refresh(self, run_id: str | None = None, *, force: bool = False) -> None:
        """Start a rebuild in a background thread (coalesced with one already running).

        A request for the run the running build is already for is dropped (startup asks
        twice: a second full build would only compete with requests for the CPU) unless
        ``force`` (something was written since that build's export began).
        """
        with self._lock:
            if self._running:
                if force or run_id != self._building:
                    self._again = True
                    self._next_run = run_id if run_id is not None else self._building
                return
            self._running = True
            self._building = run_id
        threading.Thread(target=self._loop, args=(run_id,), name="fraudring-cache",
                         daemon=True).start()

    def _loop(self, run_id: str | None) -> None:
        while True:
            with self._lock:
                if self._again:
                    run_id = self._next_run
                self._again = False
                self._building = run_id
                self._generation += 1
                generation = self._generation
            try:
                state = build_state(self.store, self.scorer, run_id)
                self.state = state
                self.builds += 1
                self.last_error = None
                with self._lock:  # writes made before this build's export are in it
                    self._dirty = {k: g for k, g in self._dirty.items() if g > generation}
                self._ready.set()
                log.info("serving cache: %d nodes as of %d in %.2f s",
                         sum(state.out.data[t].num_nodes for t in state.out.data.node_types),
                         state.as_of, state.build_s)
            except Exception as e:  # noqa: BLE001 - keep serving the previous state
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("serving cache rebuild failed (previous state kept): %s", e)
            with self._lock:
                if not self._again:
                    self._running = False
                    return

    def mark_written(self, nodes: list[tuple[str, str]]) -> None:
        """Nodes a request wrote: answered by the exact path until a rebuild includes them."""
        with self._lock:
            for node in nodes:
                self._dirty[node] = self._generation + 1
        self.refresh(force=True)

    def touches_written(self, nodes: list[tuple[str, str]]) -> bool:
        dirty = self._dirty
        return any(n in dirty for n in nodes)
