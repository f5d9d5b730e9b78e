"""The time-respecting sampler: only edges at or before the seed's time; every seed covered."""

from __future__ import annotations

import pytest
import torch
from model_data import prepared

from graphgnn.model.sampler import SeedBatches, TemporalNeighborSampler


@pytest.fixture(scope="module")
def data(generated_dir):
    return prepared(generated_dir).data


def _check_time(sub) -> int:
    checked = 0
    for et in sub.edge_types:
        ei = sub[et].edge_index
        if ei.shape[1] == 0:
            continue
        src_t, _, dst_t = et
        # An edge links two nodes of the same seed's tree, and is no later than that seed.
        assert torch.equal(sub[src_t].tree[ei[0]], sub[dst_t].tree[ei[1]])
        assert bool((sub[et].edge_time <= sub[dst_t].time_bound[ei[1]]).all()), et
        checked += ei.shape[1]
    return checked


@pytest.mark.parametrize("strategy", ["uniform", "recent"])
def test_sampled_edges_respect_seed_time(data, strategy):
    sampler = TemporalNeighborSampler(data, [8, 4], strategy=strategy)
    for seed_type in ("User", "Order", "Device"):
        seeds = torch.arange(0, data[seed_type].num_nodes, 7)[:300]
        # Bounds before the seeds' latest activity make the time filter bite (an order's
        # edges all carry its own time, so an order is sampled at that time).
        back = 0 if seed_type == "Order" else 3 * 86_400_000
        bound = data[seed_type].time[seeds] - back
        sub = sampler.sample(seed_type, seeds, bound)
        assert torch.equal(sub[seed_type].n_id[: len(seeds)], seeds)
        assert int(sub[seed_type].seed.sum()) == len(seeds)
        assert _check_time(sub) > 0
        # Two hops from orders reach other orders: never later than the seed order.
        if seed_type == "Order":
            reached = sub["Order"].n_id[~sub["Order"].seed]
            bound_of = sub["Order"].time_bound[~sub["Order"].seed]
            assert bool((data["Order"].time[reached] <= bound_of).all())


def test_one_hop_is_complete_when_nothing_is_cut(data):
    """With a large fan-out the sampled in-edges are exactly the allowed ones."""
    sampler = TemporalNeighborSampler(data, [10_000], strategy="recent")
    seeds = torch.arange(50)
    bound = data["Device"].time[seeds] - 86_400_000
    sub = sampler.sample("Device", seeds, bound)
    et = ("User", "USED_DEVICE", "Device")
    full = data[et]
    got = set()
    ei = sub[et].edge_index
    for s, d in zip(ei[0].tolist(), ei[1].tolist(), strict=True):
        got.add((int(sub["User"].n_id[s]), int(sub["Device"].n_id[d])))
    want = set()
    for i in range(full.edge_index.shape[1]):
        d = int(full.edge_index[1, i])
        if d < 50 and int(full.edge_time[i]) <= int(bound[d]):
            want.add((int(full.edge_index[0, i]), d))
    assert got == want


def test_seed_batches_cover_every_seed_once(data):
    sampler = TemporalNeighborSampler(data, [3])
    seeds = {"User": torch.arange(data["User"].num_nodes), "Order": torch.arange(101)}
    batches = SeedBatches(sampler, seeds, batch_size=256, rank=0, world_size=1)
    seen = {"User": [], "Order": []}
    n = 0
    for sub in batches:
        n += 1
        t = sub.seed_type
        seen[t].append(sub[t].n_id[sub[t].seed])
    assert n == len(batches)
    for t, s in seeds.items():
        got = torch.cat(seen[t]).sort().values
        assert torch.equal(got, s)


def test_seed_batches_shard_across_ranks(data):
    sampler = TemporalNeighborSampler(data, [2])
    seeds = {"Order": torch.arange(1001)}
    shards = [SeedBatches(sampler, seeds, batch_size=100, rank=r, world_size=2, seed=3)
              for r in range(2)]
    parts = [torch.cat([c for _, c in s.shard()]) for s in shards]
    assert len(parts[0]) == len(parts[1]) == 501  # padded to a multiple of the world size
    assert len(shards[0]) == len(shards[1]) == len(shards[0].shard())
    assert set(torch.cat(parts).tolist()) == set(range(1001))
    shards[0].set_epoch(1)
    assert not torch.equal(torch.cat([c for _, c in shards[0].shard()]), parts[0])


def test_minibatch_mode_trains_and_evaluates(generated_dir, tmp_path):
    """The DataModule's mini-batch mode end to end under a Lightning Trainer."""
    import lightning as L
    from model_data import frames_of

    from graphgnn.model.datamodule import DataModule
    from graphgnn.model.system import System

    dm = DataModule.from_frames(frames_of(generated_dir), data_dir=str(generated_dir),
                                mode="minibatch", batch_size=512, num_neighbors=[5, 3])
    system = System(in_dims=dm.in_dims, hidden=8)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=2,
                        limit_test_batches=2, limit_predict_batches=2, logger=False,
                        enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path, accelerator="cpu")
    trainer.fit(system, datamodule=dm)
    trainer.test(system, datamodule=dm, verbose=False)
    assert "test" in system.last_metrics
    preds = trainer.predict(system, dataloaders=dm.predict_dataloader(), return_predictions=True)
    assert preds and preds[0][next(iter(preds[0]))].shape[1] == 2
