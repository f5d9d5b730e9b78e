"""The command line's habits: one --store per command, quiet closed pipes, clear refusals."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from graphgnn.cli import main
from graphgnn.cli.main import COMMANDS, build_parser


def _subparsers(parser):
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_store_command_has_exactly_one_store_option():
    parsers = _subparsers(build_parser())
    for command in COMMANDS:
        if command.name not in parsers:
            continue
        stores = [a for a in parsers[command.name]._actions if a.dest == "store"]
        assert len(stores) == (1 if command.store else 0), command.name


def test_every_option_has_its_own_help_text():
    for name, parser in _subparsers(build_parser()).items():
        for action in parser._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"


def test_demo_refuses_a_store_it_would_ignore(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--store", "bolt://localhost:7687"])
    assert exc.value.code == 2
    assert "--store" in capsys.readouterr().err


def test_read_command_on_a_never_built_store_says_so(tmp_path, capsys, monkeypatch):
    from graph_build.stores.embedded_server import EmbeddedServer

    monkeypatch.setenv("FRAUDRING_HOME", str(tmp_path / "fresh"))
    try:
        assert main(["stats"]) == 2
        err = capsys.readouterr().err
        assert "holds no graph yet" in err and "fraudring build" in err
        assert main(["cypher", "MATCH (u:User) RETURN u.user_id AS id"]) == 2
        assert "holds no graph yet" in capsys.readouterr().err
    finally:
        EmbeddedServer(tmp_path / "fresh").stop()


def test_bad_param_name_is_a_clear_error(capsys):
    assert main(["cypher", "RETURN 1 AS x", "--param", "a`b=1"]) == 2
    assert "not a parameter name" in capsys.readouterr().err


def test_closed_pipe_ends_quietly(built_store):
    env = dict(os.environ, FRAUDRING_HOME=str(built_store.server.home))
    # `python -c` exits as soon as it has read one line: the pipe closes under `cypher`.
    query = "UNWIND range(1, 200000) AS i RETURN i"
    cmd = (f"{sys.executable} -m graphgnn.cli.main cypher '{query}' | "
           f"{sys.executable} -c 'import sys; sys.stdin.readline()'")
    proc = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_serve_refuses_zero_workers(tmp_path, capsys):
    assert main(["serve", "--ckpt", str(tmp_path / "m.ckpt"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
