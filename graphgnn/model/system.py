"""The LightningModule: objectives, losses, scores and ranking metrics around :class:`HeteroSAGE`.

Objectives:

- ``supervised``: an imbalance-aware loss on labelled training nodes — BCE with a positive
  weight of (negatives / positives) per type, or focal loss; score = sigmoid of the head.
- ``unsupervised``: reads no labels at all. The model reconstructs every node's (normalised)
  features and the graph's edges (against random negatives); a node's anomaly score is its
  feature error (through a narrow bottleneck, ``recon_dim``) plus the mean error of its edges,
  each divided by a running scale, mapped to [0, 1) by ``e / (e + c)`` where ``c`` is the
  running mean error on training-period nodes (so a typical node scores about 0.5). Scales live
  in buffers, saved with the checkpoint. Users, devices and IPs then take the mean score of
  their orders (their own where they have none): orders carry the signal.
- ``semi``: the supervised loss plus ``recon_weight`` times the unsupervised one; score = head.

Metrics per scored type on val and test (only on that split's mask; :mod:`graphgnn.model.metrics`).
``val_auprc`` — the mean of the User and Order heads' best validation AUPRC so far, each head
selected on its own type (:mod:`graphgnn.model.selection`) — drives early stopping and
checkpointing. Losses and the unsupervised score live in :mod:`graphgnn.model.objectives`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import lightning as L
import numpy as np
import torch
from torch import Tensor

from graphgnn.model import fastscore
from graphgnn.model.hetero import SCORED_TYPES, edge_types
from graphgnn.model.metrics import ranking
from graphgnn.model.objectives import Objectives
from graphgnn.model.reference import training_reference
from graphgnn.model.sage import HeteroSAGE
from graphgnn.model.selection import Selection, for_hybrid_choices

Objective = Literal["supervised", "unsupervised", "semi"]


class System(Objectives, Selection, L.LightningModule):
    """Training, evaluation and scoring of the heterogeneous GraphSAGE.

    Args:
        in_dims: node type -> feature count (linked from ``data.in_dims`` by the CLI).
        objective: ``supervised``, ``unsupervised`` or ``semi``.
        hidden: layer width. num_layers: message-passing layers. aggr: SAGE aggregation.
        norm: ``layer``/``batch``/``none``. dropout: dropout probability.
        skip: residual connections. jk: ``last``/``cat``/``max`` jumping knowledge.
        loss: ``weighted_bce`` or ``focal`` (supervised part).
        max_pos_weight: cap of the automatic positive weight of ``weighted_bce``.
        focal_gamma: focusing parameter. focal_alpha: positive-class weight of focal loss.
        type_weights: loss weight per scored type (default User/Order 1, Device/IP 0.5).
        recon_weight: weight of the feature reconstruction loss (unsupervised/semi).
        struct_weight: weight of the edge reconstruction loss (unsupervised/semi).
        recon_dim: bottleneck width of the feature decoders.
        lr: AdamW learning rate. weight_decay: AdamW weight decay.
        top_k: review budget K of Precision@K.
        head: ``sage`` (the GNN's heads score) or ``hybrid`` (after training, boosted trees on
            features + embeddings score User and Order; :mod:`graphgnn.model.selection`).
    """

    def __init__(
        self,
        in_dims: dict[str, int] | None = None,
        objective: Objective = "supervised",
        hidden: int = 64,
        num_layers: int = 2,
        aggr: str = "mean",
        norm: Literal["layer", "batch", "none"] = "layer",
        dropout: float = 0.2,
        skip: bool = True,
        jk: Literal["last", "cat", "max"] = "last",
        loss: Literal["weighted_bce", "focal"] = "weighted_bce",
        max_pos_weight: float = 50.0,
        focal_gamma: float = 2.0,
        focal_alpha: float = 0.75,
        type_weights: dict[str, float] | None = None,
        recon_weight: float = 1.0,
        struct_weight: float = 1.0,
        recon_dim: int = 4,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        top_k: int = 100,
        head: Literal["sage", "hybrid"] = "sage",
    ) -> None:
        super().__init__()
        if in_dims is None:
            raise ValueError("in_dims is required (the CLI links it from the data module)")
        if objective not in ("supervised", "unsupervised", "semi"):
            raise ValueError(f"unknown objective {objective!r}")
        if head not in ("sage", "hybrid"):
            raise ValueError(f"head must be 'sage' or 'hybrid', not {head!r}")
        self.save_hyperparameters()
        self.objective = objective
        self.model = HeteroSAGE(in_dims, edge_types(), hidden=hidden, num_layers=num_layers,
                                aggr=aggr, norm=norm, dropout=dropout, skip=skip, jk=jk,
                                scored_types=SCORED_TYPES, recon_dim=recon_dim)
        self.type_weights = {"User": 1.0, "Order": 1.0, "Device": 0.5, "IP": 0.5} | (
            type_weights or {})
        # Unsupervised score calibration per scored type: [feature scale, edge scale, c, n].
        for t in SCORED_TYPES:
            self.register_buffer(f"calib_{t}", torch.tensor([1.0, 1.0, 1.0, 0.0]))
        kind = "hybrid" if head == "hybrid" and objective != "unsupervised" else "sage"
        self.model_version = f"{kind}-{objective}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        self._init_selection()
        self._eval: dict[str, list[tuple[Tensor, Tensor]]] = {}
        self.last_metrics: dict[str, dict[str, dict[str, float]]] = {}

    # -- forward passes ------------------------------------------------------------------------
    def forward(self, batch) -> dict[str, Tensor]:
        return fastscore.embed(self.model, batch)

    def node_scores(self, batch) -> dict[str, Tensor]:
        """Anomaly scores in [0, 1] per scored type ``{t: [N_t]}`` (higher = more suspicious)."""
        if self.objective == "unsupervised":
            emb = self(batch)
            _, fe, se = self._unsupervised(batch, emb)
            return self._through_orders(self._calibrated(fe, se, batch, update=False), batch)
        out: dict[str, Tensor] = {}
        embs: dict[int, dict[str, Tensor]] = {}
        for t in SCORED_TYPES:
            if t not in batch.node_types:
                continue
            if t in self.trees and not self.training:
                out[t] = self.tree_scores(batch, t)
                continue
            model = self._model_for(t)
            if id(model) not in embs:
                embs[id(model)] = fastscore.embed(model, batch)
            logit = model.score_logits({t: embs[id(model)][t]})
            if t in logit:
                out[t] = torch.sigmoid(logit[t].float())
        return out

    # -- training --------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx: int):
        emb = self(batch)
        loss = None
        if self.objective in ("supervised", "semi"):
            loss = self._supervised_loss(batch, emb)
        if self.objective in ("unsupervised", "semi"):
            unsup, fe, se = self._unsupervised(batch, emb)
            with torch.no_grad():
                self._calibrated(fe, se, batch, update=True)
            loss = unsup if loss is None else loss + unsup
        # Every parameter takes part in every step's graph, with weight zero where this batch
        # does not use it (a head whose type has no labelled seed, an edge type absent from a
        # sampled subgraph, a batch with no labelled seed at all). DDP then reduces the same
        # gradients on every rank: no unused parameters, no rank that skips a step.
        touch = sum(p.sum() for p in self.parameters()) * 0.0
        loss = touch if loss is None else loss + touch
        self.log("train_loss", loss, prog_bar=True, batch_size=1, sync_dist=True)
        return loss

    # -- evaluation --------------------------------------------------------------------------
    def _collect(self, batch, mask: str) -> None:
        scores = self.node_scores(batch)
        # With the hybrid head, half the validation rows are kept for the trees' choices.
        keep_half = mask == "val_mask" and self.hparams.head == "hybrid" and self._selecting()
        for t, s in scores.items():
            m = self._active(batch, t, mask) & (batch[t].y >= 0)
            if keep_half:
                store = batch[t]
                index = store.n_id if "n_id" in store else torch.arange(len(s), device=s.device)
                m = m & ~for_hybrid_choices(index)
            if m.any():
                self._eval.setdefault(t, []).append((s[m].detach().cpu(), batch[t].y[m].cpu()))

    def _report(self, stage: str) -> None:
        metrics: dict[str, dict[str, float]] = {}
        for t, parts in sorted(self._eval.items()):
            score = torch.cat([p[0] for p in parts]).float().numpy()
            y = torch.cat([p[1] for p in parts]).numpy()
            metrics[t] = ranking(score, y, self.hparams.top_k)
            for name in ("auprc", "auroc", "recall_at_k", "precision_at_k"):
                if np.isfinite(metrics[t][name]):
                    self.log(f"{stage}/{t}/{name}", metrics[t][name], batch_size=1,
                             sync_dist=True)
        self._eval = {}
        main = metrics.get("User", next(iter(metrics.values()), {})).get("auprc", np.nan)
        selected = self._select(metrics) if stage == "val" else None
        if selected is not None:
            main = selected  # rises when any type's own validation AUPRC does
        # Early stopping needs a finite number even when no positive fell into the split.
        self.log(f"{stage}_auprc", float(main) if np.isfinite(main) else 0.0, prog_bar=True,
                 batch_size=1, sync_dist=True)
        self.last_metrics[stage] = metrics

    def on_validation_epoch_start(self) -> None:
        self._eval = {}

    def validation_step(self, batch, batch_idx: int) -> None:
        self._collect(batch, "val_mask")

    def on_validation_epoch_end(self) -> None:
        self._report("val")

    def on_test_epoch_start(self) -> None:
        self._eval = {}

    def test_step(self, batch, batch_idx: int) -> None:
        self._collect(batch, "test_mask")

    def on_test_epoch_end(self) -> None:
        self._report("test")

    def predict_step(self, batch, batch_idx: int) -> dict[str, Tensor]:
        """Per scored type ``[N, 2]``: (node index in the full graph, anomaly score)."""
        scores = self.node_scores(batch)
        out = {}
        for t, s in scores.items():
            store = batch[t]
            keep = store.seed if "seed" in store else torch.ones_like(s, dtype=torch.bool)
            ids = store.n_id if "n_id" in store else torch.arange(len(s), device=s.device)
            out[t] = torch.stack([ids[keep].float(), s[keep].float()], 1).cpu()
        return out

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr,
                                 weight_decay=self.hparams.weight_decay)

    # -- checkpoint ------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Add what scoring needs (see :mod:`graphgnn.model.checkpoint`) under ``"fraudring"``."""
        meta = {}
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and hasattr(dm, "checkpoint_meta"):
            meta = dm.checkpoint_meta()
        checkpoint["fraudring"] = meta | {"model_version": self.model_version,
                                          "objective": self.objective,
                                          "head": self.hparams.head}
        self._save_selection(checkpoint)
        if dm is not None:  # model monitoring's training reference (graphgnn.model.reference)
            checkpoint["fraudring"]["feature_reference"] = training_reference(self, dm)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.model_version = checkpoint.get("fraudring", {}).get("model_version",
                                                                 self.model_version)
        self._load_selection(checkpoint)
