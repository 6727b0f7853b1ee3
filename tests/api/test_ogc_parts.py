"""OGC API Features Part 2 (crs, bbox-crs, filter-crs), datetime, properties, sortby, ids,
CQL2-JSON, f=html and the schema per collection, over real HTTP against the demo in PostGIS."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyproj
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.features.crs import CRS84, EPSG_PREFIX
from tests.conftest import DemoTemplate
from tests.features.live import COMPOUND_34, Clients, clients, running

ITEMS = "/collections/stairwells/items"
WGS84 = f"{EPSG_PREFIX}4326"
MERCATOR = f"{EPSG_PREFIX}3857"
GK_114E = f"{EPSG_PREFIX}4547"  # CGCS2000 3-degree Gauss-Krüger CM 114E (Guangzhou), N then E


@pytest.fixture(scope="module")
def api(shared_demo_db: Engine, demo_template: DemoTemplate) -> Iterator[Clients]:
    """Role clients against one live server on the shared (read-only) demo."""
    with running(shared_demo_db) as live:
        yield clients(live, demo_template)


def rows(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of a query on the demo, as the database owner sees them."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def stairwell_ids(engine: Engine, where: str, **params: object) -> set[object]:
    """Ids of the stairwells meeting an SQL condition, as the database owner sees them."""
    return {r[0] for r in rows(engine, f"SELECT id FROM stairwell WHERE {where}", **params)}


def ids(api: Clients, **params: object) -> set[object]:
    """Ids of the stairwells the analyst gets for these parameters."""
    return {f["id"] for f in features(api, "analyst", ITEMS, **params)}


def features(api: Clients, who: str, path: str, **params: object) -> list[dict[str, object]]:
    """The features of one page (status checked)."""
    answer = api.get(who, path, params={"limit": 10_000, **params})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()["features"]
    return found


def test_collections_advertise_the_crs_they_serve(api: Clients) -> None:
    described = api.get("analyst", "/collections/stairwells").json()
    assert described["storageCrs"] == CRS84
    assert {CRS84, WGS84, MERCATOR, f"{EPSG_PREFIX}4490", GK_114E} <= set(described["crs"])
    classes = api.get("anonymous", "/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in classes


def test_temporal_extent_of_layers_with_a_temporal_property(
    api: Clients, shared_demo_db: Engine
) -> None:
    stairwells = api.get("analyst", "/collections/stairwells").json()["extent"]["temporal"]
    assert stairwells["trs"] == "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
    ((first, last),) = rows(shared_demo_db, "SELECT min(last_surveyed_on), "
                                            "max(last_surveyed_on) FROM stairwell")
    assert stairwells["interval"] == [[f"{first}T00:00:00Z", f"{last}T23:59:59Z"]]
    issues = api.get("analyst", "/collections/issues").json()["extent"]["temporal"]
    ((start, still_open),) = rows(
        shared_demo_db, "SELECT to_char(min(reported_at) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), bool_or(resolved_at IS NULL) FROM issue")
    assert issues["interval"][0][0] == start
    assert still_open and issues["interval"][0][1] is None  # open issues: no end yet
    gardens = api.get("anonymous", "/collections/gardens").json()["extent"]
    assert "temporal" not in gardens and "spatial" in gardens


def test_answers_in_each_crs_with_its_axis_order(api: Clients, shared_demo_db: Engine) -> None:
    truth = {
        fid: (lon, lat)
        for fid, lon, lat in rows(
            shared_demo_db,
            "SELECT id, ST_X(geom), ST_Y(geom) FROM stairwell WHERE compound_id = :c",
            c=COMPOUND_34,
        )
    }
    assert len(truth) == 57
    gk = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    for crs in (CRS84, WGS84, MERCATOR, GK_114E):
        answer = api.get(
            "analyst", ITEMS, params={"compound_id": COMPOUND_34, "crs": crs, "limit": 100}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-crs"] == f"<{crs}>"
        found = {f["id"]: f["geometry"]["coordinates"] for f in answer.json()["features"]}
        assert set(found) == set(truth)
        for fid, (lon, lat) in truth.items():
            first, second = found[fid]
            if crs == CRS84:
                assert (first, second) == pytest.approx((lon, lat), abs=1e-9)
            elif crs == WGS84:
                assert (first, second) == pytest.approx((lat, lon), abs=1e-9)
            elif crs == MERCATOR:
                x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
                assert (first, second) == pytest.approx((x, y), abs=0.01)
            else:
                easting, northing = gk.transform(lon, lat)
                assert (first, second) == pytest.approx((northing, easting), abs=0.01)
                assert 2_000_000 < first < 3_000_000 and 300_000 < second < 600_000
    one = next(iter(truth))
    single = api.get("analyst", f"{ITEMS}/{one}", params={"crs": WGS84})
    assert single.headers["content-crs"] == f"<{WGS84}>"
    assert single.json()["geometry"]["coordinates"] == pytest.approx(truth[one][::-1], abs=1e-9)


def test_bbox_and_filter_in_other_crs_select_the_same_features(
    api: Clients, shared_demo_db: Engine
) -> None:
    west, south, east, north = 113.2935, 23.1440, 113.2955, 23.1460
    expected = stairwell_ids(
        shared_demo_db, "ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326))",
        w=west, s=south, e=east, n=north,
    )
    assert 10 < len(expected) < 1021
    lonlat = ids(api, bbox=f"{west},{south},{east},{north}")
    latlon = ids(api, bbox=f"{south},{west},{north},{east}", **{"bbox-crs": WGS84})
    assert lonlat == latlon == expected
    ring = [(south, west), (south, east), (north, east), (north, west), (south, west)]
    polygon = "POLYGON((" + ",".join(f"{a} {b}" for a, b in ring) + "))"
    by_filter = ids(api, filter=f"S_INTERSECTS(geometry, {polygon})", **{"filter-crs": WGS84})
    assert by_filter == expected
    # A box in the Gauss-Krüger zone, northing first: the exact test is made in that CRS.
    n0, e0, n1, e1 = 2_560_600.0, 427_600.0, 2_560_800.0, 427_800.0
    in_zone = stairwell_ids(
        shared_demo_db,
        "ST_Intersects(ST_Transform(geom, 4547), ST_MakeEnvelope(:e0, :n0, :e1, :n1, 4547))",
        e0=e0, n0=n0, e1=e1, n1=n1,
    )
    projected = ids(api, bbox=f"{n0},{e0},{n1},{e1}", **{"bbox-crs": GK_114E})
    assert projected == in_zone and in_zone


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/2000"}, "crs"),
        ({"crs": "EPSG:9999999999"}, "crs"),
        ({"bbox": "1,2,3,4", "bbox-crs": "urn:ogc:def:crs:EPSG::27700"}, "bbox-crs"),
        ({"bbox": "5e9,5e9,6e9,6e9", "bbox-crs": MERCATOR}, "outside"),
        ({"filter": "S_INTERSECTS(geometry, POINT(1 2))", "filter-crs": "CRS83"}, "filter-crs"),
        ({"filter": "S_INTERSECTS(geometry, POINT(9e9 9e9))", "filter-crs": GK_114E}, "outside"),
    ],
)
def test_unserved_crs_and_boxes_off_the_globe_are_400(
    api: Clients, params: dict[str, str], message: str
) -> None:
    answer = api.get("analyst", ITEMS, params=params)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert message in answer.json()["detail"]


def test_datetime_on_the_temporal_property(api: Clients, shared_demo_db: Engine) -> None:
    dates = rows(
        shared_demo_db,
        "SELECT min(last_surveyed_on), max(last_surveyed_on), count(last_surveyed_on) "
        "FROM stairwell",
    )[0]
    assert dates[2], "the demo has survey dates"
    middle = dates[0] + (dates[1] - dates[0]) / 2  # type: ignore[operator]
    expected = {
        r[0]
        for r in rows(
            shared_demo_db,
            "SELECT id FROM stairwell WHERE last_surveyed_on <= :d",
            d=middle,
        )
    }
    found = {f["id"] for f in features(api, "analyst", ITEMS, datetime=f"../{middle.isoformat()}")}
    assert found == expected and 0 < len(found) < dates[2]  # type: ignore[operator]
    same_day = {
        r[0] for r in rows(shared_demo_db, "SELECT id FROM stairwell WHERE last_surveyed_on = :d",
                           d=dates[1])
    }
    instant = {f["id"] for f in features(api, "analyst", ITEMS, datetime=dates[1].isoformat())}
    assert instant == same_day and instant
    later = {
        f["id"]
        for f in features(api, "analyst", ITEMS, datetime=f"{middle.isoformat()}T00:00:00Z/..")
    }
    assert later == {
        r[0] for r in rows(shared_demo_db,
                           "SELECT id FROM stairwell WHERE last_surveyed_on >= :d", d=middle)
    }
    gardens = features(api, "anonymous", "/collections/gardens/items", datetime="2020-01-01")
    assert len(gardens) == 6  # no temporal property: the time filter does not apply
    for bad in ("yesterday", "2024-13-01", "2024-02-01/2023-01-01", "../..", "a/b/c"):
        answer = api.get("analyst", ITEMS, params={"datetime": bad})
        assert answer.status_code == 400, bad


def test_properties_sortby_and_ids(api: Clients, shared_demo_db: Engine) -> None:
    chosen = features(
        api, "analyst", ITEMS, compound_id=COMPOUND_34, properties="label,households"
    )
    assert len(chosen) == 57
    assert all(set(f["properties"]) == {"label", "households"} for f in chosen)  # type: ignore[arg-type]
    none = features(api, "analyst", ITEMS, compound_id=COMPOUND_34, properties="")
    assert all(f["properties"] == {} for f in none)
    ordered = features(api, "analyst", ITEMS, compound_id=COMPOUND_34, sortby="-households,label")
    truth = rows(
        shared_demo_db,
        "SELECT id FROM stairwell WHERE compound_id = :c "
        "ORDER BY households DESC NULLS LAST, label ASC NULLS LAST, id",
        c=COMPOUND_34,
    )
    assert [f["id"] for f in ordered] == [r[0] for r in truth]
    paged = [
        f["id"]
        for offset in (0, 20, 40)
        for f in api.get(
            "analyst", ITEMS,
            params={"compound_id": COMPOUND_34, "sortby": "-households,label",
                    "limit": 20, "offset": offset},
        ).json()["features"]
    ]
    assert paged == [r[0] for r in truth]  # pages of a sorted list: none missing or repeated
    wanted = [r[0] for r in truth[:5]]
    picked = features(api, "analyst", ITEMS, ids=",".join(map(str, wanted)))
    assert sorted(f["id"] for f in picked) == sorted(wanted)
    for params in ({"properties": "nope"}, {"sortby": "notes"}, {"sortby": "-"},
                   {"ids": "1,x"}, {"ids": ",".join(["1"] * 1001)}):
        answer = api.get("analyst", ITEMS, params=params)
        assert answer.status_code == 400, (params, answer.text)


def test_cql2_json_matches_cql2_text(api: Clients) -> None:
    text = "elevator_status = 'applied' AND households >= 10 AND compound_id IN (5, 6)"
    tree = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "elevator_status"}, "applied"]},
            {"op": ">=", "args": [{"property": "households"}, 10]},
            {"op": "in", "args": [{"property": "compound_id"}, [5, 6]]},
        ],
    }
    by_text = {f["id"] for f in features(api, "analyst", ITEMS, filter=text)}
    by_json = {
        f["id"]
        for f in features(
            api, "analyst", ITEMS, filter=json.dumps(tree), **{"filter-lang": "cql2-json"}
        )
    }
    assert by_text == by_json and by_text
    spatial = {
        "op": "s_intersects",
        "args": [
            {"property": "geometry"},
            {"type": "Polygon", "coordinates": [[[113.2935, 23.1440], [113.2955, 23.1440],
                                                 [113.2955, 23.1460], [113.2935, 23.1440]]]},
        ],
    }
    json_lang = {"filter-lang": "cql2-json"}
    assert features(api, "analyst", ITEMS, filter=json.dumps(spatial), **json_lang)


@pytest.mark.parametrize(
    "hostile",
    [
        "{",
        "[]",
        "42",
        '{"op": "=", "args": [{"property": "households"}]}',
        '{"op": "=", "args": [{"property": "notes"}, "x"]}',
        '{"op": "=", "args": [{"property": "households"}, "ten"]}',
        '{"op": "t_before", "args": [1, 2]}',
        '{"op": "like", "args": [{"property": "label"}, {"date": "2020-01-01"}]}',
        '{"op": "s_within", "args": [{"property": "geometry"}, {"type": "Point"}]}',
        '{"op": "=", "args": [{"property": "households"}, 1e400]}',
        '{"op": "in", "args": [{"property": "households"}, [[1]]]}',
        '{"op": "not", "args": [' * 500 + "true" + "]}" * 500,
        json.dumps({"op": "=", "args": [{"property": "label"}, "x" * 30_000]}),
    ],
)
def test_hostile_cql2_json_is_400(api: Clients, hostile: str) -> None:
    answer = api.get("analyst", ITEMS, params={"filter": hostile, "filter-lang": "cql2-json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_html_pages(api: Clients) -> None:
    page = api.get("anonymous", "/collections/gardens/items", params={"f": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.count("<tr>") == 7 and "<svg" in page.text and "<script" not in page.text
    for path in ("/", "/collections", "/collections/gardens"):
        answer = api.get("anonymous", path, params={"f": "html"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    links = api.get("anonymous", "/collections/gardens").json()["links"]
    assert any(lk["rel"] == "alternate" and lk["type"] == "text/html" for lk in links)


ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def test_html_pages_speak_the_callers_language_with_labels_not_codes(
    api: Clients, shared_demo_db: Engine
) -> None:
    (fid, code), = rows(shared_demo_db, "SELECT id, elevator_status FROM stairwell "
                                        "WHERE elevator_status = 'applied' LIMIT 1")
    (zh_label, en_label), = rows(shared_demo_db, "SELECT label_zh, label_en FROM elevator_status "
                                                 "WHERE code = :c", c=code)
    path = f"{ITEMS}/{fid}"
    chinese = api.get("analyst", path, params={"f": "html"}, headers=ZH)
    assert chinese.status_code == 200 and chinese.headers["content-language"] == "zh-CN"
    assert '<html lang="zh-CN">' in chinese.text and "梯口" in chinese.text
    assert "加装电梯进度" in chinese.text and f"<td>{zh_label}</td>" in chinese.text
    assert f"<td>{code}</td>" not in chinese.text and "<script" not in chinese.text
    english = api.get("analyst", path, params={"f": "html"}, headers={"Accept-Language": "fr"})
    assert english.headers["content-language"] == "en" and "Elevator status" in english.text
    assert f"<td>{en_label}</td>" in english.text
    assert api.get("analyst", path).headers["content-type"] == "application/geo+json"
    gardens = api.get("anonymous", "/collections/gardens/items", params={"f": "html"},
                      headers=ZH).text
    kinds = {k for (k,) in rows(shared_demo_db, "SELECT DISTINCT kind FROM garden")}
    assert kinds and not any(f"<td>{kind}</td>" in gardens for kind in kinds)
    assert "口袋公园" in gardens or "社区花园" in gardens or "街头绿地" in gardens
    for page in ("/", "/collections", "/collections/gardens", "/conformance"):
        answer = api.get("anonymous", page, params={"f": "html"}, headers=ZH)
        assert answer.status_code == 200 and '<html lang="zh-CN">' in answer.text, page
    assert "花园绿地" in api.get("anonymous", "/collections", params={"f": "html"},
                              headers=ZH).text
    classes = api.get("anonymous", "/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html" in classes


def test_schema_per_collection_and_limits_in_openapi(api: Clients) -> None:
    schema = api.get("analyst", "/collections/stairwells/schema")
    assert schema.headers["content-type"].startswith("application/schema+json")
    props = schema.json()["properties"]
    assert props["geometry"]["format"] == "geometry-point"
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert props["id"]["x-ogc-role"] == "id"
    assert props["batch_id"]["type"] == "integer"
    assert props["last_surveyed_on"] == {**props["last_surveyed_on"], "format": "date",
                                         "x-ogc-role": "primary-instant"}
    issues = api.get("analyst", "/collections/issues/schema").json()["properties"]
    assert issues["reported_at"]["x-ogc-role"] == "primary-interval-start"
    polygons = api.get("anonymous", "/collections/gardens/schema").json()["properties"]
    assert polygons["geometry"]["format"] == "geometry-multipolygon"
    assert api.get("anonymous", "/collections/stairwells/schema").status_code == 401
    spec = api.get("anonymous", "/api").json()
    limit = next(
        p for p in spec["paths"]["/collections/stairwells/items"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 10_000
    landing = api.get("anonymous", "/").json()["links"]
    assert any(lk["rel"].endswith("/tiling-schemes") for lk in landing)
    collection = api.get("anonymous", "/collections/gardens").json()["links"]
    assert any(lk["rel"].endswith("/tilesets-vector") for lk in collection)
