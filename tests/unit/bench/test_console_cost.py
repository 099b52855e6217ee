"""bench/console_cost.py without the test extras: a sentence saying what to install, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.processes import ROOT

SCRIPT = ROOT / "bench" / "console_cost.py"


def test_without_requests_it_says_to_install_the_test_extras(tmp_path):
    # A `requests` that cannot be imported, ahead of the installed one: the
    # virtual environment of the Quick start's service, without '.[test]'.
    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'requests'\", name='requests')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "pip install -r requirements.txt -e '.[test]'" in result.stderr


def test_with_the_test_extras_it_runs():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
