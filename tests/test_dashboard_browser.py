"""The dashboard in a real browser: Debian's chromium (/usr/bin/chromium) driven by Playwright against
`streamlit run dashboard/app.py` on a free localhost port.

At 1400 px: opens the app, waits for the attention grid, switches through every view (clicking a
relation-matrix cell and moving an attention map by a click on the way), checking that nothing spills
out of the main column, then uploads images (one bad) and downloads the ZIP of the uploaded one,
watching its button spin while the archive is packed. At 800 px: no view spills over either, and
"Enlarge" opens the label's large maps inside the window.

Screenshots for the README are written to docs/screenshots/ only on request
(`SRN_SCREENSHOTS=1`, or `scripts/screenshots.sh`); otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from dashboard import settings, state

from .app_server import serving
from .browser import SLOW, browser  # noqa: F401 - the browser fixture

SHOTS = Path(settings.REPO) / "docs" / "screenshots"
WANT_SHOTS = os.environ.get("SRN_SCREENSHOTS") == "1"
VIEW_MARKERS = {
    "conv4 filters": "Strongest paths",
    "Label relations": "Relation field",
    "What-if": "attention moves the other labels",
}


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> Iterator[str]:
    if not state.list_checkpoints(settings.weights_dir()):
        pytest.fail(f"no *.safetensors in {settings.weights_dir()}: the dashboard needs the shipped model")
    with serving(log=tmp_path_factory.mktemp("server") / "streamlit.log", timeout=180) as address:
        yield address


def open_page(browser: Browser, url: str, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(SLOW)
    tab.goto(url)
    grid(tab).first.wait_for()
    wait_idle(tab)
    return tab


def wait_idle(page: Page) -> None:
    """Wait until the script run is over (Streamlit shows a 'running' widget meanwhile)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=SLOW)
    page.wait_for_timeout(500)


def shot(page: Page, name: str, folder: Path) -> Path:
    """Screenshot the page to <folder>/<name>.png (docs/screenshots/ when asked for), written atomically."""
    folder = SHOTS if WANT_SHOTS else folder
    folder.mkdir(parents=True, exist_ok=True)
    target, temporary = folder / f"{name}.png", folder / f".{name}.tmp.png"
    page.screenshot(path=str(temporary))
    os.replace(temporary, target)
    return target


def grid(page: Page):
    return page.locator(".st-key-attention_grid img")


def open_tab(page: Page, name: str, marker: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.get_by_text(marker).first.wait_for()
    wait_idle(page)


def overflow(page: Page) -> dict[str, list[int]]:
    """(scrollWidth, clientWidth) of the main column and of its content block: equal when nothing spills."""
    return page.evaluate("""() => Object.fromEntries(['stMain', 'stMainBlockContainer'].map(id => {
        const e = document.querySelector(`[data-testid="${id}"]`); return [id, [e.scrollWidth, e.clientWidth]]; }))""")


def assert_fits(page: Page, where: str) -> None:
    widths = overflow(page)
    assert all(scroll <= client for scroll, client in widths.values()), (where, widths)


def click_plot(page: Page, key: str, x, y) -> None:
    """Click the point (x, y), in data coordinates, of the plotly chart with Streamlit key `key`."""
    page.locator(f".st-key-{key} .js-plotly-plot").scroll_into_view_if_needed()
    left, top = page.evaluate(
        """([key, x, y]) => {
        const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        return [box.left + xa._offset + xa.d2p(x), box.top + ya._offset + ya.d2p(y)];
    }""",
        [key, x, y],
    )
    page.mouse.click(left, top)


def enlarge_and_see(page: Page) -> None:
    """Click the last "Enlarge" button: the label's large maps open in a dialog inside the window."""
    button = page.get_by_role("button", name="Enlarge").last
    name = button.inner_text().strip().removeprefix("zoom_in").strip().removeprefix("Enlarge ").strip()
    button.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(name, exact=True).first).to_be_in_viewport(timeout=SLOW)
    expect(dialog.locator(".js-plotly-plot").first).to_be_in_viewport(timeout=SLOW)
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`, as a user does: open it, click the option."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option, timeout=SLOW)
    wait_idle(page)


def model_labels() -> tuple[list[str], int]:
    shown = {p.name: p for p in state.list_checkpoints(settings.weights_dir())}
    model = state.load_model(shown.get(settings.default_model(), next(iter(shown.values()))))
    return model.label_names, model.meta.config.grid


def test_the_dashboard_in_a_browser(browser: Browser, url: str, tmp_path: Path) -> None:
    page = open_page(browser, url, 1400, 2400 if WANT_SHOTS else 1000)
    assert grid(page).count() >= 1 and page.get_by_text("Traceback").count() == 0
    assert_fits(page, "Images")
    shot(page, "images", tmp_path)
    enlarge_and_see(page)

    open_tab(page, "conv4 filters", VIEW_MARKERS["conv4 filters"])
    choose(page, "Label (for sorting and for its path)", "heart_bottom")
    page.get_by_text("heart_bottom → channels → filters → labels").wait_for()
    assert_fits(page, "conv4 filters")
    shot(page, "filters", tmp_path)

    open_tab(page, "Label relations", VIEW_MARKERS["Label relations"])
    labels, cells = model_labels()
    click_plot(page, "matrix_click", labels[0], labels[1])
    page.get_by_text(f"Offsets of {labels[0]} around {labels[1]}").wait_for()
    wait_idle(page)
    assert_fits(page, "Label relations")
    shot(page, "relations", tmp_path)

    open_tab(page, "What-if", VIEW_MARKERS["What-if"])
    choose(page, "Label to edit", "letter_T")
    width, height = Image.open(min((settings.samples_manifest().parent / "images").iterdir())).size
    cell = 0.5 * width * min(1.0, settings.LARGE_SIDE / max(width, height)) / cells
    click_plot(page, "whatif_click", cell, cell)
    page.get_by_text("after: move").first.wait_for()
    wait_idle(page)
    assert_fits(page, "What-if")
    shot(page, "whatif", tmp_path)

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

    button = page.get_by_role("button", name="Download everything for this image (ZIP)")
    button.scroll_into_view_if_needed()
    button.evaluate("""b => { window.zipSpun = false;
        new MutationObserver(() => { if (b.disabled) window.zipSpun = true; })
            .observe(b, {attributes: true, subtree: true, childList: true}); }""")
    with page.expect_download(timeout=SLOW) as pending:
        button.click()
    assert page.evaluate("window.zipSpun"), "the ZIP button shows no spinner while the archive is packed"
    saved = tmp_path / "bundle.zip"
    pending.value.save_as(saved)
    assert pending.value.suggested_filename == "my_scene.jpg_srn.zip"
    archive = zipfile.ZipFile(saved)
    assert {"image.png", "scores.csv", "analysis.json", "what_if.png", "scores.html"} <= set(archive.namelist())
    assert Image.open(io.BytesIO(archive.read("image.png"))).size == Image.open(upload).size
    assert page.get_by_text("Traceback").count() == 0


def test_an_800_px_window(browser: Browser, url: str) -> None:
    page = open_page(browser, url, 800, 900)
    assert_fits(page, "Images")
    enlarge_and_see(page)
    for view, marker in VIEW_MARKERS.items():
        open_tab(page, view, marker)
        assert_fits(page, view)
    assert page.get_by_text("Traceback").count() == 0
