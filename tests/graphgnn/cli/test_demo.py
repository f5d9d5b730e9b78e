"""`fraudring demo` end to end with the real model (small and short), then score/rescore via CLI."""

from __future__ import annotations

import json

import pytest


def test_demo_then_rescore_keeps_every_score(tmp_path, monkeypatch, capsys):
    from graph_build.stores.falkor import FalkorStore
    from graphgnn.cli import main

    out = tmp_path / "demo"
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--users", "1000", "--epochs", "8", "--out", str(out),
                 "--keep-server"]) == 0
    printed = capsys.readouterr().out
    assert "Top rings:" in printed and "report:" in printed
    assert (out / "report" / "index.html").is_file()
    assert (out / ".fraudring-demo").is_file()
    home = out / "store"
    store = FalkorStore(home=home)
    try:
        unscored = store.read("MATCH (u:User) WHERE u.anomaly_score IS NULL RETURN count(u) AS c")
        assert unscored[0]["c"] == 0
        assert store.read("MATCH (u:User:Flagged) RETURN count(u) AS c")[0]["c"] > 0
        assert store.read("MATCH (r:FraudRing) RETURN count(r) AS c")[0]["c"] > 0
        monkeypatch.setenv("FRAUDRING_HOME", str(home))
        ckpt = str(out / "runs" / "latest.ckpt")
        assert main(["rescore", "--once", "--ckpt", ckpt, "--store", "embedded"]) == 0
        runs = store.read("MATCH (r:ScoringRun) RETURN r.status AS s, r.mode AS m")
        assert sorted((r["s"], r["m"]) for r in runs) == [("succeeded", "full"),
                                                         ("succeeded", "incremental")]
        assert store.read("MATCH (n:User) WHERE n.anomaly_score IS NULL RETURN count(n) AS c"
                          )[0]["c"] == 0
        capsys.readouterr()
        assert main(["rings", "--top", "3", "--json", "--store", "embedded"]) == 0
        rings = json.loads(capsys.readouterr().out)
        assert rings and all(r["size"] >= 3 for r in rings)
        # a re-run of the demo wipes its own folder; a foreign folder is refused
        other = tmp_path / "mine"
        other.mkdir()
        (other / "precious.txt").write_text("x")
        from graph_build.errors import ConfigError
        from graphgnn.cli.demo import run_demo

        with pytest.raises(ConfigError, match="not a previous demo"):
            run_demo(other, users=1000)
    finally:
        store.close()
        store.server.stop()


def test_wrong_checkpoint_is_refused(tmp_path, capsys):
    from graphgnn.cli import main

    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["score", "--ckpt", str(bad), "--store", "embedded"]) == 2
    assert "checkpoint" in capsys.readouterr().err
