"""bench/console_cost.py without the test extras: a sentence saying what to install, not a traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import ROOT
from tests.unit.bench.helpers import help_without

SCRIPT = ROOT / "bench" / "console_cost.py"


def test_without_requests_it_says_to_install_the_test_extras(tmp_path):
    # A `requests` that cannot be imported, ahead of the installed one: the
    # virtual environment of the Quick start's service, without '.[test]'.
    result = help_without("requests", SCRIPT, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "pip install -r requirements.txt -e '.[test]'" in result.stderr


def test_with_the_test_extras_it_runs():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
