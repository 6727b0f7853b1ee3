"""Item 5: one size limit for every request body, checked before parsing, auth or the database."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.security.conftest import ServerProcess

MB = 1024 * 1024
HUGE = 63 * MB
RSS_GROWTH_BOUND = 40 * MB  # the body was parsed in full before: +400 to +850 MB


def huge_json() -> bytes:
    """A 63 MB JSON object: a sign-in with a long list of numbers riding along."""
    head, tail = b'{"username": "planner", "password": "x", "pad": [', b"0]}"
    return head + b"0," * ((HUGE - len(head) - len(tail)) // 2) + tail


@pytest.mark.parametrize("path", ["/session", "/analysis/siting", "/scenarios"])
def test_a_63_mb_body_is_refused_before_it_is_read(served: ServerProcess, path: str) -> None:
    body = huge_json()
    before = served.rss()
    with served.login_client() as client:
        started = time.perf_counter()
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
        took = time.perf_counter() - started
    grown = served.rss() - before
    print(f"POST {path} 63 MB: {answer.status_code} in {took:.2f} s, server RSS {grown / MB:+.1f} MB")
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    assert "bytes" in answer.json()["detail"]
    assert took < 5
    assert grown < RSS_GROWTH_BOUND
