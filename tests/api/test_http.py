"""The one ETag matcher of the routes (items: strong If-Match, weak If-None-Match; tiles)."""

from __future__ import annotations

from gis_service.api.http import etag_matches


def test_if_match_is_strong_and_if_none_match_weak() -> None:
    assert etag_matches('"3"', '"3"', weak=False)
    assert not etag_matches('W/"3"', '"3"', weak=False)  # a weak tag never passes If-Match
    assert etag_matches('W/"3"', '"3"', weak=True)
    assert etag_matches('"1", W/"3"', 'W/"3"', weak=True)
    assert not etag_matches('"2"', '"3"', weak=True)
    assert not etag_matches(None, '"3"', weak=True) and not etag_matches("", '"3"', weak=False)


def test_star_matches_any_current_version() -> None:
    assert etag_matches("*", '"3"', weak=False)
    assert etag_matches(" * ", 'W/"t"', weak=True)
