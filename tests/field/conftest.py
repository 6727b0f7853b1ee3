"""Fixtures of the field tests: a live app on a copy of the demo district, and a phone browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.settings import get_settings
from tests.conftest import DemoTemplate, LiveServer, start_server

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@dataclass
class FieldServer:
    """A live server on its own demo database, with the demo users' tokens and passwords."""

    live: LiveServer
    engine: Engine
    tokens: dict[str, str]
    passwords: dict[str, str]
    data_dir: Path

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.live.url

    def client(self, user: str | None = None) -> httpx.Client:
        """An HTTP client with a user's bearer token (anonymous without)."""
        return self.live.client(self.tokens[user] if user else None)

    def signed_in(self, user: str) -> httpx.Client:
        """An HTTP client signed in with user name and password (session and CSRF cookies)."""
        client = httpx.Client(base_url=self.url, timeout=30)
        client.get("/field/login")
        answer = client.post(
            "/session",
            json={"username": user, "password": self.passwords[user]},
            headers={"X-CSRF-Token": client.cookies["gis_csrf"]},
        )
        assert answer.status_code == 200, answer.text
        return client


@pytest.fixture
def field_server(
    demo_db: Engine, demo_template: DemoTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FieldServer]:
    """The real app on a demo copy this test may change; photos and the key go to tmp_path."""
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    live = start_server(create_app(demo_db))
    yield FieldServer(live, demo_db, demo_template.tokens, demo_template.passwords, tmp_path)
    live.server.should_exit = True
    live.thread.join(timeout=10)


def closing_contexts(browser: Any) -> Iterator[Callable[..., Any]]:
    """A maker of browser contexts, closing all it made when the fixture ends."""
    made: list[Any] = []

    def new_context(**options: Any) -> Any:
        made.append(browser.new_context(**options))
        return made[-1]

    yield new_context
    for context in made:
        context.close()


@pytest.fixture
def contexts(browser: Any, field_server: FieldServer) -> Iterator[Callable[..., Any]]:
    """New browser contexts, all closed before the server stops (even when a test fails)."""
    yield from closing_contexts(browser)


@pytest.fixture
def register_server(
    register_db: Engine, register_template: DemoTemplate, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FieldServer]:
    """The real app on a copy of the demo district with its household register."""
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    live = start_server(create_app(register_db))
    yield FieldServer(live, register_db, register_template.tokens, register_template.passwords,
                      tmp_path)  # fmt: skip
    live.server.should_exit = True
    live.thread.join(timeout=10)


@pytest.fixture
def phones(browser: Any, register_server: FieldServer) -> Iterator[Callable[..., Any]]:
    """Browser contexts, closed before the server stops."""
    yield from closing_contexts(browser)
