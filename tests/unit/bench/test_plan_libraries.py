"""bench/plan_libraries.py: without the libraries it compares, a sentence saying what to install, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.processes import ROOT

SCRIPT = ROOT / "bench" / "plan_libraries.py"


def test_without_the_compared_libraries_it_says_what_to_install(tmp_path):
    # A fastjsonschema that cannot be imported, ahead of any installed one:
    # the collector's own virtual environment, which does not depend on it.
    (tmp_path / "fastjsonschema").mkdir()
    (tmp_path / "fastjsonschema" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'fastjsonschema'\", name='fastjsonschema')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "(fastjsonschema is missing): pip install -r bench/requirements.txt" in result.stderr
