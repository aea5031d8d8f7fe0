"""SRN forward (all maps returned) vs the bare torchvision backbone, interleaved in one process.

Target (issue 2): SRN / bare backbone <= 1.10 at batch 1 and 8, ResNet-101, 224 px, CPU.
Run: python benchmarks/bench_forward.py [--backbone resnet101] [--batches 1 8] [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torchvision import models

from srn_core import SRN


def _time(fn, x) -> float:
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="resnet101")
    parser.add_argument("--labels", type=int, default=80)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    srn = SRN(args.labels, backbone=args.backbone).eval()
    bare = getattr(models, args.backbone)(num_classes=args.labels).eval()
    print(f"{args.backbone}, 224 px, {args.labels} labels, {args.threads} threads, median of {args.repeats}")
    print(f"{'batch':>5} {'bare ms':>9} {'SRN ms':>9} {'ratio':>7}")
    with torch.inference_mode():
        for batch in args.batches:
            x = torch.randn(batch, 3, 224, 224)
            for _ in range(2):
                srn(x), bare(x)
            t_srn, t_bare = [], []
            for _ in range(args.repeats):
                t_bare.append(_time(bare, x))
                t_srn.append(_time(srn, x))
            b, s = statistics.median(t_bare), statistics.median(t_srn)
            print(f"{batch:>5} {b * 1e3:>9.1f} {s * 1e3:>9.1f} {s / b:>7.3f}")


if __name__ == "__main__":
    main()
