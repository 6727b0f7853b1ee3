"""The shipped systemd unit and nginx example, checked by the tools that read them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from gis_service.api.app import create_app
from gis_service.db.cluster import free_port
from tests.conftest import LiveServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INSTALLED = "/opt/gis-service/bin/gis-service"


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "gis-service.service").read_text()
    assert f"ExecStart={INSTALLED} serve" in unit
    # verify checks that ExecStart is executable: point it at this machine's gis-service
    here = tmp_path / "gis-service.service"
    here.write_text(unit.replace(INSTALLED, str(Path(sys.executable).parent / "gis-service")))
    result = subprocess.run(["systemd-analyze", "verify", str(here)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def nginx_config(tmp_path: Path, listen: int, upstream: int) -> Path:
    """The example's server block inside a minimal main config, on test ports."""
    site = (DEPLOY / "nginx-gis-service.conf").read_text()
    assert "listen 80;" in site and "server 127.0.0.1:8000;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    (tmp_path / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    main = tmp_path / "nginx.conf"
    main.write_text(f"""{user}
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {tmp_path}/access.log;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/site.conf;
}}
""")
    return main


def test_the_nginx_example_passes_nginx_t_and_proxies_the_service(
    tmp_path: Path, shared_demo_db: Engine, serve: Callable[[FastAPI], LiveServer]
) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    live = serve(create_app(shared_demo_db))
    port = free_port()
    config = nginx_config(tmp_path, port, int(live.url.rsplit(":", 1)[1]))
    checked = subprocess.run([nginx, "-t", "-c", str(config), "-p", str(tmp_path)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
    proc = subprocess.Popen([nginx, "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert ready.status_code == 200
        # nginx's $request_id reaches the service and comes back in the answer
        assert len(ready.headers["x-request-id"]) == 32
        asset = httpx.get(f"http://127.0.0.1:{port}/static/vendor/leaflet/leaflet.js", timeout=5)
        assert asset.status_code == 200 and len(asset.content) > 100_000
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gis_admin_runs_commands_as_the_unit_does() -> None:
    script = DEPLOY / "gis-admin"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    text, unit = script.read_text(), (DEPLOY / "gis-service.service").read_text()
    # the same user, binary, environment file and data dir as the unit
    assert "runuser -u gis-service -- " + INSTALLED in text and "User=gis-service" in unit
    assert "EnvironmentFile=-/etc/gis-service/env" in unit and ". /etc/gis-service/env" in text
    assert "GIS_DATA_DIR=/var/lib/gis-service/data" in unit
    assert "GIS_DATA_DIR=${GIS_DATA_DIR:-/var/lib/gis-service/data}" in text
