"""Time the dashboard as a user meets it, next to one forward pass of the model, and print the four
targets of issue 12 with the measured values.

1. `streamlit run dashboard/app.py` started -> first analysed page (the attention grid visible in
   chromium); includes Python start, imports, loading the model and analysing the samples.
2. an image uploaded -> its attention grid visible (the run that analyses it has finished); the
   median over --uploads different images.
3. a display control changed (the upsampling or the kind of the maps, in turn, --changes times, each
   to a combination not shown before) -> the server's time for the rerun it causes (the map fragment,
   logged by dashboard/fragments.py through SRN_TIMING_LOG), and the wall time until chromium shows
   the new grid.
4. the ZIP of everything for one 224 px image: `analysis.export.bundle.image_bundle` with the dashboard's
   default view, its time and size, and the wall time from the click to the download in chromium.
5. one forward pass: the bare `model(batch of 1)` and `Analyzer.analyse_one` (decode, preprocess,
   forward, to numpy), each the median of --repeats after a warm-up.

    python benchmarks/bench_dashboard.py [--repeats 20] [--uploads 3] [--changes 5] [--threads N]

On a machine whose cores are busy, torch's default thread count can make one pass many times slower
(threads wait on each other); --threads 1 gives steadier numbers there. Uses the checkpoint the
dashboard opens (SRN_WEIGHTS_DIR / SRN_DEFAULT_MODEL as in the app).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from analysis import Analyzer
from analysis.export.bundle import image_bundle
from analysis.figures.image_inputs import ImageView
from dashboard import settings
from tests.app_server import serving
from tests.browser import ARGS, CHROMIUM

LIMIT_MS = 300_000
GRID = ".st-key-attention_grid img"
ZIP_BUTTON = "Download everything for this image (ZIP)"


@dataclass
class Browser:
    """What chromium measured, in seconds."""

    first_page: float = 0.0
    uploads: list[float] = field(default_factory=list)
    control_wall: list[float] = field(default_factory=list)
    control_server: list[float] = field(default_factory=list)
    zip_wall: float = 0.0


# True once every thumbnail of the attention grid is a new image (another source) and fully drawn.
NEW_GRID = """([selector, before]) => { const images = [...document.querySelectorAll(selector)];
    return images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0)
        && images.map(i => i.src).join() !== before.join(); }"""


def _idle(page: Page) -> None:
    page.wait_for_timeout(200)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=LIMIT_MS)


def _grid_sources(page: Page) -> list[str]:
    return page.eval_on_selector_all(GRID, "images => images.map(i => i.src)")


def _map_runs(log: Path) -> list[float]:
    if not log.exists():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [row["seconds"] for row in rows if row["fragment"] == "_maps"]


def _change_controls(page: Page, log: Path, changes: int, result: Browser) -> None:
    """Click the upsampling and map-kind choices in turn, so that every change asks for a combination not
    shown before (no cache hit); time each rerun on the server (log) and in the browser."""
    kinds = list(settings.KIND_NAMES.values())
    clicks = [
        settings.UPSAMPLING[(n // 2 + 1) % len(settings.UPSAMPLING)] if n % 2 == 0 else kinds[(n // 2 + 1) % len(kinds)]
        for n in range(min(changes, 8))
    ]
    for mode in clicks:
        page.wait_for_timeout(500)
        before, logged = _grid_sources(page), len(_map_runs(log))
        start = time.perf_counter()
        page.get_by_text(mode, exact=True).first.click()
        page.wait_for_function(
            "([selector, old]) => { const now = [...document.querySelectorAll(selector)]"
            ".map(i => i.src); return now.length && now.join() !== old.join(); }",
            arg=[GRID, before],
            timeout=LIMIT_MS,
        )
        _idle(page)
        result.control_wall.append(time.perf_counter() - start)
        runs = _map_runs(log)
        if len(runs) > logged:
            result.control_server.append(runs[-1])


def _zip(page: Page) -> float:
    button = page.get_by_role("button", name=ZIP_BUTTON)
    button.scroll_into_view_if_needed()
    start = time.perf_counter()
    with page.expect_download(timeout=LIMIT_MS):
        button.click()
    return time.perf_counter() - start


def browser_times(uploads: list[Path], env: dict[str, str], changes: int) -> Browser:
    """Launch, uploads, control changes and the ZIP, timed in chromium against a real server."""
    result = Browser()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        log = Path(folder) / "timing.jsonl"
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
        page.set_default_timeout(LIMIT_MS)
        start = time.perf_counter()
        with serving(env={**env, "SRN_TIMING_LOG": str(log)}, timeout=LIMIT_MS / 1000) as url:
            page.goto(url)
            page.locator(GRID).first.wait_for()
            result.first_page = time.perf_counter() - start
            _idle(page)
            _change_controls(page, log, changes, result)
            for upload in uploads:
                page.wait_for_timeout(1000)
                before = _grid_sources(page)
                start = time.perf_counter()
                page.locator(".st-key-uploads input[type='file']").set_input_files(str(upload))
                page.wait_for_function(NEW_GRID, arg=[GRID, before], polling=20)
                result.uploads.append(time.perf_counter() - start)
                page.locator("[data-testid='stCaptionContainer']").filter(has_text=upload.name).first.wait_for()
                _idle(page)
            result.zip_wall = _zip(page)
        browser.close()
    return result


def _analyzer() -> Analyzer:
    found = {p.name: p for p in sorted(settings.weights_dir().glob("*.safetensors"))}
    if not found:
        raise SystemExit(f"no *.safetensors in {settings.weights_dir()}")
    return Analyzer.from_checkpoint(found.get(settings.default_model()) or next(iter(found.values())))


def forward_times(analyzer: Analyzer, data: bytes, repeats: int) -> tuple[float, float]:
    """(median Analyzer.analyse_one, median bare model forward), in seconds."""
    batch = analyzer.preprocess.batch([Image.open(io.BytesIO(data)).convert("RGB")]).to(analyzer.device)
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


def zip_time(analyzer: Analyzer, data: bytes) -> tuple[float, float, int, tuple[int, int]]:
    """(wall seconds, CPU seconds, bytes, image size) of the ZIP of one image under the dashboard's default
    view. The CPU time is what the ZIP costs where it has a core to itself."""
    analysis = analyzer.analyse_one(data, "bench.png")
    defaults = settings.MAP_DEFAULTS
    view = ImageView(
        label=analysis.top_labels(1)[0],
        top_k=min(8, analysis.num_labels),
        cmap=defaults["cmap"],
        mode=defaults["mode"],
        opacity=defaults["opacity"],
        fade=defaults["fade"],
    )
    view.grid_labels = analysis.top_labels(view.top_k)
    start, cpu = time.perf_counter(), time.process_time()
    archive = image_bundle(analyzer.model, analysis, view)
    return time.perf_counter() - start, time.process_time() - cpu, len(archive), analysis.image_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=3, help="images uploaded one after another (median)")
    parser.add_argument("--changes", type=int, default=5, help="display-control changes (median; at most 8)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads, here and in the server (OMP_NUM_THREADS); default: torch's own",
    )
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
        seen = browser_times(uploads, env, args.changes)
        analyzer = _analyzer()
        analyse, forward = forward_times(analyzer, uploads[0].read_bytes(), args.repeats)
        packed, packed_cpu, size, image_size = zip_time(analyzer, samples[0].read_bytes())
    control = statistics.median(seen.control_server) if seen.control_server else float("nan")
    uploaded = statistics.median(seen.uploads)
    rows = (
        ("display-control change, server time", f"{control:.3f} s", "0.300 s", control <= 0.3),
        (
            "upload -> its attention grid",
            f"{uploaded:.3f} s",
            f"{forward + 0.5:.3f} s (forward + 0.5 s)",
            uploaded <= forward + 0.5,
        ),
        ("launch -> first analysed page", f"{seen.first_page:.3f} s", "8.000 s", seen.first_page <= 8.0),
        (
            f"ZIP of one {image_size[0]} x {image_size[1]} px image",
            f"{packed:.3f} s, {size / 2**20:.2f} MiB",
            "3.000 s, 4.00 MiB",
            packed <= 3.0 and size <= 4 * 2**20,
        ),
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min); --threads {args.threads or 'default'}")
    print(f"{'target':44s} {'measured':22s} {'limit':32s} met")
    for name, measured, limit, met in rows:
        print(f"{name:44s} {measured:22s} {limit:32s} {'yes' if met else 'NO'}")
    print()
    print(f"{'one forward pass, model(batch of 1)':44s} {forward:9.3f} s")
    print(f"{'Analyzer.analyse_one (decode + forward)':44s} {analyse:9.3f} s = {analyse / forward:.1f} x forward")
    print(f"{'display-control change, wall time (chromium)':44s} {statistics.median(seen.control_wall):9.3f} s")
    print(f"{'ZIP click -> download (chromium)':44s} {seen.zip_wall:9.3f} s")
    print(f"{'ZIP of one image, CPU time of the packing':44s} {packed_cpu:9.3f} s")
    print("server time per control change (s): " + ", ".join(f"{t:.3f}" for t in seen.control_server))
    print("uploads one by one (s): " + ", ".join(f"{t:.2f}" for t in seen.uploads))


if __name__ == "__main__":
    main()
