"""A model with hostile label names in a real browser (issue 15: findings 1, 3): Debian's chromium
driven by Playwright against `streamlit run dashboard/app.py`. Through every view, the page never asks
for anything from the host the names point to, holds no link or image to it, and shows the names as
the text they are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from dashboard import settings

from .app_server import serving
from .browser import SLOW, browser  # noqa: F401 - the browser fixture
from .hostile_corpus import EVIL_HOST, HOSTILE_LABELS, hostile_label_checkpoint

pytestmark = pytest.mark.timeout(600)  # a hostile input must never hang a run

MODEL = "[model](evil.example).safetensors"
APP_ICON = "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/"


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile_weights")
    hostile_label_checkpoint(folder / MODEL)
    env = {"SRN_WEIGHTS_DIR": str(folder), "SRN_DEFAULT_MODEL": MODEL}
    with serving(env=env, log=tmp_path_factory.mktemp("server") / "streamlit.log", timeout=180) as address:
        yield address


# Elements (HTML or SVG, the charts included) whose href / xlink:href / src points at `host`.
LIVE_LINKS = """host => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
    .filter(a => /(^|:)(href|src|srcset)$/.test(a.name) && a.value.includes(host))
    .map(a => e.outerHTML.slice(0, 200)))"""


def wait_idle(page) -> None:
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=SLOW)
    page.wait_for_timeout(500)


def test_hostile_label_names_make_no_request_and_no_link(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.locator(".st-key-attention_grid img").first.wait_for()
    wait_idle(page)
    for view in settings.VIEWS:
        page.get_by_role("tab", name=view).click()
        wait_idle(page)
        assert page.get_by_text("Traceback").count() == 0, view
        assert page.evaluate(LIVE_LINKS, EVIL_HOST) == [], view
        assert page.locator("[data-testid='stAlertContentError']").count() == 0, view
    page.get_by_role("tab", name=settings.VIEWS[0]).click()
    wait_idle(page)
    page.get_by_text("Model details").first.click()
    details = page.locator("[data-testid='stExpander']").first.inner_text().replace("\u2060", "")  # word joiners
    for name in HOSTILE_LABELS[:3] + [HOSTILE_LABELS[8]]:
        assert name in details, name
    assert MODEL in page.locator("[data-testid='stCaptionContainer']").first.inner_text()
    assert not [r for r in requests if EVIL_HOST in r], requests
    outside = [r for r in requests if not r.startswith((url, "data:", "blob:"))]
    assert all(r.startswith(APP_ICON) for r in outside), outside  # only the app's own page icon (set_page_config)
    context.close()
