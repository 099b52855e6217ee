"""clients/js as a package.

Its manifest, its committed script-tag build, its own unit tests, and the size its README states.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess

from tests.processes import ROOT
from tests.servers import require_binary

PACKAGE = ROOT / "clients" / "js"


def test_the_manifest_exports_the_module_and_the_script_tag_build_with_no_dependencies():
    manifest = json.loads((PACKAGE / "package.json").read_text())
    assert (manifest["name"], manifest["license"], manifest["type"]) == ("collector-js", "MIT", "module")
    assert manifest["exports"]["."] == "./src/collector.js"
    assert manifest["exports"]["./global"] == "./dist/collector.global.js"
    assert not manifest.get("dependencies")
    for target in manifest["exports"].values():
        assert (PACKAGE / target).is_file(), target
    source = (PACKAGE / "src" / "collector.js").read_text()
    assert f'VERSION = "{manifest["version"]}"' in source


def test_the_committed_script_tag_build_is_built_from_the_module():
    node = require_binary("node")
    result = subprocess.run([node, "build.mjs", "--check"], cwd=PACKAGE, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_packages_own_unit_tests_pass():
    node = require_binary("node")
    # Files named, not the folder: Node 21 and later read a folder argument as a glob.
    files = sorted(str(path.relative_to(PACKAGE)) for path in (PACKAGE / "test").glob("*.test.js"))
    assert files
    result = subprocess.run([node, "--test", *files], cwd=PACKAGE, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_the_readme_states_the_gzipped_size_of_the_script_tag_build():
    size = len(gzip.compress((PACKAGE / "dist" / "collector.global.js").read_bytes(), compresslevel=9))
    stated = re.search(r"([\d.]+) KB gzipped", (PACKAGE / "README.md").read_text())
    assert stated, "the README states the size"
    assert abs(float(stated.group(1)) * 1000 - size) <= 100, f"the build is {size} bytes gzipped"
