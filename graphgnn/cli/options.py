"""Options shared by the scoring commands (``score``, ``rescore``), declared once."""

from __future__ import annotations

import os
from pathlib import Path

from graph_build.errors import ConfigError

STORE_HELP = ("'embedded' (default; FalkorDB under FRAUDRING_HOME or ./.fraudring) or a "
              "bolt://, neo4j://, neo4j+s:// URI (default: NEO4J_URI when set)")


def add_store_option(parser) -> None:
    """``--store STORE``."""
    parser.add_argument("--store", help=STORE_HELP)


def add_checkpoint_option(parser) -> None:
    """``--ckpt FILE``."""
    parser.add_argument("--ckpt", help="checkpoint (default FRAUDRING_CKPT or newest in runs/)")


def add_as_of_option(parser) -> None:
    """``--as-of T``."""
    parser.add_argument("--as-of", help="score the graph as of this time: epoch ms or ISO "
                        "(default: the latest event in the graph)")


def add_threshold_options(parser) -> None:
    """``--top-k N | --contamination R | --threshold S`` (one of them)."""
    rule = parser.add_mutually_exclusive_group()
    rule.add_argument("--top-k", type=int, help="review budget: flag the top N per label")
    rule.add_argument("--contamination", type=float,
                      help="flag this fraction per label (default 0.02)")
    rule.add_argument("--threshold", type=float, help="flag scores >= this value")


def threshold_from_args(args):
    """The :class:`graphgnn.scores.threshold.Threshold` the options ask for."""
    from graphgnn.scores.threshold import DEFAULT_CONTAMINATION, Threshold

    contamination = getattr(args, "contamination", None)
    return Threshold(top_k=getattr(args, "top_k", None),
                     contamination=DEFAULT_CONTAMINATION if contamination is None
                     else contamination,
                     score=getattr(args, "threshold", None))


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


def load_checkpoint(ckpt: str | Path | None):
    """The scorer of ``ckpt`` (or of :func:`default_checkpoint`); imports torch."""
    from graphgnn.model.checkpoint import load_scorer

    path = Path(ckpt) if ckpt else default_checkpoint()
    if not path.is_file():
        raise ConfigError(f"{path}: no such checkpoint")
    return load_scorer(path)
