"""The ``fraudring`` command: one parser for building, training, scoring, serving and reading.

Every command lives in a module of this package with ``add_arguments(parser)`` and
``run(args) -> int``; options shared by several commands (``--store``) are declared here, once.
Commands that need torch import it when they run, so ``build``, ``stats`` and ``cypher`` start
fast. Every error a user can act on is one line (plus a hint) on stderr and a non-zero exit;
machine-readable output (``--json``) goes alone to stdout; a closed pipe (``| head``) ends
quietly.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass

from graph_build.errors import FraudringError

STORE_HELP = ("'embedded' (default; FalkorDB under FRAUDRING_HOME or ./.fraudring) or a "
              "bolt://, neo4j://, neo4j+s:// URI (default: NEO4J_URI when set)")
EXIT_ERROR = 2          # a FraudringError without its own exit code
EXIT_INTERNAL = 70      # a bug: an exception nobody anticipated (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_PIPE = 141         # stdout closed by the reader (128 + SIGPIPE), as shells report it


@dataclass(frozen=True)
class Command:
    """A sub-command: where its ``add_arguments``/``run`` live and whether it opens a store."""

    name: str
    module: str
    help: str
    store: bool = True
    add: str = "add_arguments"
    run: str = "run"


GRAPH = "graphgnn.cli.graph"
COMMANDS = (
    Command("generate", GRAPH, "write synthetic tables with planted fraud rings", store=False,
            add="add_generate", run="run_generate"),
    Command("build", GRAPH, "validate tables and merge them into the graph store",
            add="add_build", run="run_build"),
    Command("stats", GRAPH, "summarise the graph, scores, rings and runs",
            add="add_stats", run="run_stats"),
    Command("cypher", GRAPH, "run a read query (or a file from cypher/) as a table",
            add="add_cypher", run="run_cypher"),
    Command("db", GRAPH, "start, stop or check the embedded store's server", store=False,
            add="add_db", run="run_db"),
    Command("score", "graphgnn.cli.score",
            "score every node with a checkpoint; write scores, flags, reasons and rings"),
    Command("rescore", "graphgnn.cli.rescore",
            "rescore what changed since the last run (for cron, systemd, Kubernetes)"),
    Command("rings", "graphgnn.cli.rings", "print the top open fraud rings"),
    Command("report", "graphgnn.scores.report", "write the HTML report of scores and rings"),
    Command("serve", "graphgnn.cli.serve",
            "the scoring API and the investigators' workbench (one ASGI app)"),
    Command("demo", "graphgnn.cli.demo",
            "generate -> build -> train -> score -> rings -> report on the embedded store",
            store=False),
)


def _eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def _lazy_run(command: Command):
    def run(args) -> int:
        return getattr(importlib.import_module(command.module), command.run)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    """The whole ``fraudring`` parser (``train`` is handed to LightningCLI by :func:`main`)."""
    parser = argparse.ArgumentParser(
        prog="fraudring",
        description="GNN fraud-ring detector: tables -> graph -> scores, rings and reasons.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("train", help="LightningCLI: fit|validate|test|predict --config FILE",
                   add_help=False)
    for command in COMMANDS:
        if importlib.util.find_spec(command.module) is None:
            continue  # a command whose module is not part of this installation
        module = importlib.import_module(command.module)
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        getattr(module, command.add)(p)
        # TODO(lead): drop the guard once no command module declares --store itself.
        if command.store and not any(a.dest == "store" for a in p._actions):
            p.add_argument("--store", help=STORE_HELP)
        p.set_defaults(func=_lazy_run(command))
    return parser


def _quiet_broken_pipe() -> int:
    # The reader went away (`fraudring stats | head`): send what is left to /dev/null so the
    # interpreter's own flush at exit does not raise again, and end without a message.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PIPE


def main(argv: list[str] | None = None) -> int:
    """Run the ``fraudring`` command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "train":
            from graphgnn.cli.train import run_lightning_cli

            run_lightning_cli(argv[1:])
            return 0
        args = build_parser().parse_args(argv)
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except FraudringError as e:
        _eprint(f"fraudring: error: {e}")
        if e.hint:
            _eprint(f"hint: {e.hint}")
        return int(getattr(e, "exit_code", EXIT_ERROR))
    except KeyboardInterrupt:
        _eprint("fraudring: interrupted")
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a bare traceback
        if os.environ.get("FRAUDRING_DEBUG"):
            raise
        _eprint(f"fraudring: internal error: {type(e).__name__}: {e}")
        _eprint("hint: this is a bug; rerun with FRAUDRING_DEBUG=1 for the traceback and "
                "report it")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
