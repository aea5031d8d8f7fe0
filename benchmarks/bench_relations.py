"""Cost of the relation measures for one image, as multiples of one full SRN forward pass (batch 1).

- influence: the whole C x C influence of one image (gradient x input of every label's U on every
  SRN logit, all positions), `analysis.measures.semantic.gradient_x_input`;
- relation field: every label moved as a point over all g x g cells with every label's SRN logit read,
  `analysis.measures.spatial.placement_logits` (which holds the relation field of every pair), and, for scale,
  the naive way: f_sr run on the C * g * g edited inputs (timed on a few labels, scaled to C).

Run: python benchmarks/bench_relations.py [--backbones compact resnet101] [--labels 80] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from analysis.measures.semantic import gradient_x_input
from analysis.measures.spatial import placement_logits
from srn_core import SRN


def median_time(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def naive_fields(model: SRN, u: torch.Tensor, labels: list[int], chunk: int = 256) -> None:
    """f_sr on every edited input: label k's map replaced by a point on each cell, in batches."""
    grid = u.shape[-1]
    cells = torch.arange(grid * grid, device=u.device)
    with torch.inference_mode():
        for k in labels:
            batch = u.expand(grid * grid, -1, -1, -1).clone()
            batch[:, k] = 0.0
            batch[cells, k, cells // grid, cells % grid] = 0.5
            for start in range(0, len(batch), chunk):
                model.f_sr(batch[start : start + chunk])


def bench(backbone: str, labels: int, repeats: int, device: torch.device, naive_labels: int) -> dict[str, float]:
    torch.manual_seed(0)
    model = SRN(labels, backbone=backbone).eval().to(device)
    x = torch.randn(1, 3, 224, 224, device=device)
    with torch.inference_mode():
        u = model(x).weighted_attention
    u_np = u[0].float().cpu().numpy()
    every = list(range(labels))

    def forward() -> None:
        with torch.inference_mode():
            model(x)

    t_forward = median_time(forward, repeats, device)
    t_influence = median_time(lambda: gradient_x_input(model, u), repeats, device)
    t_field = median_time(lambda: placement_logits(model, u_np, every, [0.5] * labels), repeats, device)
    few = every[:naive_labels]
    t_naive = median_time(lambda: naive_fields(model, u, few), max(1, repeats // 2), device) * labels / len(few)
    return {
        "forward_ms": t_forward * 1e3,
        "influence_ms": t_influence * 1e3,
        "field_ms": t_field * 1e3,
        "naive_field_ms": t_naive * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", nargs="+", default=["compact", "resnet101"])
    parser.add_argument("--labels", type=int, default=80)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-labels", type=int, default=4, help="labels timed for the naive field (scaled to C)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"224 px, batch 1, {args.labels} labels, {args.device}, {args.threads} threads, median of {args.repeats}")
    print(
        f"{'backbone':<10} {'forward ms':>10} {'influence ms':>12} {'x fwd':>7} {'field ms':>9} {'x fwd':>7}"
        f" {'naive field ms':>14} {'x fwd':>7}"
    )
    for backbone in args.backbones:
        r = bench(backbone, args.labels, args.repeats, device, args.naive_labels)
        f = r["forward_ms"]
        print(
            f"{backbone:<10} {f:>10.1f} {r['influence_ms']:>12.1f} {r['influence_ms'] / f:>7.2f} "
            f"{r['field_ms']:>9.1f} {r['field_ms'] / f:>7.2f} {r['naive_field_ms']:>14.0f} "
            f"{r['naive_field_ms'] / f:>7.1f}"
        )


if __name__ == "__main__":
    main()
