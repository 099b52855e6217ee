"""bench/bot_classification.py runs on the corpus and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.processes import ROOT

SCRIPT = ROOT / "bench" / "bot_classification.py"


def test_it_prints_the_cold_and_warm_costs_and_the_rates():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^classify\(\) cold, people .* median +[\d.]+ µs", result.stdout, re.M)
    assert re.search(r"^classify\(\) warm .* ns a call in a loop$", result.stdout, re.M)
    assert re.search(r"^ours: \d+/\d+ bots detected \([\d.]+%\), 0/\d+ people flagged$", result.stdout, re.M)
