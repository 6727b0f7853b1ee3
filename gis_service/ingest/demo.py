"""The demo district generator: Yuexiu around Shuiyin Road, grown to city size on demand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from gis_service.ingest import names
from gis_service.ingest.demo_layout import (
    BUILDING_D,
    FIRST_ROW,
    LANE_OFFSET,
    PITCH_X,
    PLOT_W,
    ROW_PITCH,
    UNIT_W,
    Tables,
    block_cell,
    block_origin,
    box,
    line,
    point,
    sample_statuses,
    street_segments,
    subdistrict_blocks,
)

COMPOUND_34_BLOCK = (1, 1)  # within the base subdistrict
COMPOUND_34_BUILDINGS = [[5, 5], [5, 5], [5, 5], [5, 5], [5, 6], [6]]  # 9×5 + 2×6 = 57
COMPOUND_34_IN_SERVICE = 15
# The complete-community kinds added later (childcare, parcel point, activity ground,
# supermarket), placed by hand so the four base communities show a mix: per community, the
# kind and the compounds (0-8: grid column × 3 + row) holding one; one site seldom serves half
# of a community's households within 300 m, three across it usually do.
CHECKLIST_SITES: list[dict[str, tuple[int, ...]]] = [
    {"childcare": (1, 7), "parcel_point": (1, 4, 7), "activity_ground": (4,)},
    {"parcel_point": (1, 7), "supermarket": (1, 7), "childcare": (0,)},
    {"childcare": (8,), "parcel_point": (4,), "activity_ground": (1, 4, 7), "supermarket": (4,)},
    {"parcel_point": (1, 4, 7), "activity_ground": (0,)},
]
CHECKLIST_NAMES = {"childcare": "托育点", "parcel_point": "快递驿站",
                   "activity_ground": "公共活动场地", "supermarket": "综合超市"}  # fmt: skip
GARDEN_KINDS = ["neighbourhood_garden", "pocket_park", "street_garden"]
GARDEN_SUFFIX = {
    "neighbourhood_garden": "邻里花园",
    "pocket_park": "口袋公园",
    "street_garden": "街边小游园",
}
MAINTENANCE = ["property_contractor", "elevator_company", "custody_butler"]
# what a facility is called after its compound's name (a name, never the kind's code)
FACILITY_NAME = {
    "micro_fire_station": "微型消防站", "elderly_service_centre": "长者服务中心",
    "community_service_centre": "社区服务站", "party_people_centre": "党群服务中心",
    "police_room": "警务室", "property_office": "物业管理处", "access_gate": "门禁",
    "health_centre": "卫生服务站", "kindergarten": "幼儿园", "food_market": "肉菜市场",
    "refuse_point": "垃圾收集点",
}
PARKING_NAME = {"surface_lot": "停车场", "stacked_garage": "立体车库",
                "bicycle_shed": "车棚", "ev_charging": "充电站"}
FACILITY_KINDS = list(FACILITY_NAME)
PARKING_KINDS = list(PARKING_NAME)


class CityBuilder:
    """Builds the demo city's rows, subdistrict by subdistrict, deterministically for a seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.t = Tables()
        self.lanes: list[tuple[float, int, int]] = []
        self.blocks: list[tuple[int, int]] = []
        self.district_ids: dict[int, int] = {}
        self.compound34_first = 0

    def stairwells(self) -> int:
        """Stairwells generated so far."""
        return self.t.count("stairwell")

    def add_subdistrict(self, index: int) -> None:
        """Generate subdistrict `index` (0 is Huanghuagang with Shuiyin Road No. 34)."""
        rng = np.random.default_rng([self.seed, index])
        bx0, by0 = subdistrict_blocks(index)
        district_index = index // 16
        if district_index not in self.district_ids:
            code, zh, en = (
                names.BASE_DISTRICT
                if district_index == 0
                else (
                    f"99{district_index:04d}",
                    f"示例区{district_index}",
                    f"Demo District {district_index}",
                )
            )
            self.district_ids[district_index] = self.t.add(
                "district", code=code, name=zh, name_en=en, geom=[]
            )
        district_id = self.district_ids[district_index]
        self.t.rows["district"]["geom"][district_id - 1].append(block_cell(bx0, by0, 6, 6))  # type: ignore[attr-defined]
        zh, en = (
            names.BASE_SUBDISTRICT
            if index == 0
            else (f"示例街道{index}", f"Demo Subdistrict {index}")
        )
        sub_id = self.t.add(
            "subdistrict",
            district_id=district_id,
            name=zh,
            name_en=en,
            geom=block_cell(bx0, by0, 6, 6),
        )
        for c in range(4):
            cbx, cby = bx0 + 3 * (c % 2), by0 + 3 * (c // 2)
            czh, cen = (
                names.BASE_COMMUNITIES[c]
                if index == 0
                else (f"示例社区{index}-{c + 1}", f"Demo Community {index}-{c + 1}")
            )
            community_id = self.t.add(
                "community",
                subdistrict_id=sub_id,
                name=czh,
                name_en=cen,
                geom=block_cell(cbx, cby, 3, 3),
            )
            for g in range(3):
                grid_no = self.t.count("grid") + 1
                grid_id = self.t.add(
                    "grid",
                    community_id=community_id,
                    code=f"G{grid_no:05d}",
                    name=f"{czh}第{g + 1}网格",
                    geom=block_cell(cbx + g, cby, 1, 3),
                )
                for k in range(3):
                    self._compound(rng, index, community_id, grid_id, cbx + g, cby + k, c)
        if index == 0:
            self._base_amenities(rng)

    def _compound(
        self,
        rng: np.random.Generator,
        sub: int,
        community_id: int,
        grid_id: int,
        bx: int,
        by: int,
        community_no: int,
    ) -> None:
        self.blocks.append((bx, by))
        x0, y0 = block_origin(bx, by)
        local = (bx - subdistrict_blocks(sub)[0], by - subdistrict_blocks(sub)[1])
        special = sub == 0 and local == COMPOUND_34_BLOCK
        number = 34 if special else 2 * self.t.count("compound") + 3
        zh, en = names.COMPOUND_34 if special else names.compound_name(community_no + sub, number)
        old = special or rng.random() < 0.85
        year = (
            1985 if special else int(rng.integers(1978, 2001) if old else rng.integers(2002, 2011))
        )
        compound_id = self.t.add(
            "compound",
            community_id=community_id,
            name=zh,
            name_en=en,
            address=f"广州市越秀区{zh}" if sub == 0 else None,
            year_built=year,
            geom=box(x0, y0, x0 + PLOT_W, y0 + 150.0),
        )
        layout = (
            COMPOUND_34_BUILDINGS
            if special
            else [
                [int(rng.integers(2, 7)) for _ in range(int(rng.integers(1, 3)))]
                for _ in range(int(rng.integers(3, 7)))
            ]
        )
        building_no = 0
        if special:
            self.compound34_first = self.t.count("stairwell")
        for r, row in enumerate(layout):
            y = y0 + FIRST_ROW + r * ROW_PITCH
            self.lanes.append((y - LANE_OFFSET, bx, by))
            self.t.add(
                "street",
                name=f"{zh}内部通道",
                highway="footway",
                geom=line(bx * PITCH_X, y - LANE_OFFSET, (bx + 1) * PITCH_X, y - LANE_OFFSET),
            )
            x = x0 + 12.0
            for units in row:
                building_no += 1
                self._building(
                    rng, compound_id, grid_id, building_no, units, x, y, year, old, special
                )
                x += units * UNIT_W + 14.0
        self._compound_amenities(rng, compound_id, zh, x0, y0, sub)
        if special:
            self._compound_34_batch(compound_id)

    def _building(
        self,
        rng: np.random.Generator,
        compound_id: int,
        grid_id: int,
        number: int,
        units: int,
        x: float,
        y: float,
        year: int,
        old: bool,
        special: bool,
    ) -> None:
        floors = int(rng.integers(6, 8) if special else rng.integers(5, 10))
        has_elevator = False if special else bool(rng.random() < (0.05 if old else 0.7))
        building_id = self.t.add(
            "building",
            compound_id=compound_id,
            grid_id=grid_id,
            name=f"{number}栋",
            floors=floors,
            year_built=year,
            has_original_elevator=has_elevator,
            geom=box(x, y, x + units * UNIT_W, y + BUILDING_D),
        )
        eligible = old and floors >= 4 and not has_elevator
        statuses = sample_statuses(rng, units) if eligible and not special else ["none"] * units
        per_floor = 3 if rng.random() < 0.2 else 2
        for u in range(units):
            households = floors * per_floor - int(rng.integers(0, 3))
            elderly = int(rng.binomial(households, 0.32))
            status = statuses[u]
            if special:
                done = self.t.count("stairwell") - self.compound34_first
                status = "in_service" if done < COMPOUND_34_IN_SERVICE else "applied"
            self._stairwell(
                rng,
                building_id,
                compound_id,
                grid_id,
                u + 1,
                floors,
                households,
                elderly,
                status,
                x + (u + 0.5) * UNIT_W,
                y,
            )

    def _stairwell(
        self,
        rng: np.random.Generator,
        building_id: int,
        compound_id: int,
        grid_id: int,
        unit: int,
        floors: int,
        households: int,
        elderly: int,
        status: str,
        x: float,
        y: float,
    ) -> None:
        rank = PIPELINE_RANK[status]
        agree = objecting = 0
        if 2 <= rank <= 6:
            agree = min(households, math.ceil(households * (0.78 + 0.2 * rng.random())))
            objecting = min(households - agree, int(rng.integers(0, 3)))
        start_year = 2017 + int(rng.integers(0, 5))
        changed = dt.date(
            start_year + rank // 2, 1 + int(rng.integers(0, 12)), 1 + int(rng.integers(0, 28))
        )
        stairwell_id = self.t.add(
            "stairwell",
            building_id=building_id,
            compound_id=compound_id,
            grid_id=grid_id,
            label=f"{unit}单元",
            floors=floors,
            households=households,
            elderly_households=elderly,
            elevator_status=status,
            status_changed_on=changed if status != "none" else None,
            consent_agree=agree,
            consent_object=objecting,
            maintenance_model=MAINTENANCE[int(rng.integers(0, 3))]
            if status == "in_service"
            else None,
            batch_id=None,
            survey_status="not_visited",
            last_surveyed_on=None,
            geom=point(x, y),
        )
        previous: str | None = None
        for step in HISTORY_CHAIN[status]:
            step_date = dt.date(start_year + PIPELINE_RANK[step] // 2, changed.month, changed.day)
            self.t.add(
                "stairwell_status_history",
                stairwell_id=stairwell_id,
                from_status=previous,
                to_status=step,
                changed_on=min(step_date, changed),
                changed_by="demo",
            )
            previous = step

    def _compound_34_batch(self, compound_id: int) -> None:
        batch_id = self.t.add(
            "retrofit_batch",
            compound_id=compound_id,
            name="水荫路34号大院连片加装电梯",
            status="applied",
            applied_on=dt.date(2024, 9, 1),
            approved_on=None,
            approval_ref=None,
            notes="统一规划、统一申请、统一批复 (42 stairwells)",
        )
        sw = self.t.rows["stairwell"]
        for i in range(len(sw["id"])):
            if sw["compound_id"][i] == compound_id and sw["elevator_status"][i] == "applied":
                sw["batch_id"][i] = batch_id

    def _compound_amenities(
        self, rng: np.random.Generator, compound_id: int, name: str, x0: float, y0: float, sub: int
    ) -> None:
        xs = x0 + 175.0
        if sub != 0:
            if rng.random() < 0.15:
                kind = GARDEN_KINDS[int(rng.integers(0, 3))]
                self.t.add(
                    "garden",
                    compound_id=compound_id,
                    name=f"{name}花园",
                    kind=kind,
                    area_m2=23.0 * 40.0,
                    geom=box(xs, y0 + 20, xs + 23, y0 + 60),
                )
            if rng.random() < 0.4:
                kind = PARKING_KINDS[int(rng.integers(0, 4))]
                self.t.add(
                    "parking",
                    compound_id=compound_id,
                    garden_id=None,
                    name=f"{name}停车点",
                    kind=kind,
                    capacity=int(rng.integers(10, 120)),
                    geom=point(xs + 11, y0 + 80),
                )
            if rng.random() < 0.3:
                kind = FACILITY_KINDS[int(rng.integers(0, len(FACILITY_KINDS)))]
                self.t.add(
                    "facility",
                    name=f"{name}{FACILITY_NAME[kind]}",
                    kind=kind,
                    capacity=None,
                    floor_area_m2=None,
                    geom=point(xs + 11, y0 + 140),
                )
            if rng.random() < 0.2:
                self._candidate(compound_id, f"{name}拆除车棚用地", x0, y0)
            return
        self._candidate(compound_id, f"{name}拆除违建车棚用地", x0, y0)

    def _candidate(self, compound_id: int, name: str, x0: float, y0: float) -> None:
        xs = x0 + 175.0
        self.t.add(
            "candidate_site",
            compound_id=compound_id,
            name=name,
            origin="demolished_sheds",
            suitable_for="both",
            area_m2=23.0 * 35.0,
            cost_yuan=23.0 * 35.0 * 900.0,
            geom=box(xs, y0 + 95, xs + 23, y0 + 130),
        )

    def _base_amenities(self, rng: np.random.Generator) -> None:
        """Gardens, parking of every kind and facilities of every kind in Huanghuagang."""
        compounds = self.t.rows["compound"]
        ids = compounds["id"][-36:]
        names_ = compounds["name"][-36:]
        corners = [spec[1] for spec in compounds["geom"][-36:]]  # type: ignore[index]
        for n, kind in enumerate(GARDEN_KINDS * 2):
            cid, (x0, y0, _, _) = ids[n * 5], corners[n * 5]
            garden_id = self.t.add(
                "garden",
                compound_id=cid,
                name=f"{names_[n * 5]}{GARDEN_SUFFIX[kind]}",
                kind=kind,
                area_m2=23.0 * 40.0,
                geom=box(x0 + 175, y0 + 20, x0 + 198, y0 + 60),
            )
            if n == 0:  # the garden that shares its site with a convenience parking lot
                self.t.add(
                    "parking",
                    compound_id=cid,
                    garden_id=garden_id,
                    name=f"{names_[0]}花园便民停车场",
                    kind="surface_lot",
                    capacity=24,
                    geom=point(x0 + 186, y0 + 40),
                )
        for n in range(12):
            cid, (x0, y0, _, _) = ids[n * 3 + 1], corners[n * 3 + 1]
            kind = PARKING_KINDS[n % 4]
            self.t.add(
                "parking",
                compound_id=cid,
                garden_id=None,
                name=f"{names_[n * 3 + 1]}{PARKING_NAME[kind]}",
                kind=kind,
                capacity=int(rng.integers(12, 90)),
                geom=point(x0 + 186, y0 + 80),
            )
        for n, kind in enumerate(FACILITY_KINDS * 2):
            cid, (x0, y0, _, _) = ids[(n * 7) % 36], corners[(n * 7) % 36]
            self.t.add(
                "facility",
                name=f"{names_[(n * 7) % 36]}{FACILITY_NAME[kind]}",
                kind=kind,
                capacity=60 if kind == "elderly_service_centre" else None,
                floor_area_m2=700.0 if kind == "elderly_service_centre" else None,
                geom=point(x0 + 186, y0 + 140 - 6 * (n // 11)),
            )
        for community, sites in enumerate(CHECKLIST_SITES):
            for kind, compounds_ in sites.items():
                for c in compounds_:
                    n = community * 9 + c
                    x0, y0, _, _ = corners[n]
                    self.t.add(
                        "facility",
                        name=f"{names_[n]}{CHECKLIST_NAMES[kind]}",
                        kind=kind,
                        capacity=None,
                        floor_area_m2=None,
                        geom=point(x0 + 160 - 8 * list(sites).index(kind), y0 + 140),
                    )

    def finish(self) -> Tables:
        """Add streets and the demo's people, surveys and issues; return the rows."""
        lane = np.array(self.lanes)
        blocks = np.array(self.blocks)
        segments = street_segments(
            lane[:, 0], lane[:, 1].astype(int), lane[:, 2].astype(int), blocks[:, 0], blocks[:, 1]
        )
        for n, (xa, ya, xb, yb) in enumerate(segments):
            zh = names.STREETS[n % len(names.STREETS)][0]
            self.t.add("street", name=zh, highway="residential", geom=line(xa, ya, xb, yb))
        self._people()
        return self.t

    def _people(self) -> None:
        self.t.add("app_user", username="admin", display_name="系统管理员", role="admin")
        self.t.add("app_user", username="planner", display_name="黄花岗街道规划员", role="planner")
        self.t.add("app_user", username="analyst", display_name="区住建局GIS分析员", role="analyst")
        for g in range(12):
            user_id = self.t.add(
                "app_user",
                username=f"grid{g + 1:02d}",
                display_name=f"网格员{names.person_name(g)}",
                role="grid_worker",
            )
            self.t.add("user_grid", user_id=user_id, grid_id=g + 1)
        sw = self.t.rows["stairwell"]
        in_34 = [i for i in range(len(sw["id"])) if sw["batch_id"][i] is not None][:8]
        worker_of = {g + 1: g + 4 for g in range(12)}
        for n, i in enumerate(in_34):
            grid_id = int(sw["grid_id"][i])  # type: ignore[call-overload]
            households = int(sw["households"][i])  # type: ignore[call-overload]
            self.t.add(
                "survey",
                stairwell_id=sw["id"][i],
                surveyor_id=worker_of.get(grid_id),
                surveyed_on=dt.date(2025, 3, 3 + n),
                households=households,
                elderly_households=sw["elderly_households"][i],
                consent_agree=sw["consent_agree"][i],
                consent_object=sw["consent_object"][i],
                notes="入户调查 / door-to-door survey",
            )
            sw["survey_status"][i] = "visited"
            sw["last_surveyed_on"][i] = dt.date(2025, 3, 3 + n)
        categories = list(names.ISSUE_NOTES)
        for n, i in enumerate(in_34[:6]):
            category = categories[n % len(categories)]
            resolved = n == 5
            x, y = sw["geom"][i][1]  # type: ignore[index]
            grid_id = int(sw["grid_id"][i])  # type: ignore[call-overload]
            self.t.add(
                "issue",
                grid_id=grid_id,
                stairwell_id=sw["id"][i],
                category=category,
                status="resolved" if resolved else "open",
                note=names.ISSUE_NOTES[category],
                reporter_id=worker_of.get(grid_id),
                assignee_id=None,
                reported_at=dt.datetime(2025, 3, 5 + n, 10, tzinfo=dt.UTC),
                resolved_at=dt.datetime(2025, 4, 1, tzinfo=dt.UTC) if resolved else None,
                photo_path=None,
                geom=point(x + 2.0, y - 2.0),
            )


PIPELINE_RANK = {
    code: rank
    for rank, code in enumerate(
        [
            "none",
            "proposed",
            "consenting",
            "applied",
            "approved",
            "under_construction",
            "in_service",
        ]
    )
}
PIPELINE_RANK["infeasible"] = 2
HISTORY_CHAIN: dict[str, list[str]] = {
    status: [s for s, r in PIPELINE_RANK.items() if 1 <= r <= rank and s != "infeasible"]
    for status, rank in PIPELINE_RANK.items()
}
HISTORY_CHAIN["infeasible"] = ["proposed", "consenting", "infeasible"]


def generate_city(seed: int = 34, target_stairwells: int = 0) -> Tables:
    """Generate the demo district, then whole subdistricts until `target_stairwells` is reached."""
    builder = CityBuilder(seed)
    builder.add_subdistrict(0)
    index = 1
    while builder.stairwells() < target_stairwells:
        builder.add_subdistrict(index)
        index += 1
    return builder.finish()
