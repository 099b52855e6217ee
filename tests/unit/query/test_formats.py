"""A query's answer as a table, CSV or JSON lines."""

from __future__ import annotations

import datetime
import decimal
import io

from collector.query import formats
from collector.query.loading import Answer

BIG = 2**100
ANSWER = Answer(
    names=["t", "n", "j", "d", "x"],
    json_columns={2},
    rows=[
        (datetime.datetime(2026, 11, 26, 5, 0, 0, 123000, tzinfo=datetime.UTC), BIG, f'{{"n":{BIG}}}', None, 1.5),
        (None, 2, None, decimal.Decimal("2.50"), float("nan")),
    ],
)


def _written(form):
    out = io.StringIO()
    formats.write(ANSWER, form, out)
    return out.getvalue().splitlines()


def test_json_lines_keep_integers_and_json_text_exact_and_nan_as_null():
    assert _written("jsonl") == [
        f'{{"t":"2026-11-26T05:00:00.123Z","n":{BIG},"j":{{"n":{BIG}}},"d":null,"x":1.5}}',
        '{"t":null,"n":2,"j":null,"d":2.50,"x":null}',
    ]


def test_csv_writes_null_as_empty():
    assert _written("csv")[1:] == [f'2026-11-26T05:00:00.123Z,{BIG},"{{""n"":{BIG}}}",,1.5', ",2,,2.50,nan"]


def test_the_table_right_aligns_numbers_and_counts_rows():
    lines = _written("table")
    assert lines[0].split() == ["t", "n", "j", "d", "x"]
    assert lines[2].startswith(" " * 24 + "  " + " " * (len(str(BIG)) - 1) + "2")
    assert lines[-1] == "(2 rows)"
