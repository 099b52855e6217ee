"""collector/idempotency/__init__.py build(): the state follows COLLECTOR_RATE_LIMIT_STORAGE, as the settings say."""

from __future__ import annotations

import pytest

from collector.idempotency import build
from collector.idempotency.state import MemcachedState, SQLiteState
from collector.settings import load_settings


@pytest.mark.parametrize("storage", ["sqlite://", "memory://", "memcached://127.0.0.1:11211"])
def test_the_state_is_where_the_start_up_description_says(storage, tmp_path):
    # Building connects to nothing: pymemcache connects on the first call.
    settings = load_settings(environ={"COLLECTOR_RATE_LIMIT_STORAGE": storage, "COLLECTOR_DATA_DIR": str(tmp_path)})
    state = build(settings).state
    assert isinstance(state, MemcachedState if settings.idempotency_in_memcached else SQLiteState)
    shown = settings.describe()["COLLECTOR_RATE_LIMIT_STORAGE"]
    assert shown.startswith("memcached://" if isinstance(state, MemcachedState) else ("sqlite://", "memory://"))
    assert shown.endswith("(idempotency state: SQLite in the data dir)") == (storage == "memory://")
