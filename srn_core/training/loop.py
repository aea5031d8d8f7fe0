"""The trainer: runs the requested stages, checkpoints as it goes, and resumes where it stopped."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..backbones import IMAGENET_MEAN, IMAGENET_STD
from ..checkpoint import save_checkpoint
from ..datasets import load_dataset
from ..domain import DomainModel, fit_domain
from ..evaluation import ImageTensors, predict_logits
from ..metrics import evaluate_logits
from ..model import SRN
from ..preprocess import Preprocessor
from ..sources import LabelledImages, aligned, as_source
from . import distributed as dd
from .config import DataSpec, TrainConfig, config_differences
from .data import Augment, EpochBatches, TrainingImages, should_cache
from .models import from_checkpoint, initial_model
from .optim import amp_dtype, make_optimizer, make_scheduler
from .records import run_summary, stage_record
from .run_folder import RunFolder, RunFolderError
from .run_state import RunState, StageProgress, StageRun
from .stages import Stage, StageModule, freeze_for_stage, get_stage, set_train_modes, stage_loss
from .state import save_state, set_rng_state


@dataclass
class StepInfo:
    """Passed to the step callback after every optimizer step (and after any state save)."""

    stage: int
    epoch: int
    step: int
    global_step: int
    loss: float
    lr: float


StepCallback = Callable[[StepInfo], None]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def _load_source(data: Any, spec: DataSpec | None, skip_missing: bool) -> LabelledImages | None:
    if data is not None:
        return as_source(data)
    if spec is None:
        return None
    try:
        dataset = load_dataset(spec.source, spec.fmt, skip_missing=skip_missing, **spec.options)
    except TypeError as exc:
        raise ValueError(
            f"{spec.source}: the options {sorted(spec.options)} do not all apply to this dataset's format ({exc})"
        ) from None
    return as_source(dataset)


class Trainer:
    """One run of TrainConfig; `run()` returns the path of final.safetensors."""

    def __init__(
        self,
        config: TrainConfig,
        ctx: dd.DistContext,
        data: Any = None,
        val_data: Any = None,
        callback: StepCallback | None = None,
    ) -> None:
        self.config = config
        self.ctx = ctx
        self.folder = RunFolder(config.out)
        self.callback = callback
        source = _load_source(data, config.data, config.skip_missing)
        if source is None:
            raise ValueError("no training data: set TrainConfig.data or pass data=")
        if len(source) == 0:
            raise ValueError("the training data holds no images")
        self.source = source
        self.label_names = list(source.label_names)
        val = _load_source(val_data, config.val_data, config.skip_missing)
        self.val_source = aligned(val, self.label_names) if val is not None else None
        self.preprocess = Preprocessor(config.input_size, IMAGENET_MEAN, IMAGENET_STD)
        self.amp = amp_dtype(config.amp, ctx.device)
        self.show = ctx.is_main and config.progress
        self.session_start = time.perf_counter()
        self.model: SRN | None = None

    # -- state ---------------------------------------------------------------------------------
    def _start_state(self) -> RunState:
        config = self.config
        saved = self.folder.read_state() if config.resume else None
        if saved is not None and saved["finished"] and saved["config_identity"] != config.identity():
            saved = None  # a finished run with other settings (e.g. earlier stages): nothing to resume
        if saved is not None:
            differences = config_differences(saved["config_identity"], config.identity())
            if differences:
                raise RunFolderError(
                    f"{self.folder.root} was started with other settings; resume with the same "
                    f"ones ({'; '.join(differences)})"
                )
            if saved["label_names"] != self.label_names or saved["num_images"] != len(self.source):
                raise RunFolderError(
                    f"{self.folder.root} was trained on other data ({saved['num_images']} images, "
                    f"labels {saved['label_names'][:5]}...)"
                )
            return RunState.from_dict(saved)
        if config.resume and self.config.progress:
            print(f"no saved state in {self.folder.root}; starting a new run")
        self.folder.check_fresh_start(config.stages)
        return RunState(
            config.identity(),
            self.label_names,
            len(self.source),
            records=self.folder.earlier_records(min(config.stages)),
        )

    def _save(self, state: RunState) -> None:
        if not self.ctx.is_main:
            return
        state.elapsed_s = self._elapsed(state)
        self.session_start = time.perf_counter()
        save_state(self.folder.state, state.to_dict())
        self.folder.write_log(state.history)

    def _elapsed(self, state: RunState) -> float:
        return float(state.elapsed_s) + time.perf_counter() - self.session_start

    # -- run -----------------------------------------------------------------------------------
    def run(self) -> Path:
        """Train the stages not done yet; on the CPU with denormal floats flushed to zero meanwhile
        (tiny gradients through the attention softmax otherwise slow stage 4 down several times)."""
        flushing = self.ctx.device.type == "cpu" and torch.set_flush_denormal(True)
        try:
            return self._run()
        finally:
            if flushing:
                torch.set_flush_denormal(False)

    def _run(self) -> Path:
        state = dd.run_on_main(self._start_state, self.ctx)
        if state.finished:
            return self.folder.final
        model = None
        for number in self.config.stages:
            if number not in state.completed:
                model = self._run_stage(get_stage(number), state, model)
        if model is None:
            last = self.folder.stage(self.config.stages[-1])
            model = from_checkpoint(last, self.config, self.ctx, self.label_names).to(self.ctx.device)
        self._finish(model, state)
        dd.barrier(self.ctx)
        self.model = model
        return self.folder.final

    def _start_stage(self, stage: Stage, state: RunState, previous: SRN | None) -> StageRun:
        """The model, data, optimizer and counters of `stage`: fresh, or as saved mid-stage in `state`."""
        config, ctx, number = self.config, self.ctx, stage.number
        saved = state.current if (state.current or {}).get("stage") == number else None
        model = initial_model(config, stage, self.folder, ctx, self.label_names, previous, saved).to(ctx.device)
        params = freeze_for_stage(model, stage)
        seed = config.seed * 10 + number
        sampler = EpochBatches(len(self.source), config.batch_size, seed, ctx.rank, ctx.world_size)
        cache = should_cache(config.cache, len(self.source), config.input_size, config.workers)
        dataset = TrainingImages(self.source, self.preprocess, Augment(config.hflip, config.crop_scale, seed), cache)
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=config.workers,
            persistent_workers=config.workers > 0,
            pin_memory=ctx.device.type == "cuda",
        )
        optimizer = make_optimizer(config, params, config.lr[number - 1])
        scheduler = make_scheduler(optimizer, config.schedule, config.epochs[number - 1] * len(sampler))
        scaler = torch.amp.GradScaler(ctx.device.type, enabled=self.amp == torch.float16)
        if saved is None:
            torch.manual_seed(seed)
            progress = StageProgress(number)
        else:
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            scaler.load_state_dict(saved["scaler"])
            set_rng_state(saved["rng"])
            progress = StageProgress.from_saved(saved)
            state.current = None  # now held by the StageRun; saved again, with new weights, by _save_progress
        wrapped = dd.wrap(StageModule(model, stage), ctx)
        return StageRun(stage, model, wrapped, loader, sampler, optimizer, scheduler, scaler, progress)

    def _run_stage(self, stage: Stage, state: RunState, previous: SRN | None) -> SRN:
        config, number = self.config, stage.number
        run = self._start_stage(stage, state, previous)
        epochs = config.epochs[number - 1]
        epoch_bar = tqdm(
            total=epochs,
            initial=run.progress.epoch,
            desc=f"stage {number} ({stage.name})",
            unit="epoch",
            disable=not self.show,
        )
        while run.progress.epoch < epochs:
            self._run_epoch(run, state)
            epoch_bar.update()
        epoch_bar.close()
        record = stage_record(stage, config, run.progress, len(run.sampler))
        state.records[str(number)] = record
        if self.ctx.is_main:
            save_checkpoint(
                self.folder.stage(number),
                run.model,
                self.label_names,
                training={"stage": number, "record": record, "config": config.to_dict()},
            )
        state.completed = sorted({*state.completed, number})
        state.current = None
        self._save(state)
        return run.model

    def _run_epoch(self, run: StageRun, state: RunState) -> None:
        config, ctx, stage, progress = self.config, self.ctx, run.stage, run.progress
        epoch = progress.epoch
        set_train_modes(run.model, stage)
        run.sampler.set_epoch(epoch, progress.step)
        started, lr = time.perf_counter(), run.lr
        bar = tqdm(
            run.loader,
            total=len(run.sampler),
            initial=progress.step,
            desc=f"epoch {epoch + 1}",
            unit="batch",
            leave=False,
            disable=not self.show,
        )
        for images, targets, _ in bar:
            images = images.to(ctx.device, non_blocking=True)
            targets = targets.to(ctx.device, non_blocking=True)
            with torch.autocast(ctx.device.type, dtype=self.amp or torch.float32, enabled=self.amp is not None):
                logits = run.wrapped(images)
            loss = stage_loss(stage, logits, targets, config.joint_weights)
            run.optimizer.zero_grad(set_to_none=True)
            run.scaler.scale(loss).backward()
            run.scaler.step(run.optimizer)
            run.scaler.update()
            lr = run.lr
            run.scheduler.step()
            value = dd.all_reduce_sum([loss.item()], ctx)[0] / ctx.world_size
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"stage {stage.number}, epoch {epoch + 1}, step {progress.step + 1}: the loss "
                    f"is {value}; lower the learning rate (the SRN authors saw 1e-1 and 1e-2 "
                    f"explode and used 1e-3)"
                )
            progress.add_step(value, len(images) * ctx.world_size)
            bar.set_postfix(loss=f"{value:.4f}")
            if progress.global_step % config.checkpoint_every == 0:
                self._save_progress(run, state, started)
                started = time.perf_counter()
            if self.callback is not None:
                self.callback(StepInfo(stage.number, epoch, progress.step, progress.global_step, value, lr))
        bar.close()
        progress.seconds += time.perf_counter() - started
        dd.sync_buffers(run.model, ctx)
        entry = {
            "stage": stage.number,
            "epoch": epoch + 1,
            "steps": progress.step,
            "loss": progress.mean_loss,
            "lr": lr,
            "stage_images_per_s": progress.images_per_s,
            "elapsed_s": self._elapsed(state),
        }
        if self.val_source is not None and config.eval_every_epoch:
            entry["val"] = self.evaluate(run.model, self.val_source)
        state.history.append(entry)
        progress.end_epoch()
        self._save_progress(run, state, started, count_time=False)

    def _save_progress(self, run: StageRun, state: RunState, started: float, count_time: bool = True) -> None:
        if count_time:
            run.progress.seconds += time.perf_counter() - started
        if not self.ctx.is_main:
            return
        state.current = run.snapshot()
        try:
            self._save(state)
        finally:
            state.current = None

    # -- evaluation and summary ------------------------------------------------------------------
    def evaluate(self, model: SRN, source: LabelledImages) -> dict[str, dict[str, float]]:
        """Every head's metrics on `source`; with several processes each scores a share of the images."""
        ctx = self.ctx
        indices = list(range(ctx.rank, len(source), ctx.world_size))
        logits, targets = predict_logits(
            model, ImageTensors(source, self.preprocess), self.config.batch_size, ctx.device, indices=indices
        )
        parts = dd.gather((indices, logits, targets), ctx)
        order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
        targets = np.concatenate([p[2] for p in parts])[order]
        return {head: evaluate_logits(np.concatenate([p[1][head] for p in parts])[order], targets) for head in logits}

    def _finish(self, model: SRN, state: RunState) -> None:
        last = self.config.stages[-1]
        history = [e for e in state.history if e["stage"] == last and "val" in e]
        if self.val_source is not None:
            on, metrics = "val", history[-1]["val"] if history else self.evaluate(model, self.val_source)
        else:
            on, metrics = "train", self.evaluate(model, self.source)
        summary = run_summary(
            self.config,
            self.label_names,
            len(self.source),
            len(self.val_source) if self.val_source is not None else 0,
            state.records,
            self._elapsed(state),
            {"on": on, "heads": metrics},
            self.ctx,
            self.amp,
        )
        if self.ctx.is_main:
            save_checkpoint(
                self.folder.final, model, self.label_names, training={"summary": summary}, domain=self._domain(model)
            )
        state.finished = True
        self._save(state)

    def _domain(self, model: SRN) -> DomainModel | None:
        """Statistics of the training images' features, so that unlike images can be flagged (None when
        switched off or when there are too few images; training never fails for them)."""
        config = self.config
        if config.domain_images == 0:
            return None
        data = config.data.source if config.data is not None else "in-memory images"
        description = config.domain_description or f"the {len(self.source)} training images of {data}"
        try:
            return fit_domain(
                model,
                self.source,
                self.val_source,
                self.preprocess,
                description,
                config.domain_images,
                batch_size=config.batch_size,
                device=self.ctx.device,
                seed=config.seed,
                progress=config.progress and self.ctx.is_main,
            )
        except ValueError as exc:
            print(f"note: no out-of-domain statistics recorded ({exc})")
            return None


def train(config: TrainConfig, data: Any = None, val_data: Any = None, callback: StepCallback | None = None) -> Path:
    """Train an SRN as `config` says and return RUN_DIR/final.safetensors.

    `data` / `val_data` override `config.data` / `config.val_data` with a MultiLabelDataset or any
    `srn_core.sources` source (in-memory images, images generated on the fly). Under torchrun
    each process calls this; only rank 0 writes files.
    """
    ctx = dd.init_distributed(config.device)
    try:
        return Trainer(config, ctx, data, val_data, callback).run()
    finally:
        dd.shutdown(ctx)
