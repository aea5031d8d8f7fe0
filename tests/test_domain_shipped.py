"""The shipped model flags ordinary photographs and almost never a scene of its own domain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import cbook
from sklearn.datasets import load_sample_images

from srn_core import Predictor
from srn_core.scenes import default_spec, render_scene

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "demo_scenes.safetensors"
UNSEEN_SEED = 777
SCENES = 200
PHOTOGRAPHS = [*load_sample_images().filenames, cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)]


def test_photographs_are_flagged_and_unseen_scenes_are_not():
    predictor = Predictor.from_checkpoint(WEIGHTS, "cpu")
    assert predictor.meta.domain is not None, "the shipped model must record its training domain"
    photos = predictor.predict([str(p) for p in PHOTOGRAPHS])
    assert all(p.domain.outside for p in photos), [(p.source, p.domain) for p in photos]
    spec = default_spec()
    scenes = predictor.predict([render_scene(spec, UNSEEN_SEED, i)[0] for i in range(SCENES)], batch_size=32)
    flagged = np.mean([p.domain.outside for p in scenes])
    assert flagged <= 0.02, f"{flagged:.1%} of unseen in-domain scenes flagged"
