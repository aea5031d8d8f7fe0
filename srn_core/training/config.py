"""Everything a training run depends on, as one JSON-able dataclass (stored in state and checkpoints)."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .. import cli_options
from ..backbones import BACKBONE_NAMES, COMPACT
from ..model import PADDING_MODES
from .options import numbers, setting

STAGE_IDS = (1, 2, 3, 4)
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "none")
AMP_MODES = ("auto", "off", "bf16", "fp16")
CACHE_MODES = ("auto", "on", "off")
# Fields that may change between an interrupted run and its resumption (they do not change the result
# on a given machine, or only move where it runs).
RUNTIME_FIELDS = (
    "out",
    "device",
    "amp",
    "workers",
    "checkpoint_every",
    "resume",
    "cache",
    "progress",
    "domain_description",
    "domain_images",
)


@dataclass(frozen=True)
class DataSpec:
    """Where a dataset comes from: `srn_core.datasets.load_dataset(source, fmt, skip_missing, **options)`."""

    source: str
    fmt: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "fmt": self.fmt, "options": dict(self.options)}


def stage_numbers(text: str) -> tuple[int, ...]:
    """Parser of --stages: stage numbers separated by commas."""
    try:
        stages = tuple(int(v) for v in text.split(","))
    except ValueError:
        stages = ()
    if not stages or not set(stages) <= set(STAGE_IDS):
        raise argparse.ArgumentTypeError(f"expected stage numbers among 1,2,3,4 separated by commas, got {text!r}")
    return stages


@dataclass
class TrainConfig:
    """A training run. Per-stage values (`epochs`, `lr`) are tuples of four, for stages 1..4.

    Each field declares its option of `python -m srn_core train` (srn_core.training.options); `data`,
    `val_data` and `skip_missing` come from the data options shared with `evaluate` (data_args.py).
    """

    out: Path = setting(help="run folder (created if needed)", group="run", parse=Path, metavar="RUN_DIR")
    data: DataSpec | None = None
    val_data: DataSpec | None = None
    backbone: str = setting("resnet101", "default {default}", group="model", choices=BACKBONE_NAMES)
    widths: tuple[int, ...] | None = setting(
        None, "compact backbone stage widths (default 32 64 128 256)", group="model", parse=int, nargs=4, metavar="W"
    )
    att_channels: int = setting(512, "f_att width (default {default})", group="model")
    sr_channels: int = setting(512, "f_sr width (default {default})", group="model")
    input_size: int = setting(224, "input side, a multiple of 16 (default {default})", group="model")
    padding_mode: str = setting(
        "zeros",
        "padding of every padded convolution: zeros (PyTorch's default) or reflect/replicate, which leave "
        "no zero mark at the image border (default {default})",
        group="model",
        choices=PADDING_MODES,
    )
    alpha: float = setting(0.5, "fusion weight of y_cls (default {default})", group="model")
    pretrained: str = setting(
        "auto",
        "backbone initialisation of stage 1: auto = ImageNet weights from torchvision's "
        "local cache for ResNets, random for compact; nothing is downloaded",
        group="model",
        metavar="auto|imagenet|none|PATH",
    )
    init_weights: str | None = setting(
        None, "start the first requested stage from this SRN checkpoint instead", group="model", metavar="CHECKPOINT"
    )
    stages: tuple[int, ...] = setting(
        STAGE_IDS,
        "stages to run, each from the previous stage's checkpoint in RUN_DIR (default: all four)",
        group="run",
        parse=stage_numbers,
        metavar="1,2,3,4",
    )
    epochs: tuple[int, int, int, int] = setting(
        (8, 4, 4, 4), "epochs per stage (default {default})", group="optim", parse=numbers(int), metavar="N[,N,N,N]"
    )
    lr: tuple[float, float, float, float] = setting(
        (1e-3, 1e-3, 1e-3, 1e-3),
        "learning rate per stage (default 1e-3, the authors' value)",
        group="optim",
        parse=numbers(float),
        metavar="LR[,LR,LR,LR]",
    )
    optimizer: str = setting("sgd", "default {default}", group="optim", choices=OPTIMIZERS)
    momentum: float = setting(0.9, "SGD momentum (default {default})", group="optim")
    weight_decay: float = setting(1e-4, "default {default}", group="optim")
    schedule: str = setting(
        "cosine",
        "per stage: cosine decay to 0, step (x0.1 after 2/3) or none (default cosine)",
        group="optim",
        choices=SCHEDULES,
    )
    batch_size: int = setting(
        16, "images per step and process (default {default})", group="optim", parse=cli_options.positive
    )
    workers: int = setting(
        0, "DataLoader worker processes (default {default})", group="run", parse=cli_options.non_negative
    )
    hflip: bool = setting(
        False, "random horizontal flips: only for data whose label relations are left/right symmetric", group="augment"
    )
    crop_scale: float = setting(
        1.0, "random resized crops covering MIN..1 of the image (default 1 = no crop)", group="augment", metavar="MIN"
    )
    joint_weights: tuple[float, float] = setting(
        (1.0, 1.0),
        "stage 4 loss = W_Y * BCE(y) + W_ATT * BCE(y_att) (default 1,1)",
        group="optim",
        parse=numbers(float, (2,)),
        metavar="W_Y,W_ATT",
    )
    seed: int = setting(0, "seed of the initialisation, shuffling and augmentation (default {default})", group="run")
    device: str = setting(
        "auto",
        "auto, cpu, cuda, cuda:1 ... (default auto; under torchrun each process takes cuda:LOCAL_RANK)",
        group="run",
        parse=cli_options.device,
    )
    amp: str = setting(
        "auto",
        "mixed precision: auto = bf16 (or fp16) on GPUs, off on the CPU (default auto)",
        group="run",
        choices=AMP_MODES,
    )
    checkpoint_every: int = setting(
        200,
        "save the resumable state every STEPS optimizer steps, and at each epoch end (default {default})",
        group="run",
        parse=cli_options.positive,
        metavar="STEPS",
    )
    eval_every_epoch: bool = setting(
        True,
        "with --val-data, evaluate only at the end instead of after every epoch",
        group="run",
        flag="--no-eval-every-epoch",
    )
    resume: bool = setting(
        False, "continue the run saved in RUN_DIR where it stopped (same settings required)", group="run"
    )
    skip_missing: bool = False
    cache: str = setting(
        "auto",
        "keep preprocessed images in memory; auto: if no workers and under 1 GiB",
        group="run",
        choices=CACHE_MODES,
    )
    progress: bool = setting(True, "no progress bars", group="run", flag="--quiet")
    domain_description: str = setting(
        "",
        "one line naming the training domain, recorded in final.safetensors and "
        "shown with predictions (default: the training data's source)",
        group="run",
        metavar="TEXT",
    )
    domain_images: int = setting(
        2000,
        "training images whose pooled features are recorded so that images unlike "
        "them are flagged; threshold set on --val-data (default {default}; 0 = none)",
        group="run",
        parse=cli_options.non_negative,
        metavar="N",
    )

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.stages = tuple(sorted({int(s) for s in self.stages}))
        self.epochs = _four(self.epochs, "epochs", int)
        self.lr = _four(self.lr, "lr", float)
        self.joint_weights = tuple(float(w) for w in self.joint_weights)
        if self.widths is not None:
            self.widths = tuple(int(w) for w in self.widths)
        for name in ("data", "val_data"):
            value = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, DataSpec(**value))
            elif isinstance(value, (str, Path)):
                setattr(self, name, DataSpec(str(value)))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad setting."""
        checks = [
            (
                self.backbone in BACKBONE_NAMES,
                f"backbone must be one of {', '.join(BACKBONE_NAMES)}, got {self.backbone!r}",
            ),
            (self.widths is None or self.backbone == COMPACT, "widths only apply to the compact backbone"),
            (
                bool(self.stages) and set(self.stages) <= set(STAGE_IDS),
                f"stages must be among 1,2,3,4, got {self.stages}",
            ),
            (
                self.stages == tuple(range(self.stages[0], self.stages[0] + len(self.stages))) if self.stages else True,
                f"stages must be consecutive (each starts from the one before), got {self.stages}",
            ),
            (all(e >= 1 for e in self.epochs), f"every stage needs at least 1 epoch, got {self.epochs}"),
            (all(lr > 0 for lr in self.lr), f"learning rates must be positive, got {self.lr}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"),
            (self.amp in AMP_MODES, f"amp must be one of {AMP_MODES}, got {self.amp!r}"),
            (self.cache in CACHE_MODES, f"cache must be one of {CACHE_MODES}, got {self.cache!r}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.workers >= 0, f"workers must be >= 0, got {self.workers}"),
            (0.0 < self.crop_scale <= 1.0, f"crop_scale must lie in (0, 1], got {self.crop_scale}"),
            (
                len(self.joint_weights) == 2 and min(self.joint_weights) >= 0 and max(self.joint_weights) > 0,
                f"joint_weights must be two non-negative numbers, not both 0, got {self.joint_weights}",
            ),
            (self.momentum >= 0 and self.weight_decay >= 0, "momentum and weight_decay must be >= 0"),
            (self.checkpoint_every >= 1, f"checkpoint_every must be >= 1 step, got {self.checkpoint_every}"),
            (self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
            (self.domain_images >= 0, f"domain_images must be >= 0, got {self.domain_images}"),
            (len(self.domain_description) <= 300, "domain_description must be at most 300 characters"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def pretrained_weights(self) -> str | bool | None:
        """What SRN(pretrained=...) gets: ImageNet (True), a file, or nothing."""
        choice = self.pretrained
        if choice == "auto":
            return None if self.backbone == COMPACT else True
        if choice == "none":
            return None
        return True if choice == "imagenet" else choice

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of SRN(...) besides num_labels and pretrained."""
        return dict(
            backbone=self.backbone,
            alpha=self.alpha,
            input_size=self.input_size,
            widths=self.widths,
            att_channels=self.att_channels,
            sr_channels=self.sr_channels,
            padding_mode=self.padding_mode,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        for name in ("data", "val_data"):
            spec = getattr(self, name)
            data[name] = spec.to_dict() if spec is not None else None
        return _lists(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}")
        return cls(**data)

    def identity(self) -> dict[str, Any]:
        """The settings that decide the result; a resumed run must match them."""
        return {k: v for k, v in self.to_dict().items() if k not in RUNTIME_FIELDS}


def _four(value: Any, name: str, kind: type) -> tuple:
    values = (value,) if isinstance(value, (int, float)) else tuple(value)
    if len(values) == 1:
        values = values * 4
    if len(values) != 4:
        raise ValueError(f"{name} needs one value or one per stage (4), got {len(values)}")
    return tuple(kind(v) for v in values)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human-readable `name: saved -> current` for every setting that differs."""
    return [
        f"{k}: {saved.get(k)!r} -> {current.get(k)!r}"
        for k in sorted(set(saved) | set(current))
        if saved.get(k) != current.get(k)
    ]
