"""Deletion and insertion curves (Petsiuk et al. 2018) and ROAD (Rong et al. 2022), batched.

Deletion replaces the image's grid cells with a fill, most relevant cell first, and follows each
label's probability; insertion starts from the fill and reveals the cells in the same order. The
fill is the image's per-channel mean ('mean', the default) or the image blurred with a Gaussian of
`sigma` input pixels ('blur'; Petsiuk et al.'s insertion canvas, sigma 5). Every head's probability
(main net, SRN branch, fused) of every label comes out of each forward pass, so a perturbed image
is evaluated once however many labels and heads read it, and identical orders (the baselines, or
two labels whose maps rank the cells alike) share their passes.

ROAD removes a fraction of the pixels (most or least relevant first) and fills them by
pytorch-grad-cam's noisy linear imputation, which avoids the fill's own shape leaking the mask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

from srn_core import SRN
from srn_core.heads import head_logits

HEADS = ("main", "srn", "fused")
FILLS = ("mean", "blur")
ROAD_LEVELS = (0.2, 0.5, 0.8)
ScoreFn = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def srn_scores(model: SRN) -> ScoreFn:
    """images (B, 3, S, S) -> {head: (B, C) probabilities} for the main net, SRN branch and fused output."""

    def score(images: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.inference_mode():
            out = model(images)
        return {head: torch.sigmoid(logits) for head, logits in head_logits(out, HEADS).items()}

    return score


def fill_image(image: torch.Tensor, fill: str = "mean", sigma: float = 5.0) -> torch.Tensor:
    """What a removed cell shows: the per-channel mean of `image` (3, S, S), or `image` blurred."""
    if fill == "mean":
        return image.mean(dim=(1, 2), keepdim=True).expand_as(image).contiguous()
    if fill == "blur":
        size = 2 * int(round(2 * sigma)) + 1
        return TF.gaussian_blur(image, [size, size], [sigma, sigma])
    raise ValueError(f"unknown fill {fill!r}; choose one of {FILLS}")


def cell_ranks(maps: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, g, g) maps -> (N, g*g) int ranks, 0 for the most relevant cell. Ties are broken by one
    random permutation of the cells (seeded), never by reading order."""
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    tiebreak = np.random.default_rng(seed).permutation(flat.shape[1])
    ranks = np.empty(flat.shape, dtype=np.int64)
    for n, row in enumerate(flat):
        order = np.lexsort((tiebreak, -row))
        ranks[n, order] = np.arange(flat.shape[1])
    return ranks


@dataclass
class Curves:
    """Deletion and insertion curves: {head: (N, T + 1)} probabilities of each curve's label at
    `fractions` of the cells removed (deletion) or revealed (insertion)."""

    fractions: np.ndarray
    deletion: dict[str, np.ndarray]
    insertion: dict[str, np.ndarray]
    perturbed_images: int

    def auc(self, kind: str) -> dict[str, np.ndarray]:
        """{head: (N,)} area under each curve over fractions in [0, 1] (trapezoid rule)."""
        curves = self.deletion if kind == "deletion" else self.insertion
        return {head: np.trapezoid(values, self.fractions, axis=1) for head, values in curves.items()}


def _forward_jobs(
    score_fn: ScoreFn,
    image: torch.Tensor,
    fill: torch.Tensor,
    ranks: torch.Tensor,
    jobs: np.ndarray,
    grid: int,
    batch_size: int,
) -> dict[str, np.ndarray]:
    """Each job (order, threshold, deletion?) shows the original where rank >= threshold (deletion) or
    rank < threshold (insertion) and the fill elsewhere; returns {head: (jobs, C)} probabilities."""
    step = image.shape[-1] // grid
    delta = (image - fill).unsqueeze(0)
    out: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(jobs), batch_size):
        part = torch.as_tensor(jobs[start : start + batch_size], device=image.device)
        rank = ranks[part[:, 0]]
        threshold = part[:, 1:2]
        show = torch.where(part[:, 2:3].bool(), rank >= threshold, rank < threshold)
        mask = F.interpolate(show.to(image.dtype).view(-1, 1, grid, grid), scale_factor=step, mode="nearest")
        for head, value in score_fn(torch.addcmul(fill.unsqueeze(0), mask, delta)).items():
            out.setdefault(head, []).append(value.float().cpu().numpy())
    return {head: np.concatenate(parts) for head, parts in out.items()}


def perturbation_curves(
    score_fn: ScoreFn,
    image: torch.Tensor,
    maps: np.ndarray,
    labels: Sequence[int],
    steps: int = 14,
    fill: str = "mean",
    sigma: float = 5.0,
    batch_size: int = 64,
    seed: int = 0,
) -> Curves:
    """Deletion and insertion curves of N maps (N, g, g) of one preprocessed image (3, S, S); curve n
    follows label `labels[n]`. `steps` + 1 points from 0 to all g*g cells, evenly spaced in cells."""
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2] or len(maps) != len(labels):
        raise ValueError(f"maps must be (N, g, g) with one label each, got {maps.shape} for {len(labels)} labels")
    grid = maps.shape[-1]
    if image.shape[-1] % grid or not 1 <= steps <= grid * grid:
        raise ValueError(
            f"image side {image.shape[-1]} must be a multiple of the grid {grid}, steps in 1..{grid * grid}"
        )
    unique, inverse = np.unique(cell_ranks(maps, seed), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.round(np.linspace(0, grid * grid, steps + 1)).astype(np.int64)
    inner = [(u, counts[t], kind) for kind in (1, 0) for u in range(len(unique)) for t in range(1, steps)]
    jobs = np.array([(0, 0, 1), (0, 0, 0), *inner], dtype=np.int64).reshape(-1, 3)
    fill_tensor = fill_image(image, fill, sigma)
    ranks = torch.as_tensor(unique, device=image.device)
    scores = _forward_jobs(score_fn, image, fill_tensor, ranks, jobs, grid, batch_size)
    label_index = np.asarray(labels, dtype=np.int64)
    deletion, insertion = {}, {}
    u_count, inner_steps = len(unique), steps - 1
    for head, values in scores.items():
        original, filled = values[0], values[1]
        middle = values[2:].reshape(2, u_count, inner_steps, -1)
        per_order = {
            kind: np.concatenate(
                [
                    np.broadcast_to(first, (u_count, 1, values.shape[1])),
                    middle[k],
                    np.broadcast_to(last, (u_count, 1, values.shape[1])),
                ],
                axis=1,
            )
            for k, (kind, first, last) in enumerate((("deletion", original, filled), ("insertion", filled, original)))
        }
        deletion[head] = per_order["deletion"][inverse, :, label_index]
        insertion[head] = per_order["insertion"][inverse, :, label_index]
    return Curves(counts / (grid * grid), deletion, insertion, len(jobs))


def road_scores(
    score_fn: ScoreFn,
    image: torch.Tensor,
    maps: np.ndarray,
    labels: Sequence[int],
    levels: Sequence[float] = ROAD_LEVELS,
    seed: int = 0,
    batch_size: int = 64,
) -> dict[str, dict[str, np.ndarray]]:
    """ROAD with pytorch-grad-cam's imputer: {'morf'|'lerf': {head: (N, len(levels))}}, each label's
    probability after removing a fraction `levels` of the pixels, most ('morf') or least ('lerf')
    relevant first. `maps` (N, g, g) or (N, S, S) are taken to the input size (nearest)."""
    maps = np.asarray(maps, dtype=np.float64)
    size = image.shape[-1]
    if maps.shape[-1] != size:
        step = size // maps.shape[-1]
        maps = np.repeat(np.repeat(maps, step, axis=1), step, axis=2)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = np.maximum(maps.max(axis=(1, 2), keepdims=True) - low, 1e-12)
    unique, inverse = np.unique(((maps - low) / span).astype(np.float32), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    # imported when used: pytorch_grad_cam costs the dashboard about a second of start-up
    from pytorch_grad_cam.metrics.road import NoisyLinearImputer, RemoveLeastRelevantFirst, RemoveMostRelevantFirst

    cpu = image.detach().cpu()
    imputed = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for remover in (RemoveMostRelevantFirst, RemoveLeastRelevantFirst):
            for level in levels:
                perturb = remover(100.0 * (1.0 - level), NoisyLinearImputer())
                imputed += [perturb(cpu, torch.from_numpy(m)) for m in unique]
    batch = torch.stack(imputed).to(image.device, image.dtype)
    scores: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(batch), batch_size):
        for head, value in score_fn(batch[start : start + batch_size]).items():
            scores.setdefault(head, []).append(value.float().cpu().numpy())
    label_index = np.asarray(labels, dtype=np.int64)
    out: dict[str, dict[str, np.ndarray]] = {"morf": {}, "lerf": {}}
    for head, parts in scores.items():
        values = np.concatenate(parts).reshape(2, len(levels), len(unique), -1)
        for k, kind in enumerate(("morf", "lerf")):
            out[kind][head] = values[k][:, inverse, label_index].T
    return out
