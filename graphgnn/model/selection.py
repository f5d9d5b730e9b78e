"""Per-type model selection and the hybrid's trees, as a mixin of :class:`System`.

Each scored head is selected on *its own type's* validation AUPRC: whenever User's (or Order's)
validation AUPRC improves, a copy of the weights is kept for that type. The logged
``val_auprc`` is the mean of the types' best-so-far values, so it rises whenever any type
improves (checkpointing and early stopping follow it) and the checkpoint holds every type's
weights (``"fraudring_states"``). User's weights also score Device and IP (their labels are
derived from users). After ``fit``, the hybrid head (``head="hybrid"``) fits LightGBM per type
on the features and the neighbour aggregates (:mod:`graphgnn.model.neighbour_inputs`), with or
without the GNN embedding, blended with the GNN logit, each choice made on the validation
snapshot (:meth:`Selection.fit_hybrid`; :mod:`graphgnn.model.hybrid`),
and the best checkpoint is rewritten with the trees in its metadata.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor

from graphgnn.model.hybrid import fit_trees, predict_trees
from graphgnn.model.neighbour_inputs import neighbour_aggregates, relations_of

SELECTED = ("User", "Order")
BLEND = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)  # weights of the GNN logit tried on validation


def _blend(p_tree: np.ndarray, gnn_logit: np.ndarray, w: float) -> np.ndarray:
    """``sigmoid((1 - w) * logit(p_tree) + w * gnn_logit)``."""
    p = np.clip(np.asarray(p_tree, np.float64), 1e-7, 1 - 1e-7)
    z = (1 - w) * np.log(p / (1 - p)) + w * np.asarray(gnn_logit, np.float64)
    return 1.0 / (1.0 + np.exp(-z))


OWNER = {"User": "User", "Device": "User", "IP": "User", "Order": "Order"}


def for_hybrid_choices(index: Tensor) -> Tensor:
    """Which validation rows (by node index in the stage's graph) the hybrid's choices read.

    Why a split: the GNN's weights are the epoch that scored best on validation, so on those
    rows its logit and embedding look better than they are. Measured (hard mode 50k users,
    generator seed 101, training seed 0): validation said blending in the GNN logit raised
    AUPRC 0.154 -> 0.206 (users) and 0.121 -> 0.131 (orders); on the test set every blend
    weight lowered it, monotonically (users 0.133 alone -> 0.113 at the chosen 0.7; orders
    0.260 -> 0.197 at the chosen 0.2). So with the hybrid head the GNN selects its epoch on
    one half of the validation rows and the trees' "take the GNN part?" is decided on the
    other half, which no part of the GNN was chosen on. A hash of the node index (Knuth's
    multiplicative one), so the halves are the same in full-batch and sampled training.
    """
    return (index.to(torch.int64) * 2654435761 % 4294967296) >= 2147483648


def clearly_better(p_new: np.ndarray, p_old: np.ndarray, y: np.ndarray, seed: int = 0,
                   reps: int = 200, share: float = 0.8) -> bool:
    """Whether scores ``p_new`` beat ``p_old`` on labels ``y`` in AUPRC in at least ``share``
    of paired bootstrap resamples of the rows (one-sided; the simpler model wins ties)."""
    from graphgnn.model.metrics import average_precision

    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(reps):
        rows = rng.integers(0, len(y), len(y))
        if y[rows].sum() == 0:
            continue
        wins += average_precision(p_new[rows], y[rows]) > average_precision(p_old[rows], y[rows])
    return wins >= share * reps


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
    def _gnn_outputs(self, batch, t: str) -> tuple[Tensor, Tensor]:
        """Embeddings ``[N_t, H]`` and logits ``[N_t]`` of type ``t`` from its selected model."""
        model = self._model_for(t)
        was = model.training
        model.eval()
        emb = model(batch.x_dict, batch.edge_index_dict)[t]
        logit = model.score_logits({t: emb})[t]
        model.train(was)
        return emb, logit

    def _tree_matrices(self, batch, t: str, relations: list) -> tuple[dict, np.ndarray]:
        """The trees' inputs of ``batch``'s type ``t`` — ``{False: [N_t, F + A], True:
        [N_t, F + A + H]}``: the features, the neighbour aggregates over ``relations``, then
        (True) the GNN embedding — and the GNN logit ``[N_t]``; one forward pass for all."""
        plain = torch.cat([batch[t].x, neighbour_aggregates(batch.x_dict, batch.edge_index_dict,
                                                            t, relations)], 1).float()
        emb, logit = self._gnn_outputs(batch, t)
        with_emb = torch.cat([plain, emb.float()], 1)
        return {False: plain.cpu().numpy(), True: with_emb.cpu().numpy()}, \
            logit.float().cpu().numpy()

    def tree_neighbours(self, x_dict: dict, edge_index_dict: dict, t: str) -> Tensor | None:
        """The neighbour aggregates type ``t``'s trees read (None: trees fitted without)."""
        relations = self.tree_info.get(t, {}).get("neighbours")
        if relations is None:
            return None
        return neighbour_aggregates(x_dict, edge_index_dict, t, relations)

    def fit_hybrid(self, train, val, seed: int = 0) -> None:
        """Fit each selected type's trees on the train stage, choose on the val stage.

        Trees on the features alone, then the embedding and a blend with the GNN's own logit
        (weight on a grid) each taken only when the validation rows the GNN's epoch was *not*
        chosen on (:func:`for_hybrid_choices`) say it is *clearly* better
        (:func:`clearly_better`): embeddings of the rows the GNN was trained on are
        optimistic, and validation labels are few and noisy, so a plain "higher validation
        AUPRC" picks the graph part by chance about half the time.
        """
        from graphgnn.model.metrics import average_precision

        for t in SELECTED:
            y_tr_all, y_va_all = train[t].y.cpu().numpy(), val[t].y.cpu().numpy()
            m_tr = (train[t].train_mask.cpu().numpy()) & (y_tr_all >= 0)
            rows = torch.arange(val[t].num_nodes)
            m_va = (val[t].val_mask.cpu().numpy()) & (y_va_all >= 0) & \
                for_hybrid_choices(rows).numpy()
            if y_tr_all[m_tr].sum() == 0:
                continue
            y_tr, y_va = y_tr_all[m_tr], y_va_all[m_va]
            train, val = train.to(self.device), val.to(self.device)
            rel = relations_of(train.x_dict, train.edge_index_dict, t)
            x_tr_all, _ = self._tree_matrices(train, t, rel)
            x_va_all, g_va_all = self._tree_matrices(val, t, rel)
            fits = {}
            for with_emb in (False, True):
                x_va = x_va_all[with_emb][m_va]
                model, info = fit_trees(x_tr_all[with_emb][m_tr], y_tr, x_va, y_va, seed)
                p_va = predict_trees(model, x_va)
                fits[with_emb] = (model, info | {"embedding": with_emb, "neighbours": rel},
                                  p_va)
            decided = 0 < y_va.sum() < len(y_va)
            with_emb = decided and clearly_better(fits[True][2], fits[False][2], y_va, seed)
            model, info, p_va = fits[with_emb]
            info["blend"] = 0.0
            if decided:
                g_va = g_va_all[m_va]
                grid = [(average_precision(_blend(p_va, g_va, w), y_va), -w) for w in BLEND]
                w = -max(grid)[1]
                if w > 0 and clearly_better(_blend(p_va, g_va, w), p_va, y_va, seed):
                    info["blend"] = w
                    info["val_auprc_blended"] = float(max(grid)[0])
            self.trees[t], self.tree_info[t] = model, info

    def tree_probabilities(self, t: str, x: Tensor, emb: Tensor | None,
                           logit: Tensor | None, neighbours: Tensor | None = None
                           ) -> np.ndarray:
        """The hybrid's score ``[N]`` of type ``t`` from the rows' features ``x``, their
        neighbour aggregates (:meth:`tree_neighbours`; needed when the trees were fitted with
        them) and their GNN embedding and logit (needed only when the trees read the
        embedding or blend the logit; :meth:`needs_gnn`). One definition for batch scoring
        and the serving tree."""
        info = self.tree_info.get(t, {})
        parts = [x]
        if info.get("neighbours") is not None:
            if neighbours is None:
                raise ValueError(f"{t}'s trees read neighbour aggregates: pass them")
            parts.append(neighbours)
        if info.get("embedding", True):
            parts.append(emb)
        p = predict_trees(self.trees[t], torch.cat(parts, 1).float().cpu().numpy())
        w = float(info.get("blend", 0.0))
        return _blend(p, logit.float().cpu().numpy(), w) if w > 0 else p

    def needs_gnn(self, t: str) -> bool:
        """Whether type ``t``'s trees read the GNN embedding or blend in its logit."""
        info = self.tree_info.get(t, {})
        return bool(info.get("embedding", True)) or float(info.get("blend", 0.0)) > 0

    def tree_scores(self, batch, t: str) -> Tensor:
        emb, logit = self._gnn_outputs(batch, t) if self.needs_gnn(t) else (None, None)
        nb = self.tree_neighbours(batch.x_dict, batch.edge_index_dict, t)
        p = self.tree_probabilities(t, batch[t].x, emb, logit, nb)
        return torch.from_numpy(np.asarray(p, np.float32)).to(self.device)

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
