"""DistributedDataParallel on the CPU: two gloo processes train a few steps and end with identical weights."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from srn_core import read_metadata
from srn_core.training import Trainer
from srn_core.training import distributed as dd

from .colour_squares import make_squares, tiny_config

WORLD = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, port: int, data: str, tmp: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank)
    )
    torch.set_num_threads(1)
    ctx = dd.init_distributed("cpu")
    try:
        # Rank 1 gets its own run folder: it must never write there (only rank 0 writes files).
        out = Path(tmp) / ("run" if rank == 0 else "rank1_out")
        config = tiny_config(out, Path(data), val_data=data, epochs=1, batch_size=4, checkpoint_every=2)
        trainer = Trainer(config, ctx)
        trainer.run()
        tensors = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
        save_file(tensors, str(Path(tmp) / f"rank{rank}.safetensors"))
    finally:
        dd.shutdown(ctx)


def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    data = make_squares(tmp_path / "data", 20, seed=4)
    mp.spawn(_worker, args=(_free_port(), str(data), str(tmp_path)), nprocs=WORLD, join=True)
    rank0, rank1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in range(WORLD))
    final = load_file(str(tmp_path / "run" / "final.safetensors"))
    domain = {name: final.pop(name) for name in ("domain.mean", "domain.precision")}  # rank 0 fitted them once
    assert domain["domain.precision"].shape == (64, 64)
    assert rank0.keys() == rank1.keys() == final.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
        assert torch.equal(rank0[name], final[name]), name
    assert not (tmp_path / "rank1_out").exists()
    summary = read_metadata(tmp_path / "run" / "final.safetensors").training["summary"]
    assert summary["environment"]["world_size"] == 2
    stage1 = summary["stages"]["1"]
    assert stage1["steps_per_epoch"] == 3 and stage1["images"] == 20  # 10 per rank: batches of 4, 4, 2
    assert summary["final_metrics"]["on"] == "val" and summary["val_images"] == 20
