"""The complete-community checklist read from PostGIS: the catalog's required kinds, the
facilities of their layers' kinds, the stairwells of an area and the walkable network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from pyproj import CRS

from gis_service.analysis.checklist import reached_by_any, scores, unit_shares, unit_statuses
from gis_service.analysis.supply import Facilities
from gis_service.catalog import Catalog, Layer, default_catalog
from gis_service.catalog_checklist import ALL_KINDS, Checklist, Requirement
from gis_service.datasets.area import Area, margin_box
from gis_service.datasets.cache import STAIRWELL_TABLES, ResultCache
from gis_service.datasets.keys import ResultKey
from gis_service.datasets.load import level_names, load_layer, load_stairwells
from gis_service.datasets.params import MODES, Sources, bad, layer_kinds, one_of
from gis_service.datasets.runs import SNAP_SLACK_M, pick_crs, street_graph
from gis_service.text import Text

LEVELS = ("compound", "community")
HIERARCHY = ["id", "grid_id", "compound_id", "community_id", "subdistrict_id", "district_id"]


@dataclass(frozen=True)
class ChecklistParams:
    """A checklist question: along streets or not, with the catalog's list and sources."""

    mode: str
    checklist: Checklist = field(compare=False, repr=False, kw_only=True)
    sources: dict[str, Sources] = field(compare=False, repr=False, kw_only=True)
    layers: dict[str, Layer] = field(compare=False, repr=False, kw_only=True)

    def tables(self) -> tuple[str, ...]:
        """The tables the answer reads (for cache keys)."""
        streets = {s.streets.table for s in self.sources.values() if s.streets}
        return (*STAIRWELL_TABLES, *sorted({s.facilities.table for s in self.sources.values()}),
                *sorted(streets))  # fmt: skip

    def key(self, area: Area) -> ResultKey:
        """The cache key of the question for an area."""
        return ResultKey(("complete-community", self.mode, area.key()), self.tables())


def checklist_params(mode: str = "network", catalog: Catalog | None = None) -> ChecklistParams:
    """Validate a checklist question against the catalog."""
    catalog = catalog or default_catalog()
    one_of("mode", mode, MODES)
    checklist = catalog.complete_community()
    if checklist is None:
        raise bad("catalog", "the catalog states no complete-community checklist")
    layers = {i: catalog.layer(i) for i in checklist.layers()}
    sources = {i: Sources.of(catalog, layer) for i, layer in layers.items()}
    if mode == "network" and any(s.streets is None for s in sources.values()):
        raise bad("mode", "the catalog has no walkable network: use mode=crow")
    return ChecklistParams(mode, checklist=checklist, sources=sources, layers=layers)


def wanted_kinds(requirement: Requirement, layer: str, known: list[str]) -> list[str]:
    """The kinds of a layer that provide a requirement and that the layer records."""
    kinds = requirement.reached_by[layer]
    return list(known) if kinds == ALL_KINDS else [k for k in kinds if k in known]


@dataclass(frozen=True)
class ChecklistResult:
    """Per stairwell of the area: hierarchy, households and one reached flag per required kind;
    and per required kind the layer kinds it was looked for in, and those no layer records."""

    stairwells: pd.DataFrame
    looked_for: dict[str, dict[str, list[str]]]
    unrecorded: dict[str, dict[str, list[str]]]


def run_checklist(
    conn: sa.Connection, params: ChecklistParams, area: Area = Area(),
    graphs: ResultCache | None = None,
) -> ChecklistResult:  # fmt: skip
    """Which required kinds each stairwell of an area reaches within their radii."""
    checklist = params.checklist
    homes = load_stairwells(conn, area)
    reach = max(r.radius_m for r in checklist.requirements.values())
    box = margin_box(conn, area, reach + SNAP_SLACK_M)
    frames = {i: load_layer(conn, s.facilities, box) for i, s in params.sources.items()}
    known = {i: layer_kinds(conn, layer) for i, layer in params.layers.items()}
    crs: CRS = pick_crs(homes, *frames.values()) if len(homes) else CRS.from_epsg(3857)
    metric = homes.to_crs(crs)
    graph = None
    streets = next(iter(params.sources.values())).streets
    if params.mode == "network" and streets is not None and len(homes):
        closed = next(iter(params.sources.values())).rules.closed
        graph = street_graph(conn, streets, box, crs, graphs, closed)
    out = pd.DataFrame(homes[[*HIERARCHY, "households"]])
    looked_for: dict[str, dict[str, list[str]]] = {}
    unrecorded: dict[str, dict[str, list[str]]] = {}
    for code, requirement in checklist.requirements.items():
        looked_for[code], unrecorded[code], sources = {}, {}, []
        for layer_id in requirement.reached_by:
            kinds = wanted_kinds(requirement, layer_id, known[layer_id])
            asked = requirement.reached_by[layer_id]
            lost = [] if asked == ALL_KINDS else [k for k in asked if k not in kinds]
            looked_for[code][layer_id] = kinds
            if lost:
                unrecorded[code][layer_id] = lost
            rows = frames[layer_id]
            rows = rows[rows["kind"].astype(str).isin(kinds)] if len(rows) else rows
            sources.append(_facilities(rows.to_crs(crs), requirement.radius_m,
                                       params.sources[layer_id]))  # fmt: skip
        out[code] = reached_by_any(sources, metric, graph)
    return ChecklistResult(out.reset_index(drop=True), looked_for, unrecorded)


def _facilities(rows: gpd.GeoDataFrame, radius: float, sources: Sources) -> Facilities:
    n = len(rows)
    geometry = gpd.GeoDataFrame(rows[["id", "kind", "geometry"]].reset_index(drop=True),
                                geometry="geometry", crs=rows.crs)  # fmt: skip
    return Facilities(geometry, np.ones(n), np.full(n, float(radius)), sources.rules.access,
                      sources.rules.snap)  # fmt: skip


def checklist_report(
    conn: sa.Connection, params: ChecklistParams, result: ChecklistResult, level: str,
    labels: dict[str, Text],
) -> dict[str, Any]:  # fmt: skip
    """The checklist per unit of a level: each required kind's share and status, the score,
    what is present and missing (codes and zh/en labels), with the list's source."""
    col = one_of("level", level, list(LEVELS)) + "_id"
    checklist = params.checklist
    codes = list(checklist.requirements)
    rows = result.stairwells[result.stairwells[col].notna()]
    recorded = {c: any(result.looked_for[c].values()) for c in codes}
    units = rows[col].astype(np.int64)
    shares = unit_shares(units, rows["households"].to_numpy(np.float64),
                         {c: rows[c].to_numpy(bool) for c in codes})  # fmt: skip
    statuses = unit_statuses(shares, recorded, checklist.present_share)
    score = scores(statuses)
    names = level_names(conn, level, [int(i) for i in shares.index])
    kind_labels = {c: r.label for c, r in checklist.requirements.items()}
    out_rows = []
    for unit in shares.index:
        status = statuses.loc[unit]
        missing = [c for c in codes if status[c] != "present"]
        out_rows.append({
            col: int(unit), "name": names.get(int(unit)),
            "stairwells": int(shares.at[unit, "stairwells"]),
            "households": int(shares.at[unit, "households"]), "score": float(score[unit]),
            "present": [c for c in codes if status[c] == "present"],
            "missing": [c for c in codes if status[c] == "missing"],
            "not_recorded": [c for c in codes if status[c] == "not_recorded"],
            "missing_zh": "、".join(kind_labels[c].zh for c in missing),
            "missing_en": ", ".join(kind_labels[c].en for c in missing),
            "kinds": [{"code": c, "label": kind_labels[c].model_dump(), "status": status[c],
                       "status_label": labels[status[c]].model_dump(),
                       "households_share": round(float(shares.at[unit, c]), 4)}
                      for c in codes],
        })  # fmt: skip
    return {
        "level": level, "mode": params.mode,
        "present_share": checklist.present_share, "source": checklist.source.model_dump(),
        "requirements": [
            {"code": c, "label": r.label.model_dump(), "radius_m": r.radius_m,
             "looked_for": result.looked_for[c], "not_recorded_kinds": result.unrecorded[c],
             "recorded": recorded[c],
             "to_check": r.to_check.model_dump() if r.to_check else None}
            for c, r in checklist.requirements.items()
        ],
        "statuses": {s: labels[s].model_dump() for s in ("present", "missing", "not_recorded")},
        "rows": out_rows,
    }  # fmt: skip


def report_rows(report: dict[str, Any]) -> pd.DataFrame:
    """One row per unit and required kind (for CSV and tables), labels next to codes."""
    col = report["level"] + "_id"
    radii = {r["code"]: r["radius_m"] for r in report["requirements"]}
    return pd.DataFrame([
        {col: row[col], "name": row["name"], "score": row["score"], "kind": k["code"],
         "kind_zh": k["label"]["zh"], "kind_en": k["label"]["en"], "radius_m": radii[k["code"]],
         "households_share": k["households_share"], "status": k["status"],
         "status_zh": k["status_label"]["zh"], "status_en": k["status_label"]["en"]}
        for row in report["rows"] for k in row["kinds"]
    ], columns=[col, "name", "score", "kind", "kind_zh", "kind_en", "radius_m",
                "households_share", "status", "status_zh", "status_en"])  # fmt: skip
