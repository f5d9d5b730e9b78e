"""The serving tree's forward pass in numpy: a HeteroSAGE's weights read once, then matmuls.

On a computation tree of ~15 rows (:mod:`graphgnn.api.fast_forward`) the torch mirror
(:func:`graphgnn.api.tree_model.embed`) spends its time in per-op dispatch: ~25 convs, each a
few torch calls of microseconds on tiny tensors. Here the weights of every conv are read once
per model into float64 arrays and, per target type and layer, the convs collapse into one
product: the summed messages of SAGE are

    sum_et (W_l[et] @ agg_et + b_l[et] + W_r[et] @ x_t)
        = [agg_et1 | agg_et2 | ...] @ [W_l[et1]; W_l[et2]; ...] + x_t @ sum_et W_r[et] + sum b,

the same sum in another order (float64, so the result is within rounding of the float32
torch pass). Norm, ReLU, skip and jumping knowledge follow :meth:`HeteroSAGE.update` /
:meth:`HeteroSAGE.jump` in eval mode (no dropout).

Supported: what :func:`graphgnn.api.tree_model.mirrors` accepts (plain SAGEConv, mean / sum /
max) with LayerNorm, BatchNorm1d (running statistics) or no norm, and heads made of Linear
and ReLU. :func:`compile_model` returns None for anything else: the caller uses torch.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
from torch import nn

_AGGR = {"MeanAggregation": "mean", "SumAggregation": "sum", "MaxAggregation": "max"}
EdgeType = tuple[str, str, str]


def _np(t) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().numpy().astype(np.float64)


def _norm(m: nn.Module):
    """(kind, params) of a norm module, or None when it is not one we mirror."""
    if isinstance(m, nn.Identity):
        return ("none", ())
    if isinstance(m, nn.LayerNorm) and len(m.normalized_shape) == 1:
        return ("layer", (_np(m.weight), _np(m.bias), float(m.eps)))
    if isinstance(m, nn.BatchNorm1d) and m.running_mean is not None:
        return ("batch", (_np(m.running_mean), _np(m.running_var), _np(m.weight),
                          _np(m.bias), float(m.eps)))
    return None


def _apply_norm(spec, x: np.ndarray) -> np.ndarray:
    kind, p = spec
    if kind == "layer":
        w, b, eps = p
        # np.mean is add.reduce then one division by the count: the same numbers without its
        # Python wrapper (~3 us a call, 16 calls an order).
        n = x.shape[-1]
        mu = np.add.reduce(x, -1, keepdims=True) / n
        var = np.add.reduce((x - mu) ** 2, -1, keepdims=True) / n  # biased, as torch's
        y = (x - mu) / np.sqrt(var + eps)
    elif kind == "batch":
        mean, var, w, b, eps = p
        y = (x - mean) / np.sqrt(var + eps)
    else:
        return x
    if w is not None:
        y = y * w
    return y + b if b is not None else y


def _mlp(seq: nn.Module):
    """A head (``Sequential`` of Linear and ReLU) as [(W^T, b) | "relu"], or None."""
    layers = []
    for m in (seq if isinstance(seq, nn.Sequential) else [seq]):
        if isinstance(m, nn.Linear):
            layers.append((_np(m.weight).T.copy(), _np(m.bias)))
        elif isinstance(m, nn.ReLU):
            layers.append("relu")
        else:
            return None
    return layers


@dataclass
class NumpySAGE:
    """A HeteroSAGE's weights as numpy arrays (see the module docstring)."""

    edge_types: list[EdgeType]
    aggr: dict[tuple[int, EdgeType], str]
    w_l: dict[tuple[int, EdgeType], np.ndarray]  # [F_src, H]
    b_l: dict[tuple[int, EdgeType], np.ndarray | None]
    w_r: dict[tuple[int, EdgeType], tuple[np.ndarray, np.ndarray | None] | None]
    bypass: dict[str, tuple[np.ndarray, np.ndarray | None]]
    norms: list[dict[str, tuple]]
    heads: dict[str, list]
    skip: bool
    jk: str
    _fused: dict = field(default_factory=dict, repr=False)

    @property
    def layers(self) -> int:
        return len(self.norms)

    def _fuse(self, i: int, t: str, ets: tuple[EdgeType, ...], fed: tuple[EdgeType, ...]):
        """W_l stacked over the convs ``fed`` (those with edges: the others aggregate zeros),
        W_r and biases summed over all the convs ``ets`` into ``t``."""
        key = (i, t, ets, fed)
        if key not in self._fused:
            w_l = np.concatenate([self.w_l[(i, et)] for et in fed], 0) if fed else None
            roots = [self.w_r[(i, et)] for et in ets if self.w_r[(i, et)] is not None]
            w_r = sum(w for w, _ in roots) if roots else None
            bias = sum(b for _, b in roots if b is not None) + sum(
                self.b_l[(i, et)] for et in ets if self.b_l[(i, et)] is not None)
            self._fused[key] = (w_l, w_r, bias)
        return self._fused[key]

    def _aggregate(self, kind: str, x_src: np.ndarray, ei: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros((n, x_src.shape[1]))
        if not ei.shape[1]:
            return out
        src, dst = ei[0], ei[1]
        if len(dst) == 1 or len(set(dst.tolist())) == len(dst):
            # One edge per target (the tree's stand-in rows): the aggregate is the source row
            # (0 + x for a sum or mean, as add.at gives it; max keeps rows with a finite value).
            rows = x_src[src]
            if kind == "max":
                keep = np.isfinite(rows).any(1)
                out[dst[keep]] = rows[keep]
            else:
                out[dst] = rows + 0.0
            return out
        if kind == "max":  # index_reduce "amax", include_self=False: rows without edges stay 0
            hit = np.full((n, x_src.shape[1]), -np.inf)
            np.maximum.at(hit, dst, x_src[src])
            got = np.isfinite(hit).any(1)
            out[got] = hit[got]
            return out
        np.add.at(out, dst, x_src[src])
        if kind == "mean":
            out /= np.maximum(np.bincount(dst, minlength=n), 1)[:, None]
        return out

    def embed(self, x: dict[str, np.ndarray], edges: dict[EdgeType, np.ndarray],
              only: str | None = None) -> dict[str, np.ndarray]:
        """What :func:`graphgnn.api.tree_model.embed` computes, in float64 numpy."""
        h = {t: np.asarray(v, np.float64) for t, v in x.items()}
        active = [et for et in self.edge_types if et in edges]
        outs = []
        for i in range(self.layers):
            last = i == self.layers - 1
            targets = [only] if only is not None and last else list(h)
            if only is not None and last:
                h = {t: v for t, v in h.items() if t == only or any(
                    et[0] == t and et[2] == only for et in active)}
            new = {}
            for t in targets:
                if t not in h:
                    continue
                ets = tuple(et for et in active if et[2] == t and et[0] in h)
                prev = h[t]
                if ets:
                    fed = tuple(et for et in ets if edges[et].shape[1])
                    w_l, w_r, bias = self._fuse(i, t, ets, fed)
                    out = bias if w_r is not None else np.broadcast_to(
                        bias, (prev.shape[0], len(bias)))  # w_r below broadcasts it anyway
                    if fed:
                        agg = np.concatenate([self._aggregate(self.aggr[(i, et)], h[et[0]],
                                                              edges[et], prev.shape[0])
                                              for et in fed], 1)
                        out = agg @ w_l + bias
                    if w_r is not None:
                        out = out + prev @ w_r
                elif i == 0 and t in self.bypass:
                    w, b = self.bypass[t]
                    out = prev @ w + (b if b is not None else 0.0)
                else:
                    out = prev
                out = np.maximum(_apply_norm(self.norms[i][t], out), 0.0)
                new[t] = out + prev if self.skip and i > 0 else out
            h = new
            outs.append(h)
        if self.jk == "last":
            return outs[-1]
        if self.jk == "cat":
            return {t: np.concatenate([o[t] for o in outs], -1) for t in outs[-1]}
        return {t: np.max(np.stack([o[t] for o in outs], 0), 0) for t in outs[-1]}

    def logits(self, t: str, emb: np.ndarray) -> np.ndarray:
        """The scoring head of type ``t``: ``[N, out_dim] -> [N]``."""
        z = emb
        for layer in self.heads[t]:
            z = np.maximum(z, 0.0) if layer == "relu" else \
                z @ layer[0] + (layer[1] if layer[1] is not None else 0.0)
        return z[:, 0]


def _compile(model) -> NumpySAGE | None:
    kinds = model.plain_aggregations() if hasattr(model, "plain_aggregations") else None
    if not kinds or not kinds <= _AGGR.keys() or model.jk not in ("last", "cat", "max"):
        return None
    aggr, w_l, b_l, w_r = {}, {}, {}, {}
    for i, conv in enumerate(model.convs):
        if getattr(conv, "aggr", "sum") != "sum":  # HeteroConv sums the edge types
            return None
        for et in model.edge_types:
            c = conv.convs[et]
            aggr[(i, et)] = _AGGR[type(c.aggr_module).__name__]
            w_l[(i, et)] = _np(c.lin_l.weight).T.copy()
            b_l[(i, et)] = _np(c.lin_l.bias)
            w_r[(i, et)] = (_np(c.lin_r.weight).T.copy(), _np(c.lin_r.bias)) \
                if c.root_weight else None
    norms = []
    for layer in model.norms:
        specs = {t: _norm(m) for t, m in layer.items()}
        if any(s is None for s in specs.values()):
            return None
        norms.append(specs)
    heads = {t: _mlp(m) for t, m in model.heads.items()}
    if any(v is None for v in heads.values()):
        return None
    bypass = {t: (_np(m.weight).T.copy(), _np(m.bias)) for t, m in model.bypass.items()}
    return NumpySAGE(list(model.edge_types), aggr, w_l, b_l, w_r, bypass, norms, heads,
                     bool(model.skip), str(model.jk))


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compile_model(model) -> NumpySAGE | None:
    """The numpy form of ``model`` (a HeteroSAGE in eval mode), read once per model; None when
    the model is training or has a piece this module does not mirror."""
    if getattr(model, "training", True):
        return None
    if model not in _COMPILED:
        _COMPILED[model] = _compile(model) or False
    return _COMPILED[model] or None
