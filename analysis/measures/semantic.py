"""Semantic label relations: co-occurrence, conditional probabilities, similarity inside f_sr, influence.

Influence (gradient x input, signed): for one image,
    G[i, j, p] = U[i, p] * d y_sr[j] / d U[i, p]
is how much label i's weighted attention at position p moves label j's SRN logit, to first order
(for a linear f_sr it is exactly y_sr[j] minus y_sr[j] with U[i, p] set to 0). The influence matrix
I[i, j] = sum_p G[i, j, p], averaged over images: positive means label i's attention raises label j's
SRN logit. Gradients of all C outputs come from one vectorised reverse pass (torch.func.vmap over the
rows of the identity), never one pass per pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from srn_core import SRN

from ..session import ImageAnalysis, sigmoid
from ..tables import LabelMatrix
from .filters import ProbeResult


def _check_targets(targets: np.ndarray, label_names: Sequence[str]) -> np.ndarray:
    targets = np.asarray(targets)
    if targets.ndim != 2 or targets.shape[1] != len(label_names):
        raise ValueError(f"targets must be (N, {len(label_names)}), got shape {targets.shape}")
    return targets


def cooccurrence(targets: np.ndarray, label_names: Sequence[str]) -> LabelMatrix:
    """Counts of images where labels i and j are both positive (1); the diagonal counts each label."""
    positive = (_check_targets(targets, label_names) == 1).astype(np.int64)
    return LabelMatrix(
        positive.T @ positive,
        list(label_names),
        list(label_names),
        "co-occurrence",
        "number of images where labels i and j are both present",
    )


def conditional_probability(targets: np.ndarray, label_names: Sequence[str]) -> LabelMatrix:
    """P(j | i) (row i, column j): among images with label i present and label j known, the share with j.

    Unknown entries (-1) are left out; NaN where label i is never present with j known.
    """
    targets = _check_targets(targets, label_names)
    positive = (targets == 1).astype(np.int64)
    known = (targets >= 0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (positive.T @ positive) / (positive.T @ known)
    return LabelMatrix(
        np.where(np.isfinite(values), values, np.nan),
        list(label_names),
        list(label_names),
        "P(j | i)",
        "probability that label j (column) is present given label i (row) is",
    )


def label_matrix_of(analyses: Sequence[ImageAnalysis], source: str = "truth", threshold: float = 0.5) -> np.ndarray:
    """(N, C) int8 labels of analysed images: ground truth ('truth') or fused scores > threshold ('prediction')."""
    if source == "prediction":
        return np.stack([(sigmoid(a.logits) > threshold).astype(np.int8) for a in analyses])
    if source == "truth":
        missing = [a.source for a in analyses if a.targets is None]
        if missing:
            raise ValueError(f"no ground truth for {len(missing)} images, e.g. {missing[0]}; use source='prediction'")
        return np.stack([a.targets for a in analyses]).astype(np.int8)
    raise ValueError(f"source must be 'truth' or 'prediction', got {source!r}")


def _cosine(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit @ unit.T


def fsr_similarity(model: SRN, label_names: Sequence[str], probes: ProbeResult | None = None) -> LabelMatrix:
    """Cosine similarity of labels inside f_sr.

    Without `probes`: of the labels' conv2 weight columns (how each label is written into the K
    channels). With `probes` (from `probe_sr`): of their measured conv3 channel drives (ReLUs included).
    """
    if probes is None:
        vectors = model.f_sr.conv2.weight.detach().float().flatten(1).T.cpu().numpy()
        how = "conv2 weight columns"
    else:
        vectors = probes.channel_drive
        how = "measured conv3 channel drives"
    return LabelMatrix(
        _cosine(vectors.astype(np.float64)),
        list(label_names),
        list(label_names),
        "f_sr similarity",
        f"cosine similarity of the labels' {how}",
    )


def gradient_x_input(model: SRN, weighted_attention: np.ndarray | torch.Tensor) -> torch.Tensor:
    """G (B, C_source, C_target, g, g) = U[i, p] * dy_sr[j]/dU[i, p] for U (B, C, g, g), on f_sr alone."""
    param = next(model.f_sr.parameters())
    u = torch.as_tensor(weighted_attention).to(param.device, param.dtype)
    batch, labels = u.shape[:2]
    with torch.no_grad():
        _, pull_back = torch.func.vjp(model.f_sr, u)
        seeds = torch.eye(labels, device=u.device, dtype=u.dtype).unsqueeze(1).expand(labels, batch, labels)
        (grads,) = torch.func.vmap(pull_back)(seeds)
    return (grads * u.unsqueeze(0)).permute(1, 2, 0, 3, 4)


def influence_maps(model: SRN, analysis: ImageAnalysis) -> np.ndarray:
    """One image's signed influence maps, float32 (C_source, C_target, g, g); sum over g x g gives I[i, j]."""
    return gradient_x_input(model, analysis.weighted_attention[None])[0].float().cpu().numpy()


def influence_matrix(
    model: SRN,
    analyses: Iterable[ImageAnalysis],
    batch_size: int = 8,
    present_only: bool = False,
    threshold: float = 0.5,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> LabelMatrix:
    """I[i, j]: mean over images of sum_p U_i * dy_sr[j]/dU_i (signed; row i moves column j).

    With `present_only`, row i averages only the images where label i is present (ground truth
    when known, else fused score > `threshold`); rows never present are NaN.
    """
    total: np.ndarray | None = None
    count: np.ndarray | None = None
    names: list[str] = []
    batch: list[ImageAnalysis] = []

    def flush() -> None:
        nonlocal total, count
        sums = gradient_x_input(model, np.stack([a.weighted_attention for a in batch])).sum(dim=(3, 4))
        sums = sums.double().cpu().numpy()
        weight = np.ones((len(batch), sums.shape[1]))
        if present_only:
            weight = np.zeros_like(weight)
            for row, a in enumerate(batch):
                weight[row, a.present_labels(threshold)] = 1.0
        total = (0 if total is None else total) + (sums * weight[:, :, None]).sum(axis=0)
        count = (0 if count is None else count) + weight.sum(axis=0)
        batch.clear()

    for analysis in progress(analyses) if progress else analyses:
        names = analysis.label_names
        batch.append(analysis)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    if total is None:
        raise ValueError("influence_matrix needs at least one analysed image")
    with np.errstate(invalid="ignore", divide="ignore"):
        values = total / count[:, None]
    return LabelMatrix(
        values,
        names,
        names,
        "influence",
        "mean over images of sum_p U_i dy_sr[j]/dU_i: how label i's (row) weighted "
        "attention moves label j's (column) SRN logit; positive raises it",
    )
