"""Item 12: /metrics answers the local host and admins only (settings.metrics_access)."""

from __future__ import annotations

import httpx
import pytest

from gis_service.settings import get_settings
from tests.field.conftest import FieldServer

OUTSIDE = {"X-Forwarded-For": "203.0.113.9"}  # as a trusted proxy reports a remote client


def get(server: FieldServer, user: str | None, headers: dict[str, str]) -> httpx.Response:
    """GET /metrics as a user (anonymous without) with extra headers."""
    with server.client(user) as client:
        return client.get("/metrics", headers=headers)


def test_metrics_for_loopback_or_admins(
    field_server: FieldServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = get(field_server, None, {})
    assert local.status_code == 200 and "gis_http_requests_total" in local.text
    remote = get(field_server, None, OUTSIDE)
    assert remote.status_code == 401 and "gis_http" not in remote.text
    assert remote.headers["content-type"] == "application/problem+json"
    assert get(field_server, "planner", OUTSIDE).status_code == 403
    assert get(field_server, "admin", OUTSIDE).status_code == 200

    monkeypatch.setattr(get_settings(), "metrics_access", "admin")
    assert get(field_server, None, {}).status_code == 401
    assert get(field_server, "admin", {}).status_code == 200
    monkeypatch.setattr(get_settings(), "metrics_access", "public")
    assert get(field_server, None, OUTSIDE).status_code == 200
