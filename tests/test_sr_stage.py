"""Stage 3 on cached maps: it trains f_sr alone from RUN_DIR/stage2, writes a stage-3 checkpoint with its
record, and stage 4 of `python -m srn_core train` continues from it."""

from __future__ import annotations

import torch

from srn_core import load_checkpoint, save_checkpoint
from srn_core.cli import main as srn_main
from srn_core.scenes import generate_dataset
from srn_core.training.sr_stage import main as sr_stage_main

from .helpers import TINY_LABELS, tiny_cli_args, tiny_model

SPEC = {
    "image_size": 64,
    "render": {"object_size": [12, 20], "stroke": [1, 2], "distractors": [0, 1], "clutter": [0, 2]},
    "classes": [
        {"name": name, "glyph": glyph, "prior": 0.5}
        for name, glyph in zip(TINY_LABELS, ("circle", "square", "star", "heart", "cross"))
    ],
}


def test_stage3_on_cached_maps_then_stage4(tmp_path):
    data = generate_dataset(tmp_path / "scenes", 24, seed=3, spec=SPEC, progress=False)
    assert data.label_names == TINY_LABELS
    run = tmp_path / "run"
    run.mkdir()
    stage2 = tiny_model()
    save_checkpoint(run / "stage2.safetensors", stage2, TINY_LABELS, {"record": {"stage": 2, "images_per_s": 1.0}})
    manifest = str(tmp_path / "scenes" / "manifest.json")
    assert (
        sr_stage_main(
            [
                "--run",
                str(run),
                "--data",
                manifest,
                "--val-data",
                manifest,
                "--epochs",
                "3",
                "--conv4-init",
                "0.1",
                "--quiet",
            ]
        )
        == 0
    )
    model, meta = load_checkpoint(run / "stage3.safetensors")
    record = meta.training["record"]
    assert record["stage"] == 3 and record["cached_maps"] and record["epochs"] == 3 and len(record["epoch_losses"]) == 3
    assert 0.0 <= record["val_sr_map"] <= 100.0 and record["images_per_s"] > 0
    before, after = stage2.state_dict(), model.state_dict()
    for name, tensor in after.items():
        assert torch.equal(tensor, before[name]) == (not name.startswith("f_sr.")), name
    assert sr_stage_main(["--run", str(tmp_path / "nowhere"), "--data", manifest, "--quiet"]) == 2
    assert (
        srn_main(
            [
                "train",
                "--data",
                manifest,
                "--out",
                str(run),
                "--stages",
                "4",
                "--epochs",
                "1",
                *tiny_cli_args(),
                "--batch-size",
                "8",
                "--quiet",
            ]
        )
        == 0
    )
    final, final_meta = load_checkpoint(run / "final.safetensors")
    assert final_meta.training["summary"]["stages"]["3"]["cached_maps"]
