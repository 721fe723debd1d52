"""The dashboard in a real browser: Playwright driving Debian's chromium, clicking through.

The ledger is a simulated campaign (mixed adversarial scenario) replayed as its parties would
have captured it. Screenshots land in ``test-artifacts/`` (kept out of git) for a person to
look at. Skips without ``/usr/bin/chromium`` on a developer machine; fails in CI.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from dosetrail.home import Home
from dosetrail.sim import simulate
from dosetrail.sim.load import load_simulation
from dosetrail.store.engine import sqlite_url
from dosetrail.store.ledger import Ledger
from tests.conftest import ROOT, skip_or_fail
from tests.server.conftest import Live, serve

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("dashboard")
    simulate("mixed", 20_000, 7, tmp / "sim")
    root = tmp / "home"
    home = Home(root, sqlite_url(root / "ledger.db"))
    ledger = Ledger.open(home)
    load_simulation(ledger, tmp / "sim")
    ledger.integrate()
    ledger.close()
    gen = serve(home, tmp)
    yield next(gen)
    gen.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail("browser tests need Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert errors == [], errors  # no script errors on any page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def _no_horizontal_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_click_through_the_dashboard(campaign: Live, page: Any) -> None:
    page.goto(campaign.url + "/")  # a browser asking for / is sent to the dashboard
    assert page.url.endswith("/dashboard/")
    funnel = {
        card.get_attribute("data-step"): card.inner_text()
        for card in page.locator("#funnel .card").all()
    }
    assert list(funnel) == ["shipped", "delivered", "administered", "verified"]
    shipped = int(funnel["shipped"].split("\n")[1].replace(",", ""))
    given = int(funnel["administered"].split("\n")[1].replace(",", ""))
    assert shipped > given > 0
    assert "no certificate yet" in funnel["verified"]
    assert campaign.state.ledger.origin in page.inner_text("main")
    _no_horizontal_overflow(page)
    _shot(page, "overview")

    page.click("nav >> text=Flow")
    page.wait_for_selector("#sankey .js-plotly-plot .sankey")
    assert page.locator("#sankey .sankey-node").count() >= 4
    _no_horizontal_overflow(page)
    _shot(page, "flow")

    page.click("nav >> text=Provinces")
    page.wait_for_selector("#coverage-chart .js-plotly-plot")
    assert page.locator("#provinces tr").count() >= 2
    assert page.locator("#facilities tr").count() >= 5
    _shot(page, "provinces")

    page.click("nav >> text=Cold chain")
    page.wait_for_selector("#timeline .js-plotly-plot .scatterlayer")
    _shot(page, "coldchain")

    page.click("nav >> text=Findings")
    rows = page.locator("#findings tr[id]")
    assert rows.count() >= 3
    assert page.locator("#findings td.high").count() >= 1
    _no_horizontal_overflow(page)
    _shot(page, "findings")
    link = page.locator("#findings td.evidence a").first
    index = link.inner_text().lstrip("#")
    link.click()
    page.wait_for_selector("#event-facts")
    assert page.url.endswith(f"/dashboard/events/{index}")
    assert "ni:///sha-256;" in page.inner_text("#event-facts")
    assert '"type"' in page.inner_text("#event-json")
    _shot(page, "event")
    page.click("text=inclusion proof")
    proof = orjson.loads(page.inner_text("body"))
    assert proof["proofs"][0]["logIndex"] == int(index)


def test_certificate_page_lists_bundles_for_download(campaign: Live, page: Any) -> None:
    folder = campaign.home.root / "certificates"
    for old in folder.glob("*.zip") if folder.exists() else []:
        old.unlink()
    page.goto(campaign.url + "/dashboard/certificate")
    assert "No certificate yet" in page.inner_text("#no-certificate")
    _shot(page, "certificate-none")
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        statement = {
            "period": "2025-03",
            "headline": "At least 1,234 doses reached beneficiaries (95 % confidence).",
            "sessions": {"certified": 1234, "lowerBound": 0.97},
            "verdict": {"supported": True, "reasons": []},
        }
        z.writestr("certificate.json", orjson.dumps(statement))
    (folder / "certificate-2025-03.zip").write_bytes(buffer.getvalue())
    page.reload()
    assert "certificate-2025-03.zip" in page.inner_text("main")
    assert "2025-03" in page.inner_text(".certificate table")
    with page.expect_download() as info:
        page.click("text=download the bundle")
    saved = info.value.path()
    assert Path(saved).read_bytes() == buffer.getvalue()
    _shot(page, "certificate")
    page.goto(campaign.url + "/dashboard/")
    verified = page.locator('#funnel .card[data-step="verified"]').inner_text()
    assert "1,234" in verified
