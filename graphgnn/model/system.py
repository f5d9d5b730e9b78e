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

Metrics per scored type on val and test (only on that split's mask): AUPRC, AUROC, Recall@K
with K = number of positives (R-precision) and Precision@K with K = ``top_k``. ``val_auprc``
(the User type's) drives early stopping and checkpointing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from graphgnn.model.hetero import SCORED_TYPES, edge_types
from graphgnn.model.sage import HeteroSAGE

Objective = Literal["supervised", "unsupervised", "semi"]
MAX_STRUCT_EDGES = 200_000  # edges per type per step for the structure loss (sampled above)


def ranking_metrics(score: np.ndarray, y: np.ndarray, top_k: int = 100) -> dict[str, float]:
    """AUPRC, AUROC, Recall@K (K = positives) and Precision@K (K = ``top_k``) of one ranking.

    Args:
        score: ``[N]`` scores, higher = more suspicious.
        y: ``[N]`` 0/1 labels.
        top_k: the review budget of Precision@K.

    Returns:
        The four metrics (NaN where undefined: no positives or no negatives) plus counts.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y).astype(int)
    pos = int(y.sum())
    out = {"n": float(len(y)), "positives": float(pos)}
    if pos == 0 or pos == len(y):
        return out | {"auprc": np.nan, "auroc": np.nan, "recall_at_k": np.nan,
                      "precision_at_k": np.nan}
    order = np.argsort(-score, kind="stable")
    k = min(top_k, len(y))
    return out | {
        "auprc": float(average_precision_score(y, score)),
        "auroc": float(roc_auc_score(y, score)),
        "recall_at_k": float(y[order[:pos]].sum() / pos),
        "precision_at_k": float(y[order[:k]].sum() / k),
    }


def focal_loss(logits: Tensor, y: Tensor, gamma: float = 2.0, alpha: float = 0.75) -> Tensor:
    """Mean focal loss; ``alpha`` weighs positives, ``1 - alpha`` negatives."""
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    p_t = torch.exp(-bce)
    w = alpha * y + (1 - alpha) * (1 - y)
    return (w * (1 - p_t) ** gamma * bce).mean()


class System(L.LightningModule):
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
    ) -> None:
        super().__init__()
        if in_dims is None:
            raise ValueError("in_dims is required (the CLI links it from the data module)")
        if objective not in ("supervised", "unsupervised", "semi"):
            raise ValueError(f"unknown objective {objective!r}")
        self.save_hyperparameters()
        self.objective = objective
        self.model = HeteroSAGE(in_dims, edge_types(), hidden, num_layers, aggr, norm, dropout,
                                skip, jk, SCORED_TYPES, recon_dim)
        self.type_weights = {"User": 1.0, "Order": 1.0, "Device": 0.5, "IP": 0.5} | (
            type_weights or {})
        # Unsupervised score calibration per scored type: [feature scale, edge scale, c, n].
        for t in SCORED_TYPES:
            self.register_buffer(f"calib_{t}", torch.tensor([1.0, 1.0, 1.0, 0.0]))
        self.model_version = f"sage-{objective}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        self._eval: dict[str, list[tuple[Tensor, Tensor]]] = {}
        self.last_metrics: dict[str, dict[str, dict[str, float]]] = {}

    # -- forward passes ------------------------------------------------------------------------
    def forward(self, batch) -> dict[str, Tensor]:
        return self.model(batch.x_dict, batch.edge_index_dict)

    def _unsupervised(self, batch, emb: dict[str, Tensor]
                      ) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """Loss on training-period nodes and per-node errors ``{t: [N_t]}`` (features, edges)."""
        recon = self.model.reconstruct(emb)
        fe = {t: ((recon[t] - batch[t].x) ** 2).mean(-1) for t in emb}
        loss = emb[next(iter(emb))].new_zeros(())
        for t in emb:
            m = self._active(batch, t, "fit_mask")
            if m.any():
                loss = loss + self.hparams.recon_weight * fe[t][m].mean() / len(emb)
        se_sum = {t: z.new_zeros(len(z)) for t, z in emb.items()}
        se_cnt = {t: z.new_zeros(len(z)) for t, z in emb.items()}
        # Project once per node, then gather per edge (projecting per edge costs E x H x H).
        proj = {t: self.model.struct(z) for t, z in emb.items()}
        forward = [et for et in batch.edge_types if not et[1].startswith("rev_")]
        for src, rel, dst in forward:
            ei = batch[src, rel, dst].edge_index
            if ei.shape[1] == 0 or len(emb[dst]) == 0:
                continue
            pos = (proj[src][ei[0]] * proj[dst][ei[1]]).sum(-1)
            err = F.softplus(-pos)
            ones = torch.ones_like(err)
            se_sum[src].index_add_(0, ei[0], err.detach())
            se_cnt[src].index_add_(0, ei[0], ones)
            se_sum[dst].index_add_(0, ei[1], err.detach())
            se_cnt[dst].index_add_(0, ei[1], ones)
            if self.training:
                pick = (torch.randperm(ei.shape[1], device=ei.device)[:MAX_STRUCT_EDGES]
                        if ei.shape[1] > MAX_STRUCT_EDGES else slice(None))
                src_idx = ei[0][pick]
                neg_dst = torch.randint(0, len(emb[dst]), (src_idx.numel(),), device=ei.device)
                neg = (proj[src][src_idx] * proj[dst][neg_dst]).sum(-1)
                loss = loss + self.hparams.struct_weight * (
                    err[pick].mean() + F.softplus(neg).mean()) / len(forward)
        se = {t: se_sum[t] / se_cnt[t].clamp_min(1) for t in emb}
        return loss, fe, se

    def _active(self, batch, t: str, mask: str) -> Tensor:
        """``batch[t][mask]`` restricted to the batch's seed nodes when it is sampled."""
        store = batch[t]
        m = store[mask] if mask in store else torch.zeros(store.num_nodes, dtype=torch.bool,
                                                          device=self.device)
        if "seed" in store:
            m = m & store.seed
        return m

    def _calibrated(self, fe: dict[str, Tensor], se: dict[str, Tensor], batch,
                    update: bool) -> dict[str, Tensor]:
        out = {}
        for t in SCORED_TYPES:
            if t not in fe:
                continue
            calib = getattr(self, f"calib_{t}")
            if update:
                m = self._active(batch, t, "fit_mask")
                if m.any():
                    mom = 1.0 if calib[3] == 0 else 0.1
                    calib[0] = (1 - mom) * calib[0] + mom * fe[t][m].mean().clamp_min(1e-6)
                    calib[1] = (1 - mom) * calib[1] + mom * se[t][m].mean().clamp_min(1e-6)
                    e = fe[t][m] / calib[0] + se[t][m] / calib[1]
                    calib[2] = (1 - mom) * calib[2] + mom * e.mean().clamp_min(1e-6)
                    calib[3] += 1
            e = fe[t].detach() / calib[0] + se[t].detach() / calib[1]
            out[t] = e / (e + calib[2])
        return out

    @staticmethod
    def _through_orders(scores: dict[str, Tensor], batch) -> dict[str, Tensor]:
        """Users, devices and IPs scored by the mean score of their orders (own score if none).

        Orders carry the unsupervised signal (a ring's orders are what reconstructs badly);
        a user's or device's own feature error is dominated by legitimate heavy tails.
        """
        if "Order" not in scores:
            return scores
        out = dict(scores)
        for t, et, own_row in (("User", ("User", "PLACED", "Order"), 0),
                               ("Device", ("Order", "FROM_DEVICE", "Device"), 1),
                               ("IP", ("Order", "FROM_IP", "IP"), 1)):
            if t not in scores or et not in batch.edge_types:
                continue
            ei = batch[et].edge_index
            owner, order = ei[own_row], ei[1 - own_row]
            n = len(scores[t])
            total = scores[t].new_zeros(n).index_add_(0, owner, scores["Order"][order])
            count = scores[t].new_zeros(n).index_add_(0, owner, torch.ones_like(total[owner]))
            out[t] = torch.where(count > 0, total / count.clamp_min(1), scores[t])
        return out

    def node_scores(self, batch) -> dict[str, Tensor]:
        """Anomaly scores in [0, 1] per scored type ``{t: [N_t]}`` (higher = more suspicious)."""
        emb = self(batch)
        if self.objective == "unsupervised":
            _, fe, se = self._unsupervised(batch, emb)
            return self._through_orders(self._calibrated(fe, se, batch, update=False), batch)
        return {t: torch.sigmoid(v.float()) for t, v in self.model.score_logits(emb).items()}

    # -- training --------------------------------------------------------------------------------
    def _supervised_loss(self, batch, emb: dict[str, Tensor]) -> Tensor | None:
        logits = self.model.score_logits(emb)
        total, used = None, 0
        for t, z in logits.items():
            m = self._active(batch, t, "train_mask") & (batch[t].y >= 0)
            if not m.any():
                continue
            y, z = batch[t].y[m].float(), z[m].float()
            if self.hparams.loss == "focal":
                part = focal_loss(z, y, self.hparams.focal_gamma, self.hparams.focal_alpha)
            else:
                pos = y.sum()
                pw = ((len(y) - pos) / pos.clamp_min(1)).clamp(1.0, self.hparams.max_pos_weight)
                part = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw)
            part = self.type_weights.get(t, 1.0) * part
            total = part if total is None else total + part
            used += 1
        return total

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
        if loss is None:
            return None  # no labelled seed in this sampled batch
        self.log("train_loss", loss, prog_bar=True, batch_size=1)
        return loss

    # -- evaluation --------------------------------------------------------------------------
    def _collect(self, batch, mask: str) -> None:
        scores = self.node_scores(batch)
        for t, s in scores.items():
            m = self._active(batch, t, mask) & (batch[t].y >= 0)
            if m.any():
                self._eval.setdefault(t, []).append((s[m].detach().cpu(), batch[t].y[m].cpu()))

    def _report(self, stage: str) -> None:
        metrics: dict[str, dict[str, float]] = {}
        for t, parts in sorted(self._eval.items()):
            score = torch.cat([p[0] for p in parts]).float().numpy()
            y = torch.cat([p[1] for p in parts]).numpy()
            metrics[t] = ranking_metrics(score, y, self.hparams.top_k)
            for name in ("auprc", "auroc", "recall_at_k", "precision_at_k"):
                if np.isfinite(metrics[t][name]):
                    self.log(f"{stage}/{t}/{name}", metrics[t][name], batch_size=1,
                             sync_dist=True)
        self._eval = {}
        main = metrics.get("User", next(iter(metrics.values()), {})).get("auprc", np.nan)
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
                                          "objective": self.objective}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.model_version = checkpoint.get("fraudring", {}).get("model_version",
                                                                 self.model_version)
