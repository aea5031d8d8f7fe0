"""The files of a run folder, and the rules that keep a run from overwriting another by accident.

RUN_DIR/stage{k}.safetensors  model after stage k (our checkpoint format; its record in the metadata)
RUN_DIR/state.safetensors     resumable state (weights, optimizer, scheduler, RNG, counters, config)
RUN_DIR/state.json            a readable copy of the state's JSON part
RUN_DIR/log.jsonl             one line per finished epoch: loss, learning rate, speed, metrics
RUN_DIR/final.safetensors     the last stage's model with the run's summary
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..checkpoint import CheckpointError, read_metadata
from ..fileio import atomic_write_text
from ..jsonsafe import json_safe
from .state import load_state


class RunFolderError(ValueError):
    """The run folder holds a run that this one would overwrite, or one that does not match it."""


class RunFolder:
    """Paths and small file operations of one run folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def state(self) -> Path:
        return self.root / "state.safetensors"

    @property
    def log(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def final(self) -> Path:
        return self.root / "final.safetensors"

    def stage(self, number: int) -> Path:
        return self.root / f"stage{number}.safetensors"

    def read_state(self) -> dict[str, Any] | None:
        """The saved state, or None if there is none."""
        return load_state(self.state) if self.state.is_file() else None

    def check_fresh_start(self, stages: tuple[int, ...]) -> None:
        """Refuse to start over a run folder that already holds results of any of `stages`."""
        existing = [self.stage(k).name for k in stages if self.stage(k).is_file()]
        if existing:
            raise RunFolderError(
                f"{self.root} already holds {', '.join(existing)}; pass --resume to continue "
                f"that run, or choose another --out"
            )
        saved = self.read_state()
        current = (saved or {}).get("current")
        if current and current.get("stage") in stages:
            raise RunFolderError(
                f"{self.root} holds an unfinished run (stage {current['stage']}, epoch "
                f"{current['epoch'] + 1}); pass --resume to continue it, or choose another --out"
            )

    def write_log(self, history: list[dict[str, Any]]) -> None:
        """Rewrite log.jsonl from the run's history (atomically, so it always matches the saved state)."""
        atomic_write_text(self.log, "".join(json.dumps(json_safe(entry)) + "\n" for entry in history))

    def earlier_records(self, before: int) -> dict[str, Any]:
        """Records of stages < `before` found in this folder's stage checkpoints (from earlier invocations)."""
        records = {}
        for number in range(1, before):
            path = self.stage(number)
            if path.is_file():
                try:
                    record = read_metadata(path).training.get("record")
                except CheckpointError:
                    continue
                if record:
                    records[str(number)] = record
        return records
