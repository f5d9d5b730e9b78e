"""Rescore what changed since the last run (for cron, systemd, Kubernetes), once or in a loop.

``fraudring rescore (--once | --every DURATION) [--ckpt FILE] [--full] [--json]
[--metrics-file PATH] [--alerts-file PATH] [--webhook URL] …``

Exit codes (also in the README's operator section and ``deploy/README.md``):

====  =================  =================================================================
0     succeeded          the run wrote its scores and rings
1     run failed         the run started and failed (it is repaired by the next one)
2     usage              the command line itself is wrong (argparse)
69    store unreachable  the graph store did not answer or refused the connection
75    skipped (busy)     another rescore holds the lease; nothing was done
78    config error       missing checkpoint, bad option or environment value (permanent)
====  =================  =================================================================
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from graph_build.errors import ConfigError, FraudringError, StoreError

from graphgnn.cli import options as opts
from graphgnn.scores.lock import EXIT_BUSY, LockBusy, LockLost
from graphgnn.timeutil import now_ms, parse_as_of, parse_duration

EXIT_OK, EXIT_FAILED, EXIT_STORE, EXIT_CONFIG = 0, 1, 69, 78
STATUS_CODES = {"succeeded": EXIT_OK, "failed": EXIT_FAILED, "store_unreachable": EXIT_STORE,
                "skipped": EXIT_BUSY, "config_error": EXIT_CONFIG}


def add_arguments(parser) -> None:
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--once", action="store_true", help="run once and exit (cron, k8s)")
    when.add_argument("--every", metavar="DURATION", help="loop: run every 15m, 1h, …")
    opts.add_checkpoint_option(parser)
    opts.add_store_option(parser)
    opts.add_as_of_option(parser)
    opts.add_threshold_options(parser)
    parser.add_argument("--full", action="store_true", help="rescore every node")
    parser.add_argument("--lock-ttl", default="60s",
                        help="lease length without a heartbeat (default 60s)")
    parser.add_argument("--heartbeat", help="lease renewal period (default a third of the TTL)")
    parser.add_argument("--wait", action="store_true",
                        help="wait for a busy lease instead of skipping the run")
    parser.add_argument("--hub-cutoff", type=int, default=200,
                        help="deprecated and ignored: an increment rewrites exactly the nodes "
                        "whose score changed")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON summary object per run on stdout")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="log lines on stderr as text or JSON lines")
    parser.add_argument("--metrics-file", help="write Prometheus metrics to this textfile "
                        "(node_exporter's textfile collector)")
    parser.add_argument("--alerts-file", help="append alerts as JSON lines to this file")
    parser.add_argument("--webhook", default=os.environ.get("FRAUDRING_WEBHOOK_URL"),
                        help="POST each alert here (default FRAUDRING_WEBHOOK_URL)")
    parser.add_argument("--alert-grow-members", type=int, default=3,
                        help="a ring grew when it gained this many members (default 3)")
    parser.add_argument("--alert-grow-share", type=float, default=0.5,
                        help="… or this share of its size (default 0.5)")
    parser.add_argument("--alert-score", type=float, default=0.8,
                        help="alert once when a ring's score reaches this (default 0.8)")
    parser.add_argument("--drift-level", type=float, default=0.25,
                        help="alert when a feature's PSI reaches this (default 0.25)")
    parser.add_argument("--retry-base", default="30s",
                        help="--every: first retry delay after an error, doubling (default 30s)")
    parser.add_argument("--max-errors", type=int, default=3,
                        help="--every: stop after this many permanent errors in a row")


class Logger:
    """Log lines on stderr, as text or JSON lines (``--log-format``)."""

    def __init__(self, fmt: str = "text") -> None:
        self.fmt = fmt

    def __call__(self, msg: str, level: str = "info", **fields: Any) -> None:
        if msg.startswith("warning: "):
            level, msg = "warning", msg[len("warning: "):]
        if self.fmt == "json":
            line = json.dumps({"ts": now_ms(), "level": level, "msg": msg, **fields},
                              default=str)
        else:
            line = f"[{time.strftime('%H:%M:%S')}] {'' if level == 'info' else level + ': '}{msg}"
        print(line, file=sys.stderr, flush=True)


def _options(args):
    from graphgnn.scores.alerts import AlertConfig
    from graphgnn.scores.rescore import RescoreOptions

    alerts = None
    if args.alerts_file or args.webhook:
        alerts = AlertConfig(jsonl=args.alerts_file, webhook=args.webhook,
                             grow_members=args.alert_grow_members,
                             grow_share=args.alert_grow_share, score=args.alert_score)
    return RescoreOptions(
        full=args.full, threshold=opts.threshold_from_args(args),
        as_of=parse_as_of(args.as_of), lock_ttl_s=parse_duration(args.lock_ttl),
        heartbeat_s=parse_duration(args.heartbeat) if args.heartbeat else None,
        wait=args.wait, hub_cutoff=args.hub_cutoff or None, alerts=alerts,
        drift_level=args.drift_level)


def summarise(status: str, outcome=None, error: Exception | None = None,
              seconds: float = 0.0) -> dict[str, Any]:
    """The one JSON object a run reports (``--json``, metrics, logs)."""
    out: dict[str, Any] = {"status": status, "exit_code": STATUS_CODES[status],
                           "finished_at": now_ms(), "seconds": round(seconds, 3)}
    if error is not None:
        out["error"] = str(error)
        if getattr(error, "hint", None):
            out["hint"] = error.hint
    if outcome is not None and outcome.result is not None:
        r = outcome.result
        out |= {"run_id": r.run_id, "mode": r.mode, "reason": r.reason, "as_of": r.as_of,
                "watermark": r.watermark, "model_version": r.model_version,
                "nodes_scored": r.nodes_scored, "nodes_in_graph": r.nodes_in_graph,
                "region_size": outcome.region_size, "repaired_runs": outcome.repaired_runs,
                "flagged": r.flagged, "flagged_total": sum(r.flagged.values()),
                "threshold": r.threshold,
                "rings": {"open": r.rings, "new": r.rings_new,
                          "grown": sum(a["kind"] == "ring_grown" for a in outcome.alerts),
                          "closed": r.rings_closed},
                "alerts": [a["kind"] for a in outcome.alerts], "drift": outcome.drift}
    elif outcome is not None:
        out["message"] = outcome.message
    return out


def run_once(args, log: Logger) -> dict[str, Any]:
    """One rescore: its summary, whatever happened (errors become a status)."""
    from graph_build.stores import open_store

    from graphgnn.scores.rescore import rescore_once

    t = time.perf_counter()
    try:
        options = _options(args)
        scorer = opts.load_checkpoint(args.ckpt)
        store = open_store(args.store)
        try:
            outcome = rescore_once(store, scorer, options, log=log)
        finally:
            from graphgnn.scores.runs import best_effort

            best_effort(store.close)
        status = "skipped" if outcome.skipped else "succeeded"
        if outcome.result is not None:
            log(outcome.result.summary())
        return summarise(status, outcome, seconds=time.perf_counter() - t)
    except ConfigError as e:
        status, err = "config_error", e
    except LockBusy as e:
        status, err = "skipped", e
    except StoreError as e:
        status, err = "store_unreachable", e
    except (LockLost, FraudringError) as e:
        status, err = "failed", e
    log(f"{status}: {err}" + (f" (hint: {err.hint})" if err.hint else ""), level="error")
    return summarise(status, error=err, seconds=time.perf_counter() - t)


def run(args) -> int:
    """``fraudring rescore``: returns the exit code of the (last) run."""
    from graphgnn.scores.metrics import write_textfile

    log = Logger(args.log_format)
    period = parse_duration(args.every) if args.every else None
    retry_base = parse_duration(args.retry_base)
    failures = permanent = 0
    while True:
        started = time.monotonic()
        summary = run_once(args, log)
        if args.metrics_file:
            write_textfile(args.metrics_file, summary)
        if args.json:
            print(json.dumps(summary, default=str), flush=True)
        code = summary["exit_code"]
        if period is None:
            return code
        if summary["status"] in ("succeeded", "skipped"):
            failures = permanent = 0
            delay = max(0.0, period - (time.monotonic() - started))
        else:
            failures += 1
            permanent = permanent + 1 if summary["status"] == "config_error" else 0
            if permanent >= args.max_errors:
                log(f"stopping: {permanent} permanent errors in a row", level="error")
                return code
            delay = min(retry_base * 2 ** (failures - 1), 8 * max(period, retry_base))
            log(f"retrying in {delay:g} s (error {failures} in a row)", level="warning")
        time.sleep(delay)
