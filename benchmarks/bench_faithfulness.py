"""Deletion + insertion for every present label of one image against the bare cost of the network.

ratio = time of `perturbation_curves` (A, U, Grad-CAM, centre and random maps of every present label,
all heads) / (perturbed images evaluated x per-image time of one batched forward pass at the same
batch size). Target (issue 11): <= 1.2, i.e. the perturbations are batched and only the network
costs time. Maps are computed beforehand (they are the explanation, not the check). Both timings are
interleaved in one process, median of --repeats.
Run: python benchmarks/bench_faithfulness.py [--weights weights/demo_scenes.safetensors] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from analysis import Analyzer
from analysis.faithfulness import METHODS, method_maps, perturbation_curves, srn_scores
from srn_core.datasets import read_manifest
from srn_core.sources import align_dataset

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=ROOT / "weights" / "demo_scenes.safetensors")
    parser.add_argument("--samples", type=Path, default=ROOT / "weights" / "samples" / "manifest.json")
    parser.add_argument("--steps", type=int, default=14)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    analyzer = Analyzer.from_checkpoint(args.weights, "cpu")
    samples = align_dataset(read_manifest(args.samples), analyzer.label_names).samples
    analyses, _ = analyzer.analyse_samples(samples)
    analysis = max(analyses, key=lambda a: len(a.present_labels()))
    labels = analysis.present_labels()
    maps = method_maps(analyzer, analysis, labels, METHODS)
    stacked = np.concatenate([maps[m] for m in METHODS])
    image = analyzer.preprocess(Image.fromarray(analysis.image))
    score = srn_scores(analyzer.model)
    batch = torch.randn(args.batch_size, *image.shape)

    def run():
        return perturbation_curves(score, image, stacked, labels * len(METHODS), args.steps, batch_size=args.batch_size)

    count = run().perturbed_images
    t_curves, t_forward = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        t_curves.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(3):
            score(batch)
        t_forward.append((time.perf_counter() - start) / 3 / args.batch_size)
    curves, forward = statistics.median(t_curves), statistics.median(t_forward)
    print(
        f"{analysis.source}: {len(labels)} present labels x {len(METHODS)} methods, {args.steps} steps, "
        f"batch {args.batch_size}, {args.threads} thread(s), median of {args.repeats}"
    )
    print(f"perturbed images evaluated: {count}")
    print(f"deletion + insertion: {curves:.2f} s; batched forward: {forward * 1e3:.2f} ms per image")
    print(f"ratio: {curves / (count * forward):.3f} (target <= 1.2)")


if __name__ == "__main__":
    main()
