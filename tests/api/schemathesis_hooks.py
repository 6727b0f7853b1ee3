"""What schemathesis is told beyond the OpenAPI document, each with its reason.

Loaded by the schemathesis run of tests/api/test_openapi.py (SCHEMATHESIS_HOOKS).
"""

from __future__ import annotations

from typing import Any

import schemathesis


def declared_maximum(context: Any, name: str) -> float | None:
    """The `maximum` the operation declares for a query parameter (None: none)."""
    operation = getattr(context, "operation", None)
    raw = getattr(getattr(operation, "definition", None), "raw", None) or {}
    for parameter in raw.get("parameters", []):
        if parameter.get("name") == name and parameter.get("in") == "query":
            maximum = parameter.get("schema", {}).get("maximum")
            return float(maximum) if maximum is not None else None
    return None


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """No `limit` above its declared maximum: OGC API Features requires such a limit to be
    clamped to the maximum, not refused (/req/core/fc-limit-response-1 C), so it is no invalid
    input (tests/api/test_features_read.py checks the clamping)."""
    if not written_in_crs84(case):
        return False
    query = case.query
    if not query or "limit" not in query:
        return True
    maximum = declared_maximum(context, "limit")
    try:
        limit = float(query["limit"])  # the coverage phase sends it as text
    except (TypeError, ValueError):
        return True
    return maximum is None or limit <= maximum


def written_in_crs84(case: Any) -> bool:
    """A body's coordinates are bounded by the body schema in CRS84 only: OpenAPI 3.0 cannot tie
    those bounds to the Content-Crs header, so a CRS84-bounded point sent as, say, EPSG:3857
    lands off the service area (422). Writes in other CRSs: tests/api/test_ogc_writes_crs.py."""
    headers = case.headers or {}
    declared = headers.get("Content-Crs")
    return declared is None or "CRS84" in str(declared)
