"""The layer catalog: shipped layers load, broken files are refused naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from gis_service.catalog import check_against_database, load_catalog
from gis_service.db.models import BATCH_STATUSES
from gis_service.errors import ConfigError
from tests.conftest import catalog_copy

EXPECTED = {
    "stairwells",
    "buildings",
    "grids",
    "compounds",
    "communities",
    "gardens",
    "parking",
    "facilities",
    "streets",
    "candidate_sites",
    "issues",
    "households",
    "proposals",
    "household_votes",
}


def test_shipped_catalog_has_every_layer_with_zh_and_en() -> None:
    catalog = load_catalog()
    assert set(catalog.layers) == EXPECTED
    stairwells = catalog.layer("stairwells")
    assert (
        stairwells.title.pick("zh") == "梯口(单元)" and stairwells.title.pick("en") == "Stairwells"
    )
    assert stairwells.style.color_by == "elevator_status"
    assert "elevator_status" not in stairwells.editable_by("grid_worker")
    assert "households" in stairwells.editable_by("grid_worker")
    assert catalog.service_layers() == ["facilities", "gardens", "parking"]
    assert catalog.layer("facilities").service.radii_m["health_centre"] == 1000  # type: ignore[union-attr]
    assert catalog.layer("gardens").service.radii_m["default"] == 300  # type: ignore[union-attr]
    speeds = catalog.walking_speeds()
    assert (speeds["normal"].m_per_min, speeds["elderly"].m_per_min) == (60, 45)
    assert speeds["elderly"].label.pick("zh") == "老年人步速"


def broken_copy(tmp_path: Path, layer: str, change: dict[str, object]) -> Path:
    return catalog_copy(tmp_path / "layers", {layer: change})


@pytest.mark.parametrize(
    ("layer", "change", "message"),
    [
        ("gardens", {"table": "gardenz"}, "gardens.yaml: (file): Value error, table 'gardenz'"),
        ("parking", {"geometry": "blob"}, "parking.yaml: geometry: Input should be"),
        (
            "streets",
            {"edit": {"mayor": ["name"]}},
            "streets.yaml: (file): Value error, edit: unknown role",
        ),
        ("grids", {"tiles": {"minzoom": 30, "properties": []}}, "grids.yaml: tiles.minzoom"),
        ("issues", {"colour": "red"}, "issues.yaml: colour: Extra inputs are not permitted"),
        ("compounds", {"id": "estates"}, "compounds.yaml: id 'estates' differs"),
        (
            "gardens",
            {"service": {"radii_m": {"pocket_park": 300}}},
            "gardens.yaml: (file): Value error, service.radii_m needs a 'default' radius",
        ),
        (
            "parking",
            {"service": {"radii_m": {"default": 300, "jetpack_dock": 50}}},
            "parking.yaml: (file): Value error, service.radii_m names unknown kinds",
        ),
        (
            "facilities",
            {"service": {"radii_m": {"default": 300}, "kind_field": "name"}},
            "facilities.yaml: (file): Value error, service.kind_field 'name' has no enum",
        ),
        (
            "gardens",
            {"service": {"radii_m": {"default": 300}, "sited_on": ["roof"]}},
            "gardens.yaml: (file): Value error, service.sited_on: unknown site uses ['roof']",
        ),
        (
            "streets",
            {"walking": {"speeds": {"slow": {"m_per_min": 40, "label": {"zh": "慢", "en": "S"}}}}},
            "streets.yaml: walking: Value error, walking.speeds needs a 'normal' speed",
        ),
        ("streets", {"walking": None}, "analysable layers need a walkable network"),
    ],
)
def test_broken_layer_file_names_file_and_field(
    tmp_path: Path, layer: str, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(broken_copy(tmp_path, layer, change))
    assert message in str(caught.value)


def test_not_yaml_is_refused(tmp_path: Path) -> None:
    target = broken_copy(tmp_path, "gardens", {})
    (target / "gardens.yaml").write_text("id: [unclosed")
    with pytest.raises(ConfigError, match=r"gardens\.yaml: not valid YAML"):
        load_catalog(target)


def test_a_key_given_twice_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    target = broken_copy(tmp_path, "stairwells", {})
    path = target / "stairwells.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("\nlabels:") == 1
    path.write_text(text + "labels:\n  last_step: {zh: 重复, en: Again}\n", encoding="utf-8")
    refused = r"(?s)stairwells\.yaml: not valid YAML.*'labels' is given twice"
    with pytest.raises(ConfigError, match=refused):
        load_catalog(target)


def test_public_layers_match_database_grants(shared_demo_db: Engine, tmp_path: Path) -> None:
    with shared_demo_db.connect() as conn:
        check_against_database(load_catalog(), conn)
        wrong = load_catalog(broken_copy(tmp_path, "stairwells", {"public": True}))
        with pytest.raises(ConfigError, match=r"stairwells\.yaml: public is True but the database"):
            check_against_database(wrong, conn)


def test_every_code_a_person_may_see_has_its_labels(tmp_path: Path) -> None:
    """Each enum code has zh/en labels, and so has each stage of a retrofit batch."""
    catalog = load_catalog()
    for layer in catalog.layers.values():
        for f in layer.fields:
            if f.enum:
                assert set(f.enum_labels) == set(f.enum), (layer.id, f.name)
    stages = catalog.layer("stairwells").labels
    assert all(f"batch_{s}" in stages for s in BATCH_STATUSES)
    path = tmp_path / "layers"
    catalog_copy(path, {})
    parking = yaml.safe_load((path / "parking.yaml").read_text())
    del parking["fields"][3]["enum_labels"]
    (path / "parking.yaml").write_text(yaml.safe_dump(parking, allow_unicode=True))
    with pytest.raises(ConfigError, match="give a label to each enum code"):
        load_catalog(path)
