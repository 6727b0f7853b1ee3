"""/search: a place by name (zh, en, code, pinyin), for the maps' search box."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from gis_service.api.deps import get_catalog, get_connection, get_principal
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.datasets.search import PLACE_LAYERS, search_places

router = APIRouter(tags=["search"])
ONE = "(" + "|".join(PLACE_LAYERS) + ")"
LAYERS_PATTERN = f"^{ONE}(,{ONE})*$"


@router.get("/search", summary="Find compounds, communities, grids and buildings by name")
def search(
    q: str = Query(min_length=1, max_length=60, description="Name, code or pinyin; terms apart"),
    limit: int = Query(default=12, ge=1, le=50),
    layers: str = Query(default=",".join(PLACE_LAYERS), pattern=LAYERS_PATTERN,
                        description="some of " + ", ".join(PLACE_LAYERS) + ", by commas"),
    principal: Principal = Depends(get_principal),
    catalog: Catalog = Depends(get_catalog),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Places whose names (or pinyin, initials) hold every term; buildings with their compound."""
    asked = layers.split(",")
    readable = [i for i in PLACE_LAYERS
                if i in asked and (not principal.is_anonymous or catalog.layer(i).public)]
    hits = search_places(conn, catalog, q, readable, limit)
    titles = {i: catalog.layer(i).title.model_dump() for i in readable}
    return {"query": q, "hits": [{**h, "layer_title": titles[h["layer"]]} for h in hits]}
