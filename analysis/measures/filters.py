"""conv4's single-channel spatial filters and the labels behind them: label i -> channel -> filter -> label j.

f_sr is conv2 (1x1, C -> K channels) and conv3 (1x1, K -> K), both followed by ReLU, then conv4
(F = 4 filters of size g x g per channel, each reading that channel only), ReLU, and fc (K*F -> C).
Filter f belongs to channel f // F. Which labels feed a channel is read two ways:

- from the weights: W3 @ W2 (K x C), the linear path that ignores the ReLUs and biases;
- measured: feed f_sr a probe that holds one label's attention (mass `mass`, spread uniformly or
  placed on one cell) and nothing else, and take the change of each stage against the all-zero input.
  This includes the ReLUs. The change of y_sr splits exactly over conv4 filters (fc is linear):
  dy_j = sum_f W_fc[j, f] * da4_f, which gives the path table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from srn_core import SRN

from ..session import LabelRef, resolve_labels
from ..tables import LabelMatrix


def sr_stages(model: SRN, weighted_attention: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every stage of f_sr for U (B, C, g, g), from its methods: h3 (conv3's channel maps, after ReLU),
    z4 (conv4, before ReLU), a4 (after) and y (y_sr)."""
    sr = model.f_sr
    h3 = sr.channel_maps(weighted_attention)
    z4 = sr.filter_preactivations(h3)
    return {"h3": h3, "z4": z4, "a4": torch.relu(z4), "y": sr.readout(z4)}


def _shape(model: SRN) -> tuple[int, int, int]:
    """(channels K, filters per channel F, grid g) of f_sr."""
    conv4 = model.f_sr.conv4
    return conv4.in_channels, model.f_sr.filters_per_channel, conv4.kernel_size[-1]


def channel_names(count: int) -> list[str]:
    return [f"ch{k}" for k in range(count)]


def filter_names(channels: int, per_channel: int) -> list[str]:
    return [f"ch{k}/f{f}" for k in range(channels) for f in range(per_channel)]


@dataclass
class Conv4Filters:
    """conv4 as (K channels, F filters, g, g) with per-filter statistics, all (K, F).

    `norm` is the L2 norm, `total` the sum of weights, `sign` the sign of that sum (+1 the filter
    mostly excites, -1 mostly inhibits) and `positive_fraction` the share of |w| that is positive.
    """

    weights: np.ndarray
    bias: np.ndarray
    norm: np.ndarray
    total: np.ndarray
    sign: np.ndarray
    positive_fraction: np.ndarray

    def rows(self) -> list[dict[str, Any]]:
        """One row per filter (for CSV export; the weights themselves go to JSON)."""
        k, f = self.norm.shape
        return [
            {
                "channel": c,
                "filter": j,
                "norm": float(self.norm[c, j]),
                "sum": float(self.total[c, j]),
                "sign": int(self.sign[c, j]),
                "positive_fraction": float(self.positive_fraction[c, j]),
                "bias": float(self.bias[c, j]),
            }
            for c in range(k)
            for j in range(f)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "bias": self.bias,
            "norm": self.norm,
            "sum": self.total,
            "sign": self.sign,
            "positive_fraction": self.positive_fraction,
        }


def conv4_filters(model: SRN) -> Conv4Filters:
    """The conv4 weight viewed as K channels x F filters x g x g, with norm and sign of each filter."""
    channels, per_channel, grid = _shape(model)
    w = model.f_sr.conv4.weight.detach().float().cpu().numpy().reshape(channels, per_channel, grid, grid)
    bias = model.f_sr.conv4.bias.detach().float().cpu().numpy().reshape(channels, per_channel)
    total = w.sum(axis=(2, 3))
    magnitude = np.abs(w).sum(axis=(2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        positive = np.where(magnitude > 0, np.clip(w, 0, None).sum(axis=(2, 3)) / magnitude, np.nan)
    return Conv4Filters(w, bias, np.sqrt((w**2).sum(axis=(2, 3))), total, np.sign(total).astype(np.int8), positive)


def weight_drive(model: SRN, label_names: Sequence[str]) -> LabelMatrix:
    """Labels x channels: W3 @ W2 transposed, the linear (ReLU-free, bias-free) effect of label i on channel k."""
    w2 = model.f_sr.conv2.weight.detach().float().flatten(1)
    w3 = model.f_sr.conv3.weight.detach().float().flatten(1)
    values = (w3 @ w2).T.cpu().numpy()
    return LabelMatrix(
        values,
        list(label_names),
        channel_names(values.shape[1]),
        "channel drive (weights)",
        "(W3 W2)[k, i]: linear effect of label i's attention on conv3 channel k, ReLUs ignored",
    )


def probe_attention(
    num_labels: int, grid: int, probe: str | tuple[int, int] = "uniform", mass: float = 1.0
) -> torch.Tensor:
    """(C + 1, C, g, g): an all-zero map, then for each label i a map holding only label i's probe.

    `probe`: 'uniform' (mass spread evenly), 'centre' (mass on the centre cell) or a (row, col) cell.
    """
    pattern = torch.zeros(grid, grid)
    if probe == "uniform":
        pattern += mass / grid**2
    else:
        row, col = (grid // 2, grid // 2) if probe == "centre" else probe
        if not (0 <= row < grid and 0 <= col < grid):
            raise ValueError(f"probe cell {probe} is outside the {grid}x{grid} grid")
        pattern[row, col] = mass
    out = torch.zeros(num_labels + 1, num_labels, grid, grid)
    out[1:] = torch.eye(num_labels)[:, :, None, None] * pattern
    return out


@dataclass
class ProbeResult:
    """f_sr's response to one-label probes, each minus the response to the all-zero input.

    `channel_drive` (C, K): mean change of conv3 channel k (after ReLU) over positions when label i is
    probed; `filter_drive` (C, K, F): change of each conv4 filter's output (after ReLU);
    `logit_change` (C, C): change of y_sr[j] (column) when label i (row) is probed.
    """

    label_names: list[str]
    probe: str | tuple[int, int]
    mass: float
    channel_drive: np.ndarray
    filter_drive: np.ndarray
    logit_change: np.ndarray

    def channel_matrix(self) -> LabelMatrix:
        return LabelMatrix(
            self.channel_drive,
            self.label_names,
            channel_names(self.channel_drive.shape[1]),
            "channel drive (measured)",
            "mean change of conv3 channel k (after ReLU) "
            f"when only label i holds attention ({self.probe}, mass {self.mass:g})",
        )

    def logit_matrix(self) -> LabelMatrix:
        return LabelMatrix(
            self.logit_change,
            self.label_names,
            self.label_names,
            "probe effect on y_sr",
            "change of label j's SRN logit (column) when only label i (row) holds attention",
        )

    def label_channels(self, label: LabelRef, k: int = 5) -> list[tuple[int, float]]:
        """The `k` channels label `label` drives most (largest measured change), as (channel, drive)."""
        i = resolve_labels(self.label_names, [label])[0]
        order = np.argsort(-self.channel_drive[i], kind="stable")[:k]
        return [(int(c), float(self.channel_drive[i, c])) for c in order]

    def label_filters(self, label: LabelRef, k: int = 5) -> list[tuple[int, int, float]]:
        """The `k` conv4 filters label `label` drives most, as (channel, filter, change of output)."""
        i = resolve_labels(self.label_names, [label])[0]
        per_channel = self.filter_drive.shape[2]
        flat = self.filter_drive[i].reshape(-1)
        order = np.argsort(-flat, kind="stable")[:k]
        return [(int(f // per_channel), int(f % per_channel), float(flat[f])) for f in order]

    def channel_labels(self, channel: int, k: int = 5) -> list[tuple[str, float]]:
        """The `k` labels that drive `channel` most, as (label, drive)."""
        return self.channel_matrix().top_in_column(channel, k)

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": self.label_names,
            "probe": self.probe,
            "mass": self.mass,
            "channel_drive": self.channel_drive,
            "filter_drive": self.filter_drive,
            "logit_change": self.logit_change,
        }


def probe_sr(
    model: SRN, label_names: Sequence[str], probe: str | tuple[int, int] = "uniform", mass: float = 1.0
) -> ProbeResult:
    """Feed f_sr one label at a time (one batch of C + 1 probes) and measure every stage's change."""
    channels, per_channel, grid = _shape(model)
    param = next(model.f_sr.parameters())
    with torch.inference_mode():
        stages = sr_stages(model, probe_attention(len(label_names), grid, probe, mass).to(param.device, param.dtype))
    h3 = stages["h3"].float().mean(dim=(2, 3)).cpu().numpy()
    a4 = stages["a4"].float().cpu().numpy()
    y = stages["y"].float().cpu().numpy()
    return ProbeResult(
        list(label_names),
        probe,
        float(mass),
        h3[1:] - h3[0],
        (a4[1:] - a4[0]).reshape(-1, channels, per_channel),
        y[1:] - y[0],
    )


def filter_readout(model: SRN, label_names: Sequence[str]) -> LabelMatrix:
    """Filters x labels: the fc weight W_fc[j, f], how label j's SRN logit reads conv4 filter f."""
    channels, per_channel, _ = _shape(model)
    values = model.f_sr.fc.weight.detach().float().cpu().numpy().T
    return LabelMatrix(
        values,
        filter_names(channels, per_channel),
        list(label_names),
        "filter readout",
        "fc weight W_fc[j, f]: how much label j's SRN logit reads conv4 filter f",
    )


def path_table(
    model: SRN, probes: ProbeResult, sources: Iterable[LabelRef] | None = None, top: int = 20
) -> list[dict[str, Any]]:
    """The strongest paths label i -> channel -> filter -> label j, `top` per source label i.

    contribution = da4_f(probe i) * W_fc[j, f], the exact share of filter f in the probe's change of
    y_sr[j]; rows are sorted by |contribution| within each source.
    """
    channels, per_channel, _ = _shape(model)
    readout = model.f_sr.fc.weight.detach().float().cpu().numpy()
    names = probes.label_names
    rows: list[dict[str, Any]] = []
    for i in resolve_labels(names, sources):
        response = probes.filter_drive[i].reshape(-1)
        contribution = response[:, None] * readout.T
        flat = np.abs(contribution).reshape(-1)
        count = min(top, flat.size)
        best = np.argpartition(-flat, count - 1)[:count]
        for cell in best[np.argsort(-flat[best], kind="stable")]:
            f, j = divmod(int(cell), len(names))
            k = f // per_channel
            rows.append(
                {
                    "source": names[i],
                    "channel": k,
                    "filter": f % per_channel,
                    "target": names[j],
                    "channel_drive": float(probes.channel_drive[i, k]),
                    "filter_response": float(response[f]),
                    "readout": float(readout[j, f]),
                    "contribution": float(contribution[f, j]),
                }
            )
    return rows
