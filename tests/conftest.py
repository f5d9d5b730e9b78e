"""Shared fixtures: a generated graph (a couple of thousand users) in a real embedded store."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# Shared test helpers (a fake scorer, small prepared graphs) import by module name.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from browser import chromium_path  # noqa: E402

FIXTURE_USERS = 2000
FIXTURE_SEED = 7


def pytest_collection_modifyitems(config, items):
    """Skip marked tests whose resource is absent, saying why."""
    import torch

    skip = {
        "neo4j": None if os.environ.get("NEO4J_URI") else
        "needs a Neo4j server: set NEO4J_URI (docker compose up -d)",
        "gpu": None if torch.cuda.is_available() else "needs a CUDA GPU",
        "slow": None if os.environ.get("FRAUDRING_SLOW") else
        "slow: set FRAUDRING_SLOW=1 to run",
        "browser": None if chromium_path() else
        "needs a Chromium binary: apt-get install -y chromium (or set FRAUDRING_CHROMIUM)",
    }
    for item in items:
        for marker, reason in skip.items():
            # A marker, not a keyword: a test parametrised with the id "gpu" is not a GPU test.
            if reason and item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _no_neo4j_unless_marked(request, monkeypatch):
    """Only tests marked ``neo4j`` see ``NEO4J_URI``: a command a test runs must never build
    into (or clear) a real Neo4j that the shell happens to point at."""
    if request.node.get_closest_marker("neo4j") is None:
        monkeypatch.delenv("NEO4J_URI", raising=False)


@pytest.fixture(scope="session", autouse=True)
def _private_store_home(tmp_path_factory):
    """Commands run by tests use a throwaway embedded store, never ./.fraudring."""
    from graph_build.stores.embedded_server import EmbeddedServer

    home = tmp_path_factory.mktemp("fraudring_home")
    previous = os.environ.get("FRAUDRING_HOME")
    os.environ["FRAUDRING_HOME"] = str(home)
    yield home
    EmbeddedServer(home).stop()
    if previous is None:
        os.environ.pop("FRAUDRING_HOME", None)
    else:
        os.environ["FRAUDRING_HOME"] = previous


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory):
    """Canonical tables + truth/ for a small generated population (read-only: copy to edit)."""
    from graph_build.generate import generate

    out = tmp_path_factory.mktemp("generated")
    generate(out, users=FIXTURE_USERS, seed=FIXTURE_SEED)
    return out


@pytest.fixture()
def data_copy(generated_dir, tmp_path):
    """A private, editable copy of the generated tables."""
    target = tmp_path / "data"
    shutil.copytree(generated_dir, target)
    return target


def _stop(store) -> None:
    store.close()
    store.server.stop()


@pytest.fixture()
def empty_store(tmp_path):
    """A fresh embedded FalkorDB (its own server and data folder), stopped afterwards."""
    from graph_build.stores.falkor import FalkorStore

    store = FalkorStore(home=tmp_path / "store")
    yield store
    _stop(store)


@pytest.fixture()
def store(generated_dir, empty_store):
    """The generated graph in a fresh embedded store of its own (tests may write to it)."""
    from graph_build.build import build

    build(generated_dir, empty_store, log=lambda _msg: None)
    return empty_store


@pytest.fixture(scope="session")
def built_store(tmp_path_factory, generated_dir):
    """The generated graph built into an embedded store, shared by read-only tests."""
    from graph_build.build import build
    from graph_build.stores.falkor import FalkorStore

    store = FalkorStore(home=tmp_path_factory.mktemp("built_store"))
    build(generated_dir, store, log=lambda _msg: None)
    yield store
    _stop(store)


@pytest.fixture(scope="session")
def trained_ckpt(generated_dir, tmp_path_factory):
    """A small checkpoint trained on the generated tables (3 epochs; shared, read-only)."""
    from graphgnn.cli.train import run_lightning_cli

    root = tmp_path_factory.mktemp("trained")
    config = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
    run_lightning_cli(["fit", "--config", str(config), "--data.source=tables",
                       f"--data.data_dir={generated_dir}", f"--data.cache_dir={root}/cache",
                       f"--trainer.default_root_dir={root}/runs", "--trainer.max_epochs=3",
                       "--model.hidden=8"])
    return root / "runs" / "latest.ckpt"
