"""Caffe import: conversion time of a full-size SRN (ResNet-101, 80 labels, 224 px) and the converted
model's forward time next to our own SRN of the same size (and the Caffe graph run by the executor).

The authors' files cannot be downloaded here, so the Caffe files are written first by
srn_core.caffe.synth with random weights in the release's layout (same layer count and blob sizes).

    .venv/bin/python benchmarks/bench_caffe_import.py [--input-size 224] [--labels 80] [--batch 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srn_core.caffe.executor import CaffeExecutor  # noqa: E402
from srn_core.caffe.mapping import RGB_MEAN, RGB_STD, convert  # noqa: E402
from srn_core.caffe.reader import attach_weights, read_caffemodel, read_prototxt  # noqa: E402
from srn_core.caffe.synth import srn_caffe_net  # noqa: E402
from srn_core.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from srn_core.model import SRN  # noqa: E402


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Best wall time of `repeat` calls (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--labels", type=int, default=80)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, input {args.input_size}, "
        f"{args.labels} labels, batch {args.batch}"
    )
    with tempfile.TemporaryDirectory() as folder:
        t_write, (proto, model) = timed(
            lambda: srn_caffe_net(args.labels, (3, 4, 23, 3), (64, 128, 256, 512), args.input_size, 512, 512).write(
                folder, "srn"
            )
        )
        size_mb = model.stat().st_size / 1e6
        print(f"wrote synthetic release files ({size_mb:.0f} MB caffemodel) in {t_write:.1f} s")
        t_proto, net = timed(lambda: read_prototxt(proto))
        t_model, weights = timed(lambda: read_caffemodel(model))
        t_attach, _ = timed(lambda: attach_weights(net, weights, str(model)))
        t_exec, executor = timed(lambda: CaffeExecutor(net))
        t_map, conversion = timed(lambda: convert(executor))
        out = Path(folder) / "srn.safetensors"
        t_save, _ = timed(
            lambda: save_checkpoint(out, conversion.model, [f"l{i}" for i in range(args.labels)], {}, RGB_MEAN, RGB_STD)
        )
        total = t_proto + t_model + t_attach + t_exec + t_map + t_save
        print(
            f"conversion: {total:.2f} s = read prototxt {t_proto:.2f} + parse caffemodel {t_model:.2f} + "
            f"blobs {t_attach:.2f} + graph {t_exec:.2f} + find/copy/verify {t_map:.2f} + write {t_save:.2f}"
        )
        print(
            "  verification max |difference|: " + ", ".join(f"{k} {v:.2g}" for k, v in conversion.max_abs_diff.items())
        )
        converted, _ = load_checkpoint(out)
    ours = SRN(args.labels, "resnet101", input_size=args.input_size).eval()
    images = torch.randn(args.batch, 3, args.input_size, args.input_size)
    runs = {
        "converted SRN (caffe_resnet101)": lambda: converted(images),
        "our SRN (torchvision resnet101)": lambda: ours(images),
        "Caffe graph in the executor": lambda: executor.run(images),
    }
    best = dict.fromkeys(runs, float("inf"))
    with torch.inference_mode():
        for fn in runs.values():
            fn()
        for _ in range(args.repeat):
            for name, fn in runs.items():
                best[name] = min(best[name], timed(fn)[0])
    reference = best["our SRN (torchvision resnet101)"]
    print(f"forward, batch {args.batch} (best of {args.repeat}, the three interleaved):")
    for name, seconds in best.items():
        print(f"  {name:<34} {seconds * 1e3:8.1f} ms   {seconds / reference:.2f} x ours")


if __name__ == "__main__":
    main()
