"""A checkpoint's metadata as short tables a person can read: the architecture, the training stages,
the held-out metrics and the rest of the training record flattened to one row per setting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srn_core.checkpoint import CheckpointMeta

MAX_LIST = 6
MAX_ROWS = 400
MAX_CHARS = 160
METRICS = ("mAP", "CF1", "OF1", "CP", "CR", "OP", "OR")


def _short(value: Any, depth: int = 0) -> str:
    """A value as one short line: long lists show their ends and their length, deep ones are cut."""
    if isinstance(value, (list, tuple)):
        if depth > 2:
            return f"[{len(value)} values]"
        if len(value) > MAX_LIST:
            return f"{_short(value[0], depth + 1)} ... {_short(value[-1], depth + 1)} ({len(value)} values)"
        return ", ".join(_short(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return f"{{{len(value)} settings}}"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 3] + "..."


def architecture_rows(meta: CheckpointMeta) -> list[dict[str, str]]:
    """Backbone, widths, input size and grid, alpha and branch widths, one row each."""
    config = meta.config
    return [
        {"setting": k, "value": _short(v)}
        for k, v in (
            ("backbone", config.backbone),
            ("widths", list(config.widths) if config.widths else "-"),
            ("input size (px)", config.input_size),
            ("attention grid", f"{config.grid} x {config.grid}"),
            ("alpha (fused = alpha main + (1 - alpha) SRN)", config.alpha),
            ("f_att channels", config.att_channels),
            ("f_sr channels x filters", f"{config.sr_channels} x {config.filters_per_channel}"),
            ("labels", len(meta.label_names)),
            ("format version", meta.format_version),
        )
    ]


def _summary(meta: CheckpointMeta) -> Mapping[str, Any]:
    training = meta.training if isinstance(meta.training, Mapping) else {}
    summary = training.get("summary")
    return summary if isinstance(summary, Mapping) else {}


def stage_rows(meta: CheckpointMeta) -> list[dict[str, Any]]:
    """One row per training stage recorded: what it trained, how long, the last epoch's loss."""
    stages = _summary(meta).get("stages")
    rows = []
    for key, stage in stages.items() if isinstance(stages, Mapping) else ():
        if not isinstance(stage, Mapping):
            continue
        losses = stage.get("epoch_losses") or []
        rows.append(
            {
                "stage": str(stage.get("stage", key)),
                "name": _short(stage.get("name", "")),
                "trains": _short(stage.get("trainable", "")),
                "epochs": _short(stage.get("epochs", "")),
                "lr": _short(stage.get("lr", "")),
                "images/s": _short(stage.get("images_per_s", "")),
                "last loss": _short(losses[-1]) if losses else "",
            }
        )
    return rows


def metric_rows(meta: CheckpointMeta) -> list[dict[str, Any]]:
    """The final held-out metrics per head (mAP, CF1, OF1, ...), when the record has them."""
    final = _summary(meta).get("final_metrics")
    heads = final.get("heads") if isinstance(final, Mapping) else None
    rows = []
    for head, metrics in heads.items() if isinstance(heads, Mapping) else ():
        if isinstance(metrics, Mapping):
            rows.append({"head": str(head), **{m: _short(metrics[m]) for m in METRICS if m in metrics}})
    return rows


def record_rows(meta: CheckpointMeta) -> list[dict[str, str]]:
    """The whole training record flattened to (setting, value) rows, keys joined by '.' (at most MAX_ROWS)."""
    rows: list[dict[str, str]] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if len(rows) >= MAX_ROWS:
            return
        if isinstance(value, Mapping) and depth < 8:
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key), depth + 1)
        else:
            rows.append({"setting": _short(path), "value": _short(value)})

    walk(meta.training if isinstance(meta.training, Mapping) else {}, "", 0)
    return rows
