"""Score every node with a checkpoint and write scores, flags, reasons and rings to the graph.

``fraudring score --ckpt FILE [--store STORE] [--as-of T] [--top-k N | --contamination R |
--threshold S]``: a full scoring pass under the rescore lock (so it never interleaves with a
scheduled ``rescore``). A checkpoint whose schema or features do not fit the graph is refused.
"""

from __future__ import annotations

import sys
import time


def _as_of(text: str | None) -> int | None:
    """Epoch ms, epoch seconds or an ISO date/time (UTC) -> epoch ms."""
    if text is None:
        return None
    from graph_build.errors import ConfigError

    try:
        value = float(text)
        return int(value if value > 1e11 else value * 1000)
    except ValueError:
        pass
    import pandas as pd

    try:
        ts = pd.Timestamp(text)
    except ValueError as e:
        raise ConfigError(f"--as-of {text!r}: not a time",
                          hint="epoch ms, or ISO like 2026-03-01T00:00:00Z") from e
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.timestamp() * 1000)


def add_arguments(parser) -> None:
    parser.add_argument("--ckpt", help="checkpoint (default FRAUDRING_CKPT or newest in runs/)")
    parser.add_argument("--store", help="'embedded' (default) or a Neo4j URI")
    parser.add_argument("--as-of", help="score the graph as of this time (default now)")
    rule = parser.add_mutually_exclusive_group()
    rule.add_argument("--top-k", type=int, help="review budget: flag the top N per label")
    rule.add_argument("--contamination", type=float,
                      help="flag this fraction per label (default 0.02)")
    rule.add_argument("--threshold", type=float, help="flag scores >= this value")
    parser.add_argument("--no-rings", action="store_true", help="skip ring detection")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    import json
    from dataclasses import asdict

    from graph_build.stores import open_store

    from graphgnn.scores.rescore import StoreLock, load, threshold_from_args
    from graphgnn.scores.scoring import run_scoring

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    threshold = threshold_from_args(args)
    scorer = load(args.ckpt)
    store = open_store(args.store)
    try:
        with StoreLock(store):
            result = run_scoring(store, scorer, as_of=_as_of(args.as_of), threshold=threshold,
                                 rings=not args.no_rings, log=log)
    finally:
        store.close()
    log(result.summary())
    if args.json:
        print(json.dumps(asdict(result), default=str))
    return 0
