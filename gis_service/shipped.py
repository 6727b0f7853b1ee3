"""Files shipped with the code: the layer catalog, the map views and the browser assets.

A wheel carries layers/ and maps/ inside the package (gis_service/layers, gis_service/maps, copied
there by setup.py); a source checkout keeps them at the repository's top. The browser assets are
gis_service/web in both (static/ and the pinned npm packages of node_modules/).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The wheel's copy of a shipped folder (layers, maps), else the source checkout's."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def missing_files(layers_dir: Path | None = None) -> list[str]:
    """What the installation lacks to serve pages (empty when complete)."""
    from gis_service.webmap.assets import missing_assets

    missing = []
    for folder in (layers_dir or shipped_dir("layers"), shipped_dir("maps")):
        if not any(folder.glob("*.yaml")):
            missing.append(f"{folder}/*.yaml")
    return missing + missing_assets()


def incomplete_installation(layers_dir: Path | None = None) -> str | None:
    """One line saying what the installation lacks and how to fix it, or None when complete."""
    missing = missing_files(layers_dir)
    if not missing:
        return None
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return (
        f"the installation is incomplete, missing {', '.join(missing[:3])}{more}: from a source "
        "checkout run `make web` (npm ci of gis_service/web); from a wheel, build it again after "
        "`make web` (setup.py refuses to build without the assets)"
    )
