"""The linters: configured, pinned alike where pip reads pins, run by the README's Quick start command and by CI.

The linters' findings themselves are CI's to report (.ci/run runs the command); these tests keep the
set-up from drifting: a version bumped in one file only, a command the README no longer shows.
"""

from __future__ import annotations

import configparser
import re
from importlib.metadata import version

from tests.processes import ROOT

TOOLS = ("ruff", "mypy")
_PIN = re.compile(r"^\s*([A-Za-z0-9_.-]+)==(\S+)\s*$", re.M)


def pins(text: str) -> dict[str, str]:
    return {name.lower(): pinned for name, pinned in _PIN.findall(text)}


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def quick_start_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quick start") :]
    section = section[: section.index("\n## ", 3)]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)\n```", section, re.S)]


def test_ruff_and_mypy_are_pinned_alike_in_requirements_and_the_test_extra_and_installed_so():
    required = pins((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    extra = pins(setup_cfg()["options.extras_require"]["test"])
    for tool in TOOLS:
        # A new release of either finds new things: CI must not fail on a release day.
        assert required.get(tool) == extra.get(tool) == version(tool), tool


def test_mypy_reads_its_sections_in_setup_cfg_and_ruff_its_file_at_the_top():
    config = setup_cfg()
    assert config["mypy"]["files"].split(", ") == ["collector", "clients/python/src"]
    assert config["mypy"].getboolean("disallow_untyped_defs")
    assert (ROOT / "ruff.toml").is_file()
    assert not (ROOT / "pyproject.toml").exists(), "it would change how pip builds the package"


def test_the_quick_start_shows_the_lint_command_and_ci_runs_it():
    [lint] = [block for block in quick_start_blocks() if "ruff check" in block]
    assert lint == "ruff check && mypy"
    assert 'lint_command=$(quick_start_block "ruff check")' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
