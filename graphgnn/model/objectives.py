"""The objectives' losses and the unsupervised score, as a mixin of :class:`System`.

- ``supervised``: BCE with a positive weight of (negatives / positives) per type (capped), or
  focal loss, on the labelled training examples;
- ``unsupervised``: feature reconstruction through a narrow bottleneck plus edge
  reconstruction against random negatives; the per-node errors, divided by running scales kept
  in buffers, map to [0, 1) by ``e / (e + c)``; users, devices and IPs take the mean score of
  their orders (orders carry the signal);
- ``semi``: both losses; the score is the supervised head.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from graphgnn.model.hetero import SCORED_TYPES

MAX_STRUCT_EDGES = 200_000  # edges per type per step for the structure loss (sampled above)



def focal_loss(logits: Tensor, y: Tensor, gamma: float = 2.0, alpha: float = 0.75) -> Tensor:
    """Mean focal loss; ``alpha`` weighs positives, ``1 - alpha`` negatives."""
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    p_t = torch.exp(-bce)
    w = alpha * y + (1 - alpha) * (1 - y)
    return (w * (1 - p_t) ** gamma * bce).mean()



class Objectives:
    """Loss and unsupervised-score methods of :class:`graphgnn.model.system.System`."""

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
            # Differentiable in the errors (calib are buffers): attribution needs the gradient
            # of an unsupervised score; training never backpropagates through this.
            e = fe[t] / calib[0] + se[t] / calib[1]
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
