"""`collector events query`'s named queries give the counts an operator gets with `collector events cat | jq`.

The store is a running collector's data directory (finished `.gz` files and the
workers' open files, read while they are open) and a copy shipped from another
VM (plain files of other days), read as one with `--data-dir A B`. The counts on
each side come from the real commands: the CLI in a subprocess, jq, sort, uniq.
"""

from __future__ import annotations

import csv
import io
import shlex
import subprocess
import sys

import pytest

from collector.store import datafiles
from tests.servers import require_binary, wait_until
from tests.unit.cli.helpers import line

pytestmark = pytest.mark.system

PEOPLE = [f"u{n}" for n in range(7)]
PAGES = ["/", "/pricing", "/docs", "/signup"]
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def shell(command: str) -> str:
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    return done.stdout


def uniq_counts(text: str) -> dict[tuple[str, ...], int]:
    """`uniq -c`'s lines (`   3 a<TAB>b`) as {(a, b): 3}."""
    counted = {}
    for row in text.splitlines():
        count, _, rest = row.strip().partition(" ")
        counted[tuple(rest.split("\t"))] = int(count)
    return counted


def query(dirs: str, name: str) -> list[dict[str, str]]:
    out = shell(f"{shlex.quote(sys.executable)} -m collector events query --name {name} --format csv --data-dir {dirs}")
    return list(csv.DictReader(io.StringIO(out)))


@pytest.fixture
def store(start_service, tmp_path):
    """A running collector's directory with finished .gz and open files, and a shipped copy of plain files."""
    require_binary("jq")
    service = start_service(rate_limit="1000000/hour", workers="2", compress="gzip", rotate_bytes="4000")
    for n in range(240):
        person = PEOPLE[n % len(PEOPLE)]
        event = {"eventType": "page_view", "properties": {"path": PAGES[n % len(PAGES)]}}
        if n % 5 == 0:
            event = {"eventType": "signup", "properties": {"plan": "pro"}}
        event["userId" if n % 3 else "anonymousId"] = person
        bot = n % 11 == 0
        answer = service.post({"messageBody": [event]}, headers={"User-Agent": GOOGLEBOT} if bot else None)
        assert answer.status_code == 201, answer.text
    live = service.data_dir
    wait_until(lambda: any(path.name.endswith(".gz") for path in datafiles.data_files(live)), 30, "a .gz file")
    assert any(path.name.endswith(".open") for path in datafiles.data_files(live)), "no open file to read"

    shipped = tmp_path / "shipped" / "vm-b"
    shipped.mkdir(parents=True)
    (shipped / "events-20261124T080000.000000Z-vm-b-77-000001.jsonl").write_bytes(
        line("page_view", "2026-11-24T08:00:00.000Z", userId="u1", properties={"path": "/"})
        + line("page_view", "2026-11-24T09:00:00.000Z", anonymousId="a9", properties={"path": "/docs"})
        + line("signup", "2026-11-25T10:00:00.000Z", userId="u1")
    )
    return f"{shlex.quote(str(live))} {shlex.quote(str(shipped))}", service


def test_daily_types_and_daily_users_match_cat_and_jq(store):
    dirs, service = store
    # Nothing arrives meanwhile: both commands read the same lines (the open files to their last whole line).
    by_jq = uniq_counts(shell(f"{{ {_cat_command(dirs, '[.receivedAt[:10], .eventType] | @tsv')}; }} | sort | uniq -c"))
    by_query = {(row["day"], row["eventType"]): int(row["events"]) for row in query(dirs, "daily-types")}
    assert by_query == by_jq and sum(by_jq.values()) == 243

    people = "select(.client.bot == null) | [.receivedAt[:10], (.userId // .anonymousId)] | @tsv"
    by_jq = uniq_counts(shell(f"{_cat_command(dirs, people)} | sort -u | cut -f1 | uniq -c"))
    by_query = {(row["day"],): int(row["people"]) for row in query(dirs, "daily-users")}
    assert by_query == by_jq and len(by_jq) == 3  # two shipped days, and today's
    assert service.post({"messageBody": [{"eventType": "late"}]}).status_code == 201  # still serving


def test_top_pages_and_bots_match_cat_and_jq(store):
    dirs, _service = store
    views = 'select(.eventType == "page_view") | .properties.path'
    by_jq = uniq_counts(shell(f"{_cat_command(dirs, views)} | sort | uniq -c"))
    assert {(row["path"],): int(row["views"]) for row in query(dirs, "top-pages")} == by_jq

    bots = "select(.client.bot != null) | [.client.bot.name, .client.bot.category] | @tsv"
    by_jq = uniq_counts(shell(f"{_cat_command(dirs, bots)} | sort | uniq -c"))
    assert {(row["bot"], row["category"]): int(row["events"]) for row in query(dirs, "bots")} == by_jq
    assert sum(by_jq.values()) == 22


def _cat_command(dirs: str, jq_program: str) -> str:
    return f"{shlex.quote(sys.executable)} -m collector events cat --data-dir {dirs} | jq -r {shlex.quote(jq_program)}"
