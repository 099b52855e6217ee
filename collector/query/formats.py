"""A query's answer written out: an aligned table, CSV, or JSON lines (`--format`).

Integers are written exactly, whatever their size (DuckDB's HUGEINT and the
text of a JSON column both reach here whole); times as RFC 3339 UTC, as the
store writes `receivedAt`.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import math
from typing import Any, TextIO

from .loading import Answer

FORMATS = ("table", "csv", "jsonl")


def write(answer: Answer, form: str, out: TextIO) -> None:
    {"table": _table, "csv": _csv, "jsonl": _jsonl}[form](answer, out)
    out.flush()


def text_of(value: Any) -> str:
    """A value as a table or CSV cell: NULL is empty."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return _time(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _time(moment: datetime.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return moment.isoformat()


def _table(answer: Answer, out: TextIO) -> None:
    rows = [[text_of(value) for value in row] for row in answer.rows]
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(answer.names)]
    numeric = [all(_is_number(row[i]) for row in answer.rows) for i in range(len(answer.names))]
    for cells in (answer.names, *rows):
        padded = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ]
        print("  ".join(padded).rstrip(), file=out)
    print(f"({len(rows)} row{'' if len(rows) == 1 else 's'})", file=out)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool))


def _csv(answer: Answer, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(answer.names)
    writer.writerows([text_of(value) for value in row] for row in answer.rows)


def _jsonl(answer: Answer, out: TextIO) -> None:
    keys = [json.dumps(name) for name in answer.names]
    for row in answer.rows:
        members = [
            f"{key}:{value if index in answer.json_columns and value is not None else _json(value)}"
            for index, (key, value) in enumerate(zip(keys, row, strict=True))
        ]
        out.write("{" + ",".join(members) + "}\n")


def _json(value: Any) -> str:
    """A value as JSON: integers and decimals exact, NaN and infinities (not JSON) as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, datetime.date):
        return json.dumps(text_of(value))
    return json.dumps(value, default=str, ensure_ascii=False)
