"""Tile arithmetic, the byte-bounded LRU and the HTTP header helpers (no database)."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from typing import Any

import pytest

from gis_service.api.http import etag_matches
from gis_service.api.problems import status_of
from gis_service.catalog import default_catalog
from gis_service.errors import NotFound
from gis_service.features.errors import BadRequest
from gis_service.tiles.aio import SharedChecks
from gis_service.tiles.cache import (
    ENTRY_OVERHEAD,
    CachedTile,
    TileCache,
    accepts_gzip,
    make_entry,
)
from gis_service.tiles.grid import TileAddress, parse_tile, tile_matrix_set, tile_range
from gis_service.tiles.params import parse_filter, resolve_layers
from tests.tiles.conftest import run_coroutine, tile_pixel


def test_parse_tile_accepts_the_matrix_and_refuses_the_rest() -> None:
    assert parse_tile("0", "0", "0") == TileAddress(0, 0, 0)
    assert parse_tile("24", str(2**24 - 1), "5") == TileAddress(24, 2**24 - 1, 5)
    for bad in [("25", "0", "0"), ("3", "8", "0"), ("3", "0", "8"), ("a", "0", "0"),
                ("3", "-1", "0"), ("3", "1.5", "0"), ("²", "0", "0")]:
        with pytest.raises(BadRequest) as caught:
            parse_tile(*bad)
        assert status_of(caught.value) == (400, "Bad request")


def test_tile_bounds_and_range_agree_with_the_slippy_map_formula() -> None:
    lon, lat = 113.29426, 23.14643
    x, y, _, _ = tile_pixel(lon, lat, 17)
    assert tile_range((lon, lat, lon, lat), 17) == (x, y, x, y)
    xmin, ymin, xmax, ymax = TileAddress(1, 1, 0).bounds()
    assert (xmin, ymin) == (0.0, 0.0) and xmax == ymax == pytest.approx(20037508.342789244)
    tms = tile_matrix_set("http://h")
    assert len(tms["tileMatrices"]) == 25
    assert tms["tileMatrices"][0]["scaleDenominator"] == pytest.approx(559082264.0287178)
    crs84 = tile_matrix_set("http://h", "WorldCRS84Quad")  # OGC 17-083r4 Annex D values
    assert crs84["tileMatrices"][0]["scaleDenominator"] == pytest.approx(279541132.0143589)
    assert parse_tile("1", "3", "1", "WorldCRS84Quad") == TileAddress(1, 3, 1, "WorldCRS84Quad")
    assert TileAddress(1, 3, 1, "WorldCRS84Quad").bounds() == (90.0, -90.0, 180.0, 0.0)
    assert tile_range((lon, lat, lon, lat), 3, "WorldCRS84Quad") == (13, 2, 13, 2)  # 22.5°


def test_cache_is_bounded_by_bytes_and_evicts_the_least_recently_used() -> None:
    entry = make_entry(b"x" * 5000)
    size = ENTRY_OVERHEAD + len(entry.gzipped)
    cache = TileCache(max_bytes=size * 3)
    versions = (("stairwell", 1),)
    for key in "abc":
        cache.put(key, entry, versions)
    assert cache.get("a") is entry  # a is now the most recent
    cache.put("d", entry, versions)
    assert cache.get("b") is None and cache.get("a") is entry and len(cache) == 3
    assert cache.bytes <= cache.max_bytes


def test_cache_drops_entries_of_older_data_versions() -> None:
    cache = TileCache(1 << 20)
    old, new = (("stairwell", 1),), (("stairwell", 2),)
    cache.observe(old)
    cache.put("tile@1", make_entry(b"old"), old)
    cache.put("garden", make_entry(b"g"), (("garden", 7),))
    cache.observe(new)
    assert cache.get("tile@1") is None and cache.get("garden") is not None
    cache.put("late@1", make_entry(b"late"), old)  # built from data older than seen: refused
    assert cache.get("late@1") is None


def test_cache_is_thread_safe() -> None:
    cache = TileCache(50_000)
    entry = make_entry(b"y" * 100)

    def work(n: int) -> None:
        for i in range(2000):
            cache.put((n, i % 97), entry, (("t", 1),))
            cache.get((n, (i * 7) % 97))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.bytes == sum(ENTRY_OVERHEAD + len(entry.gzipped) for _ in range(len(cache)))
    assert cache.bytes <= 50_000


def test_entry_gzip_and_etag() -> None:
    entry = make_entry(b"abc" * 100)
    assert gzip.decompress(entry.gzipped) == entry.raw() == b"abc" * 100
    assert entry.etag.startswith('W/"') and make_entry(b"abc" * 100).etag == entry.etag
    assert make_entry(b"").empty and make_entry(b"").gzipped == b""
    assert etag_matches(entry.etag, entry.etag, weak=True)
    assert etag_matches(f'"zzz", {entry.etag.removeprefix("W/")}', entry.etag, weak=True)
    assert not etag_matches('"zzz"', entry.etag, weak=True)
    assert not etag_matches(None, entry.etag, weak=True)
    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("*")
    assert not accepts_gzip("identity") and not accepts_gzip("gzip;q=0") and not accepts_gzip(None)


def test_layer_lists_and_filter_parameters() -> None:
    catalog = default_catalog()
    assert [la.id for la in resolve_layers(catalog, "stairwells,gardens")] == [
        "stairwells", "gardens"]
    with pytest.raises(NotFound):
        resolve_layers(catalog, "stairwells,nope")
    for bad in ("", "stairwells,", "gardens,gardens"):
        with pytest.raises(BadRequest):
            resolve_layers(catalog, bad)
    layers = resolve_layers(catalog, "stairwells,gardens")
    found = parse_filter(layers, [("elevator_status", "approved"), ("kind", "pocket_park")])
    assert found.items == (("elevator_status", "approved"), ("kind", "pocket_park"))
    stairwell_sql = found.for_layer(layers[0], "l0_")
    assert '"elevator_status"' in stairwell_sql.sql and "kind" not in stairwell_sql.sql
    for bad_params in ([("bogus", "1")], [("households", "many")], [("filter", "nope = 1")],
                       [("elevator_status", "a"), ("elevator_status", "b")],
                       [("filter-lang", "cql2-json")]):
        with pytest.raises(BadRequest):
            parse_filter(layers, bad_params)


def test_concurrent_misses_of_one_tile_build_it_once() -> None:
    cache = TileCache(1 << 20)
    builds = []
    gate = threading.Event()

    def build() -> CachedTile:
        builds.append(1)
        gate.wait(5)
        return make_entry(b"tile")

    results: list[tuple[CachedTile, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(
            cache.get_or_build("k", (("stairwell", 1),), build)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while not builds and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)  # let the other five reach the wait
    gate.set()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(results) == 6
    assert sum(not hit for _, hit in results) == 1
    assert {entry.etag for entry, _ in results} == {make_entry(b"tile").etag}
    assert cache.get_or_build("k", (("stairwell", 1),), build)[1] is True


def test_concurrent_misses_on_the_event_loop_build_once_and_a_failure_is_retried() -> None:
    cache = TileCache(1 << 20)
    builds: list[int] = []

    async def build() -> CachedTile:
        builds.append(1)
        await asyncio.sleep(0.05)
        return make_entry(b"tile")

    async def failing() -> CachedTile:
        await asyncio.sleep(0.01)
        raise RuntimeError("the database went away")

    async def scenario() -> None:
        results = await asyncio.gather(
            *(cache.get_or_build_async("k", (("stairwell", 1),), build) for _ in range(6))
        )
        assert len(builds) == 1 and sum(not hit for _, hit in results) == 1
        assert {entry.etag for entry, _ in results} == {make_entry(b"tile").etag}
        assert (await cache.get_or_build_async("k", (("stairwell", 1),), build))[1] is True
        owner, waiter = await asyncio.gather(
            cache.get_or_build_async("j", (("stairwell", 1),), failing),
            cache.get_or_build_async("j", (("stairwell", 1),), build),
            return_exceptions=True,
        )
        assert isinstance(owner, RuntimeError)  # the failed build is not shared as a tile
        assert not isinstance(waiter, BaseException) and waiter[1] is False  # built again

    run_coroutine(scenario())


def test_shared_checks_see_every_change_made_before_they_were_asked() -> None:
    """Concurrent state checks share queries, yet each answer is read after its caller came:
    a revocation committed before a request is seen by that request's check."""
    checks = SharedChecks()
    data = {"version": 0}
    fetches: list[int] = []

    async def fetch() -> list[Any]:
        seen = data["version"]  # what a query sent now reads
        fetches.append(seen)
        await asyncio.sleep(0.02)  # the round trip
        return [seen]

    async def ask(delay: float, change: bool) -> None:
        await asyncio.sleep(delay)
        if change:
            data["version"] += 1  # committed before this request
        before = data["version"]
        assert (await checks.rows("token", fetch))[0] >= before

    async def scenario() -> None:
        await asyncio.gather(*(ask(i * 0.004, i % 3 == 0) for i in range(30)))

    run_coroutine(scenario())
    assert 1 < len(fetches) < 30
