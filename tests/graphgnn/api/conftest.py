"""Serve fixtures: a small trained checkpoint (session) and apps on real embedded stores."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = str(Path(__file__).resolve().parents[3] / "configs" / "demo.yaml")


@pytest.fixture(scope="session")
def serve_ckpt(generated_dir, tmp_path_factory) -> Path:
    """A 2-epoch demo-config model trained on the generated tables (seconds on a CPU)."""
    from graphgnn.cli.train import run_lightning_cli

    root = tmp_path_factory.mktemp("serve_train")
    run_lightning_cli(["fit", "--config", CONFIG, "--data.source=tables",
                       f"--data.data_dir={generated_dir}", f"--data.cache_dir={root}/cache",
                       f"--trainer.default_root_dir={root}/runs", "--trainer.max_epochs=2",
                       "--model.hidden=16"])
    return root / "runs" / "latest.ckpt"


@pytest.fixture(scope="session")
def serve_scorer(serve_ckpt):
    from graphgnn.model.checkpoint import load_scorer

    return load_scorer(serve_ckpt)


def make_client(store, scorer, **settings):
    from fastapi.testclient import TestClient

    from graphgnn.api.app import create_app
    from graphgnn.api.settings import ServeSettings

    app = create_app(ServeSettings(**settings), store=store, scorer=scorer)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture()
def client(built_store, serve_scorer):
    """An app on the shared, read-only built store (no token, loopback)."""
    return make_client(built_store, serve_scorer)
