"""The households of a grid as the field view lists them under each stairwell."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gis_service.auth import Principal
from gis_service.catalog import Catalog

STRINGS: dict[str, dict[str, str]] = {  # the household list's own words (the rest: strings.py)
    "zh": {
        "households": "住户({n}户)", "household": "住户", "floor": "{f}层", "record": "记录",
        "visited": "走访", "visited_on": "走访日期", "save": "保存", "waiting": "待上传",
        "none": "本梯口暂无住户台账", "unavailable": "离线且尚未下载住户台账",
        "proposal_note": "表决为当前加装电梯议题的表决",
        "conflict_help": "他人已修改此户的表决,请选择要保留的一项",
        "proof": "签字表决单照片(可选)", "proof_short": "凭证",
    },
    "en": {
        "households": "Households ({n})", "household": "Household", "floor": "floor {f}",
        "record": "Record", "visited": "visited", "visited_on": "Visited on", "save": "Save",
        "waiting": "waiting", "none": "No household register for this stairwell",
        "unavailable": "Offline, and the households were never downloaded",
        "proposal_note": "Votes on the current elevator proposal",
        "conflict_help": "Someone changed this household's vote since: choose the one to keep",
        "proof": "Photo of the signed form (optional)", "proof_short": "proof",
    },
}
NAMES_TO = ("planner", "admin", "grid_worker")  # staff, and the grid's own worker (row security)
COLUMNS = (
    "h.id, h.stairwell_id, h.floor, h.door, h.area_m2, h.elderly, h.visited_on, h.vote, "
    "h.voted_on, h.recorded_by, h.proof_photo_path, h.version, "
    "gis_current_proposal(h.stairwell_id) AS proposal_id"
)


def grid_households(
    conn: sa.Connection, grid_id: int, principal: Principal
) -> list[dict[str, Any]]:
    """The grid's households (floor, door, the vote on the current elevator proposal, version),
    lowest floors first; owner names for staff and the grid's worker only."""
    names = ", h.owner_names" if principal.role in NAMES_TO else ""
    rows = conn.execute(
        sa.text(f"SELECT {COLUMNS}{names} FROM household h JOIN stairwell s "
                "ON s.id = h.stairwell_id WHERE s.grid_id = :grid "
                "ORDER BY h.stairwell_id, h.floor, h.door"),
        {"grid": grid_id},
    ).mappings()  # fmt: skip
    found = []
    for row in rows:
        item = dict(row)
        item["area_m2"] = float(item["area_m2"])
        for day in ("visited_on", "voted_on"):
            item[day] = item[day].isoformat() if item[day] else None
        found.append(item)
    return found


def vote_labels(catalog: Catalog, lang: str) -> list[dict[str, str]]:
    """The vote values with their label and colour, as the households layer states them."""
    layer = catalog.layer("households")
    labels = layer.field("vote").enum_labels
    return [{"code": code, "label": labels[code].pick(lang), "color": layer.style.colors[code]}
            for code in layer.field("vote").enum or []]  # fmt: skip
