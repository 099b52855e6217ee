"""How fast `collector load postgres` loads: `python3 bench/load_postgres_rate.py STORE` (see `--help`).

Starts the tests' throwaway PostgreSQL (tests/postgres.py: Debian's
`postgresql` package, on 127.0.0.1, `fsync=off`), then `--runs` times: a
fresh database, `collector load postgres` over the finished files of STORE
(e.g. made by bench/query_store.py), timed as a whole process. Prints the
events loaded and events per second of each run; nothing fails on a timing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.postgres import postgres_server  # noqa: E402  (the tests' fixture, from the checkout)


def one_run(server_dsn: str, store: Path) -> tuple[float, str]:
    """A fresh database loaded from `store`: seconds, and what the loader said."""
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS load_bench WITH (FORCE)")
        admin.execute("CREATE DATABASE load_bench")
    dsn = server_dsn.replace("dbname=postgres", "dbname=load_bench")
    command = [sys.executable, "-m", "collector", "load", "postgres", "--dsn", dsn, "--data-dir", str(store)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a data directory of finished files (bench/query_store.py makes one)")
    parser.add_argument("--runs", type=int, default=3, help="loads into a fresh database each (default 3)")
    args = parser.parse_args()
    with postgres_server() as server_dsn:
        for _ in range(args.runs):
            seconds, said = one_run(server_dsn, args.store.resolve())
            events = int(said.rsplit(", ", 1)[1].split()[0])
            print(f"{said}: {seconds:.1f} s, {events / seconds:,.0f} events/s", flush=True)


if __name__ == "__main__":
    main()
