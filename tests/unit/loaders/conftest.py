import psycopg
import pytest

from tests.postgres import postgres_server


@pytest.fixture(scope="session")
def pg_server():
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def dsn(pg_server):
    """A fresh database for each test, dropped after it."""
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS loader_test WITH (FORCE)")
        admin.execute("CREATE DATABASE loader_test")
    yield pg_server.replace("dbname=postgres", "dbname=loader_test")
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS loader_test WITH (FORCE)")
