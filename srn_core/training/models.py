"""Which weights a stage starts from: saved progress, the previous stage, a given checkpoint, or ImageNet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint
from ..model import SRN, SRNConfig
from . import distributed as dd
from .config import TrainConfig
from .run_folder import RunFolder, RunFolderError
from .stages import Stage

MODEL_FIELDS = ("backbone", "widths", "input_size", "alpha", "att_channels", "sr_channels", "padding_mode")


def _copy(model: SRN) -> SRN:
    """A new SRN with the same weights (new parameter objects, so no earlier DDP hook stays attached)."""
    fresh = SRN.from_config(model.config)
    fresh.load_state_dict(model.state_dict())
    return fresh


def _read_checkpoint(path: Path, ctx: dd.DistContext) -> tuple[SRNConfig, list[str], dict[str, torch.Tensor]]:
    """Rank 0 reads the checkpoint and hands its contents to every rank (files live on rank 0's machine)."""

    def read() -> tuple[SRNConfig, list[str], dict[str, torch.Tensor]]:
        model, meta = load_checkpoint(path)
        return meta.config, meta.label_names, model.state_dict()

    return dd.run_on_main(read, ctx)


def _check_matches(
    path: Path, config: TrainConfig, model_config: SRNConfig, names: list[str], label_names: list[str]
) -> None:
    if names != label_names:
        raise RunFolderError(
            f"{path}: its labels ({len(names)}: {names[:5]}...) are not the training data's "
            f"({len(label_names)}: {label_names[:5]}...)"
        )
    wanted = config.model_kwargs()
    saved = model_config.to_dict()
    if wanted["backbone"] == saved["backbone"] == "compact" and wanted["widths"] is None:
        wanted["widths"] = saved["widths"]
    wanted["widths"] = list(wanted["widths"]) if wanted["widths"] is not None else None
    differences = [
        f"{k}: checkpoint {saved[k]!r}, settings {wanted[k]!r}" for k in MODEL_FIELDS if saved[k] != wanted[k]
    ]
    if differences:
        raise RunFolderError(f"{path}: the model does not match the training settings ({'; '.join(differences)})")


def from_checkpoint(path: Path, config: TrainConfig, ctx: dd.DistContext, label_names: list[str]) -> SRN:
    """The SRN saved at `path`, checked against the settings and the data's labels."""
    model_config, names, tensors = _read_checkpoint(path, ctx)
    _check_matches(path, config, model_config, names, label_names)
    model = SRN.from_config(model_config)
    model.load_state_dict(tensors)
    return model


def initial_model(
    config: TrainConfig,
    stage: Stage,
    folder: RunFolder,
    ctx: dd.DistContext,
    label_names: list[str],
    previous: SRN | None,
    current: dict[str, Any] | None,
) -> SRN:
    """The weights stage `stage` starts from (or continues with, when `current` holds saved progress)."""
    number = stage.number
    if current is not None:
        model = SRN.from_config(SRNConfig(**current.pop("model_config")))
        model.load_state_dict(current.pop("model"))
        return model
    if previous is not None:
        return _copy(previous)
    if number == config.stages[0] and config.init_weights:
        return from_checkpoint(Path(config.init_weights), config, ctx, label_names)
    if number == 1:
        torch.manual_seed(config.seed)
        return SRN(len(label_names), pretrained=config.pretrained_weights(), **config.model_kwargs())
    path = folder.stage(number - 1)
    if not dd.run_on_main(path.is_file, ctx):
        raise RunFolderError(
            f"stage {number} starts from the result of stage {number - 1}, {path}, which does not "
            f"exist; run stage {number - 1} first (--stages {number - 1},{number}) or pass "
            f"--init-weights CHECKPOINT"
        )
    return from_checkpoint(path, config, ctx, label_names)
