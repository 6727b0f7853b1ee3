"""POST /stairwells/{id}/advance: a planner moves a stairwell to its next pipeline step."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query

from gis_service.api.deps import get_catalog, get_connection, get_principal
from gis_service.api.openapi import errors
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.datasets.pipeline import advance

router = APIRouter(prefix="/stairwells", tags=["pipeline"])
MAX_ID = 2**31 - 1
DESCRIPTION = (
    "Moves the stairwell to the next step of the retrofit pipeline (the `elevator_status` "
    "lookup, by rank). A step marked `needs_consent` (applied and after) is refused with 409 "
    "unless the owners' vote passes now under the consent rule in force (the city's own before "
    "the national one); the refusal gives the verdict, what is missing and the reason in zh "
    "(`detail_zh`) and en (`detail`). The move is recorded in the stairwell's status history "
    "with who, when, the rule and the verdict."
)


@router.post(
    "/{stairwell_id}/advance",
    description=DESCRIPTION,
    responses=errors(404, 409, e409="The vote does not pass, the last step is reached, or "
                     "the stairwell is no longer at `from_status`"),
)  # fmt: skip
def advance_stairwell(
    stairwell_id: int = Path(ge=1, le=MAX_ID),
    from_status: str | None = Query(None, max_length=40, description="Refuse unless still here"),
    city: str | None = Query(None, max_length=100, description="City of a city consent rule"),
    principal: Principal = Depends(get_principal),
    catalog: Catalog = Depends(get_catalog),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> dict[str, Any]:
    """Move a stairwell one step on, when its vote passes where the step needs it."""
    labels = {name: catalog.layer(name).labels for name in ("stairwells", "households")}
    return advance(
        conn, principal, stairwell_id, labels, on=dt.date.today(), city=city, expected=from_status
    )
