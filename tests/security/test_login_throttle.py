"""Item 8: wrong passwords are throttled by name and address, shared by all workers (the
database), with growing delays; nobody can lock the real user out."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.settings import get_settings
from tests.conftest import DemoTemplate, LiveServer

ATTACKER = "203.0.113.7"
REAL_USER = "198.51.100.20"


class Worker:
    """One of two apps on the same database, as two `serve --workers 2` processes would be."""

    def __init__(self, live: LiveServer) -> None:
        self.client = httpx.Client(base_url=live.url, timeout=30)
        self.client.get("/field/login")

    def sign_in(self, user: str, password: str, address: str) -> httpx.Response:
        """POST /session as if from `address` (the proxy's X-Forwarded-For)."""
        return self.client.post(
            "/session", json={"username": user, "password": password},
            headers={"X-CSRF-Token": self.client.cookies["gis_csrf"], "X-Forwarded-For": address},
        )


@pytest.fixture
def workers(
    demo_db: Engine, serve: Callable[[FastAPI], LiveServer], monkeypatch: pytest.MonkeyPatch
) -> list[Worker]:
    """Two apps on one demo copy, with small throttle settings."""
    settings = get_settings()
    for name, value in {"login_free_attempts": 3, "login_address_free_attempts": 8,
                        "login_user_free_attempts": 6, "login_max_delay_s": 60,
                        "login_user_max_delay_s": 2}.items():
        monkeypatch.setattr(settings, name, value)
    return [Worker(serve(create_app(demo_db))), Worker(serve(create_app(demo_db)))]


def pair_delay(engine: Engine, user: str, address: str) -> float:
    """The delay (s) the last failure of a name at an address set, as stored."""
    with engine.connect() as conn:
        return float(conn.execute(
            sa.text("SELECT extract(epoch FROM blocked_until - last_failure_at) "
                    "FROM login_throttle WHERE key = :k"), {"k": f"pair:{address}|{user}"},
        ).scalar_one())  # fmt: skip


def test_delays_grow_are_shared_by_workers_and_spare_the_real_user(
    workers: list[Worker], demo_template: DemoTemplate, demo_db: Engine
) -> None:
    right = demo_template.passwords["grid05"]
    for attempt in range(4):  # alternating workers: the count is shared
        answer = workers[attempt % 2].sign_in("grid05", "guess", ATTACKER)
        assert answer.status_code == 401, answer.text
    refused = workers[0].sign_in("grid05", right, ATTACKER)  # 4 > 3 free: 1 s delay
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert workers[1].sign_in("grid05", right, ATTACKER).status_code == 429

    # the real user, elsewhere, is not slowed by someone else's guesses
    assert workers[1].sign_in("grid05", right, REAL_USER).status_code == 200

    delays, waits = [], []
    for _ in range(2):  # each further failure doubles the delay: 1 s, 2 s, 4 s
        time.sleep(int(workers[0].sign_in("grid05", "guess", ATTACKER).headers["retry-after"]))
        assert workers[1].sign_in("grid05", "guess", ATTACKER).status_code == 401
        delays.append(pair_delay(demo_db, "grid05", ATTACKER))
        waits.append(int(workers[0].sign_in("grid05", right, ATTACKER).headers["retry-after"]))
    assert delays == [2.0, 4.0]
    # Retry-After: the whole seconds left (less than the delay only if the machine is slow)
    assert 1 <= waits[0] <= 2 and 3 <= waits[1] <= 4


def test_guesses_from_many_addresses_delay_the_name_briefly_not_for_long(
    workers: list[Worker], demo_template: DemoTemplate
) -> None:
    right = demo_template.passwords["grid06"]
    for n in range(7):  # a botnet, every guess from another address: 6 free, then delays
        assert workers[n % 2].sign_in("grid06", "guess", f"192.0.2.{n + 1}").status_code == 401
    assert workers[1].sign_in("grid06", "guess", "192.0.2.99").status_code == 429
    delayed = workers[0].sign_in("grid06", right, REAL_USER)
    assert delayed.status_code == 429
    assert int(delayed.headers["retry-after"]) <= 2  # login_user_max_delay_s: never a lockout
    time.sleep(int(delayed.headers["retry-after"]))
    assert workers[1].sign_in("grid06", right, REAL_USER).status_code == 200


def test_one_address_spraying_many_names_is_slowed(workers: list[Worker]) -> None:
    for n in range(9):  # 8 free tries from one address over all names, then delays
        answer = workers[n % 2].sign_in(f"user{n}", "guess", ATTACKER)
        assert answer.status_code == 401, (n, answer.text)
    assert workers[0].sign_in("someone", "guess", ATTACKER).status_code == 429
    assert workers[1].sign_in("someone", "guess", REAL_USER).status_code == 401
