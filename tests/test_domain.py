"""Out-of-domain statistics: the distance, the fit, their place in checkpoints, predict and the CLI."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from analysis import Analyzer
from srn_core import CheckpointError, Predictor, load_checkpoint, read_metadata, save_checkpoint
from srn_core.cli import main
from srn_core.domain import DomainModel, fit_domain, pooled_features
from srn_core.sources import InMemoryImages

from .helpers import TINY_LABELS, report_args, tiny_model


def grey_images(count: int, seed: int) -> InMemoryImages:
    """Flat grey-ish images: a narrow domain that a bright noise image clearly leaves."""
    rng = np.random.default_rng(seed)
    items = [(np.full((40, 40, 3), int(v), np.uint8), np.zeros(len(TINY_LABELS))) for v in rng.integers(90, 160, count)]
    return InMemoryImages(TINY_LABELS, items)


def noise_image(seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (40, 40, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def fitted() -> tuple[torch.nn.Module, DomainModel]:
    model = tiny_model(seed=4)
    preprocess = Predictor(model, _meta(model)).preprocess
    return model, fit_domain(model, grey_images(60, 0), grey_images(30, 1), preprocess, "grey squares", quantile=0.95)


def _meta(model):
    from srn_core import CheckpointMeta

    return CheckpointMeta(model.config, list(TINY_LABELS))


def test_distance_is_the_mahalanobis_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    precision = a @ a.T + np.eye(4)
    domain = DomainModel(np.arange(4.0), precision, 2.0)
    x = rng.normal(size=(3, 4))
    expected = [np.sqrt((v - np.arange(4.0)) @ precision @ (v - np.arange(4.0))) for v in x]
    np.testing.assert_allclose(domain.distances(x), expected)
    checks = domain.check(x)
    assert [c.outside for c in checks] == [d > 2.0 for d in expected]


def test_threshold_is_the_held_out_quantile_and_unlike_images_are_flagged(fitted):
    model, domain = fitted
    preprocess = Predictor(model, _meta(model)).preprocess
    held = domain.distances(pooled_features(model, grey_images(30, 1), preprocess, list(range(30))))
    assert domain.threshold == pytest.approx(np.quantile(held, 0.95, method="higher"))
    assert domain.record["held_out_flagged"] <= 0.05 and domain.description == "grey squares"
    noise = InMemoryImages(TINY_LABELS, [(noise_image(s), np.zeros(5)) for s in range(3)])
    assert (domain.distances(pooled_features(model, noise, preprocess, [0, 1, 2])) > domain.threshold).all()


def test_checkpoint_round_trip_and_every_entry_point_reports_it(fitted, tmp_path, capsys):
    model, domain = fitted
    path = save_checkpoint(tmp_path / "m.safetensors", model, TINY_LABELS, domain=domain)
    _, meta = load_checkpoint(path)
    np.testing.assert_allclose(meta.domain.mean, domain.mean, rtol=1e-6)
    assert (
        meta.domain.threshold == domain.threshold and read_metadata(path).domain_record["description"] == "grey squares"
    )
    assert "grey squares" in meta.domain_summary() and "5 labels" in meta.domain_summary()
    predictor = Predictor.from_checkpoint(path, "cpu")
    grey, noise = predictor.predict([np.full((40, 40, 3), 120, np.uint8), noise_image()])
    assert not grey.domain.outside and noise.domain.outside
    [analysis] = Analyzer.from_checkpoint(path, "cpu").analyse([noise_image()], ["noise.png"])
    assert analysis.domain.outside and analysis.to_dict(include_maps=False)["domain"]["out_of_domain"]
    noise_image().save(tmp_path / "noise.png")
    assert (
        main(
            [
                "predict",
                "--weights",
                str(path),
                str(tmp_path / "noise.png"),
                "--device",
                "cpu",
                "--json",
                str(tmp_path / "out.json"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "grey squares" in printed and "looks unlike the training images" in printed
    written = json.loads((tmp_path / "out.json").read_text())
    assert written["images"][str(tmp_path / "noise.png")]["domain"]["out_of_domain"] is True


def test_checkpoints_without_statistics_say_so(tmp_path, capsys):
    path = save_checkpoint(tmp_path / "plain.safetensors", tiny_model(), TINY_LABELS)
    _, meta = load_checkpoint(path)
    assert meta.domain is None and "does not record" in meta.domain_summary()
    noise_image().save(tmp_path / "noise.png")
    assert main(["predict", "--weights", str(path), str(tmp_path / "noise.png"), "--device", "cpu"]) == 0
    assert "records no statistics" in capsys.readouterr().out


def _rewrite_metadata(path: Path, change) -> None:
    """Edit the SRN metadata of a safetensors file in place (header only, tensors untouched)."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    meta = json.loads(header["__metadata__"]["srn"])
    change(meta, header)
    header["__metadata__"]["srn"] = json.dumps(meta)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + length :])


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda m, h: m["domain"].update(threshold=float("nan")), "domain.threshold"),
        (lambda m, h: m.update(domain=[1, 2]), "field 'domain' must be a JSON object"),
        (lambda m, h: h.pop("domain.precision"), "missing tensors domain.precision"),
        (lambda m, h: m.pop("domain"), "unexpected tensors domain.mean"),
    ],
)
def test_bad_statistics_are_refused_with_the_field_named(fitted, tmp_path, change, match):
    model, domain = fitted
    path = save_checkpoint(tmp_path / "m.safetensors", model, TINY_LABELS, domain=domain)
    _rewrite_metadata(path, change)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)


def test_domain_command_adds_statistics_to_a_checkpoint(tmp_path, capsys):
    from .colour_squares import COLOURS, make_squares

    manifest = make_squares(tmp_path / "squares", 20, seed=5)
    path = save_checkpoint(tmp_path / "m.safetensors", tiny_model(len(COLOURS)), list(COLOURS))
    assert (
        main(
            [
                "domain",
                "--weights",
                str(path),
                "--data",
                str(manifest),
                "--description",
                "squares on grey",
                "--device",
                "cpu",
                "--out",
                str(tmp_path / "with.safetensors"),
            ]
        )
        == 0
    )
    assert "16 training images" in capsys.readouterr().out
    _, meta = load_checkpoint(tmp_path / "with.safetensors")
    assert meta.domain.description == "squares on grey" and meta.domain.record["held_out_images"] == 4
    assert main(["domain", "--weights", str(path), "--data", str(tmp_path / "missing.json"), "--description", "x"]) == 2


def test_report_lists_images_unlike_the_training_data(fitted, tmp_path):
    from analysis.cli import main as analysis_main

    model, domain = fitted
    path = save_checkpoint(tmp_path / "m.safetensors", model, TINY_LABELS, domain=domain)
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(np.full((40, 40, 3), 120, np.uint8)).save(images / "grey.png")
    noise_image().save(images / "noise.png")
    out = tmp_path / "report"
    assert (
        analysis_main(
            [
                *report_args(path, images, out),
                "--formats",
                "png",
                "--dpi",
                "30",
                "--top-k",
                "1",
                "--pairs",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert list(report["unlike_training"]) == [str(images / "noise.png")] and "grey squares" in report["domain"]
    index = (out / "index.html").read_text()
    assert (
        "Images unlike the training data (1)" in index and "noise.png" in index and "Trained on grey squares" in index
    )
