"""Faithfulness measures on constructed models and maps whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_grad_cam.metrics.road import ROADMostRelevantFirst
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from scipy.stats import spearmanr

from analysis import Analyzer
from analysis.faithfulness import (
    ALL_LABELS,
    FaithfulnessEvaluator,
    FaithfulnessOptions,
    bootstrap_table,
    cell_ranks,
    centre_map,
    perturbation_curves,
    random_map,
    relevance_mass,
    relevance_rank,
    road_scores,
    spearman,
    ssim,
)
from analysis.faithfulness.card import END, START, replace_section

from .helpers import TINY_LABELS, report_args, tiny_meta, tiny_model

GRID, SIZE = 4, 64
REGION = (1, 2)


class RegionModel(torch.nn.Module):
    """Label 0's score is the mean brightness of one grid cell (clamped to [0, 1]); label 1's is 0.5."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        step = SIZE // GRID
        r, c = REGION
        patch = images[:, :, r * step : (r + 1) * step, c * step : (c + 1) * step].mean(dim=(1, 2, 3))
        return torch.stack([patch.clamp(0, 1), torch.full_like(patch, 0.5)], dim=1)


def region_scores(images: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        value = RegionModel()(images)
    return {"main": value, "srn": value, "fused": value}


def region_image() -> torch.Tensor:
    image = torch.zeros(3, SIZE, SIZE)
    step = SIZE // GRID
    image[:, REGION[0] * step : (REGION[0] + 1) * step, REGION[1] * step : (REGION[1] + 1) * step] = 1.0
    return image


def pointing_map(row: int, col: int) -> np.ndarray:
    """A map whose values fall with the distance from (row, col)."""
    rr, cc = np.mgrid[:GRID, :GRID]
    return -np.hypot(rr - row, cc - col)


def test_deletion_of_the_region_first_drops_the_score_at_once_by_hand():
    curves = perturbation_curves(region_scores, region_image(), pointing_map(*REGION)[None], [0], steps=GRID * GRID)
    fill = 1 / 16  # the image's mean: one bright cell of sixteen
    deletion = curves.deletion["fused"][0]
    assert deletion[0] == pytest.approx(1.0)
    assert np.allclose(deletion[1:], fill)
    hand = (1.0 + fill) / 2 / 16 + 15 / 16 * fill  # trapezoid over 16 equal steps
    assert curves.auc("deletion")["fused"][0] == pytest.approx(hand)
    insertion = curves.insertion["fused"][0]
    assert insertion[0] == pytest.approx(fill) and np.allclose(insertion[1:], 1.0)


def test_a_map_pointing_elsewhere_scores_worse_than_the_baselines():
    far = pointing_map(GRID - 1 - REGION[0], GRID - 1 - REGION[1]) - 10 * (pointing_map(*REGION) == 0)
    maps = np.stack([pointing_map(*REGION), far, centre_map(GRID), random_map(GRID, 3)])
    curves = perturbation_curves(region_scores, region_image(), maps, [0] * 4, steps=8)
    deletion, insertion = curves.auc("deletion")["fused"], curves.auc("insertion")["fused"]
    good, elsewhere, centre, random = range(4)
    assert deletion[good] < deletion[centre] < deletion[elsewhere]
    assert deletion[good] < deletion[random] < deletion[elsewhere]
    assert insertion[good] > insertion[random] > insertion[elsewhere]
    assert insertion[good] > insertion[centre] > insertion[elsewhere]
    assert np.allclose(curves.deletion["fused"][:, 0], 1.0)


def test_identical_orders_share_their_perturbed_images():
    maps = np.stack([centre_map(GRID)] * 3 + [pointing_map(*REGION)])
    curves = perturbation_curves(region_scores, region_image(), maps, [0, 1, 0, 0], steps=4)
    assert curves.perturbed_images == 2 + 2 * 2 * 3  # two endpoints + (deletion, insertion) x 2 orders x 3 inner steps
    assert np.allclose(curves.deletion["main"][1], 0.5)  # label 1 never moves


def test_ties_are_broken_by_a_seeded_permutation_not_reading_order():
    flat = np.zeros((1, GRID, GRID))
    first = cell_ranks(flat, seed=1)
    assert sorted(first[0]) == list(range(GRID * GRID))
    assert not np.array_equal(first[0], np.arange(GRID * GRID))
    assert np.array_equal(first, cell_ranks(flat, seed=1))


def test_road_matches_pytorch_grad_cam_and_removes_the_region():
    image = region_image() + 0.05 * torch.rand(3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    good = pointing_map(*REGION)[None]
    ours = road_scores(region_scores, image, good, [0], levels=(0.5,), seed=7)
    torch.manual_seed(7)
    cam = np.repeat(np.repeat(good, SIZE // GRID, 1), SIZE // GRID, 2)
    cam = ((cam - cam.min()) / (cam.max() - cam.min())).astype(np.float32)
    diff = ROADMostRelevantFirst(percentile=50)(image[None], cam, [ClassifierOutputTarget(0)], RegionModel())
    before = RegionModel()(image[None])[0, 0].item()
    assert ours["morf"]["main"][0, 0] == pytest.approx(before + float(diff[0]), abs=1e-5)
    assert ours["morf"]["main"][0, 0] < 0.5 < ours["lerf"]["main"][0, 0]


def test_spearman_and_ssim_against_references():
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 7, 7)), rng.random((3, 7, 7))
    expected = [spearmanr(x.ravel(), y.ravel()).statistic for x, y in zip(a, b)]
    assert np.allclose(spearman(a, b), expected)
    assert np.allclose(spearman(a, a), 1.0) and np.allclose(ssim(a, a), 1.0)
    assert spearman(np.ones((1, 7, 7)), a[:1])[0] == 0.0
    assert ssim(a, 1 - a).mean() < 0.0 < ssim(a, a + 0.01 * b).mean()


def test_relevance_mass_and_rank_by_hand():
    maps = np.zeros((1, 4, 4))
    maps[0, 0, :2] = [3.0, 1.0]
    maps[0, 2:, 2:] = 1.0  # ties with the mask's second pixel
    mask = np.zeros((1, 4, 4), dtype=bool)
    mask[0, 0, :2] = True
    assert relevance_mass(maps, mask)[0] == pytest.approx(4 / 8)
    # top-2: the 3.0 (inside) and one of five tied 1.0 pixels, one of them inside: 1 + 1/5 of 2 pixels
    assert relevance_rank(maps, mask)[0] == pytest.approx((1 + 1 / 5) / 2)


def test_overall_is_the_mean_of_per_label_means_with_an_interval():
    records = [
        {"image": f"im{n}", "label": label, "method": "m", "measure": "pointing", "value": v}
        for n, label, v in [(0, "a", 1), (1, "a", 1), (2, "a", 1), (0, "b", 0)]
    ]
    rows = {r["label"]: r for r in bootstrap_table(records, resamples=200)}
    assert rows["a"]["mean"] == 1.0 and rows["b"]["mean"] == 0.0
    assert rows[ALL_LABELS]["mean"] == pytest.approx(0.5)  # pooled would be 0.75
    assert rows[ALL_LABELS]["low"] <= 0.5 <= rows[ALL_LABELS]["high"]


@pytest.fixture(scope="module")
def tiny_analyzer() -> Analyzer:
    model = tiny_model(input_size=112)
    return Analyzer(model, tiny_meta(model), "cpu")


def _images(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (112, 112, 3), dtype=np.uint8) for _ in range(n)]


def test_randomised_f_att_decorrelates_attention_and_the_loaded_model_is_untouched(tiny_analyzer):
    before = {k: v.clone() for k, v in tiny_analyzer.model.state_dict().items()}
    analyses = tiny_analyzer.analyse(_images(3))
    common = dict(methods=("attention", "gradcam"), labels=TINY_LABELS, steps=2, random_label=False)
    for stages, low in ((("f_att",), True), (("f_cls",), False)):
        evaluator = FaithfulnessEvaluator(tiny_analyzer, FaithfulnessOptions(stages=stages, **common))
        records = [r for n, a in enumerate(analyses) for r in evaluator.image(a, n).records]
        rho = {
            m: np.mean(
                [r["value"] for r in records if r["measure"] == f"randomised_spearman:{stages[0]}" and r["method"] == m]
            )
            for m in ("attention", "gradcam")
        }
        if low:  # f_att random: A decorrelates, Grad-CAM of the main net (no f_att in it) does not move
            assert rho["attention"] < 0.5 and rho["gradcam"] == pytest.approx(1.0)
        else:  # f_cls random: A is untouched
            assert rho["attention"] == pytest.approx(1.0) and rho["gradcam"] < 0.9
    after = tiny_analyzer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_card_section_is_inserted_then_replaced_between_markers():
    card = "# Card\n\nkept text\n"
    once = replace_section(card, f"{START}\nfirst\n{END}\n")
    assert once.startswith(card.rstrip("\n")) and "first" in once
    twice = replace_section(once + "\ntail\n", f"{START}\nsecond\n{END}\n")
    assert "first" not in twice and "second" in twice and twice.endswith("tail\n") and "kept text" in twice
    assert twice.count(START) == 1 and twice.count(END) == 1


def test_cli_writes_json_figures_and_only_the_card_section(tiny_checkpoint, tmp_path):
    from PIL import Image

    from analysis.cli import main

    folder = tmp_path / "images"
    folder.mkdir()
    for n, pixels in enumerate(_images(2)):
        Image.fromarray(pixels).save(folder / f"{n}.png")
    card = tmp_path / "README.md"
    card.write_text("# Card\n\nwritten by someone else\n", encoding="utf-8")
    args = [
        "faithfulness",
        "--weights",
        str(tiny_checkpoint),
        "--images",
        str(folder),
        "--labels",
        "cat",
        "dog",
        "--steps",
        "2",
        "--stages",
        "f_att",
        "--road-images",
        "1",
        "--road-levels",
        "0.5",
        "--resamples",
        "20",
        "--json",
        str(tmp_path / "f.json"),
        "--card",
        str(card),
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(args) == 0
    text = card.read_text(encoding="utf-8")
    assert text.startswith("# Card\n\nwritten by someone else\n") and START in text and END in text
    assert "--labels cat dog" in text and "| deletion AUC, fused |" in text
    assert (tmp_path / "out" / "curves_fused.png").stat().st_size > 0
    assert (tmp_path / "out" / "faithfulness.csv").read_text().startswith("label,method,measure,mean,low,high")
    assert main(args[:-2] + ["--labels", "unicorn"]) == 2


def test_report_flag_adds_the_faithfulness_section(tiny_checkpoint, tmp_path):
    import json

    from analysis.cli import main
    from srn_core.datasets import Box, MultiLabelDataset, Sample, write_manifest

    from .test_analysis_report import make_images

    paths = make_images(tmp_path / "data", 2)
    samples = [
        Sample(paths[0], np.array([1, 1, 0, 0, 0], np.int8), [Box("cat", 0, 0, 64, 40)]),
        Sample(paths[1], np.array([1, 0, 0, 0, 0], np.int8), [Box("cat", 30, 20, 64, 48)]),
    ]
    manifest = write_manifest(tmp_path / "data" / "manifest.json", MultiLabelDataset(TINY_LABELS, samples))
    out = tmp_path / "report"
    assert (
        main(
            [
                *report_args(tiny_checkpoint, manifest, out),
                "--formats",
                "png",
                "--top-k",
                "1",
                "--pairs",
                "1",
                "--faithfulness",
                "--no-progress",
            ]
        )
        == 0
    )
    table = json.loads((out / "faithfulness" / "faithfulness_table_data.json").read_text())
    pointing = [
        r for r in table["table"] if r["measure"] == "pointing" and r["label"] == "cat" and r["method"] == "attention"
    ]
    assert pointing and pointing[0]["images"] == 2 and table["images"] == 2
    assert (out / "faithfulness" / "curves_fused.png").stat().st_size > 0
    assert "Can these maps be trusted?" in (out / "index.html").read_text()
