"""DistributedDataParallel plumbing: one process per device, started by torchrun.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; without them the run is a
plain single process. The backend is NCCL when the processes use GPUs and gloo on the CPU. Only
rank 0 writes files; the others compute the same steps on their share of each batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, the number of processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _pick_device(requested: str, local_rank: int) -> torch.device:
    if requested == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda" and device.index is None:
        device = torch.device(f"cuda:{local_rank}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} asked for, but CUDA is not available")
    return device


def init_distributed(requested_device: str = "auto") -> DistContext:
    """Join the process group torchrun describes (if any) and pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device = _pick_device(requested_device, local_rank)
    if world_size <= 1:
        return DistContext(device=device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistContext(rank, world_size, local_rank, device, backend)


def shutdown(ctx: DistContext) -> None:
    """Leave the process group, if this process joined one."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()


def wrap(module: nn.Module, ctx: DistContext) -> nn.Module:
    """`module` in DistributedDataParallel when distributed (parameters and buffers synced from rank 0)."""
    if not ctx.distributed:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def sync_buffers(module: nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's buffers (BatchNorm statistics) to every rank.

    DDP syncs them at the start of each forward, so after the last step each rank holds the
    statistics of its own last batch; this makes the models identical again.
    """
    if ctx.distributed:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def broadcast(value: Any, ctx: DistContext) -> Any:
    """Rank 0's `value` on every rank (any picklable value sent between our own processes)."""
    if not ctx.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def run_on_main(fn: Callable[[], T], ctx: DistContext) -> T:
    """fn() run on rank 0 only (it reads files), its result handed to every rank; its error raised on every rank."""
    if not ctx.distributed:
        return fn()
    outcome = None
    if ctx.is_main:
        try:
            outcome = ("ok", fn())
        except Exception as exc:  # noqa: BLE001 - re-raised below, on every rank
            outcome = ("error", exc)
    kind, value = broadcast(outcome, ctx)
    if kind == "error":
        raise value
    return value


def gather(value: Any, ctx: DistContext) -> list[Any]:
    """Every rank's `value`, in rank order, on every rank."""
    if not ctx.distributed:
        return [value]
    values: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(values, value)
    return values


def all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Element-wise sum of `values` over the ranks."""
    if not ctx.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=ctx.device if ctx.backend == "nccl" else "cpu")
    dist.all_reduce(tensor)
    return tensor.tolist()
