"""``fraudring train`` in-process: fast_dev_run, a short fit from the store, the checkpoint
contract scoring relies on, the cache and ``--print_config``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from model_data import frames_of

from graph_build.errors import ConfigError, FraudringError
from graphgnn.cli.train import run_lightning_cli

CONFIG = str(Path(__file__).resolve().parents[3] / "configs" / "demo.yaml")


def test_fast_dev_run_from_tables(generated_dir, tmp_path, capsys):
    run_lightning_cli(["fit", "--config", CONFIG, "--data.source=tables",
                       f"--data.data_dir={generated_dir}", f"--data.cache_dir={tmp_path}/c",
                       f"--trainer.default_root_dir={tmp_path}/runs",
                       "--trainer.max_epochs=1", "--trainer.fast_dev_run=true",
                       "--model.hidden=8"])
    out = capsys.readouterr().out
    assert "AUPRC" in out and "val   User" in out and "test  User" in out


def test_print_config(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_lightning_cli(["fit", "--config", CONFIG, "--print_config"])
    assert exit_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "objective: supervised" in out and "split: temporal" in out


@pytest.mark.parametrize("name", ["default", "unsupervised", "large", "gpu"])
def test_every_shipped_config_parses(name, capsys):
    config = str(Path(CONFIG).with_name(f"{name}.yaml"))
    with pytest.raises(SystemExit) as exit_info:
        run_lightning_cli(["fit", "--config", config, "--print_config"])
    assert exit_info.value.code in (0, None)
    assert "objective:" in capsys.readouterr().out


def test_large_config_trains_on_sampled_subgraphs(generated_dir, tmp_path, capsys):
    run_lightning_cli(["fit", "--config", str(Path(CONFIG).with_name("large.yaml")),
                       "--data.source=tables", f"--data.data_dir={generated_dir}",
                       f"--data.cache_dir={tmp_path}/c",
                       f"--trainer.default_root_dir={tmp_path}/runs",
                       "--trainer.fast_dev_run=true", "--trainer.enable_progress_bar=false",
                       "--model.hidden=8"])
    out = capsys.readouterr().out
    assert "AUPRC" in out and "val   User" in out


@pytest.fixture(scope="module")
def trained(built_store, generated_dir, tmp_path_factory):
    """A 3-epoch fit reading the graph from the shared (read-only) embedded store."""
    root = tmp_path_factory.mktemp("train")
    args = ["fit", "--config", CONFIG, "--data.store=embedded",
            f"--data.store_home={built_store.server.home}", f"--data.data_dir={generated_dir}",
            f"--data.cache_dir={root}/cache", f"--trainer.default_root_dir={root}/runs",
            "--trainer.max_epochs=3", "--model.hidden=16"]
    run_lightning_cli(args)
    return root, args


def test_fit_leaves_checkpoint_config_and_cache(trained, capsys):
    root, args = trained
    latest = root / "runs" / "latest.ckpt"
    assert latest.is_file()
    assert list((root / "runs").glob("lightning_logs/version_*/config.yaml"))
    assert len(list((root / "cache").glob("*.pt"))) == 1
    run_lightning_cli([*args[:-2], "--trainer.max_epochs=1", "--model.hidden=16"])
    assert "data: cached" in capsys.readouterr().err


def test_checkpoint_carries_what_scoring_needs(trained, generated_dir):
    from graphgnn.model.checkpoint import current_feature_names, load_scorer

    root, _ = trained
    ckpt = torch.load(root / "runs" / "latest.ckpt", weights_only=False)
    meta = ckpt["fraudring"]
    for key in ("schema", "feature_names", "normaliser", "model_version", "trained_until",
                "trained_from", "as_of", "feature_version"):
        assert key in meta, key
    assert meta["model_version"].startswith("sage-supervised-")
    scorer = load_scorer(root / "runs" / "latest.ckpt")
    assert scorer.feature_names == current_feature_names()
    assert scorer.trained_until == meta["t1"]
    scores = scorer.score(frames_of(generated_dir))
    assert set(scores) == {"User", "Order", "Device", "IP"}
    users = scores["User"]
    assert list(users.columns[:2]) == ["user_id", "anomaly_score"]
    assert list(users.columns[2:]) == scorer.feature_names["User"]
    assert users["anomaly_score"].between(0, 1).all() and len(users) == 2000
    assert np.isfinite(users[scorer.feature_names["User"]].to_numpy()).all()


def test_mismatched_checkpoint_is_refused(trained, tmp_path):
    from graphgnn.model.checkpoint import load_scorer

    root, _ = trained
    ckpt = torch.load(root / "runs" / "latest.ckpt", weights_only=False)
    ckpt["fraudring"]["feature_names"]["User"] = ["something_else"]
    bad = tmp_path / "bad.ckpt"
    torch.save(ckpt, bad)
    with pytest.raises(FraudringError, match="feature"):
        load_scorer(bad)
    ckpt["fraudring"]["schema"]["nodes"]["User"] = ["user_id"]
    torch.save(ckpt, bad)
    with pytest.raises(FraudringError, match="schema"):
        load_scorer(bad)
    with pytest.raises(FraudringError, match="no checkpoint"):
        load_scorer(tmp_path / "missing.ckpt")


def test_predict_writes_the_scores_of_every_predicted_node(generated_dir, trained_ckpt, tmp_path):
    import pandas as pd

    out = tmp_path / "scores.csv"
    run_lightning_cli(["predict", "--config", CONFIG, "--data.source=tables",
                       f"--data.data_dir={generated_dir}", f"--data.cache_dir={tmp_path}/c",
                       f"--trainer.default_root_dir={tmp_path}/runs", "--model.hidden=8",
                       f"--ckpt_path={trained_ckpt}", f"--predict_writer.out={out}"])
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["label", "key", "anomaly_score", "anomaly_pct"]
    users = frame[frame.label == "User"]
    assert len(users) == users.key.nunique() == len(frames_of(generated_dir).nodes["User"])
    assert users.anomaly_score.between(0, 1).all()


class _RunsCode:
    """Unpickling this runs code: it writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


def test_a_checkpoint_given_to_the_cli_is_never_unpickled(generated_dir, tmp_path):
    marker = tmp_path / "ran.txt"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": _RunsCode(marker)}, evil)
    with pytest.raises(Exception, match="(?i)weights.only"):
        run_lightning_cli(["predict", "--config", CONFIG, "--data.source=tables",
                           f"--data.data_dir={generated_dir}", f"--data.cache_dir={tmp_path}/c",
                           f"--trainer.default_root_dir={tmp_path}/runs", "--model.hidden=8",
                           f"--ckpt_path={evil}", f"--predict_writer.out={tmp_path}/s.csv"])
    assert not marker.exists()


def test_the_cli_refuses_to_unpickle_even_when_asked(generated_dir, trained_ckpt, tmp_path):
    with pytest.raises(ConfigError, match="never unpickled"):
        run_lightning_cli(["predict", "--config", CONFIG, "--data.source=tables",
                           f"--data.data_dir={generated_dir}", f"--data.cache_dir={tmp_path}/c",
                           f"--trainer.default_root_dir={tmp_path}/runs", "--model.hidden=8",
                           f"--ckpt_path={trained_ckpt}", f"--predict_writer.out={tmp_path}/s.csv",
                           "--weights_only=false"])


@pytest.mark.gpu
def test_gpu_config_trains_in_bf16_on_the_gpu(generated_dir, tmp_path, capsys):
    """configs/gpu.yaml (accelerator gpu, bf16-mixed) fits, tests and checkpoints on a GPU."""
    run_lightning_cli(["fit", "--config", str(Path(CONFIG).with_name("gpu.yaml")),
                       "--data.source=tables", f"--data.data_dir={generated_dir}",
                       f"--data.cache_dir={tmp_path}/c",
                       f"--trainer.default_root_dir={tmp_path}/runs", "--trainer.max_epochs=2"])
    assert "test  User" in capsys.readouterr().out
    ckpt = torch.load(tmp_path / "runs" / "latest.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["fraudring"]["model_version"]


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_fits_tests_and_checkpoints(generated_dir, tmp_path):
    """The path to more than one machine: DDP (gloo) with 2 CPU processes, sampled subgraphs."""
    import subprocess
    import sys

    root = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-m", "graphgnn.cli.main", "train", "fit", "--config", CONFIG,
         "--data.source=tables", f"--data.data_dir={generated_dir}",
         f"--data.cache_dir={tmp_path}/c", "--data.mode=minibatch",
         "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
         "--trainer.max_epochs=2", f"--trainer.default_root_dir={root}", "--model.hidden=8"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test  User" in proc.stdout
    ckpt = torch.load(root / "latest.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["fraudring"]["model_version"]
