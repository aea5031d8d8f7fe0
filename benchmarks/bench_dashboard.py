"""Time the dashboard as a user meets it, next to one forward pass of the model.

1. `streamlit run dashboard/app.py` started -> first analysed page (the attention grid visible in
   chromium); includes Python start, imports, loading the model and analysing the sample.
2. an image uploaded -> its attention grid visible (the run that analyses it has finished); the
   median over --uploads different images.
3. one forward pass: `Analyzer.analyse_one` on the same image (decode, preprocess, forward, to numpy)
   and the bare `model(batch)`, each the median of --repeats after a warm-up.

    python benchmarks/bench_dashboard.py [--repeats 20] [--threads N]

On a machine whose cores are busy, torch's default thread count can make one pass many times slower
(threads wait on each other); --threads 1 gives steadier numbers there.

Uses the checkpoint the dashboard opens (SRN_WEIGHTS_DIR / SRN_DEFAULT_MODEL as in the app).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from PIL import Image
from playwright.sync_api import sync_playwright

from analysis import Analyzer
from dashboard import settings
from dashboard.server import serving

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LIMIT_MS = 300_000


def _idle(page) -> None:
    page.wait_for_timeout(200)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=LIMIT_MS)


def dashboard_times(uploads: list[Path], env: dict[str, str]) -> tuple[float, list[float]]:
    """(start -> first analysed page, [upload -> its attention grid for each upload]), in seconds."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_default_timeout(LIMIT_MS)
        start = time.perf_counter()
        with serving(env=env, timeout=LIMIT_MS / 1000) as url:
            page.goto(url)
            page.locator(".st-key-attention_grid img").first.wait_for()
            first_page = time.perf_counter() - start
            _idle(page)
            uploaded = []
            for upload in uploads:
                page.wait_for_timeout(1000)
                start = time.perf_counter()
                page.locator(".st-key-uploads input[type='file']").set_input_files(str(upload))
                page.locator("[data-testid='stCaptionContainer']").filter(has_text=upload.name).first.wait_for()
                _idle(page)
                page.locator(".st-key-attention_grid img").first.wait_for()
                uploaded.append(time.perf_counter() - start)
        browser.close()
    return first_page, uploaded


def forward_times(data: bytes, repeats: int) -> tuple[float, float]:
    """(median Analyzer.analyse_one, median bare model forward), in seconds."""
    found = {p.name: p for p in sorted(settings.weights_dir().glob("*.safetensors"))}
    if not found:
        raise SystemExit(f"no *.safetensors in {settings.weights_dir()}")
    analyzer = Analyzer.from_checkpoint(found.get(settings.default_model()) or next(iter(found.values())))
    batch = analyzer.preprocessor.batch([Image.open(io.BytesIO(data)).convert("RGB")]).to(analyzer.device)
    analyzer.analyse_one(data, "warm-up")
    whole, bare = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        analyzer.analyse_one(data, "bench")
        whole.append(time.perf_counter() - start)
        start = time.perf_counter()
        with torch.inference_mode():
            analyzer.model(batch)
        bare.append(time.perf_counter() - start)
    return statistics.median(whole), statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=3, help="images uploaded one after another (median)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads, here and in the server (OMP_NUM_THREADS); default: torch's own")
    args = parser.parse_args()
    env = {}
    if args.threads:
        torch.set_num_threads(args.threads)
        env["OMP_NUM_THREADS"] = str(args.threads)
    samples = sorted((settings.samples_manifest().parent / "images").iterdir())
    with tempfile.TemporaryDirectory() as folder:
        uploads = [Path(folder) / f"bench_upload_{n}.jpg" for n in range(args.uploads)]
        for n, upload in enumerate(uploads):
            Image.open(samples[(n + 1) % len(samples)]).convert("RGB").save(upload, format="JPEG")
        first_page, times = dashboard_times(uploads, env)
        analyse, forward = forward_times(uploads[0].read_bytes(), args.repeats)
    uploaded = statistics.median(times)
    rows = (("start of streamlit run -> first analysed page", first_page),
            ("upload -> its attention grid", uploaded), ("Analyzer.analyse_one (decode + forward)", analyse))
    for name, seconds in rows:
        print(f"{name:46s} {seconds:9.3f} s   = {seconds / forward:8.1f} x one forward pass")
    print(f"{'one forward pass, model(batch of 1)':46s} {forward:9.3f} s")
    print("uploads one by one (s): " + ", ".join(f"{t:.2f}" for t in times))


if __name__ == "__main__":
    main()
