"""Peak memory of the largest images the loader accepts, beyond the loaded model, and of refused ones.

Each case runs in a fresh process: load the model, note its resident memory, then load the image,
predict it (Predictor) and write a one-image report (analysis.report.build, PNG figures); the peak resident
memory minus the memory after loading the model is what the image cost. The target is under
1.5 GB for every accepted image; refused images (over a limit) must cost next to nothing, since
they are refused from the header before decoding.

    .venv/bin/python benchmarks/bench_image_memory.py [--weights PATH] [--quick] [--dashboard]

(--weights defaults to weights/demo_scenes.safetensors.)

With --dashboard the largest RGBA image is also uploaded into the dashboard (AppTest), whose caches
keep copies of an analysed image; that run's baseline is the app with its model and samples loaded.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from srn_core.images import MAX_ASPECT, MAX_PIXELS, MAX_SIDE  # noqa: E402

TARGET_BYTES = 1.5 * 2**30

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(2)

def rss():
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmRSS"))

from analysis.report.build import ReportOptions, run_report
from analysis.report.inputs import ReportInputs, ReportItem
from analysis.session import Analyzer
from srn_core.images import ImageLoadError
from srn_core.predictor import Predictor

weights, image, out = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
predictor = Predictor.from_checkpoint(weights, "cpu")
analyzer = Analyzer(predictor.model, predictor.meta, "cpu")
base = rss()
start = time.perf_counter()
try:
    predictor.predict([image])
    summary = run_report(analyzer, ReportInputs([ReportItem(image)], "folder"), out,
                         ReportOptions(formats=("png",)), progress=False, log=lambda line: None)
    outcome = "accepted" if summary.analysed == 1 else "refused: " + next(iter(summary.failures.values()))
except ImageLoadError as exc:
    outcome = "refused: " + exc.reason
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak, "seconds": time.perf_counter() - start, "outcome": outcome}))
"""


DASHBOARD_CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(2)
from streamlit.testing.v1 import AppTest

def status(key):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(key))

image = Path(sys.argv[3])
at = AppTest.from_file(str(Path(sys.argv[1]) / "dashboard" / "app.py"), default_timeout=1200)
at.run()
base = status("VmRSS")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
start = time.perf_counter()
at.file_uploader(key="uploads").set_value([(image.name, image.read_bytes(), "image/png")]).run()
errors = [e.value for e in at.error]
outcome = "accepted" if not errors and not at.exception else "refused: " + (errors or [str(at.exception)])[0]
print(json.dumps({"base": base, "peak": status("VmHWM"), "seconds": time.perf_counter() - start, "outcome": outcome}))
"""


def _gradient(width: int, height: int, channels: int, dtype=np.uint8) -> np.ndarray:
    top = 65535 if dtype == np.uint16 else 255
    x = (np.arange(width, dtype=np.uint32) * top // max(1, width - 1)).astype(dtype)
    y = (np.arange(height, dtype=np.uint32) * top // max(1, height - 1)).astype(dtype)
    plane = np.add.outer(y // 2, x // 2).astype(dtype)
    return plane if channels == 1 else np.repeat(plane[:, :, None], channels, axis=2)


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header declares width x height (one empty IDAT): enough to test refusal from the header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


def make_cases(folder: Path, quick: bool) -> dict[str, Path]:
    """Write the benchmark's images; the largest accepted of each kind and some refused ones."""
    side = int(MAX_PIXELS**0.5) if not quick else 2000
    long_side = MAX_SIDE if not quick else 4000
    short = int(long_side / MAX_ASPECT)
    cases: dict[str, Path] = {}

    def save(name: str, image: Image.Image, **kw) -> None:
        path = folder / name
        image.save(path, **kw)
        cases[name] = path

    save(f"rgba_{side}x{side}.png", Image.fromarray(_gradient(side, side, 4), "RGBA"), compress_level=1)
    save(f"gray16_{side}x{side}.png", Image.fromarray(_gradient(side, side, 1, np.uint16)), compress_level=1)
    save(f"rgb_{side}x{side}.jpg", Image.fromarray(_gradient(side, side, 3), "RGB"), quality=80)
    save(f"strip_{long_side}x{short}.png", Image.fromarray(_gradient(long_side, short, 3), "RGB"), compress_level=1)
    save(f"tall_{short}x{long_side}.png", Image.fromarray(_gradient(short, long_side, 3), "RGB"), compress_level=1)
    cases["refused_1x63000000.png"] = _png_header_only(folder / "refused_1x63000000.png", 63_000_000, 1)
    cases["refused_1x20000.png"] = _png_header_only(folder / "refused_1x20000.png", 1, 20_000)
    cases["refused_20000x20000.png"] = _png_header_only(folder / "refused_20000x20000.png", 20_000, 20_000)
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(REPO / "weights" / "demo_scenes.safetensors"))
    parser.add_argument("--quick", action="store_true", help="small images (a smoke run, not the measurement)")
    parser.add_argument(
        "--dashboard",
        action="store_true",
        help="also upload the largest RGBA image into the dashboard (Streamlit AppTest)",
    )
    args = parser.parse_args()
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        cases = make_cases(folder, args.quick)
        print(
            f"limits: {MAX_PIXELS:,} pixels, side {MAX_SIDE:,}, aspect {MAX_ASPECT:g}:1; "
            f"images written in {time.perf_counter() - started:.0f} s"
        )
        print(f"{'case':<34}{'file':>10}{'beyond model':>14}{'time':>8}  outcome")
        runs = [(name, CHILD, path) for name, path in cases.items()]
        if args.dashboard:
            runs.append((f"dashboard:{next(iter(cases))}", DASHBOARD_CHILD, next(iter(cases.values()))))
        for name, child, path in runs:
            done = subprocess.run(
                [sys.executable, "-c", child, str(REPO), args.weights, str(path), str(folder / f"report_{name}")],
                capture_output=True,
                text=True,
                timeout=1200,
            )
            if done.returncode != 0:
                print(f"{name:<34} FAILED: {done.stderr.strip().splitlines()[-1:]}")
                return 1
            result = json.loads(done.stdout.strip().splitlines()[-1])
            extra = result["peak"] - result["base"]
            if result["outcome"] == "accepted":
                worst = max(worst, extra)
            print(
                f"{name:<34}{path.stat().st_size / 2**20:>8.1f}MB{extra / 2**30:>12.2f}GB"
                f"{result['seconds']:>7.1f}s  {result['outcome'][:70]}"
            )
    print(
        f"largest peak beyond the model for an accepted image: {worst / 2**30:.2f} GB "
        f"({worst / TARGET_BYTES:.2f} x the 1.5 GB target)"
    )
    return 0 if worst < TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
