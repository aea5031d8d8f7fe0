"""What a run has done so far, as typed objects; `to_dict` gives the form `state.save_state` stores.

RunState      the whole run: stages completed, their records, the epoch log, time, the stage in progress
StageProgress the counters of the stage in progress (saved with its weights so a run resumes mid-stage)
StageRun      the live objects of the stage being trained (model, data, optimizer, ...), not saved as such
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..model import SRN
from .data import EpochBatches
from .stages import Stage
from .state import rng_state


@dataclass
class StageProgress:
    """How far the stage in progress got: position, loss sums of the current epoch, images and time."""

    stage: int
    epoch: int = 0
    step: int = 0
    global_step: int = 0
    loss_sum: float = 0.0
    loss_count: int = 0
    images: int = 0
    seconds: float = 0.0
    epoch_losses: list[float] = field(default_factory=list)

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> StageProgress:
        """The counters of a saved stage (RunState.current)."""
        return cls(**{f.name: saved[f.name] for f in fields(cls)})

    @property
    def images_per_s(self) -> float:
        """Images per second of the stage so far."""
        return self.images / self.seconds if self.seconds > 0 else 0.0

    @property
    def mean_loss(self) -> float:
        """The mean loss of the epoch so far."""
        return self.loss_sum / max(1, self.loss_count)

    def add_step(self, loss: float, images: int) -> None:
        """Count one optimizer step: its loss (mean over the processes) and the images of all processes."""
        self.step += 1
        self.global_step += 1
        self.loss_sum += loss
        self.loss_count += 1
        self.images += images

    def end_epoch(self) -> None:
        """Record the epoch's mean loss and move to the next epoch's start."""
        self.epoch_losses.append(self.mean_loss)
        self.epoch, self.step, self.loss_sum, self.loss_count = self.epoch + 1, 0, 0.0, 0


@dataclass
class RunState:
    """A run's state. `current` is the saved stage in progress, StageRun.snapshot() (None between stages)."""

    config_identity: dict[str, Any]
    label_names: list[str]
    num_images: int
    completed: list[int] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0
    current: dict[str, Any] | None = None
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The stored form (shallow: the saved stage's tensors are not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        return cls(**data)


@dataclass
class StageRun:
    """The stage being trained: what `Trainer._run_epoch` and `Trainer._save_progress` work on."""

    stage: Stage
    model: SRN
    wrapped: nn.Module
    loader: DataLoader
    sampler: EpochBatches
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    progress: StageProgress

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to resume this stage after the last step: counters, weights, objects, RNG states."""
        return {
            **asdict(self.progress),
            "model_config": self.model.config.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng_state(),
        }
