"""A wheel built from a checkout, installed into a fresh venv, is enough to run the service: `collector serve`.

Slow (a wheel, a venv, the dependencies from pip's cache or index): one test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest
import requests

from tests.processes import ROOT

pytestmark = pytest.mark.system


def test_a_wheel_in_a_fresh_venv_serves_from_any_directory(start_service, tmp_path):
    # A copy of what the package is built from, so that the build leaves nothing in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.py", "setup.cfg", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "collector", source / "collector", ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("collector-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "collector/server/gunicorn_config.py" in names and "collector/wsgi.py" in names
    assert "collector/console/static/index.html" in names  # collector console, from the same install

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True, timeout=900
    )
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import collector.wsgi; print(collector.wsgi.__file__)"],
        cwd=elsewhere, env={"PATH": "/usr/bin:/bin", "COLLECTOR_DATA_DIR": str(tmp_path / "probe")},
        capture_output=True, text=True, timeout=120,
    )
    assert where.stdout.startswith(str(venv)), where.stderr  # the installed copy, not the checkout

    service = start_service(command=[str(venv / "bin" / "collector"), "serve"], cwd=elsewhere, workers="2")
    assert service.post({"messageBody": [{"eventType": "installed"}]}).status_code == 201
    assert [event["eventType"] for event in service.events()] == ["installed"]
    assert requests.get(service.url + "/metrics", timeout=30).status_code == 200
    assert service.stop() == 0
