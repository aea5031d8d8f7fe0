"""The forward result and every f_sr-based measure give the numbers recorded before f_sr's pieces became
methods of the model (tests/fsr_reference.json), on a fixed tiny model and fixed images.

Regenerate the record only on purpose: `python -m tests.test_fsr_reference` (it overwrites the file).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from analysis import (
    Analyzer,
    Edit,
    map_relation_field,
    placement_logits,
    probe_sr,
    relation_fields,
    sr_stages,
    what_if_each,
)
from analysis.measures.relation_probes import relation_probe
from srn_core import CheckpointMeta, Predictor
from srn_core.training.sr_stage import sr_mean_ap
from srn_core.training.stages import STAGES, StageModule

from .helpers import TINY_LABELS, tiny_model

RECORD = Path(__file__).with_name("fsr_reference.json")
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.integers(0, 256, (48 + 8 * i, 64 - 4 * i, 3), dtype=np.uint8) for i in range(3)]


def reference_values() -> dict[str, np.ndarray]:
    """Every number this test pins down, computed with the public entry points."""
    model = tiny_model(seed=3)
    meta = CheckpointMeta(model.config, list(TINY_LABELS), MEAN, STD)
    images = _images()
    targets = [np.array(t, np.int8) for t in ([1, 1, 0, 1, 0], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1])]
    analyses = Analyzer(model, meta, "cpu").analyse(images, ["a", "b", "c"], 2, targets)
    predictions = Predictor(model, meta, "cpu").predict(images, 2, ["a", "b", "c"])
    out: dict[str, np.ndarray] = {}
    for name in (
        "logits",
        "cls_logits",
        "sr_logits",
        "att_logits",
        "attention",
        "confidence_logits",
        "confidence",
        "weighted_attention",
    ):
        out[f"analysis.{name}"] = np.stack([getattr(a, name) for a in analyses])
    heads = {
        "fused": "probabilities",
        "main": "cls_probabilities",
        "srn": "sr_probabilities",
        "attention": "att_probabilities",
    }
    for head, name in heads.items():
        out[f"prediction.{name}"] = np.stack([p.probabilities()[head] for p in predictions])
    out["prediction.confidence"] = np.stack([p.confidence for p in predictions])
    out["score_rows"] = np.array([[v for k, v in row.items() if k != "label"] for row in analyses[0].score_rows()])
    probes = probe_sr(model, TINY_LABELS, "centre", mass=0.7)
    out["probe.channel_drive"], out["probe.filter_drive"] = probes.channel_drive, probes.filter_drive
    out["probe.logit_change"] = probes.logit_change
    u = analyses[1].weighted_attention
    out["placed"], out["removed"] = placement_logits(model, u, [1, 4], [0.6, 0.2], chunk=1)
    out["fields"] = np.stack([f.logits for f in relation_fields(model, u, TINY_LABELS, "dog")])
    field = map_relation_field(model, analyses, "cat", "dog")
    out["map_field"] = np.array([*field.logits.ravel(), field.removed, field.original])
    scenarios = [[Edit("cat", "remove")], [Edit("dog", "scale", 2.5)], [Edit("tree", "move", shift=(1, -2))]]
    what_ifs = what_if_each(model, analyses[0], scenarios)
    out["what_if"] = np.stack([np.stack([w.sr_before, w.sr_after]) for w in what_ifs])
    probe = relation_probe(
        model, analyses, "dog", "cat", shift=(1, 0), seed=1, min_kept=0.0
    )  # recorded before min_kept
    out["relation_probe"] = np.array(
        [[e.images, e.srn_change, e.srn_abs_change, e.fused_change, *e.srn_change_ci] for e in probe.effects.values()]
    )
    with torch.no_grad():
        stages = sr_stages(model, torch.as_tensor(np.stack([a.weighted_attention for a in analyses])))
        batch = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(5))
        for number in (2, 3):
            out[f"stage{number}"] = next(iter(StageModule(model, STAGES[number])(batch).values())).numpy()
    out["sr_stages.h3"], out["sr_stages.a4"], out["sr_stages.y"] = (stages[k].numpy() for k in ("h3", "a4", "y"))
    maps = torch.as_tensor(out["analysis.weighted_attention"])
    out["sr_mean_ap"] = np.array([sr_mean_ap(model, maps, torch.as_tensor(np.stack(targets)))])
    return {key: np.asarray(value, np.float64) for key, value in out.items()}


def test_entry_points_give_the_recorded_numbers():
    recorded = json.loads(RECORD.read_text())
    values = reference_values()
    assert sorted(values) == sorted(recorded)
    for key, value in values.items():
        np.testing.assert_allclose(value, np.asarray(recorded[key], np.float64), rtol=1e-5, atol=1e-6, err_msg=key)


if __name__ == "__main__":
    RECORD.write_text(json.dumps({k: v.tolist() for k, v in reference_values().items()}, indent=0) + "\n")
