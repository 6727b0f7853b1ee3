"""Item 5: one size limit for every request body, checked before parsing, auth or the database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import chain

import httpx
import pytest

from gis_service.settings import get_settings
from tests.field.conftest import FieldServer
from tests.security.conftest import login_client
from tests.security.served import MB, Served

HUGE = 63 * MB
RSS_GROWTH_BOUND = 40 * MB  # the body was parsed in full before: +250 to +315 MB here


def huge_json() -> bytes:
    """A 63 MB JSON object: a sign-in with a long list of numbers riding along."""
    head, tail = b'{"username": "planner", "password": "x", "pad": [', b"0]}"
    return head + b"0," * ((HUGE - len(head) - len(tail)) // 2) + tail


@pytest.mark.parametrize("path", ["/session", "/analysis/siting", "/scenarios"])
def test_a_63_mb_body_is_refused_before_it_is_read(target: Served, path: str) -> None:
    body = huge_json()
    before = target.rss()
    with login_client(target.url) as client:  # anonymous: 413 comes before the 401 of auth
        started = time.perf_counter()
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
        took = time.perf_counter() - started
    grown = target.rss() - before
    print(f"POST {path} 63 MB: {answer.status_code} in {took:.2f} s, "
          f"server RSS {grown / MB:+.1f} MB")
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    assert "bytes" in answer.json()["detail"]
    assert took < 5
    assert grown < RSS_GROWTH_BOUND


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A JSON body of `total` bytes sent in chunks (no Content-Length: chunked encoding)."""
    head = b'{"name": "chunked", "interventions": {"batches": [1]}, "pad": "'
    yield head
    left = total - len(head) - 2
    while left > 0:
        yield b"x" * min(size, left)
        left -= size
    yield b'"}'


def test_chunked_bodies_are_cut_at_the_limit_and_nothing_is_written(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = get_settings().max_body_bytes
    with field_server.client("planner") as planner:
        before = planner.get("/scenarios").json()
        answer = planner.post("/scenarios", content=chunks(limit + 1),
                              headers={"Content-Type": "application/json"})
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert planner.get("/scenarios").json() == before
        monkeypatch.setattr(get_settings(), "max_upload_bytes", 256 * 1024)
        boundary = "b0undary"
        upload = chain([f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                        f"filename=\"g.geojson\"\r\nContent-Type: application/geo+json\r\n\r\n"
                        .encode()], chunks(512 * 1024))
        multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        refused = planner.post("/collections/gardens/import", content=upload, headers=multipart)
        assert refused.status_code == 413, refused.text
        assert "the upload is larger than 262144 bytes" in refused.json()["detail"]


def test_control_characters_in_paths_are_404_not_500(field_server: FieldServer) -> None:
    with httpx.Client(base_url=field_server.url) as web:
        for path in ("/static/web/%00", "/static/web/leaflet%00.js", "/collections/%00/items",
                     "/maps/planner%0a", "/field/sw.js%00"):
            answer = web.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert "control character" in answer.json()["detail"]
            assert answer.headers["content-type"] == "application/problem+json"
        assert web.get("/static/web/nothing-here.js").status_code == 404
