"""Headless Debian Chromium driven by Playwright, offline but for the app on localhost."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, Route

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class Watched:
    """A page with what it logged, what it was refused and the dialogs it tried to open."""

    page: Page
    errors: list[str] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    dialogs: list[str] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)

    def real_errors(self) -> list[str]:
        """Console errors, less the refused outside basemap tiles (no network here)."""
        return [e for e in self.errors if not any(url in e for url in self.blocked)]


def watch(browser: Browser, context: BrowserContext | None = None) -> Watched:
    """A new page that may reach only localhost and records errors, dialogs and responses."""
    page = (context.new_page() if context is not None
            else browser.new_page(viewport={"width": 1200, "height": 800}, device_scale_factor=1))
    watched = Watched(page)

    def route(target: Route) -> None:
        url = target.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "file:")):
            target.continue_()
        else:
            watched.blocked.add(target.request.url)
            target.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"{message.text} {message.location.get('url', '')}")

    def dialog(opened: Dialog) -> None:
        watched.dialogs.append(opened.message)
        opened.dismiss()

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda exc: watched.errors.append(f"page error: {exc}"))
    page.on("dialog", dialog)
    page.on("response", lambda r: watched.requests.append((r.url, r.status)))
    return watched


def shot(page: Page, name: str) -> bytes:
    """A screenshot kept under test-artifacts/web/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return page.screenshot(path=str(ARTIFACTS / name))


def count_colours(page: Page, png: bytes, colours: list[str]) -> dict[str, int]:
    """Pixels of each exact #rrggbb colour in a PNG, counted by the browser's own canvas."""
    src = "data:image/png;base64," + base64.b64encode(png).decode()
    counts: dict[str, int] = page.evaluate(
        """async ([src, colours]) => {
            const img = new Image(); img.src = src; await img.decode();
            const canvas = document.createElement('canvas');
            canvas.width = img.width; canvas.height = img.height;
            const g = canvas.getContext('2d'); g.drawImage(img, 0, 0);
            const data = g.getImageData(0, 0, img.width, img.height).data;
            const wanted = {}; colours.forEach(c => { wanted[parseInt(c.slice(1), 16)] = c; });
            const out = {}; colours.forEach(c => { out[c] = 0; });
            for (let i = 0; i < data.length; i += 4) {
                const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
                if (key in wanted) { out[wanted[key]] += 1; }
            }
            return out;
        }""",
        [src, colours],
    )
    return counts


def open_scenario(page: Page, url: str, token: str, scenario_id: int) -> None:
    """The planner page (English) with a stored scenario chosen in the scenarios panel."""
    page.goto(f"{url}/maps/planner?lang=en#token={token}")
    page.wait_for_selector("html[data-gis-tiles-stairwells]", timeout=30_000)
    page.click(".gis-scenario-toggle")
    page.wait_for_selector(f".gis-scenarios option[value='{scenario_id}']", state="attached")
    page.select_option('.gis-scenarios select[aria-label="Choose a scenario"]', str(scenario_id))
    page.wait_for_selector(f".gis-scenario-body[data-scenario='{scenario_id}']")
