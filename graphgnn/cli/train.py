"""``fraudring train fit|validate|test|predict --config FILE``: LightningCLI (System, DataModule).

The CLI links ``data.in_dims`` (known once the data is loaded) into ``model.in_dims``. After
``fit`` it re-evaluates the best checkpoint on validation and test, prints AUPRC/AUROC/Recall@K/
Precision@K per scored type to stdout, copies the best checkpoint to
``<trainer.default_root_dir>/latest.ckpt`` and prints both paths to stderr, so the next step
(``fraudring score --ckpt runs/demo/latest.ckpt``) has a predictable path. The run folder
(``<default_root_dir>/lightning_logs/version_N``) keeps the resolved ``config.yaml``.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lightning.pytorch.callbacks import BasePredictionWriter, EarlyStopping, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from graph_build.errors import ConfigError, FraudringError
from graphgnn.model.datamodule import DataModule
from graphgnn.model.system import System

# Lightning's own internals trip a torch deprecation on every step; it says nothing to users.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
# `fraudring train …` hands its own argument list to LightningCLI on purpose (sys.argv holds the
# `fraudring train` prefix); the CLI's "args and sys.argv both given" warning does not apply.
warnings.filterwarnings("ignore", message=r".*LightningCLI's args parameter is intended.*")

LATEST = "latest.ckpt"


def format_metrics(metrics: dict[str, dict[str, dict[str, float]]]) -> str:
    """A small table: one line per (split, node type)."""
    lines = [f"{'split':<5} {'type':<6} {'AUPRC':>6} {'AUROC':>6} {'R@K':>6} {'P@k':>6} "
             f"{'n':>8} {'pos':>6}"]
    for stage in ("val", "test"):
        for t, m in metrics.get(stage, {}).items():
            lines.append(f"{stage:<5} {t:<6} {m['auprc']:>6.3f} {m['auroc']:>6.3f} "
                         f"{m['recall_at_k']:>6.3f} {m['precision_at_k']:>6.3f} "
                         f"{int(m['n']):>8,} {int(m['positives']):>6,}")
    return "\n".join(lines)


class ScoreWriter(BasePredictionWriter):
    """``fraudring train predict`` writes the predicted nodes' scores to a Parquet or CSV file.

    Columns ``label, key, anomaly_score, anomaly_pct`` (as :meth:`graphgnn.Detector.score`);
    the format follows the file's suffix (``.parquet`` or ``.csv``). Default path:
    ``<trainer.default_root_dir>/predictions.parquet``.
    """

    def __init__(self, out: str | None = None) -> None:
        super().__init__(write_interval="epoch")
        self.out = out

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        from graphgnn.scores.scoring import percentiles

        keys = trainer.datamodule.meta["keys"]
        parts = []
        for t in sorted({t for batch in predictions for t in batch}):
            rows = np.concatenate([batch[t].numpy() for batch in predictions if t in batch])
            rows = rows[np.unique(rows[:, 0], return_index=True)[1]]  # one row per node
            ids, scores = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.float64)
            parts.append(pd.DataFrame({"label": t, "key": np.asarray(keys[t], dtype=object)[ids],
                                       "anomaly_score": scores,
                                       "anomaly_pct": percentiles(scores)}))
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["label", "key", "anomaly_score", "anomaly_pct"])
        if not trainer.is_global_zero:
            return  # every rank predicted every node (see DataModule._loader); one writes
        out = Path(self.out or Path(trainer.default_root_dir) / "predictions.parquet")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".csv":
            frame.to_csv(out, index=False)
        else:
            frame.to_parquet(out, index=False)
        print(f"predictions: {len(frame):,} scored nodes -> {out}", file=sys.stderr)


class FraudCLI(LightningCLI):
    """LightningCLI with the data-to-model links and an evaluation summary after ``fit``."""

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.in_dims", "model.in_dims", apply_on="instantiate")
        # Callbacks every config needs, declared once here (configs only tune them):
        # model selection and early stopping on validation AUPRC, and the prediction writer,
        # which acts only under `predict`.
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.monitor": "val_auprc", "checkpoint.mode": "max",
                             "checkpoint.filename": "best", "checkpoint.save_top_k": 1})
        parser.add_lightning_class_args(EarlyStopping, "early_stopping")
        parser.set_defaults({"early_stopping.monitor": "val_auprc", "early_stopping.mode": "max",
                             "early_stopping.patience": 15})
        parser.add_lightning_class_args(ScoreWriter, "predict_writer")

    def _no_pickle(self, subcommand: str) -> None:
        """Load any ``--ckpt_path`` with ``weights_only=True``; refuse to unpickle one.

        Lightning leaves local files to torch's default and unpickles remote ones (a crafted
        checkpoint then runs code); the project's checkpoints hold only tensors and plain
        data, so every load says so explicitly and ``--weights_only=false`` is refused.
        """
        config = self.config_init.get(subcommand, {})
        if "weights_only" in config:
            if config["weights_only"] is False:
                raise ConfigError("--weights_only=false is refused: checkpoints are never "
                                  "unpickled (they hold tensors and plain data only)")
            config["weights_only"] = True

    def before_fit(self) -> None:
        self._no_pickle("fit")

    def before_validate(self) -> None:
        self._no_pickle("validate")

    def before_test(self) -> None:
        self._no_pickle("test")

    def before_predict(self) -> None:
        self._no_pickle("predict")

    def after_fit(self) -> None:
        trainer, model, dm = self.trainer, self.model, self.datamodule
        if trainer.interrupted:
            return
        cb = trainer.checkpoint_callback
        best = cb.best_model_path if cb is not None and cb.best_model_path else None
        if best is None and not trainer.fast_dev_run and cb is not None and cb.last_model_path:
            best = cb.last_model_path
        if best is None and not trainer.fast_dev_run:
            # Every rank calls save_checkpoint (a collective under DDP); rank 0 writes the file.
            best = str(Path(trainer.default_root_dir) / "final.ckpt")
            trainer.save_checkpoint(best)
        metrics = {}
        for stage, run in (("val", trainer.validate), ("test", trainer.test)):
            run(model, datamodule=dm, ckpt_path=best, verbose=False, weights_only=True)
            metrics[stage] = model.last_metrics.get(stage, {})
        log_dir = trainer.log_dir  # a collective under DDP: every rank asks
        if not trainer.is_global_zero:
            return
        print(format_metrics(metrics), flush=True)
        if best:
            latest = Path(trainer.default_root_dir) / LATEST
            latest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(best, latest)
            print(f"checkpoint: {best}\nlatest: {latest}", file=sys.stderr)
        if log_dir:
            print(f"run folder: {log_dir}", file=sys.stderr)


def run_lightning_cli(args: list[str]) -> None:
    """Run the training CLI in-process with ``args`` (as after ``fraudring train``).

    Example: ``run_lightning_cli(["fit", "--config", "configs/demo.yaml",
    "--trainer.fast_dev_run=true"])``.
    """
    try:
        FraudCLI(
            System,
            DataModule,
            args=args,
            save_config_kwargs={"overwrite": True},
            parser_kwargs={"prog": "fraudring train"},
            seed_everything_default=0,
        )
    except ModuleNotFoundError as e:
        # An optional part a config asked for (e.g. a TensorBoard logger) is not installed.
        raise FraudringError(f"the training run needs the package {e.name!r}, which is not "
                             "installed", hint=f"pip install {e.name}  (or drop the option "
                             "that asks for it, e.g. --trainer.logger)") from e


def main() -> None:
    run_lightning_cli(sys.argv[1:])


if __name__ == "__main__":
    main()
