"""OGC API Features reads over real HTTP: landing page, collections, items, paging, filters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis_service.catalog import default_catalog
from tests.conftest import DemoTemplate
from tests.features.live import COMPOUND_34, Clients, clients, problem_field, running


@pytest.fixture(scope="module")
def api(shared_demo_db: Engine, demo_template: DemoTemplate) -> Iterator[Clients]:
    """Role clients against one live server on the shared (read-only) demo."""
    with running(shared_demo_db) as live:
        yield clients(live, demo_template)


def test_landing_page_links_and_conformance(api: Clients) -> None:
    landing = api.get("anonymous", "/")
    assert landing.status_code == 200
    rels = {link["rel"]: link for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/api")
    classes = api.get("anonymous", "/conformance").json()["conformsTo"]
    for part in (
        "features-1/1.0/conf/core",
        "features-1/1.0/conf/geojson",
        "features-1/1.0/conf/oas30",
        "cql2/1.0/conf/cql2-text",
        "features-4/1.0/conf/create-replace-delete",
    ):
        assert any(c.endswith(part) for c in classes), part


def test_openapi_30_document(api: Clients) -> None:
    answer = api.get("anonymous", "/api")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    spec = answer.json()
    assert spec["openapi"].startswith("3.0")
    assert "/collections/stairwells/items/{featureId}" in spec["paths"]
    text = answer.text
    assert '"type":["' not in text.replace(" ", "")  # no 3.1 type lists left
    params = {
        p["name"] for p in spec["paths"]["/collections/stairwells/items"]["get"]["parameters"]
    }
    assert {"bbox", "limit", "offset", "filter", "compound_id", "elevator_status"} <= params


def test_collections_by_role(api: Clients) -> None:
    public = {layer.id for layer in default_catalog().layers.values() if layer.public}
    anonymous = api.get("anonymous", "/collections").json()["collections"]
    assert {c["id"] for c in anonymous} == public
    everything = api.get("analyst", "/collections").json()["collections"]
    assert {c["id"] for c in everything} == set(default_catalog().layers)


def test_collection_extent_is_crs84_from_the_data(api: Clients, shared_demo_db: Engine) -> None:
    answer = api.get("planner", "/collections/stairwells")
    assert answer.status_code == 200
    body = answer.json()
    west, south, east, north = body["extent"]["spatial"]["bbox"][0]
    with shared_demo_db.connect() as conn:
        box = conn.execute(
            sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM (SELECT ST_Extent(geom) e FROM stairwell) x"
            )
        ).one()
    assert (west, south, east, north) == pytest.approx(tuple(box))
    assert 113 < west < east < 114 and 23 < south < north < 24
    assert body["extent"]["spatial"]["crs"].endswith("CRS84")
    assert any(link["rel"] == "items" for link in body["links"])


def test_queryables_are_json_schema(api: Clients) -> None:
    answer = api.get("planner", "/collections/stairwells/queryables")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/schema+json"
    props = answer.json()["properties"]
    assert props["households"]["type"] == "integer"
    assert "in_service" in props["elevator_status"]["enum"]  # from the lookup table
    assert props["survey_status"]["enum"] == ["not_visited", "visited", "follow_up"]
    assert "notes" not in props  # not queryable
    assert props["geometry"]["$ref"].endswith("Point.json")


def test_items_of_compound_34(api: Clients) -> None:
    answer = api.get(
        "planner",
        "/collections/stairwells/items",
        params={"compound_id": COMPOUND_34, "limit": 100},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    page = answer.json()
    assert page["type"] == "FeatureCollection"
    assert page["numberMatched"] == page["numberReturned"] == 57
    feature = page["features"][0]
    assert isinstance(feature["id"], int)
    assert feature["geometry"]["type"] == "Point"
    assert set(feature["properties"]) == {
        f.name for f in default_catalog().layers["stairwells"].fields
    }
    statuses = sorted(f["properties"]["elevator_status"] for f in page["features"])
    assert statuses.count("in_service") == 15 and statuses.count("applied") == 42


def test_paging_links_walk_every_feature(api: Clients) -> None:
    seen: list[int] = []
    url: str | None = "/collections/stairwells/items?compound_id=5&limit=20"
    pages = 0
    with api("analyst") as client:
        while url:
            page = client.get(url).json()
            seen += [f["id"] for f in page["features"]]
            links = {link["rel"]: link["href"] for link in page["links"]}
            assert ("prev" in links) == (pages > 0)
            url = links.get("next")
            pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 57 and seen == sorted(seen)


def test_limit_is_clamped_not_refused(api: Clients) -> None:
    answer = api.get("analyst", "/collections/streets/items", params={"limit": 10**9})
    assert answer.status_code == 200
    self_link = next(link for link in answer.json()["links"] if link["rel"] == "self")
    assert "limit=10000" in self_link["href"]


def test_offset_past_the_end(api: Clients) -> None:
    page = api.get(
        "analyst", "/collections/stairwells/items", params={"compound_id": 5, "offset": 1000}
    ).json()
    assert page["features"] == [] and page["numberMatched"] == 57
    assert any(link["rel"] == "prev" for link in page["links"])


def test_bbox_uses_crs84_and_matches_sql(api: Clients, shared_demo_db: Engine) -> None:
    box = (113.293, 23.144, 113.296, 23.147)
    page = api.get(
        "analyst",
        "/collections/stairwells/items",
        params={"bbox": ",".join(map(str, box)), "limit": 10000},
    ).json()
    with shared_demo_db.connect() as conn:
        expected = conn.execute(
            sa.text(
                "SELECT count(*) FROM stairwell WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)"
            ),
            dict(zip("abcd", box, strict=True)),
        ).scalar_one()
    assert 0 < page["numberReturned"] == expected
    for feature in page["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def test_cql2_filter_on_items(api: Clients) -> None:
    page = api.get(
        "planner",
        "/collections/stairwells/items",
        params={
            "filter": "compound_id = 5 AND elevator_status IN ('applied') AND "
            "S_INTERSECTS(geometry, BBOX(113, 23, 114, 24))",
            "filter-lang": "cql2-text",
            "limit": 100,
        },
    ).json()
    assert page["numberMatched"] == 42


@pytest.mark.parametrize(
    "params",
    [
        {"colour": "red"},
        {"limit": "ten"},
        {"limit": "0"},
        {"limit": "¹"},
        {"offset": "-1"},
        {"bbox": "1,2,3"},
        {"bbox": "113,24,114,23"},
        {"bbox": "a,b,c,d"},
        {"bbox-crs": "EPSG:27700", "bbox": "1,2,3,4"},
        {"households": "many"},
        {"survey_status": "sometimes"},
        {"compound_id": "99999999999"},
        {"label": "x" * 51},
        {"notes": "x"},
        {"filter": "households >"},
        {"filter": "colour = 'red'"},
        {"filter": "floors = 1", "filter-lang": "cql2-json"},
        {"f": "xml"},
    ],
)
def test_bad_items_queries_are_400(api: Clients, params: dict[str, str]) -> None:
    answer = api.get("planner", "/collections/stairwells/items", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_repeated_parameter_is_400(api: Clients) -> None:
    answer = api.get("planner", "/collections/stairwells/items?limit=1&limit=2")
    assert answer.status_code == 400


def test_one_item_with_etag_and_304(api: Clients) -> None:
    with api("planner") as client:
        answer = client.get("/collections/stairwells/items/1")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/geo+json"
        etag = answer.headers["etag"]
        assert etag == f'"{answer.json()["properties"]["version"]}"'
        again = client.get("/collections/stairwells/items/1", headers={"If-None-Match": etag})
        other = client.get("/collections/stairwells/items/1", headers={"If-None-Match": '"999"'})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    assert other.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/collections/stairwells/items/99999999",
        "/collections/stairwells/items/abc",
        "/collections/stairwells/items/-1",
        "/collections/nowhere",
        "/collections/nowhere/items",
        "/collections/nowhere/items/1",
        "/collections/nowhere/queryables",
    ],
)
def test_missing_things_are_404(api: Clients, path: str) -> None:
    answer = api.get("planner", path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_bad_token_is_401(api: Clients) -> None:
    with api.live.client("gis_forged") as client:
        assert client.get("/collections/compounds/items").status_code == 401


# Who reads what: anonymous reads public layers only; grid workers only their own grids.
READS = [
    ("anonymous", "/collections/compounds/items", 200),
    ("anonymous", "/collections/compounds/items/5", 200),
    ("anonymous", "/collections/stairwells/items", 401),
    ("anonymous", "/collections/stairwells", 401),
    ("anonymous", "/collections/stairwells/queryables", 401),
    ("anonymous", "/collections/issues/items/1", 401),
    ("anonymous", "/collections/compounds/items/5/history", 401),
    ("analyst", "/collections/stairwells/items", 200),
    ("analyst", "/collections/issues/items/1", 200),
    ("planner", "/collections/candidate_sites/items", 200),
    ("admin", "/collections/grids/items", 200),
    ("grid02", "/collections/issues/items/1", 200),
    ("grid03", "/collections/issues/items/1", 403),
    ("grid03", "/collections/buildings/items/1", 200),
]


@pytest.mark.parametrize(("who", "path", "status"), READS)
def test_read_role_matrix(api: Clients, who: str, path: str, status: int) -> None:
    answer = api.get(who, path)
    assert answer.status_code == status, answer.text


def test_grid_worker_lists_only_own_grid(api: Clients, shared_demo_db: Engine) -> None:
    page = api.get("grid02", "/collections/stairwells/items", params={"limit": 10000}).json()
    with shared_demo_db.connect() as conn:
        own = conn.execute(sa.text("SELECT count(*) FROM stairwell WHERE grid_id = 2")).scalar_one()
    assert page["numberMatched"] == own == len(page["features"])
    assert {f["properties"]["grid_id"] for f in page["features"]} == {2}
    # the other grids' stairwells: each one answers 403, not 404 (it exists, it is not yours)
    with shared_demo_db.connect() as conn:
        foreign = conn.execute(
            sa.text("SELECT min(id) FROM stairwell WHERE grid_id = 3")
        ).scalar_one()
    answer = api.get("grid02", f"/collections/stairwells/items/{foreign}")
    assert answer.status_code == 403
    assert "outside your grids" in answer.json()["detail"]
    assert api.get("grid02", "/collections/stairwells/items/99999999").status_code == 404
    assert api.get("grid02", f"/collections/stairwells/items/{foreign}/history").status_code == 403
    assert problem_field(answer) == []


def test_openapi_30_validates_against_the_official_schema(api: Clients) -> None:
    import jsonschema
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    spec = api.get("anonymous", "/api").json()
    jsonschema.Draft4Validator(OPENAPI_30).validate(spec)
    ids = [
        op["operationId"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(ids) == len(set(ids))


def test_items_pages_are_gzipped_when_the_client_accepts_it(api: Clients) -> None:
    """A page of 100 stairwells travels gzip-compressed; the same page uncompressed without."""
    path = "/collections/stairwells/items?limit=100"
    with api("planner") as client:
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.json()["features"] == plain.json()["features"]  # httpx decodes the gzip
    assert len(plain.json()["features"]) == 100
