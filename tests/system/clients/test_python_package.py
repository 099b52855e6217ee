"""clients/python installs as its README says (`pip install ./clients/python`) into a fresh venv, and works there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.system

SEND_ONE = """
import importlib.metadata, json, sys
import collector_client
client = collector_client.Client(sys.argv[1])
event_id = client.track("installed")
assert client.flush(timeout=60)
meta = importlib.metadata.metadata("collector-client")
print(json.dumps({
    "eventId": event_id,
    "version": collector_client.__version__,
    "license": meta["License"],
    "requires": importlib.metadata.requires("collector-client"),
    "readme": meta.get_payload()[:40],
    "from": collector_client.__file__,
}))
"""


def test_pip_install_into_a_fresh_venv_gives_a_working_package_with_no_dependencies(start_service, tmp_path):
    # A copy, so that pip's in-tree build leaves nothing in the checkout.
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT / "clients" / "python", tmp_path / "python", ignore=skip)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "./python"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    service = start_service()
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SEND_ONE, service.url],
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    assert printed["from"].startswith(str(venv))  # the installed copy, not the checkout's source
    assert (printed["version"], printed["license"], printed["requires"]) == ("0.1.0", "MIT", None)
    assert printed["readme"].startswith("# collector-client")
    assert [event["eventId"] for event in service.events()] == [printed["eventId"]]
