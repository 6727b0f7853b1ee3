"""Answer rows and CSV cells: the column-wise fast paths give what a reader expects."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from gis_service.datasets.formats import dumps, records, to_csv
from gis_service.datasets.runs import facility_names


def test_records_keep_integers_text_and_nulls() -> None:
    frame = pd.DataFrame({
        "id": pd.array([1, 2, 3], dtype="Int64"),
        "grid_id": pd.array([7, None, 9], dtype="Int64"),
        "label": pd.Series(["A-1", None, "C-3"], dtype="str"),
        "distance_m": [1.5, np.nan, np.inf],
        "served": [True, False, True],
    })  # fmt: skip
    rows = orjson.loads(dumps(records(frame)))
    assert rows == [
        {"id": 1, "grid_id": 7, "label": "A-1", "distance_m": 1.5, "served": True},
        {"id": 2, "grid_id": None, "label": None, "distance_m": None, "served": False},
        {"id": 3, "grid_id": 9, "label": "C-3", "distance_m": None, "served": True},
    ]
    assert all(type(row["id"]) is int for row in records(frame))


def test_text_columns_in_csv_lose_their_formulas_not_their_nulls() -> None:
    frame = pd.DataFrame({"label": pd.Series(["=1+1", None, "-x", "ok"], dtype="str"),
                          "n": [-1, 2, 3, 4]})  # fmt: skip
    text = to_csv(frame)
    assert text.count("\r\n") == 5 and text.startswith("label,n\r\n")
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        ["'=1+1", "-1"], ["", "2"], ["'-x", "3"], ["ok", "4"]]


def test_csv_of_a_mixed_table_reads_back_as_written() -> None:
    """Arrow writes it: booleans True/False, missing values empty, CR and LF inside quotes."""
    frame = pd.DataFrame({
        "id": pd.array([1, None], dtype="Int64"), "share": [0.25, np.nan],
        "served": [True, False], "note": ["a,b\r\nc", 'say "hi"'], "mixed": [1, "x"],
    })  # fmt: skip
    rows = list(csv.reader(io.StringIO(to_csv(frame), newline="")))
    assert rows == [["id", "share", "served", "note", "mixed"],
                    ["1", "0.25", "True", "a,b\r\nc", "1"], ["", "", "False", 'say "hi"', "x"]]


def test_facility_names_by_id_with_nulls() -> None:
    names = {"id": [5, 9, 11], "name": ["Garden", None, "Shop"]}
    fac = gpd.GeoDataFrame(names, geometry=[None] * 3)
    got = facility_names(fac, np.array([9.0, np.nan, 11.0, 5.0, 12.0]))
    assert [None if pd.isna(v) else v for v in got] == [None, None, "Shop", "Garden", None]
    assert pd.isna(facility_names(fac.iloc[:0], np.array([1.0]))).all()
    table = pd.DataFrame({"facility_id": [9, None, 11], "facility_name": got[:3]})
    assert orjson.loads(dumps(records(table)))[2] == {"facility_id": 11.0, "facility_name": "Shop"}
    assert list(csv.reader(io.StringIO(to_csv(table))))[1:] == [["9", ""], ["", ""], ["11", "Shop"]]


def test_polygon_geojson_reads_as_geos_writes_it() -> None:
    from shapely import affinity

    from gis_service.datasets.formats import geojson_texts

    disc = shapely.buffer(shapely.Point(113.3, 23.1), 0.003, quad_segs=8)
    holed = shapely.difference(disc, shapely.buffer(shapely.Point(113.3, 23.1), 0.001))
    pair = shapely.union(disc, affinity.translate(disc, 0.01))
    for geoms in ([disc, holed, pair], [disc, holed], [shapely.Point(1, 2), disc],
                  [disc, shapely.Polygon()]):  # fmt: skip
        ours = geojson_texts(np.array(geoms, dtype=object))
        assert [orjson.loads(t) for t in ours] == [orjson.loads(t) for t in
                                                   shapely.to_geojson(geoms)]  # fmt: skip
    assert orjson.loads(geojson_texts([pair])[0])["type"] == "MultiPolygon"


def test_a_long_csv_written_in_parts_reads_as_one_table() -> None:
    """A table longer than a part: one header, every row once, in order, CRLF throughout."""
    from gis_service.datasets.formats import CSV_PART_ROWS

    n = 2 * CSV_PART_ROWS + 7  # three parts, the last a short one
    frame = pd.DataFrame({"id": np.arange(n), "label": pd.Series(["=x", "ok"] * (n // 2) + ["ok"]),
                          "served": np.arange(n) % 3 == 0})  # fmt: skip
    text = to_csv(frame)
    assert text.count("id,label,served") == 1 and text.count("\r\n") == n + 1
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [int(r[0]) for r in rows[1:]] == list(range(n))
    assert rows[1] == ["0", "'=x", "True"] and rows[-1] == [str(n - 1), "ok", str((n - 1) % 3 == 0)]
