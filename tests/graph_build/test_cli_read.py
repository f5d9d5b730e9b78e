"""Reading the graph back from the command line: stats and cypher."""

from __future__ import annotations

import json

import pytest

from graph_build.query import is_write_query
from graphgnn.cli import main as cli_main


@pytest.fixture()
def cli_store(generated_dir, tmp_path, monkeypatch):
    """The generated graph built through the CLI into a private data folder.

    NEO4J_URI is unset: with it, the CLI would build into that Neo4j and leave ~20k nodes.
    """
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("FRAUDRING_HOME", str(tmp_path / "home"))
    assert cli_main(["build", "--data", str(generated_dir)]) == 0
    yield
    cli_main(["db", "stop"])


def test_stats_json_is_one_object_on_stdout(cli_store, capsys):
    capsys.readouterr()
    assert cli_main(["stats", "--json"]) == 0
    out = capsys.readouterr().out
    stats = json.loads(out)  # nothing else on stdout
    assert set(stats) == {"nodes", "relationships", "scored", "flagged", "rings", "runs"}
    assert stats["nodes"]["User"] == 2000 and stats["runs"] == []


def test_build_twice_gives_identical_stats(cli_store, generated_dir, capsys):
    cli_main(["stats", "--json"])
    first = json.loads(capsys.readouterr().out)
    assert cli_main(["build", "--data", str(generated_dir)]) == 0
    capsys.readouterr()
    cli_main(["stats", "--json"])
    assert json.loads(capsys.readouterr().out) == first


def test_cypher_prints_a_table_with_params(cli_store, capsys):
    capsys.readouterr()
    code = cli_main(["cypher", "MATCH (u:User) WHERE u.user_id IN $ids "
                     "RETURN u.user_id AS user ORDER BY user", "--param", 'ids=["u0000001"]'])
    out = capsys.readouterr().out
    assert code == 0 and "user" in out and "u0000001" in out and "(1 row)" in out


def test_cypher_refuses_writes_without_flag(cli_store, capsys):
    assert cli_main(["cypher", "MATCH (u:User) SET u.x = 1"]) == 2
    assert "writes to the graph" in capsys.readouterr().err
    assert is_write_query("MATCH (n) DETACH DELETE n")
    assert not is_write_query("MATCH (n) WHERE n.note = 'SET x' RETURN n // CREATE")


def test_bad_store_uri_is_one_clear_line(capsys):
    assert cli_main(["stats", "--store", "http://localhost:7474"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fraudring: error:") and "Traceback" not in err
