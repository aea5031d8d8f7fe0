"""The dashboard in a real browser: Debian's chromium (/usr/bin/chromium) driven by Playwright against
`streamlit run dashboard/app.py` on a free localhost port. Opens the app, waits for the attention grid,
switches through every view (clicking a relation-matrix cell and moving an attention map by a click on
the way) saving a screenshot of each to
docs/screenshots/, then uploads images (one bad) and downloads and checks the ZIP of the uploaded one."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from dashboard import settings, state
from dashboard.server import serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(settings.REPO) / "docs" / "screenshots"
SLOW = 240_000


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> Iterator[str]:
    if not state.list_checkpoints(settings.weights_dir()):
        pytest.fail(f"no *.safetensors in {settings.weights_dir()}: the dashboard needs the shipped model")
    with serving(log=tmp_path_factory.mktemp("server") / "streamlit.log", timeout=180) as address:
        yield address


@pytest.fixture
def page(url: str) -> Iterator[Page]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(SLOW)
        tab.goto(url)
        yield tab
        browser.close()


def wait_idle(page: Page) -> None:
    """Wait until the script run is over (Streamlit shows a 'running' widget meanwhile)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=SLOW)
    page.wait_for_timeout(500)


def shot(page: Page, name: str) -> Path:
    """Screenshot the page to docs/screenshots/<name>.png, written atomically."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    temporary = SHOTS / f".{name}.tmp.png"
    page.screenshot(path=str(temporary))
    os.replace(temporary, target)
    return target


def grid(page: Page):
    return page.locator(".st-key-attention_grid img")


def open_tab(page: Page, name: str, marker: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.get_by_text(marker).first.wait_for()
    wait_idle(page)


def click_plot(page: Page, key: str, x, y) -> None:
    """Click the point (x, y), in data coordinates, of the plotly chart with Streamlit key `key`."""
    left, top = page.evaluate("""([key, x, y]) => {
        const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        return [box.left + xa._offset + xa.d2p(x), box.top + ya._offset + ya.d2p(y)];
    }""", [key, x, y])
    page.mouse.click(left, top)


def test_the_dashboard_in_a_browser(page: Page, tmp_path: Path) -> None:
    grid(page).first.wait_for()
    wait_idle(page)
    assert grid(page).count() >= 1
    assert page.get_by_text("Traceback").count() == 0
    shot(page, "images")

    open_tab(page, "conv4 filters", "Strongest paths")
    shot(page, "filters")

    open_tab(page, "Label relations", "Relation field")
    shown = {p.name: p for p in state.list_checkpoints(settings.weights_dir())}
    model = state.load_model(shown.get(settings.default_model(), next(iter(shown.values()))))
    labels = model.label_names
    click_plot(page, "matrix_click", labels[0], labels[1])
    page.get_by_text(f"Offsets of {labels[0]} around {labels[1]}").wait_for()
    wait_idle(page)
    shot(page, "relations")

    open_tab(page, "What-if", "attention moves the other labels")
    width, height = Image.open(min((settings.samples_manifest().parent / "images").iterdir())).size
    cell = 0.5 * width * min(1.0, settings.LARGE_SIDE / max(width, height)) / model.meta.config.grid
    click_plot(page, "whatif_click", cell, cell)
    page.get_by_text("after: move").first.wait_for()
    wait_idle(page)
    shot(page, "whatif")

    open_tab(page, "Images", "Per-label maps")
    sample = sorted((settings.samples_manifest().parent / "images").iterdir())[1]
    upload = tmp_path / "my_scene.jpg"
    Image.open(sample).convert("RGB").save(upload, format="JPEG")
    broken = tmp_path / "broken.png"
    broken.write_bytes(sample.read_bytes()[:300])
    page.locator(".st-key-uploads input[type='file']").set_input_files([str(upload), str(broken)])
    page.get_by_text("Upload refused: broken.png").wait_for()
    page.locator("[data-testid='stCaptionContainer']").filter(has_text="my_scene.jpg").first.wait_for()
    grid(page).first.wait_for()
    wait_idle(page)
    assert grid(page).count() >= 1

    with page.expect_download(timeout=SLOW) as pending:
        page.get_by_role("button", name="Download everything for this image (ZIP)").click()
    saved = tmp_path / "bundle.zip"
    pending.value.save_as(saved)
    assert pending.value.suggested_filename == "my_scene.jpg_srn.zip"
    archive = zipfile.ZipFile(saved)
    assert {"image.png", "scores.csv", "analysis.json", "what_if.png", "scores.html"} <= set(archive.namelist())
    assert Image.open(io.BytesIO(archive.read("image.png"))).size == Image.open(upload).size
    assert page.get_by_text("Traceback").count() == 0
