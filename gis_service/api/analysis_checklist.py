"""GET /analysis/complete-community: which required facility kinds each compound or community
reaches on foot, which are missing, and its score (the list of kinds is the catalog's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import Depends, Query, Request
from fastapi.responses import Response

from gis_service.api.analysis_answers import CSV_TYPE, Asked, answer, cached
from gis_service.api.deps import get_connection, get_principal
from gis_service.api.openapi import CSV, beyond_schema, header
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.datasets import formats
from gis_service.datasets.area import Area
from gis_service.datasets.checklist import (
    checklist_params,
    checklist_report,
    report_rows,
    run_checklist,
)

COMMUNITIES = "communities"
RULES = (
    "district_id, subdistrict_id, community_id, grid_id, compound_id: units that exist",
    "bbox: west < east within -180..180, south < north within -90..90",
    "mode=network: the area has streets",
)


def checklist_description(catalog: Catalog) -> str:
    """The OpenAPI description: what is asked, the required kinds, radii and their source."""
    checklist = catalog.complete_community()
    assert checklist is not None
    lines = [
        "The complete-community checklist (完整社区) per compound or community: each required "
        "facility kind counts as present when the stairwells of at least "
        f"{checklist.present_share:.0%} of the unit's households reach one of its kinds within "
        "its walking radius along the network (the layers' access rules), else missing; a kind "
        "no layer records yet is not recorded. Score = share of required kinds present (%).",
        "",
        "Required kinds (radius m; layers and kinds that provide them):",
    ]
    for code, r in checklist.requirements.items():
        lines.append(f"- `{code}`: {r.label.en} ({r.radius_m:g} m; {r.reached_by})")
    lines += ["", f"Source: {checklist.source.en}"]
    return "\n".join(lines)


def checklist_route(catalog: Catalog, area_query: Callable[..., Area]) -> Callable[..., Response]:
    """The /analysis/complete-community handler (status labels: the communities layer's)."""
    labels = catalog.layer(COMMUNITIES).labels

    def complete_community(
        request: Request,
        level: Literal["compound", "community"] = Query(
            "community", description="Unit the checklist is drawn up for"
        ),
        mode: Literal["network", "crow"] = Query("network", description="Along streets or not"),
        f: Literal["json", "csv"] = Query("json", description="Output format"),
        area: Area = Depends(area_query),
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        """Required facility kinds within walking reach per compound or community."""
        params = checklist_params(mode, catalog)
        asked = Asked(request, principal, conn)
        result, hit = cached(
            asked, params.key(area), lambda: run_checklist(conn, params, area, asked.graphs())
        )
        report = {"area": area.as_dict(), "cached": hit,
                  **checklist_report(conn, params, result, level, labels)}  # fmt: skip
        if f == "csv":
            return answer(formats.to_csv(report_rows(report)), CSV_TYPE, hit)
        return answer(formats.dumps(report), "application/json", hit)

    return complete_community


def checklist_route_options(catalog: Catalog) -> dict[str, Any]:
    """The route's description, documented answers and the rules its schema cannot state."""
    ok = {"description": "the checklist in the format asked for (f)",
          "content": {"application/json": {"schema": {"type": "object"}}, CSV: {}},
          "headers": {"X-Cache": header("hit when the result came from the cache, else miss")}}
    return {
        "description": checklist_description(catalog),
        "responses": {200: ok},
        "openapi_extra": beyond_schema(422, *RULES),
    }  # fmt: skip
