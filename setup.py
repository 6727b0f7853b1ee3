"""Build hook: a wheel carries the layer catalog, the map views and the built browser assets.

The metadata lives in pyproject.toml. Building a wheel copies layers/*.yaml and maps/*.yaml into
gis_service/layers and gis_service/maps, and gis_service/web's own static files plus the served
folders of the pinned npm packages (webmap/assets.py decides which), and refuses to build when
`npm ci` has not run (`make web`). Editable installs read everything from the checkout instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def load_assets():  # type: ignore[no-untyped-def]
    """gis_service/webmap/assets.py alone (stdlib only: the build runs without our dependencies)."""
    spec = importlib.util.spec_from_file_location("_assets", ROOT / "gis_service/webmap/assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithShippedFiles(build_py):
    """build_py, then the catalog, map views and browser assets into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        assets = load_assets()
        missing = assets.missing_assets()
        if missing:
            raise SystemExit(
                f"cannot build: browser assets missing ({', '.join(missing[:3])}...): "
                "run `make web` (npm ci --prefix gis_service/web) first"
            )
        package = Path(self.build_lib) / "gis_service"
        for name in ("layers", "maps"):
            target = package / name
            target.mkdir(parents=True, exist_ok=True)
            for source in sorted((ROOT / name).glob("*.yaml")):
                shutil.copy2(source, target / source.name)
        web = package / "web"
        shutil.copytree(assets.OWN_STATIC, web / "static", dirs_exist_ok=True)
        for npm_package, folder in assets.VENDOR_DIRS.items():
            source = assets.NODE_MODULES / npm_package / folder
            shutil.copytree(source, web / "node_modules" / npm_package / folder,
                            dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithShippedFiles})
