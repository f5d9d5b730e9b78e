"""Per-type model selection and the hybrid's trees, as a mixin of :class:`System`.

Each scored head is selected on *its own type's* validation AUPRC: whenever User's (or Order's)
validation AUPRC improves, a copy of the weights is kept for that type. The logged
``val_auprc`` is the mean of the types' best-so-far values, so it rises whenever any type
improves (checkpointing and early stopping follow it) and the checkpoint holds every type's
weights (``"fraudring_states"``). User's weights also score Device and IP (their labels are
derived from users). After ``fit``, the hybrid head (``head="hybrid"``) fits LightGBM per type
on ``[features, embedding, GNN logit]`` (:mod:`graphgnn.model.hybrid`) and the best checkpoint
is rewritten with the trees in its metadata.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor

from graphgnn.model.hybrid import fit_trees, predict_trees

SELECTED = ("User", "Order")
OWNER = {"User": "User", "Device": "User", "IP": "User", "Order": "Order"}


class Selection:
    """Selection state: ``_best``, ``_states``, ``_type_models``, ``trees``, ``tree_info``."""

    def _init_selection(self) -> None:
        self._best: dict[str, float] = {}
        self._states: dict[str, dict[str, Tensor]] = {}
        self._type_models: dict = {}
        self.trees: dict[str, str] = {}
        self.tree_info: dict[str, dict] = {}

    def _selecting(self) -> bool:
        trainer = self._trainer
        return (trainer is not None and self.objective != "unsupervised"
                and trainer.state.fn == "fit" and not trainer.sanity_checking)

    def _select(self, metrics: dict[str, dict[str, float]]) -> float | None:
        """Keep each type's best weights; the mean best-so-far AUPRC (None: nothing to select)."""
        if not self._selecting():
            return None
        for t in SELECTED:
            value = metrics.get(t, {}).get("auprc", float("nan"))
            if np.isfinite(value) and value > self._best.get(t, -1.0):
                self._best[t] = float(value)
                self._states[t] = {k: v.detach().cpu().clone()
                                   for k, v in self.model.state_dict().items()}
        return float(np.mean(list(self._best.values()))) if self._best else 0.0

    def use_selected(self) -> None:
        """Score each type with its selected weights from now on (no-op without selection)."""
        self._type_models = {}
        for t, state in self._states.items():
            m = copy.deepcopy(self.model)
            m.load_state_dict(state)
            self._type_models[t] = m.to(self.device).eval()

    def _model_for(self, t: str):
        return self._type_models.get(OWNER.get(t, t), self.model)

    # -- hybrid --------------------------------------------------------------------------------
    @torch.no_grad()
    def tree_inputs(self, batch, t: str) -> np.ndarray:
        """``[N_t, F + H + 1]``: features, the GNN embedding and logit of type ``t``."""
        model = self._model_for(t)
        was = model.training
        model.eval()
        emb = model(batch.x_dict, batch.edge_index_dict)
        logit = model.score_logits({t: emb[t]})[t].unsqueeze(-1)
        model.train(was)
        return torch.cat([batch[t].x, emb[t], logit], 1).float().cpu().numpy()

    def fit_hybrid(self, train, val, seed: int = 0) -> None:
        """Fit the trees of every selected type on the train / val stage graphs."""
        for t in SELECTED:
            m_tr = (train[t].train_mask & (train[t].y >= 0)).cpu().numpy()
            if m_tr.sum() == 0 or train[t].y[train[t].train_mask].sum() == 0:
                continue
            m_va = (val[t].val_mask & (val[t].y >= 0)).cpu().numpy()
            x_tr = self.tree_inputs(train.to(self.device), t)[m_tr]
            x_va = self.tree_inputs(val.to(self.device), t)[m_va]
            self.trees[t], self.tree_info[t] = fit_trees(
                x_tr, train[t].y.cpu().numpy()[m_tr], x_va, val[t].y.cpu().numpy()[m_va], seed)

    def tree_scores(self, batch, t: str) -> Tensor:
        p = predict_trees(self.trees[t], self.tree_inputs(batch, t))
        return torch.from_numpy(p.astype(np.float32)).to(self.device)

    def on_fit_end(self) -> None:
        if self.objective == "unsupervised":
            return
        self.use_selected()
        trainer = self.trainer
        dm = getattr(trainer, "datamodule", None)
        if self.hparams.head == "hybrid" and dm is not None and getattr(dm, "stages", None):
            self.fit_hybrid(dm.stages["train"], dm.stages["val"],
                            int(getattr(dm.hparams, "seed", 0)))
        cb = trainer.checkpoint_callback
        if cb is not None and cb.best_model_path:
            trainer.save_checkpoint(cb.best_model_path)  # now with every type's weights + trees

    # -- checkpoint ----------------------------------------------------------------------------
    def _save_selection(self, checkpoint: dict) -> None:
        if self._states:
            checkpoint["fraudring_states"] = self._states
        checkpoint["fraudring"]["trees"] = dict(self.trees)
        checkpoint["fraudring"]["tree_info"] = dict(self.tree_info)
        checkpoint["fraudring"]["selected_auprc"] = dict(self._best)

    def _load_selection(self, checkpoint: dict) -> None:
        self._states = dict(checkpoint.get("fraudring_states") or {})
        meta = checkpoint.get("fraudring", {})
        self.trees = dict(meta.get("trees") or {})
        self.tree_info = dict(meta.get("tree_info") or {})
        self._best = dict(meta.get("selected_auprc") or {})
        self.use_selected()
