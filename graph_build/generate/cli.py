"""The generator's command line: ``fraudring generate`` and ``python -m graph_build.generate``."""

from __future__ import annotations

import argparse
import sys

from graph_build.generate.constants import HARD_MIN_DAYS, MAX_USERS, MIN_USERS
from graph_build.generate.pipeline import generate


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``generate`` subcommand's options to ``parser``."""
    parser.add_argument("--out", required=True, help="folder to write the tables into")
    parser.add_argument("--users", type=int, default=5000,
                        help=f"number of users, {MIN_USERS:,}..{MAX_USERS:,} (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--days", type=int, default=90,
                        help="days of activity from 2026-01-01 (default 90, at least 7)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="file format of the tables (default csv)")
    parser.add_argument("--hard", action="store_true",
                        help="benchmark mode: camouflaged rings tied into the legit graph, half "
                        "the fraud lone, late and noisy labels, drift (needs --days >= "
                        f"{HARD_MIN_DAYS}); default: the demo mode")


def run_generate(args: argparse.Namespace) -> int:
    """Run :func:`generate` from parsed arguments; a one-line summary goes to stderr."""
    s = generate(args.out, users=args.users, seed=args.seed, days=args.days, fmt=args.format,
                 hard=getattr(args, "hard", False))
    lone = f" ({s.lone_fraud_users:,} outside rings)" if s.hard else ""
    print(f"generated {s.counts['users']:,} users, {s.counts['orders']:,} orders, "
          f"{s.counts['events']:,} events; {s.rings} rings, {s.fraud_users:,} fraud users"
          f"{lone}, {s.fraud_orders:,} fraud orders -> {s.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m graph_build.generate --out DIR [...]``."""
    parser = argparse.ArgumentParser(prog="python -m graph_build.generate",
                                     description="write synthetic tables with fraud rings")
    add_generate_arguments(parser)
    try:
        return run_generate(parser.parse_args(argv))
    except ValueError as e:
        parser.error(str(e))
    return 2
