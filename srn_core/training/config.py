"""Everything a training run depends on, as one JSON-able dataclass (stored in state and checkpoints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..backbones import BACKBONE_NAMES, COMPACT

STAGE_IDS = (1, 2, 3, 4)
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "none")
AMP_MODES = ("auto", "off", "bf16", "fp16")
CACHE_MODES = ("auto", "on", "off")
# Fields that may change between an interrupted run and its resumption (they do not change the result
# on a given machine, or only move where it runs).
RUNTIME_FIELDS = ("out", "device", "amp", "workers", "checkpoint_every", "resume", "cache", "progress",
                  "domain_description", "domain_images")


@dataclass(frozen=True)
class DataSpec:
    """Where a dataset comes from: `srn_core.datasets.load_dataset(source, fmt, skip_missing, **options)`."""

    source: str
    fmt: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "fmt": self.fmt, "options": dict(self.options)}


@dataclass
class TrainConfig:
    """A training run. Per-stage values (`epochs`, `lr`) are tuples of four, for stages 1..4."""

    out: Path
    data: DataSpec | None = None
    val_data: DataSpec | None = None
    backbone: str = "resnet101"
    widths: tuple[int, ...] | None = None
    att_channels: int = 512
    sr_channels: int = 512
    input_size: int = 224
    alpha: float = 0.5
    pretrained: str = "auto"
    init_weights: str | None = None
    stages: tuple[int, ...] = STAGE_IDS
    epochs: tuple[int, int, int, int] = (8, 4, 4, 4)
    lr: tuple[float, float, float, float] = (1e-3, 1e-3, 1e-3, 1e-3)
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    batch_size: int = 16
    workers: int = 0
    hflip: bool = False
    crop_scale: float = 1.0
    joint_weights: tuple[float, float] = (1.0, 1.0)
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    checkpoint_every: int = 200
    eval_every_epoch: bool = True
    resume: bool = False
    skip_missing: bool = False
    cache: str = "auto"
    progress: bool = True
    domain_description: str = ""
    domain_images: int = 2000

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
            (self.backbone in BACKBONE_NAMES,
             f"backbone must be one of {', '.join(BACKBONE_NAMES)}, got {self.backbone!r}"),
            (self.widths is None or self.backbone == COMPACT, "widths only apply to the compact backbone"),
            (bool(self.stages) and set(self.stages) <= set(STAGE_IDS),
             f"stages must be among 1,2,3,4, got {self.stages}"),
            (self.stages == tuple(range(self.stages[0], self.stages[0] + len(self.stages))) if self.stages else True,
             f"stages must be consecutive (each starts from the one before), got {self.stages}"),
            (all(e >= 1 for e in self.epochs), f"every stage needs at least 1 epoch, got {self.epochs}"),
            (all(lr > 0 for lr in self.lr), f"learning rates must be positive, got {self.lr}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"),
            (self.amp in AMP_MODES, f"amp must be one of {AMP_MODES}, got {self.amp!r}"),
            (self.cache in CACHE_MODES, f"cache must be one of {CACHE_MODES}, got {self.cache!r}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.workers >= 0, f"workers must be >= 0, got {self.workers}"),
            (0.0 < self.crop_scale <= 1.0, f"crop_scale must lie in (0, 1], got {self.crop_scale}"),
            (len(self.joint_weights) == 2 and min(self.joint_weights) >= 0 and max(self.joint_weights) > 0,
             f"joint_weights must be two non-negative numbers, not both 0, got {self.joint_weights}"),
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
        return dict(backbone=self.backbone, alpha=self.alpha, input_size=self.input_size, widths=self.widths,
                    att_channels=self.att_channels, sr_channels=self.sr_channels)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        for name in ("data", "val_data"):
            spec = getattr(self, name)
            data[name] = spec.to_dict() if spec is not None else None
        return _lists(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
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
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in sorted(set(saved) | set(current))
            if saved.get(k) != current.get(k)]
