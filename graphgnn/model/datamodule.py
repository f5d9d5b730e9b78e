"""The LightningDataModule: graph -> :func:`graphgnn.model.prepare.prepare_graph` -> batches.

Each stage reads its own point-in-time snapshot: training batches come from the graph at T1,
validation from the graph at T2, test and predict from the graph at the end.

The graph comes from the store (``source="store"``: :func:`graph_build.export.export_frames`)
or straight from a data folder's tables (``source="tables"``: no store needed, handy for
benchmarks). Labels come from ``data_dir``'s ``truth/`` (generated data) or labels table, and
from investigators' ``verdict`` properties in the store. The prepared HeteroData and everything
scoring needs (feature names, normaliser, split times, node keys) are cached under
``cache_dir`` keyed by a fingerprint of the inputs (store counts and verdicts, file sizes and
times, parameters, feature version), so a second ``fit`` does not re-read the store.

``mode="full"`` yields the stage's whole snapshot as its one batch (the default: it fits);
``mode="minibatch"`` yields time-respecting sampled subgraphs (:mod:`graphgnn.model.sampler`) around
seed nodes, sharded across DDP ranks.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch_geometric.data import HeteroData

from graph_build import schema
from graph_build.frames import GraphFrames
from graphgnn.model import cache as data_cache
from graphgnn.model import features as feats
from graphgnn.model import hetero
from graphgnn.model import targets as labels
from graphgnn.model.prepare import prepare_graph
from graphgnn.model.sampler import SeedBatches, TemporalNeighborSampler
from graphgnn.model.split import STAGES


def _log(msg: str) -> None:
    print(msg, file=sys.stderr)


def _one(batch):
    return batch


def _cache_folder(cache_dir: str) -> Path:
    if cache_dir == "auto":
        from graph_build.stores.server_files import data_home

        return data_home() / "cache" / "training"
    return Path(cache_dir)


class DataModule(L.LightningDataModule):
    """Graph data for :class:`graphgnn.model.system.System`.

    Args:
        store: store spec (``None``: ``NEO4J_URI`` when set, else the embedded store;
            ``"embedded"``; or a ``bolt://``/``neo4j+s://`` URI).
        store_home: data folder of the embedded store (default ``FRAUDRING_HOME``/.fraudring).
        data_dir: data folder with ``truth/`` (or a labels table); with ``source="tables"`` also
            the tables themselves.
        source: ``store`` (read the graph from the store) or ``tables`` (from ``data_dir``).
        as_of: cut-off time T in epoch ms (default: the latest time in the graph).
        mapping: YAML mapping of ``data_dir``'s layout (``source="tables"``).
        split: ``temporal`` (train on activity up to T1, validate to T2, test after) or
            ``random`` (stratified).
        val_frac: share of examples in validation.
        test_frac: share of examples in test.
        maturity_days: an unreported entity counts as legit in training only once it is this
            old at T1 (labels arrive late).
        label_window_days: training examples are the entities not yet reported at
            T1 - this window (the earlier reports feed the label-aware features).
        use_verdicts: also read investigators' verdicts from the store as labels.
        mode: ``full`` (whole graph per step) or ``minibatch`` (sampled subgraphs).
        batch_size: seeds per mini-batch.
        num_neighbors: sampled edges per node and edge type, per hop (mini-batch mode).
        sampling: ``uniform`` or ``recent`` neighbours (mini-batch mode).
        num_workers: data-loader workers (mini-batch mode; 0 samples in the main process).
        cache_dir: where prepared data is cached: ``"auto"`` (``$FRAUDRING_HOME/cache/training``,
            not the working directory), a folder, or ``None`` (no cache).
        seed: random seed (random split, sampling).
    """

    def __init__(
        self,
        store: str | None = None,
        store_home: str | None = None,
        data_dir: str | None = None,
        source: Literal["store", "tables"] = "store",
        as_of: int | None = None,
        mapping: str | None = None,
        split: Literal["temporal", "random"] = "temporal",
        val_frac: float = 0.2,
        test_frac: float = 0.2,
        maturity_days: float = 0.0,
        label_window_days: float = 60.0,
        use_verdicts: bool = True,
        mode: Literal["full", "minibatch"] = "full",
        batch_size: int = 1024,
        num_neighbors: list[int] | None = None,
        sampling: Literal["uniform", "recent"] = "uniform",
        num_workers: int = 0,
        cache_dir: str | None = "auto",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.num_neighbors = list(num_neighbors or [15, 10])
        self.data: HeteroData | None = None
        self.stages: dict[str, HeteroData] = {}
        self.prepared = None
        self.meta: dict[str, Any] = {}
        self._frames: GraphFrames | None = None

    @classmethod
    def from_frames(cls, frames: GraphFrames, **kwargs) -> DataModule:
        """A data module over frames already in memory (tests, notebooks); no cache."""
        dm = cls(cache_dir=None, **kwargs)
        dm._frames = frames
        return dm

    # -- loading -----------------------------------------------------------------------------
    def _open(self):
        from graph_build.stores import open_store

        return open_store(self.hparams.store, home=self.hparams.store_home)

    def _fingerprint(self, store) -> str:
        h = self.hparams
        parts: dict[str, Any] = {k: h[k] for k in ("source", "as_of", "split", "val_frac",
                                                   "test_frac", "use_verdicts", "seed",
                                                   "maturity_days", "mapping",
                                                   "label_window_days")}
        parts["feature_version"] = feats.FEATURE_VERSION
        parts["schema"] = asdict(schema.SchemaSummary.current())
        if h.data_dir:
            root = Path(h.data_dir)
            parts["files"] = sorted((str(p.relative_to(root)), p.stat().st_size,
                                     p.stat().st_mtime_ns) for p in root.rglob("*")
                                    if p.is_file() and p.suffix in (".csv", ".parquet"))
        if store is not None:
            from graph_build.stats import graph_stats

            stats = graph_stats(store, runs=0)
            parts["store"] = [store.location, stats["nodes"], stats["relationships"]]
            if h.use_verdicts:
                parts["verdicts"] = {t: s.to_dict() for t, s in
                                     labels.store_verdicts(store).items()}
        blob = json.dumps(parts, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def _frames_from_source(self, store) -> tuple[GraphFrames, dict | None]:
        if self._frames is not None:
            return self._frames, None
        if self.hparams.source == "tables":
            if not self.hparams.data_dir:
                from graph_build.errors import ConfigError

                raise ConfigError("source 'tables' needs data_dir", hint="--data.data_dir DIR")
            from graph_build.to_graph import tables_to_frames
            from graph_build.build import check_input

            result, _ = check_input(self.hparams.data_dir, self.hparams.mapping)
            return tables_to_frames(result.tables), result.tables
        from graph_build.export import export_frames

        return export_frames(store, as_of=self.hparams.as_of), None

    def _labels(self, store, tables: dict | None) -> dict:
        h = self.hparams
        verdict_store = store if (store is not None and h.use_verdicts) else None
        return labels.dated_labels(h.data_dir, tables, verdict_store)

    def prepare(self) -> HeteroData:
        """Load (from the cache when it matches) and return the training stage's graph.

        All three stages (:mod:`graphgnn.model.prepare`) are kept: ``self.stages``.
        """
        if self.data is not None:
            return self.data
        h = self.hparams
        store = self._open() if (h.source == "store" and self._frames is None) else None
        try:
            cache = None
            if h.cache_dir and self._frames is None:
                cache = _cache_folder(h.cache_dir) / f"{self._fingerprint(store)}.pt"
                if cache.is_file():
                    self.stages, self.meta = data_cache.load(cache)
                    self.data = self.stages["train"]
                    _log(f"data: cached {cache}")
                    return self.data
            frames, tables = self._frames_from_source(store)
            dated = self._labels(store, tables) if (h.data_dir or store is not None
                                                    or tables) else {}
        finally:
            if store is not None:
                store.close()
        p = prepare_graph(frames, dated, h.split, h.val_frac, h.test_frac, h.seed,
                          h.maturity_days, h.as_of, h.label_window_days)
        self.prepared = p
        self.stages = {s: p.data(s) for s in STAGES}
        self.data = self.stages["train"]
        test_fs = p.stages["test"].fs
        self.meta = p.meta | {"keys": {t: test_fs.tables[t][schema.node(t).key].tolist()
                                       for t in hetero.NODE_TYPES}}
        if cache is not None:
            data_cache.save(cache, self.stages, self.meta)
        _log("data: " + ", ".join(f"{t} {self.data[t].num_nodes:,}"
                                  for t in self.data.node_types)
             + f"; as_of {p.split.as_of}, T1 {p.split.t1}, T2 {p.split.t2}")
        return self.data

    @property
    def in_dims(self) -> dict[str, int]:
        """Feature count per node type (loads the data; linked into ``model.in_dims``)."""
        data = self.prepare()
        return {t: int(data[t].x.shape[1]) for t in data.node_types}

    def checkpoint_meta(self) -> dict[str, Any]:
        """What a checkpoint must carry for scoring (node keys left out: they are data)."""
        return {k: v for k, v in self.meta.items() if k != "keys"}

    def setup(self, stage: str | None = None) -> None:
        self.prepare()

    # -- loaders -----------------------------------------------------------------------------
    def _loader(self, mask: str | None, shuffle: bool, stage: str = "train"):
        self.prepare()
        data = self.stages[stage]
        if self.hparams.mode == "full":
            return torch.utils.data.DataLoader([data], batch_size=None, collate_fn=_one)
        seeds = {}
        for t in hetero.SCORED_TYPES:
            m = data[t][mask] if mask else torch.ones(data[t].num_nodes, dtype=torch.bool)
            if mask == "train_mask":  # unsupervised steps learn from the unlabelled too
                m = m | data[t].fit_mask
            seeds[t] = m.nonzero().view(-1)
        sampler = TemporalNeighborSampler(data, self.num_neighbors, self.hparams.sampling,
                                          self.hparams.seed)
        # Training seeds are sharded across DDP ranks; evaluation and prediction run every
        # seed on every rank, so metrics (and early stopping on them) agree on all ranks.
        whole = {} if mask == "train_mask" else {"rank": 0, "world_size": 1}
        batches = SeedBatches(sampler, seeds, self.hparams.batch_size, shuffle,
                              seed=self.hparams.seed, **whole)
        return torch.utils.data.DataLoader(batches, batch_size=None, collate_fn=_one,
                                           num_workers=self.hparams.num_workers)

    def train_dataloader(self):
        return self._loader("train_mask", shuffle=True)

    def val_dataloader(self):
        return self._loader("val_mask", shuffle=False, stage="val")

    def test_dataloader(self):
        return self._loader("test_mask", shuffle=False, stage="test")

    def predict_dataloader(self):
        return self._loader(None, shuffle=False, stage="test")
