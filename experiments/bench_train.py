"""Training speed: our Lightning system vs a plain PyG ``to_hetero(GraphSAGE)`` loop; sampler rate.

Both train on the *same* HeteroData (features, normaliser, masks from the DataModule), with
the same width and depth, full-batch, the same loss (weighted BCE on the labelled training nodes
of every scored type), AdamW, in one process, alternating so machine noise hits both alike:

- ours: ``lightning.Trainer.fit`` of :class:`graphgnn.model.system.System` (validation off, no
  checkpointing/logging: the epoch is what is timed, by a callback);
- reference: ``torch_geometric.nn.to_hetero(GraphSAGE(-1, H, L, H))`` plus a linear head per
  scored type, in a bare ``for`` loop.

The sampler benchmark times :class:`graphgnn.model.sampler.TemporalNeighborSampler` over the
training users (seeds/s; no reference: PyG's ``NeighborLoader`` needs pyg-lib or torch-sparse,
absent here). Results go to ``experiments/results/perf.csv`` (one current row per benchmark).

    python -m experiments.bench_train --users 100000          # generates into /tmp if needed
    python -m experiments.bench_train --data DIR --epochs 5 --device cuda --precision bf16-mixed
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch


def _load(args):
    from graph_build.to_graph import tables_to_frames
    from graph_build.build import check_input
    from graphgnn.model.datamodule import DataModule

    data_dir = Path(args.data or f"/tmp/fraudring-bench/g{args.users}")
    if not (data_dir / "users.csv").exists() and not (data_dir / "users.parquet").exists():
        from graph_build.generate import generate

        print(f"generating {args.users:,} users into {data_dir}", file=sys.stderr)
        generate(data_dir, users=args.users, seed=args.seed)
    t0 = time.perf_counter()
    result, _ = check_input(data_dir)
    frames = tables_to_frames(result.tables)
    t1 = time.perf_counter()
    dm = DataModule.from_frames(frames, data_dir=str(data_dir), mode="full")
    dm.prepare()
    t2 = time.perf_counter()
    return dm, {"read": t1 - t0, "prepare": t2 - t1}


class _Reference(torch.nn.Module):
    """Plain PyG: ``to_hetero(GraphSAGE)`` and one linear head per scored type."""

    def __init__(self, data, hidden: int, layers: int, aggr: str) -> None:
        from torch_geometric.nn import GraphSAGE, to_hetero

        from graphgnn.model.hetero import SCORED_TYPES

        super().__init__()
        sage = GraphSAGE(-1, hidden, layers, hidden, aggr=aggr)
        self.gnn = to_hetero(sage, data.metadata(), aggr="sum")
        self.heads = torch.nn.ModuleDict({t: torch.nn.Linear(hidden, 1) for t in SCORED_TYPES})

    def forward(self, data):
        h = self.gnn(data.x_dict, data.edge_index_dict)
        return {t: head(h[t]).squeeze(-1) for t, head in self.heads.items()}


def _reference_epochs(data, args, device, epochs: int) -> list[float]:
    from torch.nn import functional as F

    model = _Reference(data, args.hidden, args.layers, args.aggr).to(device)
    with torch.no_grad():
        model(data)  # materialise lazy layers
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    bf16 = args.precision == "bf16-mixed" and device.type == "cuda"
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(data)
        loss = 0.0
        for nt, z in logits.items():
            m = data[nt].train_mask & (data[nt].y >= 0)
            y = data[nt].y[m]
            pw = ((len(y) - y.sum()) / y.sum().clamp_min(1)).clamp(1, 50)
            loss = loss + F.binary_cross_entropy_with_logits(z[m].float(), y, pos_weight=pw)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return times


def _our_epochs(dm, args, device, epochs: int) -> list[float]:
    import lightning as L
    from lightning.pytorch.callbacks import Callback

    from graphgnn.model.system import System

    class _EpochTimer(Callback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_train_epoch_start(self, trainer, module) -> None:
            self.t = time.perf_counter()

        def on_train_epoch_end(self, trainer, module) -> None:
            if device.type == "cuda":
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.t)

    timer = _EpochTimer()
    system = System(in_dims=dm.in_dims, hidden=args.hidden, num_layers=args.layers,
                    aggr=args.aggr, norm=args.norm, dropout=args.dropout, skip=args.skip,
                    jk="last")
    trainer = L.Trainer(max_epochs=epochs, accelerator=device.type if device.type == "cuda"
                        else "cpu", devices=1, precision=args.precision, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0,
                        num_sanity_val_steps=0, callbacks=[timer])
    trainer.fit(system, datamodule=dm)
    return timer.times


def _sampler_rate(dm, args) -> tuple[float, int]:
    from graphgnn.model.sampler import SeedBatches, TemporalNeighborSampler

    data = dm.data
    t = time.perf_counter()
    sampler = TemporalNeighborSampler(data, args.num_neighbors)
    index_s = time.perf_counter() - t
    seeds = {"User": data["User"].train_mask.nonzero().view(-1),
             "Order": data["Order"].train_mask.nonzero().view(-1)}
    batches = SeedBatches(sampler, seeds, batch_size=args.batch_size, rank=0, world_size=1)
    n_seeds, t = 0, time.perf_counter()
    for sub in batches:
        n_seeds += int(sub[sub.seed_type].seed.sum())
    return n_seeds / (time.perf_counter() - t), index_s


def main(argv: list[str] | None = None) -> int:
    from experiments.perf import peak_rss_mib, perf_row, print_table, record

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--data", help="generated data folder (default /tmp/fraudring-bench/gN)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=6, help="timed epochs (after 1 warm-up)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds of both loops")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--aggr", default="mean")
    p.add_argument("--norm", default="layer", help="ours: layer|batch|none")
    p.add_argument("--dropout", type=float, default=0.2, help="ours: dropout")
    p.add_argument("--no-skip", dest="skip", action="store_false", help="ours: no residual")
    p.add_argument("--parity", action="store_true",
                   help="ours with the reference's architecture (no norm, dropout, residual): "
                   "measures the framework's overhead alone")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", default="32-true")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--num-neighbors", type=int, nargs="+", default=[15, 10])
    p.add_argument("--no-record", action="store_true", help="print only")
    args = p.parse_args(argv)
    if args.parity:
        args.norm, args.dropout, args.skip = "none", 0.0, False
    warnings.filterwarnings("ignore")
    device = torch.device(args.device)

    dm, load_s = _load(args)
    data = dm.data.to(device)
    dm.data = data
    size = f"{args.users // 1000}k users" if not args.data else Path(args.data).name
    n_nodes = sum(data[t].num_nodes for t in data.node_types)
    n_edges = sum(data[et].edge_index.shape[1] for et in data.edge_types)
    print(f"graph: {n_nodes:,} nodes, {n_edges:,} edges (reverse included); read "
          f"{load_s['read']:.1f} s, features+HeteroData {load_s['prepare']:.1f} s",
          file=sys.stderr)
    ours, ref = [], []
    for _ in range(args.rounds):
        ours += _our_epochs(dm, args, device, args.epochs + 1)[1:]
        ref += _reference_epochs(data, args, device, args.epochs + 1)[1:]
    ours_s, ref_s = sorted(ours)[len(ours) // 2], sorted(ref)[len(ref) // 2]
    arch = "parity" if args.parity else f"norm={args.norm}, dropout={args.dropout}, " \
        f"skip={args.skip}"
    tag = f"({size}, H={args.hidden}, L={args.layers}, {arch}, {args.device}, {args.precision})"
    rows = [perf_row(f"train epoch full-batch vs plain PyG to_hetero(GraphSAGE) {tag}",
                     ours_s, ref_s, "s/epoch (median)")]
    if args.device == "cpu":
        dm.data = data.cpu()
        rate, index_s = _sampler_rate(dm, args)
        rows.append(perf_row(f"temporal sampler seeds/s ({size}, {args.num_neighbors}, "
                             f"batch {args.batch_size})", rate, None, "seeds/s"))
        rows.append(perf_row(f"temporal sampler index build ({size})", index_s, None, "s"))
    rows.append(perf_row(f"features+HeteroData prepare ({size})", load_s["prepare"], None, "s"))
    rows.append(perf_row(f"train bench peak RSS ({size})", peak_rss_mib(), None, "MiB"))
    print(f"ours {ours_s:.3f} s/epoch, reference {ref_s:.3f} s/epoch; ratio "
          f"{ours_s / ref_s:.3f} (target <= 1.15)", file=sys.stderr)
    print_table(rows)
    if not args.no_record:
        record(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
