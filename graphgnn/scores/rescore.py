"""Rescore the graph under a lock: once (cron, systemd, Kubernetes) or every DURATION.

Each run: take the store lock (a ``RescoreLock`` node: owner token + expiry, so a killed job's
lock expires); read the watermark (the as_of of the last succeeded ``ScoringRun``); mark runs that
died while running as failed; export and score the whole graph as of now (features need the full
neighbourhood), but rewrite only the **region**: nodes and relationships with a time after the
watermark, expanded ``k`` hops (k = the model's depth; Product hubs are not crossed), plus every
node a crashed run left behind or that was never scored; then recompute rings and mark the run
succeeded. ``--full`` (or no succeeded run yet) rewrites everything.
See :mod:`graphgnn.scores.scoring` for the crash invariant.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from graph_build import cypher, schema
from graph_build.errors import ConfigError, FraudringError

LOCK_NAME = "rescore"
DEFAULT_LOCK_TTL_S = 1800
DEFAULT_HOPS = 2
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(text: str) -> float:
    """``15m`` -> 900.0 seconds (units s, m, h, d; a bare number is seconds)."""
    match = _DURATION.match(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"bad duration {text!r}", hint="use e.g. 30s, 15m, 1h or 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


# -- the lock -------------------------------------------------------------------------------
class LockBusy(FraudringError):
    """Another job holds the rescore lock."""


class StoreLock:
    """A lease in the store: ``(:RescoreLock {name, owner, expires_at})``.

    Acquire is one statement: MERGE the node, SET a property first (on Neo4j that takes the
    node's write lock, so the check below reads the committed owner and two transactions cannot
    both pass it; FalkorDB runs statements one at a time), then take it only if it is free,
    expired or already ours. The owner is then read back: only the token holder proceeds.
    """

    def __init__(self, store, name: str = LOCK_NAME, ttl_s: float = DEFAULT_LOCK_TTL_S,
                 owner: str | None = None) -> None:
        self.store, self.name, self.ttl_ms = store, name, int(ttl_s * 1000)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.held = False

    def _now(self) -> int:
        return int(time.time() * 1000)

    def holder(self) -> dict:
        rows = self.store.read(cypher.render("rescore/lock_read"), {"name": self.name})
        return rows[0] if rows else {}

    def try_acquire(self) -> bool:
        """Take (or renew) the lock; True when this owner holds it afterwards."""
        now = self._now()
        self.store.write(cypher.render("rescore/lock_acquire"), {
            "name": self.name, "owner": self.owner, "now": now,
            "expires_at": now + self.ttl_ms})
        self.held = self.holder().get("owner") == self.owner
        return self.held

    def renew(self) -> None:
        """Extend the lease; raises :class:`LockBusy` if it was lost (expired and taken)."""
        if not self.try_acquire():
            raise LockBusy("lost the rescore lock (it expired and another job took it)",
                           hint="raise --lock-ttl above the time a run takes")

    def release(self) -> None:
        if self.held:
            self.store.write(cypher.render("rescore/lock_release"),
                             {"name": self.name, "owner": self.owner})
            self.held = False

    def __enter__(self) -> StoreLock:
        if not self.try_acquire():
            info = self.holder()
            raise LockBusy(f"another rescore holds the lock ({info.get('owner')}, expires "
                           f"{_fmt_ms(info.get('expires_at'))})",
                           hint="it expires by itself if that job was killed")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # A BaseException that is not an Exception (a kill simulated in tests) leaves the lock
        # held, as a real kill would; everything else releases it.
        if exc_type is None or issubclass(exc_type, Exception):
            self.release()


def _fmt_ms(ms) -> str:
    if ms is None:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(ms) / 1000))


# -- the region -----------------------------------------------------------------------------
def touched_region(frames, since: int, hops: int = DEFAULT_HOPS,
                   skip_labels: tuple[str, ...] = ("Product",)) -> dict[str, set[str]]:
    """Nodes created and relationships (first or last) seen after ``since``, expanded ``hops``.

    Products are not crossed: a popular product links to most orders, and one more order on it
    barely moves anything the model sees about the others.
    """
    import pandas as pd

    region: dict[str, set[str]] = {label: set() for label in schema.NODES}
    for label, frame in frames.nodes.items():
        col = schema.node(label).time
        if col and col in frame and len(frame):
            t = pd.to_numeric(frame[col], errors="coerce")
            region[label] |= set(frame[schema.node(label).key][t > since].astype(str))
    for rel_type, frame in frames.rels.items():
        spec = schema.rel(rel_type)
        if not len(frame):
            continue
        t = pd.to_numeric(frame[spec.time], errors="coerce") if spec.time in frame else None
        if "last_seen" in frame:
            last = pd.to_numeric(frame["last_seen"], errors="coerce")
            t = last if t is None else t.where(t > last, last)
        if t is None:
            continue
        hit = frame[(t > since).to_numpy()]
        region[spec.source] |= set(hit["src"].astype(str))
        region[spec.target] |= set(hit["dst"].astype(str))
    return expand(frames, region, hops, skip_labels)


def expand(frames, region: dict[str, set[str]], hops: int,
           skip_labels: tuple[str, ...] = ("Product",)) -> dict[str, set[str]]:
    """``region`` plus every node within ``hops`` relationships (not through ``skip_labels``)."""
    frontier = {k: set(v) for k, v in region.items()}
    for _ in range(hops):
        new: dict[str, set[str]] = {label: set() for label in schema.NODES}
        for rel_type, frame in frames.rels.items():
            spec = schema.rel(rel_type)
            if not len(frame) or spec.source in skip_labels or spec.target in skip_labels:
                continue
            src, dst = frame["src"].astype(str), frame["dst"].astype(str)
            if frontier.get(spec.source):
                new[spec.target] |= set(dst[src.isin(frontier[spec.source]).to_numpy()])
            if frontier.get(spec.target):
                new[spec.source] |= set(src[dst.isin(frontier[spec.target]).to_numpy()])
        frontier = {label: keys - region.get(label, set()) for label, keys in new.items()}
        if not any(frontier.values()):
            break
        for label, keys in frontier.items():
            region.setdefault(label, set()).update(keys)
    return region


def needs_repair(store, bad_runs: list[str]) -> dict[str, set[str]]:
    """Scored-label nodes never scored or last written by a run that did not succeed."""
    out = {}
    for label in schema.SCORED_LABELS:
        rows = store.read(cypher.render("rescore/needs_repair", label=label),
                          {"bad_runs": bad_runs})
        out[label] = {r["key"] for r in rows}
    return out


# -- one run --------------------------------------------------------------------------------
@dataclass
class RescoreOutcome:
    """Result of :func:`rescore_once`: ``skipped`` when the lock was busy."""

    skipped: bool
    result: object | None = None
    repaired_runs: int = 0
    region_size: int = 0
    message: str = ""


def model_depth(scorer) -> int:
    """Message-passing depth of the scorer's model (how far a change can move a score)."""
    hparams = getattr(getattr(scorer, "system", None), "hparams", None) or {}
    for value in (getattr(scorer, "num_layers", None), getattr(scorer, "depth", None),
                  hparams.get("num_layers") if hasattr(hparams, "get") else None):
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_HOPS


def rescore_once(store, scorer, *, full: bool = False, threshold=None, as_of: int | None = None,
                 lock_ttl_s: float = DEFAULT_LOCK_TTL_S, ring_options=None,
                 fail_after_batches: int | None = None, wait: bool = False,
                 log=None) -> RescoreOutcome:
    """Take the lock and run one (incremental or full) scoring pass.

    Args:
        store: the graph store.
        scorer: the loaded checkpoint (:func:`graphgnn.model.checkpoint.load_scorer`).
        full: rewrite every scored node, not just the touched region.
        threshold: :class:`graphgnn.scores.scoring.Threshold`.
        as_of: score as of this time (default now).
        lock_ttl_s: lease length; a killed job's lock frees itself after this.
        ring_options: :class:`graphgnn.scores.rings.RingOptions`.
        fail_after_batches: tests: crash like a kill after that many write batches.
        wait: wait for a busy lock (polling) instead of skipping.
        log: progress lines.
    """
    from graphgnn.scores import cache as frames_cache
    from graphgnn.scores import scoring

    log = log or (lambda _m: None)
    lock = StoreLock(store, ttl_s=lock_ttl_s)
    while not lock.try_acquire():
        if not wait:
            holder = lock.holder()
            msg = (f"another rescore holds the lock ({holder.get('owner')}, expires "
                   f"{_fmt_ms(holder.get('expires_at'))}); skipping this run")
            log(msg)
            return RescoreOutcome(skipped=True, message=msg)
        time.sleep(0.5)
    outcome = RescoreOutcome(skipped=False)
    try:
        last = scoring.last_succeeded_run(store)
        dead = scoring.unfinished_runs(store)
        if dead:
            ids = [r["run_id"] for r in dead]
            store.write(cypher.render("scoring/mark_abandoned"),
                        {"run_ids": ids, "finished_at": scoring.now_ms()})
            outcome.repaired_runs = len(ids)
            log(f"repairing after {len(ids)} unfinished run(s): {', '.join(ids)}")
        incremental = not full and last is not None
        region_fn = None
        if incremental:
            watermark = int(last["as_of"])
            repair = needs_repair(store, [r["run_id"] for r in dead])
            hops = model_depth(scorer)

            def region_fn(frames):
                region = touched_region(frames, watermark, hops)
                for label, keys in repair.items():
                    region.setdefault(label, set()).update(keys)
                outcome.region_size = sum(len(region.get(lb, ())) for lb in
                                          schema.SCORED_LABELS)
                log(f"incremental: {outcome.region_size:,} scored nodes touched since "
                    f"{_fmt_ms(watermark)} ({hops} hops)")
                return region
        lock.renew()
        as_of = int(as_of) if as_of is not None else scoring.now_ms()
        frames = frames_cache.export_since_watermark(
            store, int(last["as_of"]) if incremental else None, as_of, log)
        outcome.result = scoring.run_scoring(
            store, scorer, as_of=as_of, threshold=threshold,
            mode="incremental" if incremental else "full",
            watermark=int(last["as_of"]) if incremental else None,
            region_fn=region_fn, ring_options=ring_options, frames=frames,
            fail_after_batches=fail_after_batches, log=log)
        frames_cache.save(store, frames)
        lock.renew()
    except BaseException as e:
        if isinstance(e, Exception):
            lock.release()
        raise
    lock.release()
    return outcome


# -- checkpoints and the command ------------------------------------------------------------
def default_checkpoint(runs_dir: str | Path = "runs") -> Path:
    """``FRAUDRING_CKPT`` or the newest ``*.ckpt`` below ``runs_dir``."""
    env = os.environ.get("FRAUDRING_CKPT")
    if env:
        return Path(env)
    found = sorted(Path(runs_dir).rglob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise ConfigError(f"no checkpoint under {runs_dir}/ and FRAUDRING_CKPT is not set",
                          hint="train one (fraudring train fit --config configs/demo.yaml) "
                          "or pass --ckpt FILE")
    return found[-1]


def load(ckpt: str | Path | None):
    from graphgnn.model.checkpoint import load_scorer

    path = Path(ckpt) if ckpt else default_checkpoint()
    if not path.is_file():
        raise ConfigError(f"{path}: no such checkpoint")
    return load_scorer(path)


def add_arguments(parser) -> None:
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--once", action="store_true", help="run once and exit (cron, k8s)")
    when.add_argument("--every", metavar="DURATION", help="loop: run every 15m, 1h, …")
    parser.add_argument("--ckpt", help="checkpoint (default FRAUDRING_CKPT or newest in runs/)")
    parser.add_argument("--full", action="store_true", help="rescore every node")
    parser.add_argument("--top-k", type=int, help="flag the top N nodes per label")
    parser.add_argument("--contamination", type=float,
                        help="flag this fraction per label (default 0.02)")
    parser.add_argument("--lock-ttl", default="30m",
                        help="lock lease; a killed job's lock expires after it (default 30m)")
    parser.add_argument("--wait", action="store_true",
                        help="wait for a busy lock instead of skipping the run")
    parser.add_argument("--store", help="'embedded' (default) or a Neo4j URI")


def threshold_from_args(args):
    from graphgnn.scores.scoring import DEFAULT_CONTAMINATION, Threshold

    return Threshold(top_k=getattr(args, "top_k", None),
                     contamination=(getattr(args, "contamination", None)
                                    if getattr(args, "contamination", None) is not None
                                    else DEFAULT_CONTAMINATION),
                     score=getattr(args, "threshold", None))


def run(args) -> int:
    from graph_build.stores import open_store

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    ttl = parse_duration(args.lock_ttl)
    period = parse_duration(args.every) if args.every else None
    threshold = threshold_from_args(args)
    while True:
        started = time.monotonic()
        store = open_store(args.store)
        try:
            scorer = load(args.ckpt)
            outcome = rescore_once(store, scorer, full=args.full, threshold=threshold,
                                   lock_ttl_s=ttl, wait=args.wait, log=log)
            if outcome.result is not None:
                log(outcome.result.summary())
        except FraudringError as e:
            if period is None:
                raise
            log(f"error: {e} (retrying in {args.every})")
        finally:
            store.close()
        if period is None:
            return 0
        time.sleep(max(0.0, period - (time.monotonic() - started)))
