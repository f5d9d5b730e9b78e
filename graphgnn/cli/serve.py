"""``fraudring serve``: the scoring API and the investigators' workbench (FastAPI + uvicorn)."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from graph_build.errors import ConfigError

TOKEN_ENV = "FRAUDRING_API_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``fraudring serve``."""
    from graphgnn.api.settings import DEFAULT_HOST, DEFAULT_MAX_BODY, DEFAULT_PORT

    parser.add_argument("--store", help="'embedded' (default) or a bolt://, neo4j://, "
                        "neo4j+s:// URI (default: NEO4J_URI when set)")
    parser.add_argument("--ckpt", required=True, help="training checkpoint (.ckpt) to score with")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to bind (default {DEFAULT_HOST}: this machine only; "
                        "any other address needs --token-file)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--token-file", type=Path,
                        help=f"file holding the API token (or set {TOKEN_ENV}); clients send "
                        "'Authorization: Bearer <token>'")
    parser.add_argument("--read-only", action="store_true",
                        help="refuse requests that write to the graph (\"write\": true)")
    parser.add_argument("--review", type=float, help="percentile (or score with "
                        "--threshold-by score) from which an answer is 'review' (default 95)")
    parser.add_argument("--block", type=float, help="percentile (or score) from which an "
                        "answer is 'block' (default 99.5)")
    parser.add_argument("--threshold-by", choices=("pct", "score"), default="pct",
                        help="compare the thresholds with the percentile (default) or score")
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY,
                        help=f"largest request body in bytes (default {DEFAULT_MAX_BODY})")
    parser.add_argument("--log-level", default="info",
                        choices=("critical", "error", "warning", "info", "debug"),
                        help="the server's log level (default info)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes (default 1); one Python process uses about one "
                        "core, so use one per core. Each loads the model and builds its own "
                        "serving cache (~2 GiB each at 100k users)")


def read_token(path: Path | None) -> str | None:
    """The token from ``path`` (first line, stripped) or ``FRAUDRING_API_TOKEN``."""
    if path is None:
        return os.environ.get(TOKEN_ENV) or None
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the token file {path}: {e.strerror or e}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"fraudring: warning: {path} is readable by other users (chmod 600 it)",
              file=sys.stderr)
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise ConfigError(f"the token file {path} is empty")
    return token


def settings_from_args(args: argparse.Namespace):
    """The :class:`ServeSettings` the options ask for (ConfigError when they do not fit)."""
    from pydantic import ValidationError as PydanticError

    from graphgnn.api.settings import ActionThresholds, ServeSettings

    try:
        defaults = ActionThresholds(by=args.threshold_by) if args.threshold_by == "pct" else \
            ActionThresholds(by="score", review=0.5, block=0.9)
        thresholds = ActionThresholds(
            by=args.threshold_by,
            review=defaults.review if args.review is None else args.review,
            block=defaults.block if args.block is None else args.block)
        return ServeSettings(store=args.store, ckpt=args.ckpt, host=args.host, port=args.port,
                             token=read_token(args.token_file), read_only=args.read_only,
                             thresholds=thresholds, max_body_bytes=args.max_body).check()
    except PydanticError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(f"bad serve option {where}: {first.get('msg')}") from e


def run(args: argparse.Namespace) -> int:
    """Start the server; returns when it stops (Ctrl-C or SIGTERM)."""
    import torch
    import uvicorn

    from graphgnn.api.app import create_app

    # Per-request work is small: requests run in parallel threads, and intra-op threads
    # would only fight them for the cores.
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {args.workers}")
    torch.set_num_threads(1)
    settings = settings_from_args(args)
    if args.workers > 1:
        from graphgnn.api.workers import run_workers

        print(f"fraudring serve: http://{settings.host}:{settings.port} with {args.workers} "
              "workers (each builds its own serving cache)", file=sys.stderr)
        run_workers(settings, args.workers, args.log_level)
        return 0
    app = create_app(settings)
    where = f"http://{settings.host}:{settings.port}"
    print(f"fraudring serve: {where} (model {app.state.serve.online.model_version}; "
          f"store {app.state.store.location}; OpenAPI at {where}/docs)", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level,
                access_log=False, server_header=False)
    return 0
