"""What the bench scripts' tests share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def help_without(module: str, script: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`script --help` with `module` impossible to import, put ahead of any installed one on the path."""
    (tmp_path / module).mkdir()
    (tmp_path / module / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{module}'\", name='{module}')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run([sys.executable, str(script), "--help"], env=env, capture_output=True, text=True, timeout=60)
