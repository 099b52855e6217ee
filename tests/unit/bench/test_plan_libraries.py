"""bench/plan_libraries.py: without the libraries it compares, a sentence saying what to install, not a traceback."""

from __future__ import annotations

from tests.processes import ROOT
from tests.unit.bench.helpers import help_without

SCRIPT = ROOT / "bench" / "plan_libraries.py"


def test_without_the_compared_libraries_it_says_what_to_install(tmp_path):
    # A fastjsonschema that cannot be imported, ahead of any installed one:
    # the collector's own virtual environment, which does not depend on it.
    result = help_without("fastjsonschema", SCRIPT, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "(fastjsonschema is missing): pip install -r bench/requirements.txt" in result.stderr
