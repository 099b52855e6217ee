"""The shipped systemd unit and the steps to install it (docs/deploying.md), checked as far as a test can."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.processes import ROOT
from tests.servers import require_binary

pytestmark = pytest.mark.system

UNIT = ROOT / "deploy" / "collector.service"
SOCKET = ROOT / "deploy" / "collector.socket"


def readme_systemd_steps() -> str:
    text = (ROOT / "docs" / "deploying.md").read_text()
    section = text[text.index("## Running it with systemd") :]
    section = section.split("\n## ", 1)[0]
    return re.search(r"```sh\n(.*?)\n```", section, re.S).group(1)


def unit_value(key: str) -> str:
    return re.search(rf"^{key}=(.*)$", UNIT.read_text(), re.M).group(1)


@pytest.mark.parametrize(
    "names",
    [
        ("collector.socket", "collector.service"),
        ("collector-console.service",),
        ("collector-load-postgres.service", "collector-load-postgres.timer"),
        ("collector-export-parquet.service", "collector-export-parquet.timer"),
    ],
    ids=lambda names: names[-1],
)
def test_systemd_analyze_verifies_the_units(tmp_path, names):
    analyze = require_binary("systemd-analyze", "/usr/bin", "/bin")
    # The units name /opt/collector; point them at a stand-in with a real Python and the collector command.
    venv_bin = tmp_path / "opt" / "collector" / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(sys.executable)
    (venv_bin / "collector").symlink_to(sys.executable)
    units = [tmp_path / name for name in names]
    for unit in units:
        unit.write_text(
            (ROOT / "deploy" / unit.name).read_text().replace("/opt/collector", str(tmp_path / "opt" / "collector"))
        )
    result = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_service_listens_on_its_socket_unit_at_collector_bind():
    # systemd keeps collector.socket open while the service restarts; gunicorn
    # refuses a passed socket that is not at COLLECTOR_BIND.
    assert "collector.socket" in unit_value("Requires")
    listen = re.search(r"^ListenStream=(.*)$", SOCKET.read_text(), re.M).group(1)
    steps = readme_systemd_steps()
    env_file = re.search(r"<<'ENV'\n(.*?)\nENV", steps, re.S).group(1)
    from collector.settings import load_settings

    settings = load_settings(
        environ={**dict(line.split("=", 1) for line in env_file.splitlines()), "COLLECTOR_DATA_DIR": "."}
    )
    assert listen == settings.bind


def test_the_readme_steps_make_what_the_unit_needs():
    steps = readme_systemd_steps()
    user = unit_value("User")
    assert re.search(rf"^useradd --system .* {user}$", steps, re.M), "the unit's user is created"
    env_file = unit_value("EnvironmentFile")
    assert f"cat > {env_file} <<" in steps and f"chgrp {user} {env_file}" in steps
    data_dir = unit_value("ReadWritePaths")
    assert f"install -d -o {user} -g {user} -m 0750 {data_dir}" in steps
    assert f"COLLECTOR_DATA_DIR={data_dir}" in steps
    working_dir = unit_value("WorkingDirectory")
    command = unit_value("ExecStart")
    assert f"python3 -m venv {working_dir}/.venv" in steps and command == f"{working_dir}/.venv/bin/collector serve"
    for unit in ("collector.socket", "collector.service"):
        assert f"cp /opt/collector/deploy/{unit} /etc/systemd/system/{unit}" in steps
    assert "systemctl enable --now collector.socket collector.service" in steps


def test_the_readme_environment_file_is_valid_settings():
    steps = readme_systemd_steps()
    body = re.search(r"<<'ENV'\n(.*?)\nENV", steps, re.S).group(1)
    environ = dict(line.split("=", 1) for line in body.splitlines())
    from collector.settings import load_settings

    settings = load_settings(environ={**environ, "COLLECTOR_DATA_DIR": str(ROOT / "build" / "systemd-check")})
    assert settings.rate_limit == "1000 per minute" and settings.trusted_proxies == 1


def test_the_readme_checks_the_environment_file_as_systemd_reads_it(tmp_path):
    # `(set -a; . collector.env; collector settings)` ran `per` as a command and showed the default limit.
    steps = readme_systemd_steps()
    env_file = unit_value("EnvironmentFile")
    [check] = [line for line in steps.splitlines() if "collector settings" in line]
    assert check == f"{unit_value('WorkingDirectory')}/.venv/bin/collector settings --env-file {env_file}"
    body = re.search(r"<<'ENV'\n(.*?)\nENV", steps, re.S).group(1)
    data_dir = unit_value("ReadWritePaths")
    copy = tmp_path / "collector.env"
    copy.write_text(body.replace(f"COLLECTOR_DATA_DIR={data_dir}", f"COLLECTOR_DATA_DIR={tmp_path / 'data'}") + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "collector", "settings", "--env-file", str(copy)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("COLLECTOR_RATE_LIMIT ")]
    assert re.split(" {2,}", row)[1] == "1000 per minute"


def test_no_readme_command_sources_the_settings_file_in_a_shell():
    # A shell's `set -a; . collector.env` runs `per` of `COLLECTOR_RATE_LIMIT=1000 per minute`
    # as a command; the console's hand start did that too. systemd's parser is the one that counts.
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    blocks = [block for page in pages for block in re.findall(r"```sh\n(.*?)\n```", page.read_text(), re.S)]
    sourced = [
        line for block in blocks for line in block.splitlines() if re.search(r"(^|[;(\s])\. \S*collector\.env", line)
    ]
    assert sourced == []


def test_the_parquet_export_may_write_its_ledger_and_its_target_and_nothing_else():
    # ProtectSystem=strict makes the rest read-only: the data directory's files too, which the export only reads.
    from collector.loaders import ledger

    export_unit = (ROOT / "deploy" / "collector-export-parquet.service").read_text()
    writable = re.search(r"^ReadWritePaths=(.*)$", export_unit, re.M).group(1).split()
    target = re.search(r"^ExecStart=.* export parquet --to (\S+)$", export_unit, re.M).group(1)
    assert writable == [f"{unit_value('ReadWritePaths')}/{ledger.DIRECTORY}", target]
    assert re.search(r"^ProtectSystem=strict$", export_unit, re.M)
