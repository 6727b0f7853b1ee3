"""Deterministic layout of the demo city in metres (UTM 49N), compound by compound.

The city is a lattice of blocks; each block is one compound's plot, surrounded by streets whose
centre lines run along the lattice. A subdistrict is 6×6 blocks (2×2 communities of 3×3 blocks,
each community split into 3 grids, one per column of blocks); a district is 4×4 subdistricts.
Inside a plot, walk-up buildings stand in rows; each row's entrances (stairwells) face south
onto a lane that joins the streets on both sides, so every stairwell reaches the network.
The east strip of each plot holds gardens, parking, facilities and candidate sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PLOT_W, PLOT_H, STREET_W = 200.0, 150.0, 14.0
PITCH_X, PITCH_Y = PLOT_W + STREET_W, PLOT_H + STREET_W
UNIT_W, BUILDING_D, ROW_PITCH, FIRST_ROW = 12.0, 11.0, 22.0, 14.0
LANE_OFFSET = 4.0
BLOCKS_PER_SUBDISTRICT = 6
SUBDISTRICTS_PER_DISTRICT = 4
DISTRICT_COLUMNS = 8
STATUS_WEIGHTS = {
    "none": 0.42,
    "proposed": 0.08,
    "consenting": 0.09,
    "applied": 0.05,
    "approved": 0.05,
    "under_construction": 0.05,
    "in_service": 0.20,
    "infeasible": 0.06,
}
PIPELINE = list(STATUS_WEIGHTS)


@dataclass
class Tables:
    """Rows of every table as column lists; geometries as coordinate lists in metres."""

    rows: dict[str, dict[str, list[object]]] = field(default_factory=dict)

    def add(self, table: str, **values: object) -> int:
        """Append one row (its id is the 1-based row number) and return the id."""
        columns = self.rows.setdefault(table, {})
        if not columns:
            columns["id"] = []
            for key in values:
                columns[key] = []
        row_id = len(columns["id"]) + 1
        columns["id"].append(row_id)
        for key, value in values.items():
            columns[key].append(value)
        return row_id

    def count(self, table: str) -> int:
        """Number of rows of a table."""
        return len(self.rows.get(table, {}).get("id", []))


def box(x0: float, y0: float, x1: float, y1: float) -> tuple[str, tuple[float, ...]]:
    """A rectangle geometry spec."""
    return ("box", (x0, y0, x1, y1))


def point(x: float, y: float) -> tuple[str, tuple[float, ...]]:
    """A point geometry spec."""
    return ("point", (x, y))


def line(x0: float, y0: float, x1: float, y1: float) -> tuple[str, tuple[float, ...]]:
    """A straight line geometry spec."""
    return ("line", (x0, y0, x1, y1))


def block_origin(bx: int, by: int) -> tuple[float, float]:
    """South-west corner of a block's plot."""
    return bx * PITCH_X + STREET_W / 2, by * PITCH_Y + STREET_W / 2


def block_cell(bx0: int, by0: int, nx: int, ny: int) -> tuple[str, tuple[float, ...]]:
    """The area of nx×ny blocks between street centre lines."""
    return box(bx0 * PITCH_X, by0 * PITCH_Y, (bx0 + nx) * PITCH_X, (by0 + ny) * PITCH_Y)


def subdistrict_blocks(index: int) -> tuple[int, int]:
    """Lattice position (block column, row) of the south-west block of subdistrict `index`."""
    per = SUBDISTRICTS_PER_DISTRICT
    district, within = divmod(index, per * per)
    d_col, d_row = district % DISTRICT_COLUMNS, district // DISTRICT_COLUMNS
    s_col, s_row = within % per, within // per
    span = BLOCKS_PER_SUBDISTRICT
    return (d_col * per + s_col) * span, (d_row * per + s_row) * span


def street_segments(
    lane_y: np.ndarray,
    lane_bx: np.ndarray,
    lane_by: np.ndarray,
    block_bx: np.ndarray,
    block_by: np.ndarray,
) -> np.ndarray:
    """Street centre-line segments (x0, y0, x1, y1), split where lanes join them."""
    v_keys = np.concatenate(
        [np.stack([block_bx, block_by], 1), np.stack([block_bx + 1, block_by], 1)]
    )
    v_keys = np.unique(v_keys, axis=0)
    ends = np.concatenate(
        [
            np.column_stack([v_keys, v_keys[:, 1] * PITCH_Y]),
            np.column_stack([v_keys, (v_keys[:, 1] + 1) * PITCH_Y]),
            np.column_stack([lane_bx, lane_by, lane_y]),
            np.column_stack([lane_bx + 1, lane_by, lane_y]),
        ]
    )
    ends = np.unique(ends, axis=0)  # sorted by (i, j, y)
    same_edge = (ends[1:, 0] == ends[:-1, 0]) & (ends[1:, 1] == ends[:-1, 1])
    x = ends[:-1, 0][same_edge] * PITCH_X
    vertical = np.column_stack([x, ends[:-1, 2][same_edge], x, ends[1:, 2][same_edge]])
    h_keys = np.concatenate(
        [np.stack([block_bx, block_by], 1), np.stack([block_bx, block_by + 1], 1)]
    )
    h_keys = np.unique(h_keys, axis=0)
    horizontal = np.column_stack(
        [
            h_keys[:, 0] * PITCH_X,
            h_keys[:, 1] * PITCH_Y,
            (h_keys[:, 0] + 1) * PITCH_X,
            h_keys[:, 1] * PITCH_Y,
        ]
    )
    return np.concatenate([vertical, horizontal]).astype(float)


def sample_statuses(rng: np.random.Generator, count: int) -> list[str]:
    """Elevator statuses of eligible stairwells, drawn from the pipeline's weights."""
    weights = np.array(list(STATUS_WEIGHTS.values()))
    picks = rng.choice(len(PIPELINE), size=count, p=weights / weights.sum())
    return [PIPELINE[i] for i in picks]
