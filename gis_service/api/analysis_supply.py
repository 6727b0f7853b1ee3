"""GET /analysis/supply: supply within reach per household and the shortage, by level.

The layers, measures and definitions a request may name are the catalog's (router built per
catalog, as the other /analysis routes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import Depends, Query, Request
from fastapi.responses import Response

from gis_service.analysis.coverage import Eligibility
from gis_service.api.analysis_answers import GEOJSON, Asked, answer, cached, table_answer
from gis_service.api.deps import get_connection, get_principal
from gis_service.auth import Principal
from gis_service.catalog import Catalog
from gis_service.datasets import formats
from gis_service.datasets.area import Area
from gis_service.datasets.keys import supply_key
from gis_service.datasets.params import level_column
from gis_service.datasets.runs import with_names
from gis_service.datasets.supply import (
    DECAYS,
    SupplyParams,
    run_supply,
    supply_level_table,
    supply_params,
)

SupplyLevel = Literal["stairwell", "grid", "compound", "community", "subdistrict", "district"]
STAIRWELL_COLUMNS = [
    "id", "grid_id", "compound_id", "community_id", "subdistrict_id", "district_id",
    "households", "demand", "supply", "ratio", "reached", "shortage", "households_short",
]  # fmt: skip


def definitions(catalog: Catalog, rule: Eligibility = Eligibility()) -> dict[str, dict[str, str]]:
    """Every analysis definition of the catalog in Chinese and English (empty without demand)."""
    demand = catalog.demand()
    if demand is None:
        return {}
    zh = demand.stated("zh", rule.cutoff_year, rule.min_floors)
    en = demand.stated("en", rule.cutoff_year, rule.min_floors)
    return {name: {"zh": zh[name], "en": en[name]} for name in zh}


def supply_description(catalog: Catalog) -> str:
    """The OpenAPI description of /analysis/supply: measures, targets and definitions."""
    lines = [
        "Supply within reach per household (or resident) and the shortage against the "
        "target, per stairwell, grid, compound, community, subdistrict or district.",
        "",
        "Measures (kinds counted together, each kind within its own service radius):",
    ]
    for layer_id in catalog.service_layers():
        layer = catalog.layer(layer_id)
        for name, m in catalog.supply_measures(layer_id).items():
            kinds = ", ".join(m.kinds) if m.kinds else "every kind"
            radii = layer.service.radii_m if layer.service else {}
            target = (
                f"target {m.target.value:g} {m.unit.en} per {m.per} ({m.target.source.en})"
                if m.target else "no target"
            )  # fmt: skip
            lines.append(
                f"- `{layer_id}` / `{name}`: {m.label.en} ({kinds}; radii m {radii}); {target}"
            )
    lines += ["", "Definitions:"]
    lines += [f"- {text['en']}" for text in definitions(catalog).values()]
    demand = catalog.demand()
    if demand is not None:
        pph = demand.persons_per_household
        lines += ["", f"Persons per household: {pph.value:g} ({pph.source.en})."]
    return "\n".join(lines)


def measure_meta(params: SupplyParams) -> dict[str, Any]:
    """What the figures count: the measure's labels, unit, kinds, radii and target's source."""
    spec = params.spec
    return {
        "label": spec.label.model_dump(),
        "unit": spec.unit.model_dump(),
        "per": spec.per,
        "kinds": sorted(params.radii),
        "radii_m": dict(params.radii),
        "target": params.target,
        "target_source": spec.target.source.model_dump() if spec.target else None,
        "persons_per_household_source": params.rules.persons_per_household.source.model_dump(),
    }


def supply_answer(
    asked: Asked, params: SupplyParams, area: Area, level: str, f: str, catalog: Catalog
) -> Response:
    """The supply figures of a level as JSON, CSV or GeoJSON (cached per data version)."""
    conn = asked.conn
    key = supply_key(params, area)
    result, hit = cached(asked, key, lambda: run_supply(conn, params, area, asked.graphs()))
    meta = {
        "parameters": params.as_dict(),
        "measure": measure_meta(params),
        "area": area.as_dict(),
        "level": level,
        "facilities": result.facilities,
        "definitions": definitions(catalog),
    }
    if level == "stairwell":
        rows = result.stairwells
        if f == "geojson":
            texts = formats.geojson_texts(rows["geometry"].to_numpy())
            body = formats.feature_collection(
                rows[STAIRWELL_COLUMNS], texts, rows["id"].tolist(), meta
            )
            return answer(body, GEOJSON, hit)
        return table_answer(conn, rows[STAIRWELL_COLUMNS], "stairwell", f, hit, meta)
    frame = supply_level_table(result, level_column(level), params.target)
    return table_answer(conn, with_names(conn, frame, level), level, f, hit, meta)


def supply_route(catalog: Catalog, area_query: Callable[..., Area]) -> Callable[..., Response]:
    """The /analysis/supply handler for a catalog (its layers and measures in the schema)."""
    layers = [i for i in catalog.service_layers() if catalog.supply_measures(i)]
    measures = sorted({m for i in layers for m in catalog.supply_measures(i)})
    listed = "; ".join(f"{i}: {', '.join(catalog.supply_measures(i))}" for i in layers)

    def supply(
        request: Request,
        layer: str = Query(
            layers[0] if layers else "parking", description="Layer with supply measures",
            json_schema_extra={"enum": layers},
        ),
        measure: str | None = Query(
            None, description=f"Supply measure of the layer (its first when omitted): {listed}",
            json_schema_extra={"enum": measures},
        ),
        mode: Literal["network", "crow"] = Query("network", description="Along streets or not"),
        decay: Literal["none", "gaussian", "stepped"] = Query(
            "none", description=f"Distance decay within each kind's radius: {', '.join(DECAYS)}"
        ),
        target: float | None = Query(
            None, gt=0, description="Target per household or resident (default: the catalog's)"
        ),
        level: SupplyLevel = Query("compound", description="Unit the figures are grouped by"),
        f: Literal["json", "csv", "geojson"] = Query("json", description="Output format"),
        area: Area = Depends(area_query),
        principal: Principal = Depends(get_principal),
        conn: sa.Connection = Depends(get_connection, scope="function"),
    ) -> Response:
        """Supply within reach per household and the shortage, per level."""
        params = supply_params(conn, layer, measure, mode, decay, target, catalog)
        return supply_answer(Asked(request, principal, conn), params, area, level, f, catalog)

    return supply

