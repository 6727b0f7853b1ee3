"""maps/*.yaml: the shipped views load, broken files stop start-up naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gis_service.errors import ConfigError
from gis_service.maps_catalog import MAPS_DIR, load_maps


def copy_maps(
    tmp_path: Path, change: dict[str, object] | None = None, name: str = "planner"
) -> Path:
    """The shipped map files in a folder, with top-level keys of one file replaced."""
    for path in MAPS_DIR.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.stem == name and change:
            raw.update(change)
        (tmp_path / path.name).write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_shipped_views_load() -> None:
    views = load_maps()
    assert {"planner", "coverage"} <= set(views)
    planner = views["planner"]
    assert any(b.kind == "blank" for b in planner.basemaps)
    assert {"layers", "search", "fullscreen", "measure", "scale", "legend", "scenarios"} <= set(
        planner.controls
    )
    kinds = {layer.source.kind for layer in planner.layers}
    assert kinds == {"tiles", "geojson-url"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"default_basemap": "satellite"}, "default_basemap 'satellite' is not a basemap"),
        ({"controls": ["layers", "teleport"]}, "planner.yaml: controls.1"),
        (
            {"layers": [{"id": "x", "source": {"kind": "tiles", "layers": ["nope"]}}]},
            "unknown catalog layer 'nope'",
        ),
        (
            {
                "layers": [
                    {"id": "x", "source": {"kind": "geojson-url", "url": "https://cdn.example/x"}}
                ]
            },
            "planner.yaml: layers.0.source.geojson-url.url",
        ),
        ({"initial_view": {"center": [113.3, 23.1], "zoom": 15}}, "swapped"),
        (
            {
                "basemaps": [
                    {
                        "id": "osm",
                        "title": {"zh": "图", "en": "Map"},
                        "url": "https://tile.example/{z}/{x}/{y}.png",
                    }
                ],
                "default_basemap": "osm",
            },
            "blank",
        ),
        ({"id": "other"}, "differs from the file name"),
    ],
)
def test_broken_view_names_file_and_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    folder = copy_maps(tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        load_maps(folder)
    assert "planner.yaml" in str(caught.value)
    assert message in str(caught.value)


def test_indicator_needs_one_colour_per_class(tmp_path: Path) -> None:
    raw = yaml.safe_load((MAPS_DIR / "coverage.yaml").read_text(encoding="utf-8"))
    raw["choropleth"]["indicators"][0]["colors"] = ["#ffffff"] * 2
    folder = copy_maps(tmp_path, {"choropleth": raw["choropleth"]}, name="coverage")
    with pytest.raises(ConfigError, match=r"coverage.yaml: choropleth.indicators.0: .*one more"):
        load_maps(folder)


def test_not_yaml(tmp_path: Path) -> None:
    folder = copy_maps(tmp_path)
    (folder / "broken.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_maps(folder)
