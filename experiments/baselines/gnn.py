"""The real GNN (graphgnn's ``System`` + ``DataModule``) trained on the prepared split.

A thin adapter: the DataModule is built with ``DataModule.from_frames`` and handed the already
prepared HeteroData (same features, normaliser and temporal split as the baselines; its own
``prepare`` would compute the identical thing again). Hyperparameters come from
``configs/default.yaml`` (``model:`` section), so this measures the shipped configuration.

- supervised: Lightning ``Trainer`` with early stopping on ``val_auprc`` (patience from
  ``--quick``/full settings); the weights of the best validation epoch are restored.
- unsupervised: a fixed number of epochs, no labels read and no model selection on labels.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import yaml

from experiments.baselines.common import THREADS

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"
LARGE_CONFIG = CONFIG.with_name("large.yaml")
#: From this many users on, the GNN trains as ``configs/large.yaml`` says (sampled subgraphs).
LARGE_USERS = 50_000


def _model_args() -> dict:
    args = dict(yaml.safe_load(CONFIG.read_text()).get("model") or {}) if CONFIG.is_file() else {}
    args.pop("in_dims", None)
    return args


def large_settings() -> dict:
    """``configs/large.yaml``: mini-batch data settings, epochs and early-stopping patience."""
    cfg = yaml.safe_load(LARGE_CONFIG.read_text())
    data = {k: cfg["data"][k] for k in ("mode", "batch_size", "num_neighbors", "sampling")}
    stop = next(c["init_args"] for c in cfg["trainer"]["callbacks"]
                if c["class_path"].endswith("EarlyStopping"))
    return {"data": data, "max_epochs": int(cfg["trainer"]["max_epochs"]),
            "patience": int(stop["patience"])}


def quiet_trainer(max_epochs: int, **kwargs):
    """A CPU Lightning ``Trainer`` for measurements: no logger, checkpoints, bars or summary."""
    import lightning as L

    return L.Trainer(max_epochs=max_epochs, accelerator="cpu", devices=1, logger=False,
                     enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0, **kwargs)


def gnn_scores(p, seed: int, objective: str = "supervised", max_epochs: int = 200,
               patience: int = 30, data_args: dict | None = None) -> np.ndarray:
    """Train ``System(objective)`` on ``p`` and return the target type's scores ``[N]``.

    Args:
        p: the prepared dataset.
        seed: training seed (``lightning.seed_everything``).
        objective: ``supervised`` or ``unsupervised``.
        max_epochs: epochs at most (unsupervised: exactly).
        patience: early-stopping patience (supervised).
        data_args: DataModule settings (e.g. ``mode="minibatch"``); default full batch.
    """
    import lightning as L
    from lightning.pytorch.callbacks import Callback, EarlyStopping

    from graphgnn.model.datamodule import DataModule
    from graphgnn.model.system import System

    torch.set_num_threads(THREADS)
    L.seed_everything(seed, workers=True, verbose=False)
    dm = DataModule.from_frames(p.frames, split="temporal", seed=seed, **(data_args or {}))
    dm.data, dm.meta = p.data, dict(p.meta)
    args = _model_args() | {"objective": objective}
    system = System(in_dims=dm.in_dims, **args)

    class _KeepBest(Callback):
        def __init__(self) -> None:
            self.best, self.state = -1.0, None

        def on_validation_epoch_end(self, trainer, module) -> None:
            val = trainer.callback_metrics.get("val_auprc")
            if val is not None and float(val) > self.best:
                self.best, self.state = float(val), copy.deepcopy(module.state_dict())

    keep = _KeepBest()
    supervised = objective != "unsupervised"
    callbacks = [keep, EarlyStopping("val_auprc", mode="max", patience=patience)] \
        if supervised else []
    trainer = quiet_trainer(max_epochs, limit_val_batches=1.0 if supervised else 0,
                            callbacks=callbacks, log_every_n_steps=1)
    trainer.fit(system, datamodule=dm)
    if supervised and keep.state is not None:
        system.load_state_dict(keep.state)
    system.eval()
    with torch.no_grad():
        scores = system.node_scores(p.data)[p.target]
    return scores.float().numpy()
