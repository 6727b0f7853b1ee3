"""The wheel as an operator installs it: a fresh venv, served from another directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from gis_service.db.cluster import free_port
from gis_service.webmap import assets
from tests.conftest import DemoTemplate, wait_until_ready
from tests.webmap.browser import watch

REPO = Path(__file__).resolve().parents[2]
TOP_NOT_SHIPPED = {
    ".venv", ".git", "build", "dist", "gis_service.egg-info", ".gis-data", "test-artifacts",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "tests", "benchmarks",
}


def checkout_copy(target: Path, without: frozenset[str] = frozenset()) -> Path:
    """A copy of the checkout as a release build sees it (names in `without` left out anywhere)."""

    def ignored(folder: str, names: list[str]) -> set[str]:
        top = TOP_NOT_SHIPPED if Path(folder) == REPO else set()
        return {name for name in names if name in top or name in without
                or name == "__pycache__"}

    shutil.copytree(REPO, target, ignore=ignored)
    return target


def build_wheel(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`pip wheel .` in a copy of the checkout (the build never writes into the worktree)."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(out)],
        cwd=source, capture_output=True, text=True, timeout=600, check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding only the wheel; the dependencies come from the test venv's packages."""
    root = tmp_path_factory.mktemp("wheel")
    source = checkout_copy(root / "source")
    built = build_wheel(source, root / "dist")
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((root / "dist").glob("gis_service-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "-q",
         "--no-deps", str(wheel)],
        check=True, capture_output=True,
    )
    site = Path(subprocess.run(
        [str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip())
    # the dependencies: the test venv's site-packages as a plain path (its .pth files, among them
    # the editable install of this checkout, are not processed from there)
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    yield venv


def served(venv: Path, cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`gis-service serve` of the fresh venv, run from another directory."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    return subprocess.Popen(
        [str(venv / "bin/gis-service"), "serve", "--no-demo", *args], cwd=cwd,
        env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_the_wheel_serves_pages_and_assets_from_another_directory(
    installed: Path, demo_db: Engine, demo_template: DemoTemplate, browser: Browser,
    tmp_path: Path,
) -> None:
    found = subprocess.run(
        [str(installed / "bin/python"), "-c", "import gis_service; print(gis_service.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.strip()
    assert found.startswith(str(installed)), found  # the wheel's copy, not the checkout
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "GIS_DATABASE_URL": demo_db.url.render_as_string(hide_password=False),
        "GIS_DATA_DIR": str(tmp_path / "data"), "GIS_PORT": str(port),
    }
    proc = served(installed, elsewhere, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, proc, lambda: stop(proc))
        urls = [url for group in (assets.LEAFLET_JS, assets.LEAFLET_CSS, assets.VECTORGRID_JS,
                                  assets.FULLSCREEN_JS, assets.FULLSCREEN_CSS, assets.MEASURE_JS,
                                  assets.MEASURE_CSS, assets.APP_JS, assets.APP_CSS)
                for _, url in group] + assets.FIELD_FILES + ["/field/sw.js", "/field/login"]
        with httpx.Client(base_url=url, timeout=30) as client:
            answers = {path: client.get(path).status_code for path in urls}
            assert answers == dict.fromkeys(urls, 200)
            assert client.get("/field/sw.js").headers["content-type"].startswith("text/javascript")
        watched = watch(browser)
        token = demo_template.tokens["planner"]
        for page_path in ("/maps/planner?lang=en", "/maps/coverage?lang=zh"):
            watched.page.goto(f"{url}{page_path}#token={token}")
            watched.page.wait_for_load_state("networkidle")
        local = [(u, s) for u, s in watched.requests if u.startswith(url)]
        assert any("/static/vendor/leaflet/leaflet.js" in u for u, _ in local)
        assert [(u, s) for u, s in local if s >= 400] == []
        assert watched.real_errors() == []
        watched.page.close()
        # a file gone from the installation: /ready says so at once (503, naming it)
        site_web = Path(found).parent / "web"
        leaflet = site_web / "node_modules/leaflet/dist/leaflet.js"
        leaflet.rename(leaflet.with_suffix(".gone"))
        try:
            answer = httpx.get(f"{url}/ready", timeout=10)
            assert answer.status_code == 503
            assert "leaflet.js" in answer.json()["detail"]
        finally:
            leaflet.with_suffix(".gone").rename(leaflet)
    finally:
        stop(proc)


def test_serve_refuses_an_incomplete_installation(installed: Path, tmp_path: Path) -> None:
    site_web = next(installed.glob("lib/python*/site-packages/gis_service/web"))
    moved = tmp_path / "static"
    shutil.move(site_web / "static", moved)
    try:
        proc = served(installed, tmp_path, {"GIS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x",
                                            "GIS_PORT": str(free_port())})
        out, _ = proc.communicate(timeout=60)
    finally:
        shutil.move(moved, site_web / "static")
    assert proc.returncode == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("gis-service: error: the installation is incomplete, missing")
    assert "/static/web/gismap.js" in lines[0] and "make web" in lines[0]


def test_the_wheel_is_not_built_without_the_browser_assets(tmp_path: Path) -> None:
    source = checkout_copy(tmp_path / "source", without=frozenset({"node_modules"}))
    built = build_wheel(source, tmp_path / "dist")
    assert built.returncode != 0
    assert "run `make web`" in built.stdout + built.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))
