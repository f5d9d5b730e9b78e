"""A time-respecting heterogeneous neighbour sampler in plain torch (no pyg-lib, no torch-sparse).

For a batch of seed nodes, each with a time bound (by default its latest activity), it samples
up to ``num_neighbors[h]`` incoming edges per node and edge type at hop ``h``, keeping only
edges whose time is <= the seed's bound — the subgraph a seed could have seen at its own time.
Sampling is *disjoint*: every seed grows its own tree (a node reached from two seeds appears
twice, once per seed, with each seed's bound), which is what makes per-seed time bounds exact.

How: per edge type, edges are sorted once by (target, time); the edges a node may use form a
prefix of its segment, found with one vectorised ``searchsorted`` over a composite key, so a hop
is a handful of tensor operations whatever the batch size.

:class:`SeedBatches` shards seeds across DDP ranks and data-loader workers the way
``DistributedSampler`` does (pad to a multiple of the world size, take every ``world``-th), so
every rank runs the same number of steps.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from torch_geometric.typing import EdgeType  # (src type, relation, dst type), as PyG names it


class TemporalNeighborSampler:
    """Sample time-respecting subgraphs of ``data``.

    Args:
        data: the full graph: ``data[et].edge_index`` ``[2, E]``, ``data[et].edge_time``
            ``[E]`` (epoch ms; edges without it count as time 0), ``data[t].time`` ``[N_t]``.
        num_neighbors: edges sampled per node and edge type, per hop (``[15, 10]``: 2 hops).
        strategy: ``uniform`` (random among the allowed edges; drawn with replacement, then
            deduplicated) or ``recent`` (the latest allowed edges).
        seed: random seed of the generator.
    """

    def __init__(self, data: HeteroData, num_neighbors: list[int],
                 strategy: Literal["uniform", "recent"] = "uniform", seed: int = 0) -> None:
        self.data = data
        self.num_neighbors = list(num_neighbors)
        self.strategy = strategy
        self.gen = torch.Generator().manual_seed(seed)
        self.num_nodes = {t: int(data[t].num_nodes) for t in data.node_types}
        self._csc: dict[EdgeType, tuple[Tensor, Tensor, Tensor, Tensor, int, int]] = {}
        for et in data.edge_types:
            ei = data[et].edge_index
            et_time = data[et].get("edge_time")
            tm = et_time if et_time is not None else torch.zeros(ei.shape[1], dtype=torch.long)
            t0 = int(tm.min()) if len(tm) else 0
            span = (int(tm.max()) - t0 + 2) if len(tm) else 2
            key = ei[1] * span + (tm - t0)
            key, perm = torch.sort(key)
            n_dst = self.num_nodes[et[2]]
            rowptr = torch.zeros(n_dst + 1, dtype=torch.long)
            rowptr[1:] = torch.cumsum(torch.bincount(ei[1], minlength=n_dst), 0)
            self._csc[et] = (key, ei[0][perm], perm, rowptr, t0, span)

    def _hop(self, et: EdgeType, trees: Tensor, nodes: Tensor, bound: Tensor, k: int
             ) -> tuple[Tensor, Tensor, Tensor]:
        """Allowed edges into ``nodes`` (time <= ``bound``): (tree, edge position, source)."""
        key, col, _, rowptr, t0, span = self._csc[et]
        start = rowptr[nodes]
        limit = (bound - t0).clamp(min=-1, max=span - 2)
        end = torch.searchsorted(key, nodes * span + limit, right=True)
        end = torch.maximum(end, start)
        count = end - start
        take = count.clamp(max=k)
        rep = torch.repeat_interleave(torch.arange(len(nodes)), take)
        offs = torch.arange(len(rep)) - torch.repeat_interleave(torch.cumsum(take, 0) - take,
                                                                take)
        if self.strategy == "recent":
            pos = end[rep] - 1 - offs
        else:
            pos = start[rep] + (torch.rand(len(rep), generator=self.gen) * count[rep]).long()
        return trees[rep], pos, col[pos]

    def sample(self, seed_type: str, seed_index: Tensor, seed_time: Tensor | None = None
               ) -> HeteroData:
        """The sampled subgraph around ``seed_index`` (nodes of ``seed_type``).

        Args:
            seed_type: node type of the seeds.
            seed_index: ``[B]`` node indices.
            seed_time: ``[B]`` time bounds (default: ``data[seed_type].time`` of the seeds).

        Returns:
            A HeteroData with, per node type, ``x``/``y``/masks of the sampled nodes, ``n_id``
            (index in the full graph), ``tree`` (which seed), ``seed`` (True for the seeds, the
            first ``B`` rows of ``seed_type``); per edge type ``edge_index`` (local) and
            ``edge_time``; ``seed_type`` the seed type.
        """
        seed_index = seed_index.long()
        if seed_time is None:
            seed_time = self.data[seed_type].time[seed_index]
        n_seed = len(seed_index)
        trees = {t: [] for t in self.num_nodes}
        nodes = {t: [] for t in self.num_nodes}
        trees[seed_type].append(torch.arange(n_seed))
        nodes[seed_type].append(seed_index)
        frontier = {seed_type: (torch.arange(n_seed), seed_index)}
        seen = {seed_type: torch.arange(n_seed) * self.num_nodes[seed_type] + seed_index}
        edges: dict[EdgeType, list[tuple[Tensor, Tensor]]] = {et: [] for et in self._csc}
        for k in self.num_neighbors:
            new: dict[str, list[tuple[Tensor, Tensor]]] = {}
            for et in self._csc:
                if et[2] not in frontier or k == 0:
                    continue
                tr, nd = frontier[et[2]]
                if len(nd) == 0:
                    continue
                e_tree, e_pos, e_src = self._hop(et, tr, nd, seed_time[tr], k)
                # Draws with replacement can repeat an edge: keep each (tree, edge) once.
                ek = torch.unique(e_tree * (len(self._csc[et][0]) + 1) + e_pos)
                e_tree = ek // (len(self._csc[et][0]) + 1)
                e_pos = ek % (len(self._csc[et][0]) + 1)
                edges[et].append((e_tree, e_pos))
                new.setdefault(et[0], []).append((e_tree, self._csc[et][1][e_pos]))
            frontier = {}
            for t, parts in new.items():
                tr = torch.cat([p[0] for p in parts])
                nd = torch.cat([p[1] for p in parts])
                key = torch.unique(tr * self.num_nodes[t] + nd)
                old = seen.get(t, torch.empty(0, dtype=torch.long))
                key = key[~torch.isin(key, old)]
                seen[t] = torch.cat([old, key])
                frontier[t] = (key // self.num_nodes[t], key % self.num_nodes[t])
                trees[t].append(frontier[t][0])
                nodes[t].append(frontier[t][1])
        return self._subgraph(seed_type, n_seed, seen, seed_time, edges)

    def _subgraph(self, seed_type: str, n_seed: int, seen: dict[str, Tensor], seed_time: Tensor,
                  edges: dict[EdgeType, list[tuple[Tensor, Tensor]]]) -> HeteroData:
        out = HeteroData()
        lookup = {}
        for t, n in self.num_nodes.items():
            key = seen.get(t, torch.empty(0, dtype=torch.long))
            tree, nid = key // n if n else key, key % n if n else key
            store = self.data[t]
            sub = out[t]
            sub.x = store.x[nid]
            sub.n_id, sub.tree = nid, tree
            sub.time_bound = seed_time[tree] if len(tree) else torch.empty(0, dtype=torch.long)
            for name in ("y", "train_mask", "val_mask", "test_mask", "fit_mask", "time"):
                if name in store:
                    sub[name] = store[name][nid]
            seed = torch.zeros(len(nid), dtype=torch.bool)
            if t == seed_type:
                seed[:n_seed] = True
            sub.seed = seed
            sub.num_nodes = len(nid)
            srt, order = torch.sort(key)
            lookup[t] = (srt, order, n)
        for et, parts in edges.items():
            src_t, _, dst_t = et
            if parts:
                e_tree = torch.cat([p[0] for p in parts])
                e_pos = torch.cat([p[1] for p in parts])
            else:
                e_tree = e_pos = torch.empty(0, dtype=torch.long)
            key, col, perm, _, t0, span = self._csc[et]
            dst = key[e_pos] // span
            src = col[e_pos]

            def local(t: str, tree: Tensor, nid: Tensor) -> Tensor:
                srt, order, n = lookup[t]
                return order[torch.searchsorted(srt, tree * n + nid)]

            out[et].edge_index = torch.stack([local(src_t, e_tree, src), local(dst_t, e_tree, dst)])
            edge_time = self.data[et].get("edge_time")
            out[et].edge_time = (edge_time[perm[e_pos]] if edge_time is not None
                                 else torch.zeros(len(e_pos), dtype=torch.long))
        out.seed_type = seed_type
        return out


class SeedBatches(torch.utils.data.IterableDataset):
    """Epochs of sampled batches: seeds of each type, shuffled, sharded, chunked, sampled.

    Args:
        sampler: the sampler.
        seeds: node type -> ``[S_t]`` seed indices.
        batch_size: seeds per batch (each batch holds seeds of one type).
        shuffle: reshuffle every epoch (seeded by ``seed + epoch``: identical on every rank).
        rank: this process's rank (``None``: from ``torch.distributed`` when initialised).
        world_size: number of processes (``None``: likewise).
        seed: base random seed.
    """

    def __init__(self, sampler: TemporalNeighborSampler, seeds: dict[str, Tensor],
                 batch_size: int = 1024, shuffle: bool = True, rank: int | None = None,
                 world_size: int | None = None, seed: int = 0) -> None:
        super().__init__()
        self.sampler, self.batch_size, self.shuffle, self.seed = sampler, batch_size, shuffle, seed
        self.seeds = {t: s for t, s in seeds.items() if len(s)}
        self.rank, self.world_size, self.epoch = rank, world_size, 0

    def _world(self) -> tuple[int, int]:
        rank, world = self.rank, self.world_size
        dist = torch.distributed
        if rank is None:
            rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        if world is None:
            world = (dist.get_world_size() if dist.is_available() and dist.is_initialized()
                     else 1)
        info = torch.utils.data.get_worker_info()
        if info is not None:  # each worker takes its own share of this rank's share
            rank, world = rank * info.num_workers + info.id, world * info.num_workers
        return rank, world

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self) -> list[tuple[str, Tensor]]:
        """This rank's ``(type, seed indices)`` chunks of the current epoch, in order."""
        rank, world = self._world()
        gen = torch.Generator().manual_seed(self.seed + self.epoch)
        chunks = []
        for t, s in self.seeds.items():
            if self.shuffle:
                s = s[torch.randperm(len(s), generator=gen)]
            total = math.ceil(len(s) / world) * world
            s = torch.cat([s, s[: total - len(s)]]) if total > len(s) else s
            mine = s[rank::world]
            chunks += [(t, c) for c in mine.split(self.batch_size)]
        if self.shuffle:
            chunks = [chunks[i] for i in torch.randperm(len(chunks), generator=gen)]
        return chunks

    def __len__(self) -> int:
        _, world = self._world()
        return sum(math.ceil(math.ceil(len(s) / world) / self.batch_size)
                   for s in self.seeds.values())

    def __iter__(self):
        for t, chunk in self.shard():
            yield self.sampler.sample(t, chunk)
        self.epoch += 1
