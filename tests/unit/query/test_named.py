"""The named queries shipped with `collector events query`."""

from __future__ import annotations

import pytest

from collector.query import loading, named


def test_every_named_query_says_what_it_answers_and_runs_over_an_empty_store(tmp_path):
    with loading.opened([tmp_path]) as connection:
        for name, summary in named.described():
            assert summary, name
            assert loading.run(connection, named.sql_of(name)).rows == []


def test_an_unknown_name_lists_those_there_are():
    with pytest.raises(named.UnknownQuery, match="daily-types"):
        named.sql_of("weekly")
