"""The layer catalog: layers/*.yaml loaded and validated at start-up (pydantic)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gis_service.catalog_checklist import Checklist
from gis_service.catalog_demand import Demand, SupplyMeasure
from gis_service.catalog_walking import MAX_RADIUS_M as MAX_RADIUS_M  # re-exported
from gis_service.catalog_walking import LifeCircle, Pace, Service, Walking
from gis_service.db.models import ROLES, Base
from gis_service.errors import ConfigError
from gis_service.rows.columns import checks
from gis_service.settings import get_settings
from gis_service.shipped import shipped_dir
from gis_service.text import Text

__all__ = ["Catalog", "Demand", "Layer", "LayerField", "SupplyMeasure", "Text", "default_catalog"]

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
GeometryType = Literal["point", "linestring", "polygon", "multipolygon"]
LAYERS_DIR = shipped_dir("layers")


class Limits(BaseModel):
    """Bounds a value keeps beyond its column's own (data quality rules, per city)."""

    model_config = ConfigDict(extra="forbid")
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, gt=0)
    earliest: dt.date | None = Field(default=None, description="dates: not before")
    days_ahead: int | None = Field(default=None, ge=0, description="dates: at most after today")


class LayerField(BaseModel):
    """One published attribute of a layer."""

    model_config = ConfigDict(extra="forbid")
    name: str
    type: FieldType
    label: Text
    enum: list[str] | None = None
    enum_from: str | None = Field(default=None, description="lookup table holding the codes")
    enum_labels: dict[str, Text] = Field(default={}, description="zh/en label of each enum code")
    household_data: bool = False
    queryable: bool = True
    limits: Limits | None = None
    kept_by_database: bool = Field(
        default=False, description="derived by the database's triggers: read, never written")

    @model_validator(mode="after")
    def _limits_fit_the_type(self) -> LayerField:
        # a person sees labels, never codes: every code of a fixed enum has its zh/en label
        if self.enum is not None and set(self.enum_labels) != set(self.enum):
            raise ValueError("enum_labels: give a label to each enum code, and only to those")
        if self.enum is None and self.enum_labels:
            raise ValueError("enum_labels without enum")
        limits = self.limits
        if limits is None:
            return self
        kinds = {"min": ("integer", "number"), "max": ("integer", "number"),
                 "max_length": ("string",), "earliest": ("date",), "days_ahead": ("date",)}
        for name in limits.model_fields_set:
            if self.type not in kinds[name]:
                raise ValueError(f"limits.{name} does not apply to a {self.type} field")
        return self


class TileSpec(BaseModel):
    """How a layer is cut into vector tiles."""

    model_config = ConfigDict(extra="forbid")
    minzoom: int = Field(ge=0, le=24)
    maxzoom: int = Field(default=22, ge=0, le=24)
    properties: list[str]
    aggregate_below: int | None = Field(
        default=None, ge=0, le=24, description="zooms below this show counts by cell"
    )
    max_features: int = Field(default=20000, gt=0)


class Style(BaseModel):
    """How maps draw a layer."""

    model_config = ConfigDict(extra="forbid")
    color: str = "#1976d2"
    color_by: str | None = None
    colors: dict[str, str] = {}
    fill_opacity: float = Field(default=0.4, ge=0, le=1)
    weight: float = Field(default=1.5, ge=0)
    radius: float = Field(default=5, ge=0)


class Layer(BaseModel):
    """One published layer: table, fields, tiles, style, editing rights, how it serves."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    table: str
    title: Text
    description: Text
    geometry: GeometryType
    public: bool = False
    grid_scoped: bool = Field(default=False, description="grid workers see only their grids")
    fields: list[LayerField]
    tiles: TileSpec
    style: Style = Style()
    popup: list[str] = []
    search: list[str] = []
    edit: dict[str, list[str]] = {}
    checks: dict[str, Text] = Field(
        default={}, description="messages of the table's rules between fields (CHECKs)"
    )
    labels: dict[str, Text] = Field(default={}, description="other codes the layer's analyses show")
    service: Service | None = Field(default=None, description="analysable: serves stairwells")
    walking: Walking | None = Field(default=None, description="the walkable network")
    demand: Demand | None = Field(
        default=None, description="the demand layer: persons per household, decay, definitions"
    )
    complete_community: Checklist | None = Field(
        default=None, description="the kinds a complete community reaches on foot"
    )
    temporal: list[str] = Field(
        default=[], max_length=2,
        description="the date/datetime field(s) `datetime` filters on: an instant, or start, end",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Layer:
        table = Base.metadata.tables.get(self.table)
        if table is None:
            raise ValueError(f"table {self.table!r} is not in the data model")
        names = [f.name for f in self.fields]
        for name in names:
            if name not in table.c:
                raise ValueError(f"field {name!r} is not a column of table {self.table}")
        if len(set(names)) != len(names):
            raise ValueError("a field is listed twice")
        self._check_names(set(names))
        if self.tiles.minzoom > self.tiles.maxzoom:
            raise ValueError("tiles.minzoom is above tiles.maxzoom")
        self._check_messages(set(names))
        if self.service is not None:
            self.service.check(self)
        if self.walking is not None and self.geometry != "linestring":
            raise ValueError("walking: only a layer of lines can be the walkable network")
        kinds = {f.name: f.type for f in self.fields}
        for name in self.temporal:
            if kinds.get(name) not in ("date", "datetime"):
                raise ValueError(f"temporal: {name!r} is not a date or datetime field")
        return self

    def _check_names(self, names: set[str]) -> None:
        """Tiles, popups, search, edit rights and styles name fields of the layer."""
        for where, listed in (
            ("tiles.properties", self.tiles.properties),
            ("popup", self.popup),
            ("search", self.search),
        ):
            unknown = set(listed) - names - {"id"}
            if unknown:
                raise ValueError(f"{where} names unknown fields {sorted(unknown)}")
        for role, editable in self.edit.items():
            if role not in ROLES:
                raise ValueError(f"edit: unknown role {role!r} (roles: {', '.join(ROLES)})")
            unknown = set(editable) - names - {"geom"}
            if unknown:
                raise ValueError(f"edit.{role} names unknown fields {sorted(unknown)}")
            kept = sorted(f.name for f in self.fields if f.kept_by_database and f.name in editable)
            if kept:
                raise ValueError(f"edit.{role} names fields the database keeps {kept}")
        if self.style.color_by and self.style.color_by not in names:
            raise ValueError(f"style.color_by {self.style.color_by!r} is not a field")

    def _check_messages(self, names: set[str]) -> None:
        """Every rule between this layer's fields has its message, and no other is given."""
        rules = [r for r in checks(self.table).cross if {*r.fields, r.other} <= names]
        missing = sorted({r.constraint for r in rules} - set(self.checks))
        if missing:
            raise ValueError(f"checks: give the zh/en message of {', '.join(missing)}")
        unknown = sorted(set(self.checks) - {r.constraint for r in rules})
        if unknown:
            raise ValueError(f"checks: {', '.join(unknown)} is no rule between these fields")

    def field(self, name: str) -> LayerField:
        """A field by name."""
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    def editable_by(self, role: str) -> set[str]:
        """Fields a role may write in this layer (empty: none)."""
        return set(self.edit.get(role, []))


class Catalog(BaseModel):
    """All published layers by id."""

    layers: dict[str, Layer]

    @model_validator(mode="after")
    def _one_network(self) -> Catalog:
        networks = [layer.id for layer in self.layers.values() if layer.walking is not None]
        if len(networks) > 1:
            raise ValueError(f"more than one layer is the walkable network: {networks}")
        if self.service_layers() and not networks:
            raise ValueError("analysable layers need a walkable network (a layer with walking)")
        demands = [layer.id for layer in self.layers.values() if layer.demand is not None]
        if len(demands) > 1:
            raise ValueError(f"more than one layer states the demand: {demands}")
        measured = [lay.id for lay in self.layers.values() if lay.service and lay.service.supply]
        if measured and not demands:
            raise ValueError(f"supply measures of {measured} need a layer stating the demand")
        self._checklist_reads_service_layers()
        return self

    def _checklist_reads_service_layers(self) -> None:
        stating = [lay.id for lay in self.layers.values() if lay.complete_community]
        if len(stating) > 1:
            raise ValueError(f"more than one layer states the complete community: {stating}")
        checklist = self.complete_community()
        unknown = set(checklist.layers() if checklist else ()) - set(self.service_layers())
        if unknown:
            raise ValueError(f"complete_community reads layers that serve no stairwells: "
                             f"{sorted(unknown)}")  # fmt: skip

    def complete_community(self) -> Checklist | None:
        """The complete-community checklist, if the catalog states one."""
        return next((lay.complete_community for lay in self.layers.values()
                     if lay.complete_community), None)  # fmt: skip

    def layer(self, layer_id: str) -> Layer:
        """A layer by id (KeyError when unknown)."""
        return self.layers[layer_id]

    def service_layers(self) -> list[str]:
        """Ids of the layers that serve stairwells (analysable), in catalog order."""
        return [layer.id for layer in self.layers.values() if layer.service is not None]

    def network(self) -> Layer | None:
        """The walkable network (the layer with walking speeds), if the catalog has one."""
        return next((lay for lay in self.layers.values() if lay.walking is not None), None)

    def demand(self) -> Demand | None:
        """The demand rules (persons per household, decay, definitions), if the catalog has them."""
        return next((lay.demand for lay in self.layers.values() if lay.demand), None)

    def supply_measures(self, layer_id: str) -> dict[str, SupplyMeasure]:
        """The supply measures of an analysable layer by name (empty when it states none)."""
        service = self.layer(layer_id).service
        return dict(service.supply) if service else {}

    def walking_speeds(self) -> dict[str, Pace]:
        """Walking speeds by name (empty when the catalog has no walkable network)."""
        network = self.network()
        return dict(network.walking.speeds) if network and network.walking else {}

    def life_circles(self) -> dict[str, LifeCircle]:
        """Life circles by name (minutes of walking), from the walkable network's rules."""
        network = self.network()
        return dict(network.walking.life_circles) if network and network.walking else {}

    def walking(self) -> Walking | None:
        """The walkable network's rules (speeds, life circles, snapping, closed ways)."""
        network = self.network()
        return network.walking if network else None


def describe_error(path: Path, exc: ValidationError) -> str:
    """One line naming the file and the field of the first problem."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(file)"
    return f"{path.name}: {where}: {first['msg']}"


ModelT = TypeVar("ModelT", bound=BaseModel)


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (the later would win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, stopping at a repeated key with its line."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"the key {key!r} is given twice", key_node.start_mark,
                )  # fmt: skip
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str) -> Any:
    """Parse YAML text as our files are read: safe types only, no key given twice."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no arbitrary objects


def load_yaml_models(
    folder: Path, model: type[ModelT], kind: str
) -> dict[str, tuple[Path, ModelT]]:
    """Validate every folder/*.yaml as `model` (whose `id` is the file's stem), by id.

    A broken file raises ConfigError naming the file and the field ("layer file x.yaml: ...").
    """
    found: dict[str, tuple[Path, ModelT]] = {}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(f"no {kind} files in {folder}")
    for path in files:
        try:
            raw = read_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path.name}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path.name}: a {kind} file holds one mapping")
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"{kind} file {describe_error(path, exc)}") from exc
        item_id = getattr(item, "id", None)
        if item_id != path.stem:
            raise ConfigError(f"{path.name}: id {item_id!r} differs from the file name")
        found[item_id] = (path, item)
    return found


def load_catalog(layers_dir: Path = LAYERS_DIR) -> Catalog:
    """Load and validate every layers/*.yaml; a broken file raises ConfigError naming it."""
    loaded = load_yaml_models(layers_dir, Layer, "layer")
    try:
        return Catalog(layers={layer_id: layer for layer_id, (_, layer) in loaded.items()})
    except ValidationError as exc:
        raise ConfigError(f"layer catalog {layers_dir}: {exc.errors()[0]['msg']}") from exc


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog of GIS_LAYERS_DIR, else the one shipped in layers/ (loaded once)."""
    return load_catalog(get_settings().layers_dir or LAYERS_DIR)


def check_against_database(catalog: Catalog, conn: sa.Connection) -> None:
    """Public layers must be readable by the anonymous database role, and others not."""
    for layer in catalog.layers.values():
        readable = conn.execute(
            sa.text("SELECT has_table_privilege('gis_anonymous', :table, 'SELECT')"),
            {"table": layer.table},
        ).scalar_one()
        if bool(readable) != layer.public:
            raise ConfigError(
                f"{layer.id}.yaml: public is {layer.public} but the database "
                f"{'grants' if readable else 'does not grant'} anonymous reads of {layer.table}"
            )
