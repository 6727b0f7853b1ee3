"""Printed reports: GET /reports/{compounds|communities|subdistricts}/{id}.pdf.

Handlers are plain `def` (FastAPI runs them in its thread pool): reading, drawing and WeasyPrint
never block the event loop, and at most two reports render at once per process (503 beyond a
minute's wait). The report reads in the caller's role: a grid worker's report counts only the
stairwells of their grids, and a unit outside them is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from gis_service import audit
from gis_service.api.deps import get_catalog, get_connection, get_engine, get_principal
from gis_service.api.openapi import errors, header, media
from gis_service.auth import Principal
from gis_service.errors import Unauthorized
from gis_service.reports.render import report_pdf
from gis_service.webmap.i18n import negotiate

router = APIRouter(prefix="/reports", tags=["reports"])
COLLECTIONS = {"compounds": "compound", "communities": "community", "subdistricts": "subdistrict"}
MAX_ID = 2**31 - 1


def report_route(level: str) -> Callable[..., Response]:
    """The handler of one level's reports."""

    def report(
        request: Request,
        unit_id: int = Path(..., ge=1, le=MAX_ID, description=f"Id of the {level}"),
        lang: Literal["zh", "en"] | None = Query(
            None, description="zh or en (default: Accept-Language, else zh)"),
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:  # fmt: skip
        """A PDF report: map with legend, coverage, pipeline, batch projection, gaps."""
        if principal.is_anonymous:
            raise Unauthorized("sign in to get a report")
        chosen = negotiate(lang, request.headers.get("accept-language"))
        pdf = report_pdf(conn, get_catalog(request), principal, level, unit_id, chosen)
        audit.record(get_engine(request), principal,
                     audit.Event("export", target=f"report:{level}:{unit_id}",
                                 detail={"format": "pdf", "lang": chosen}))  # fmt: skip
        name = f"{level}-{unit_id}.pdf"
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f"inline; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        })  # fmt: skip

    report.__name__ = f"{level}_report"
    return report


for _collection, _level in COLLECTIONS.items():
    router.add_api_route(
        f"/{_collection}/{{unit_id}}.pdf", report_route(_level), methods=["GET"],
        summary=f"PDF report of a {_level}", response_class=Response,
        responses={
            200: media("application/pdf", description="the report", headers={
                "Content-Disposition": header("inline; filename=<level>-<id>.pdf")}),
            **errors(401, 403, 404, 422, 503, e403="a grid worker asking outside their grids",
                     e503="too many reports rendering; try again"),
        },
    )  # fmt: skip
