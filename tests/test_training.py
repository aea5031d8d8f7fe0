"""Training: the four stages on a tiny model, freezing, resuming, the state format and the CLI."""

from __future__ import annotations

import argparse
import json
import re
import struct
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from srn_core import SRN, read_metadata
from srn_core.checkpoint import save_checkpoint
from srn_core.cli import build_parser, main
from srn_core.sources import GeneratedImages, InMemoryImages
from srn_core.training import (
    STAGES,
    RunFolderError,
    StageModule,
    TrainConfig,
    freeze_for_stage,
    load_state,
    masked_bce,
    set_train_modes,
    train,
)
from srn_core.training.cli import config_from_args
from srn_core.training.data import Augment, EpochBatches
from srn_core.training.data_args import add_data_arguments
from srn_core.training.models import _check_matches
from srn_core.training.options import add_options, flag_of, from_options, option_of
from srn_core.training.run_state import RunState, StageProgress
from srn_core.training.sr_stage import CachedStageConfig
from srn_core.training.stages import ALL_PARTS

from .colour_squares import COLOURS, make_squares, square_image, tiny_config
from .helpers import TINY, tiny_cli_args, tiny_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def squares(tmp_path_factory) -> Path:
    return make_squares(tmp_path_factory.mktemp("squares"), 40)


@pytest.fixture(scope="module")
def full_run(squares, tmp_path_factory) -> Path:
    """One uninterrupted run of all four stages; other tests compare against it."""
    out = tmp_path_factory.mktemp("full")
    train(tiny_config(out, squares))
    return out


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def _part(name: str) -> str:
    return name.split(".")[0]


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_each_stage_trains_exactly_its_parameters():
    model = tiny_model(len(COLOURS))
    for number, stage in STAGES.items():
        params = freeze_for_stage(model, stage)
        expected = {n for n, _ in model.named_parameters() if _part(n) in stage.trainable}
        assert {n for n, p in model.named_parameters() if p.requires_grad} == expected
        assert len(params) == len(expected)
        set_train_modes(model, stage)
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                assert module.training == (_part(name) in stage.trainable), (number, name)


def test_run_changes_only_the_trained_parts_and_keeps_frozen_bn_statistics(full_run):
    torch.manual_seed(0)
    initial = SRN(len(COLOURS), **TINY).state_dict()
    before = {k: v.clone() for k, v in initial.items()}
    for number in (1, 2, 3, 4):
        after = _tensors(full_run / f"stage{number}.safetensors")
        trainable = STAGES[number].trainable
        for name, value in after.items():
            if _part(name) not in trainable:
                assert torch.equal(value, before[name]), f"stage {number} changed frozen {name}"
        changed = [n for n, v in after.items() if _part(n) in trainable and not torch.equal(v, before[n])]
        params = [n for n in after if _part(n) in trainable and "running" not in n and "num_batches" not in n]
        assert set(params) <= set(changed), f"stage {number} left {set(params) - set(changed)} unchanged"
        if number in (2, 3):
            assert not any("running_mean" in n for n in changed)
        before = after


def test_losses_fall_in_every_stage(full_run):
    log = _log(full_run)
    assert [(e["stage"], e["epoch"]) for e in log] == [
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 2),
        (3, 1),
        (3, 2),
        (4, 1),
        (4, 2),
    ]
    for stage in (1, 2, 3, 4):
        losses = [e["loss"] for e in log if e["stage"] == stage]
        assert losses[-1] < losses[0], (stage, losses)
    stage1 = [e["loss"] for e in log if e["stage"] == 1]
    assert stage1[-1] < 0.8 * stage1[0]


def test_final_checkpoint_holds_the_summary(full_run):
    meta = read_metadata(full_run / "final.safetensors")
    summary = meta.training["summary"]
    assert meta.label_names == list(COLOURS)
    assert summary["config"]["lr"] == [0.01] * 4 and summary["config"]["joint_weights"] == [1.0, 1.0]
    assert set(summary["stages"]) == {"1", "2", "3", "4"}
    assert summary["stages"]["4"]["joint_weights"] == {"fused": 1.0, "attention": 1.0}
    assert all(summary["images_per_s"][k] > 0 for k in "1234") and summary["wall_time_s"] > 0
    heads = summary["final_metrics"]["heads"]
    assert summary["final_metrics"]["on"] == "train" and set(heads) == {"main", "attention", "srn", "fused"}
    assert heads["main"]["mAP"] > 60 and set(heads["fused"]) >= {"mAP", "CF1", "OF1", "CF1-3", "OF1-3"}
    assert torch.equal(
        _tensors(full_run / "final.safetensors")["f_sr.fc.weight"],
        _tensors(full_run / "stage4.safetensors")["f_sr.fc.weight"],
    )
    assert read_metadata(full_run / "stage2.safetensors").training["record"]["trainable"] == ["f_att", "conv1"]
    domain = meta.domain_record  # no --val-data: a fifth of the training images set the threshold
    assert (domain["num_images"], domain["held_out_images"]) == (32, 8) and domain["threshold"] > 0
    assert "training images" in domain["description"]


def _crash_at(points: set[tuple[int, int]]):
    def callback(info):
        if (info.stage, info.global_step) in points:
            points.discard((info.stage, info.global_step))
            raise KeyboardInterrupt(f"simulated crash at {info}")

    return callback


def test_interrupted_run_resumes_to_identical_weights(full_run, squares, tmp_path):
    out = tmp_path / "run"
    crashes = {(1, 9), (4, 7)}
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(out, squares), callback=_crash_at(crashes))
    saved = load_state(out / "state.safetensors")
    assert saved["current"]["stage"] == 1 and saved["current"]["global_step"] == 8  # at most one interval lost
    assert not (out / "stage1.safetensors").exists()
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(out, squares, resume=True), callback=_crash_at(crashes))
    assert (out / "stage3.safetensors").exists() and not (out / "final.safetensors").exists()
    train(tiny_config(out, squares, resume=True))
    for name in ("stage1", "stage2", "stage3", "stage4", "final"):
        a, b = _tensors(full_run / f"{name}.safetensors"), _tensors(out / f"{name}.safetensors")
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    keep = ("stage", "epoch", "steps", "loss", "lr")
    assert [{k: e[k] for k in keep} for e in _log(out)] == [{k: e[k] for k in keep} for e in _log(full_run)]


def test_stages_run_one_at_a_time_match_a_single_run(full_run, squares, tmp_path):
    train(tiny_config(tmp_path, squares, stages=(1, 2)))
    assert not (tmp_path / "stage3.safetensors").exists()
    train(tiny_config(tmp_path, squares, stages=(3,)))
    train(tiny_config(tmp_path, squares, stages=(4,)))
    a, b = _tensors(full_run / "final.safetensors"), _tensors(tmp_path / "final.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert set(read_metadata(tmp_path / "final.safetensors").training["summary"]["stages"]) == {"1", "2", "3", "4"}


def test_a_run_folder_is_never_overwritten_and_resume_needs_the_same_settings(full_run, squares, tmp_path):
    with pytest.raises(RunFolderError, match="--resume"):
        train(tiny_config(full_run, squares))
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(out, squares), callback=_crash_at({(1, 5)}))
    with pytest.raises(RunFolderError, match=r"lr: \[0\.01"):
        train(tiny_config(out, squares, lr=1e-3, resume=True))
    with pytest.raises(RunFolderError, match="stage 3 starts from the result of stage 2"):
        train(tiny_config(tmp_path / "other", squares, stages=(3, 4)))


def test_run_state_objects_keep_the_stored_layout():
    """RunState and StageProgress store the keys, in the order, that state files have always had."""
    progress = StageProgress(2)
    progress.add_step(0.5, 8)
    progress.add_step(1.5, 8)
    assert progress.mean_loss == 1.0 and progress.step == 2
    progress.end_epoch()
    assert (progress.epoch, progress.step, progress.loss_count, progress.epoch_losses) == (1, 0, 0, [1.0])
    assert (progress.global_step, progress.images) == (2, 16)
    assert list(asdict(progress)) == [
        "stage",
        "epoch",
        "step",
        "global_step",
        "loss_sum",
        "loss_count",
        "images",
        "seconds",
        "epoch_losses",
    ]
    assert StageProgress.from_saved({**asdict(progress), "model": None, "rng": None}) == progress
    state = RunState({"lr": [0.01]}, ["a"], 3)
    assert list(state.to_dict()) == [
        "config_identity",
        "label_names",
        "num_images",
        "completed",
        "records",
        "history",
        "elapsed_s",
        "current",
        "finished",
    ]
    assert RunState.from_dict(state.to_dict()) == state


def test_state_file_is_plain_safetensors_without_pickle(squares, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tmp_path, squares, optimizer="sgd"), callback=_crash_at({(1, 4)}))
    path = tmp_path / "state.safetensors"
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    assert 8 + length + end == len(raw)  # nothing but the header and the tensors' bytes
    with safe_open(str(path), "pt") as handle:
        assert len(list(handle.keys())) > 10
    state = load_state(path)["current"]
    assert set(state) >= {"model", "optimizer", "scheduler", "scaler", "rng", "epoch", "step", "global_step"}
    momentum = [s["momentum_buffer"] for s in state["optimizer"]["state"].values()]
    assert momentum and all(isinstance(m, torch.Tensor) for m in momentum)
    assert isinstance(state["rng"]["torch"], torch.Tensor) and state["rng"]["numpy"][1].dtype == np.uint32
    assert json.loads((tmp_path / "state.json").read_text())["format"] == "srn-training-state"
    ours = [
        *(ROOT / "srn_core" / "training").glob("*.py"),
        *(ROOT / "srn_core" / n for n in ("evaluation.py", "evaluate_cli.py", "sources.py")),
    ]
    text = "\n".join(p.read_text() for p in ours)
    assert not re.search(r"torch\.save|import pickle|pickle\.(dump|load)|torch\.load\(", text)


def test_frozen_parts_build_no_graph():
    model = tiny_model(len(COLOURS)).train()
    for stage_number in (2, 3):
        model.zero_grad(set_to_none=True)
        freeze_for_stage(model, STAGES[stage_number])
        for param in model.f_cnn.parameters():
            param.requires_grad_(True)  # even so, stages 2 and 3 run f_cnn under no_grad
        logits = StageModule(model, STAGES[stage_number])(torch.randn(2, 3, 64, 64))
        next(iter(logits.values())).sum().backward()
        assert all(p.grad is None for p in model.f_cnn.parameters())


def test_stage_outputs_are_the_model_outputs():
    model = tiny_model(len(COLOURS))
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        out = model(images)
        expected = {"main": out.cls_logits, "attention": out.att_logits, "srn": out.sr_logits, "fused": out.logits}
        for stage in STAGES.values():
            for head, logits in StageModule(model, stage)(images).items():
                torch.testing.assert_close(logits, expected[head])
    assert set(ALL_PARTS) == {n for n, _ in model.named_children()}


def test_unknown_targets_are_left_out_of_the_loss():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.3, 0.2, -3.0]])
    targets = torch.tensor([[1, 0, -1], [-1, 1, 0]], dtype=torch.int8)
    known = torch.tensor([2.0, -1.0, 0.2, -3.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(known, torch.tensor([1.0, 0.0, 1.0, 0.0]))
    torch.testing.assert_close(masked_bce(logits, targets), expected)
    moved = logits.clone()
    moved[0, 2], moved[1, 0] = 50.0, -50.0
    torch.testing.assert_close(masked_bce(moved, targets), expected)
    assert masked_bce(logits, torch.full_like(targets, -1)).item() == 0.0


def test_batches_are_reproducible_sharded_and_skippable():
    one = EpochBatches(10, 3, seed=5)
    one.set_epoch(2)
    full = one.batches()
    seen = [i for b in full for i in b]
    assert len(set(seen)) == 9 and set(seen) < set(range(10)) and [len(b) for b in full] == [3, 3, 3]  # 1 dropped
    one.set_epoch(2, skip=2)
    assert [[i for _, i in b] for b in one] == full[2:] and all(e == 2 for b in one for e, _ in b)
    one.set_epoch(3)
    assert one.batches() != full
    shards = [EpochBatches(10, 2, seed=5, rank=r, world_size=3) for r in range(3)]
    for shard in shards:
        shard.set_epoch(1)
    got = [i for s in shards for b in s.batches() for i in b]
    assert len(got) == 12 and set(got) == set(range(10)) and len({len(s) for s in shards}) == 1


def test_augmentation_is_a_function_of_seed_epoch_and_index():
    image = torch.arange(3 * 8 * 8, dtype=torch.float32).view(3, 8, 8)
    assert Augment()(image, 0, 0) is image
    flip = Augment(hflip=True, seed=1)
    outs = [flip(image, 0, i) for i in range(40)]
    flipped = sum(torch.equal(o, image.flip(-1)) for o in outs)
    assert 8 < flipped < 32 and flipped + sum(torch.equal(o, image) for o in outs) == 40
    assert all(torch.equal(flip(image, 0, i), outs[i]) for i in range(40))
    crop = Augment(crop_scale=0.5, seed=1)(image, 0, 3)
    assert crop.shape == image.shape and not torch.equal(crop, image)


def test_trains_on_in_memory_and_generated_images(tmp_path):
    rng = np.random.default_rng(1)
    targets = [rng.integers(0, 2, 3).astype(np.int8) for _ in range(16)]
    items = [(square_image(t, rng), t) for t in targets]
    config = dict(stages=(1,), epochs=1)
    final = train(tiny_config(tmp_path / "mem", None, **config), data=InMemoryImages(list(COLOURS), items))
    assert read_metadata(final).training["summary"]["train_images"] == 16
    generated = GeneratedImages(list(COLOURS), 16, lambda i: items[i])
    final = train(tiny_config(tmp_path / "gen", None, **config), data=generated, val_data=generated)
    assert read_metadata(final).training["summary"]["final_metrics"]["on"] == "val"


def test_train_cli_help_lists_every_setting():
    parser = build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    text = train_parser.format_help()
    flags = {
        "data": "--data",
        "val_data": "--val-data",
        "eval_every_epoch": "--no-eval-every-epoch",
        "progress": "--quiet",
    }
    for field in fields(TrainConfig):
        assert flags.get(field.name, "--" + field.name.replace("_", "-")) in text, field.name
    for flag in ("--label-matrix", "--image-dir", "--image-set", "--format", "--skip-missing", "--val-image-dir"):
        assert flag in text


def _train_parser() -> argparse.ArgumentParser:
    return build_parser()._subparsers._group_actions[0].choices["train"]


def test_train_options_are_generated_from_the_config_fields():
    """One source: each TrainConfig field has exactly one option setting it, each option sets a field or says
    where the data is (data_args), and the parsed defaults are the dataclass defaults."""
    parser = _train_parser()
    data_parser = argparse.ArgumentParser()
    add_data_arguments(data_parser, with_val=True)
    data_dests = {action.dest for action in data_parser._actions} - {"help"}
    own = {f.name for f in fields(TrainConfig) if option_of(f) is not None}
    assert {f.name for f in fields(TrainConfig)} - own == {"data", "val_data", "skip_missing"} <= data_dests
    assert {action.dest for action in parser._actions} - {"help"} - data_dests == own
    for f in fields(TrainConfig):
        if f.name in own:
            (action,) = [a for a in parser._actions if a.dest == f.name]
            assert action.option_strings == [flag_of(f)], f.name
    args = parser.parse_args(["--data", "d.json", "--out", "r"])
    assert config_from_args(args) == TrainConfig(out=Path("r"), data="d.json")
    switches = parser.parse_args(
        [
            "--data",
            "d.json",
            "--out",
            "r",
            "--quiet",
            "--no-eval-every-epoch",
            "--hflip",
            "--resume",
            "--skip-missing",
            "--stages",
            "2,3",
            "--epochs",
            "5",
        ]
    )
    config = config_from_args(switches)
    assert (config.progress, config.eval_every_epoch, config.hflip, config.resume, config.skip_missing) == (
        False,
        False,
        True,
        True,
        True,
    )
    assert config.stages == (2, 3) and config.epochs == (5, 5, 5, 5)


def test_sr_stage_options_are_generated_from_its_config(capsys):
    parser = argparse.ArgumentParser()
    add_options(parser, CachedStageConfig)
    config = from_options(CachedStageConfig, parser.parse_args(["--run", "r", "--data", "d.json", "--quiet"]))
    assert config == CachedStageConfig(run=Path("r"), data="d.json", progress=False)
    text = parser.format_help()
    for f in fields(CachedStageConfig):
        assert flag_of(f) in text, f.name
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "d.json"])
    assert "--run" in capsys.readouterr().err


def test_train_cli_end_to_end_and_bad_input(squares, tmp_path, capsys):
    args = [
        "train",
        "--data",
        str(squares),
        "--out",
        str(tmp_path / "run"),
        *tiny_cli_args(),
        "--epochs",
        "1",
        "--lr",
        "1e-2,1e-2,1e-2,1e-3",
        "--optimizer",
        "adam",
        "--batch-size",
        "8",
        "--quiet",
        "--val-data",
        str(squares),
        "--joint-weights",
        "1,0.5",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "final model:" in out and "fused" in out and "mAP" in out
    summary = read_metadata(tmp_path / "run" / "final.safetensors").training["summary"]
    assert summary["config"]["lr"] == [0.01, 0.01, 0.01, 0.001] and summary["config"]["joint_weights"] == [1.0, 0.5]
    assert "val" in _log(tmp_path / "run")[-1]
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    missing = ["train", "--data", str(tmp_path / "nope.json"), "--out", str(tmp_path / "r2")]
    assert main(missing) == 2
    assert "nope.json" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--data", str(squares), "--out", str(tmp_path), "--stages", "5"])


def test_padding_mode_reaches_the_model_and_a_checkpoint_of_another_mode_is_refused(tmp_path):
    config = TrainConfig(out=tmp_path, data="d.json", padding_mode="reflect", **TINY)
    model = SRN(3, **config.model_kwargs())
    assert model.config.padding_mode == "reflect"
    zeros = SRN(3, **{**config.model_kwargs(), "padding_mode": "zeros"})
    path = save_checkpoint(tmp_path / "zeros.safetensors", zeros, ["a", "b", "c"], {})
    _check_matches(path, config, model.config, ["a", "b", "c"], ["a", "b", "c"])
    with pytest.raises(RunFolderError, match="padding_mode: checkpoint 'zeros', settings 'reflect'"):
        _check_matches(path, config, zeros.config, ["a", "b", "c"], ["a", "b", "c"])
