"""Keys of cached analysis results: the question asked, and the tables whose versions it reads.

The full key adds the caller's scope (role and grids) and those tables' data versions, so a
write by anyone makes the next answer new and no caller sees another's rows.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.datasets.cache import (
    HIERARCHY_TABLES,
    STAIRWELL_TABLES,
    VersionKey,
    freeze,
    scope_key,
    versions_key,
)

if TYPE_CHECKING:
    from gis_service.analysis.coverage import Eligibility
    from gis_service.datasets.area import Area
    from gis_service.datasets.params import ServiceParams
    from gis_service.datasets.siting import SitingParams
    from gis_service.datasets.supply import SupplyParams


@dataclass(frozen=True)
class ResultKey:
    """An analysis question and the tables its answer depends on."""

    question: tuple[Hashable, ...]
    tables: tuple[str, ...]

    def scoped(self, principal: Principal, conn: sa.Connection) -> tuple[Hashable, ...]:
        """The cache key: the question, the caller's scope, the tables' data versions now."""
        asked, versions = self.split(principal, conn)
        return (*asked, versions)

    def split(
        self, principal: Principal, conn: sa.Connection
    ) -> tuple[tuple[Hashable, ...], VersionKey]:
        """The question with the caller's scope, and the tables' data versions now."""
        return (*self.question, scope_key(principal)), versions_key(conn, self.tables)


def layer_tables(params: ServiceParams) -> tuple[str, ...]:
    """The facility and street tables a service question reads."""
    streets = params.sources.streets
    return (params.sources.facilities.table, *((streets.table,) if streets else ()))


def service_tables(params: ServiceParams) -> tuple[str, ...]:
    """Tables a service answer depends on."""
    return (*STAIRWELL_TABLES, *layer_tables(params))


def coverage_key(
    level: str, batch: int | None, touched_only: bool, rule: Eligibility, area: Area
) -> ResultKey:
    """Retrofit coverage per level (or a batch's projection)."""
    question = ("coverage", level, batch, touched_only, rule.cutoff_year, rule.min_floors,
                area.key())  # fmt: skip
    return ResultKey(question, (*STAIRWELL_TABLES, "retrofit_batch"))


def nearest_key(params: ServiceParams, area: Area) -> ResultKey:
    """Per-stairwell nearest facility and distance."""
    return ResultKey(("nearest", freeze(params.as_dict()), area.key()), service_tables(params))


def areas_key(params: ServiceParams, per_facility: bool, buffer_m: float, area: Area) -> ResultKey:
    """Service-area polygons."""
    question = ("areas", freeze(params.as_dict()), per_facility, buffer_m, area.key())
    return ResultKey(question, (*layer_tables(params), *HIERARCHY_TABLES))


def siting_key(params: SitingParams, area: Area) -> ResultKey:
    """The chosen candidate sites."""
    sites = params.service.sources.sites
    tables = (*service_tables(params.service), *((sites.table,) if sites else ()))
    return ResultKey(("siting", freeze(params.as_dict()), area.key()), tables)


def supply_key(params: SupplyParams, area: Area) -> ResultKey:
    """Supply within reach per household."""
    tables: tuple[str, ...] = (*STAIRWELL_TABLES, params.sources.facilities.table)
    if params.mode == "network" and params.sources.streets is not None:
        tables = (*tables, params.sources.streets.table)
    return ResultKey(("supply", freeze(params.as_dict()), area.key()), tables)
