"""Which JSON Schema library checks the tracking plan: `python3 bench/plan_libraries.py` (see `--help`).

Compares, on the same machine in one run, rounds interleaved:

- `jsonschema` (the reference implementation, pure Python) with a
  `Draft202012Validator` built once per schema and its format checker;
- `fastjsonschema` (compiles each schema to Python code once);
- `jsonschema-rs` (a Rust validator behind a Python module), a
  `Draft202012Validator` built once per schema, formats asserted.

Each checks typical events against a 10-type plan (strings, numbers, enums,
`required`, formats date-time/email/uuid/uri, no extra properties), one event
at a time and in 100-event batches, valid events and invalid ones (two
faults each). A check is what the collector needs: the type's validator
found by name, then every violation with its instance path (`iter_errors`);
valid events take the `is_valid` fast path first where the library has one.
The last row is the chosen library inside `collector.plan` (its messages and
JSON pointers included): what an event costs the service.
fastjsonschema raises at the first fault, so it reports one violation per event.

Then what each library can do, printed as a table: draft 2020-12 keywords
(`prefixItems`, `dependentRequired`, `unevaluatedProperties`, `$defs`), every
violation reported, and which formats it really checks as installed.

Prints the figures; nothing fails on a timing. Needs the two libraries not
chosen, beside the collector's own requirements: `pip install -r
bench/requirements.txt` (only jsonschema-rs is a dependency of the collector).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

try:
    import fastjsonschema
    import jsonschema
    import jsonschema_rs
except ModuleNotFoundError as missing:
    sys.exit(
        f"bench/plan_libraries.py compares libraries the collector does not depend on ({missing.name} is missing): "
        "pip install -r bench/requirements.txt"
    )

TYPES = 10


def type_schema(n: int) -> dict[str, Any]:
    """The properties schema of the plan's type n: what a product team's plan looks like."""
    return {
        "type": "object",
        "properties": {
            "sku": {"type": "string", "minLength": 1, "maxLength": 64},
            "price": {"type": "number", "minimum": 0},
            "quantity": {"type": "integer", "minimum": 1},
            "currency": {"enum": ["EUR", "USD", "GBP", f"X{n:02d}"]},
            "orderedAt": {"type": "string", "format": "date-time"},
            "email": {"type": "string", "format": "email"},
            "orderId": {"type": "string", "format": "uuid"},
            "page": {"type": "string", "format": "uri"},
            "coupon": {"type": ["string", "null"]},
        },
        "required": ["sku", "price", "quantity", "currency"],
        "additionalProperties": False,
    }


def plan() -> dict[str, dict[str, Any]]:
    return {f"type_{n}": type_schema(n) for n in range(TYPES)}


def events(count: int, valid: bool) -> list[tuple[str, dict[str, Any]]]:
    """(eventType, properties) of `count` events spread over the plan's types."""
    found = []
    for i in range(count):
        properties = {
            "sku": f"SKU-{i}",
            "price": 19.99 + i % 7,
            "quantity": 1 + i % 3,
            "currency": "EUR",
            "orderedAt": "2026-12-06T06:30:00.123Z",
            "email": f"buyer{i}@example.com",
            "orderId": str(uuid.UUID(int=i + 1)),
            "page": f"https://shop.example.com/p/{i}",
            "coupon": None,
        }
        if not valid:
            properties["price"] = "19.99"  # a price sent as a string
            del properties["sku"]  # a required property missing
        found.append((f"type_{i % TYPES}", properties))
    return found


def jsonschema_checker(schemas: dict[str, dict]) -> Callable[[str, dict], list]:
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validators = {
        name: jsonschema.Draft202012Validator(schema, format_checker=checker) for name, schema in schemas.items()
    }

    def check(event_type: str, properties: dict) -> list:
        return [(list(error.absolute_path), error.message) for error in validators[event_type].iter_errors(properties)]

    return check


def fastjsonschema_checker(schemas: dict[str, dict]) -> Callable[[str, dict], list]:
    validators = {name: fastjsonschema.compile(schema) for name, schema in schemas.items()}

    def check(event_type: str, properties: dict) -> list:
        try:
            validators[event_type](properties)
        except fastjsonschema.JsonSchemaValueException as error:
            return [(error.path[1:], error.message)]
        return []

    return check


def jsonschema_rs_checker(schemas: dict[str, dict]) -> Callable[[str, dict], list]:
    validators = {
        name: jsonschema_rs.Draft202012Validator(schema, validate_formats=True) for name, schema in schemas.items()
    }

    def check(event_type: str, properties: dict) -> list:
        validator = validators[event_type]
        if validator.is_valid(properties):
            return []
        return [(error.instance_path, error.message) for error in validator.iter_errors(properties)]

    return check


def collector_plan_checker(schemas: dict[str, dict]) -> Callable[[str, dict], list]:
    """The chosen library as the collector uses it: `TrackingPlan.check`, messages and pointers included."""
    from collector.plan import plan_from_text

    document = {
        "eventTypes": {name: {"properties": schema} for name, schema in schemas.items()},
        "otherEventTypes": "refuse",
    }
    tracking_plan = plan_from_text(json.dumps(document))

    def check(event_type: str, properties: dict) -> list:
        return tracking_plan.check({"eventType": event_type, "properties": properties})

    return check


def no_plan_checker(schemas: dict[str, dict]) -> Callable[[str, dict], list]:
    """The floor: the type's look-up and the call, no validation (what `plan off` leaves)."""
    known = dict.fromkeys(schemas, True)

    def check(event_type: str, properties: dict) -> list:
        known[event_type]
        return []

    return check


LIBRARIES = {
    "no plan (look-up only)": no_plan_checker,
    "jsonschema": jsonschema_checker,
    "fastjsonschema": fastjsonschema_checker,
    "jsonschema-rs": jsonschema_rs_checker,
    "collector.plan (jsonschema-rs)": collector_plan_checker,
}


def per_event_microseconds(check: Callable, sample: Sequence[tuple[str, dict]], batch: int, seconds: float) -> float:
    """Microseconds per event, checking `sample` `batch` events per call of the batch loop."""
    batches = [sample[i : i + batch] for i in range(0, len(sample), batch)]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for events_of_batch in batches:
            for event_type, properties in events_of_batch:
                check(event_type, properties)
            done += len(events_of_batch)
    return (time.perf_counter() - started) / done * 1e6


def measure(rounds: int, seconds: float) -> dict[tuple[str, str, str], list[float]]:
    schemas = plan()
    checkers = {name: build(schemas) for name, build in LIBRARIES.items()}
    samples = {"valid": events(1000, True), "invalid": events(1000, False)}
    figures: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(rounds):  # interleaved: a busy neighbour slows every library alike
        for name, check in checkers.items():
            for validity, sample in samples.items():
                for shape, batch in (("single", 1), ("batch of 100", 100)):
                    figure = per_event_microseconds(check, sample, batch, seconds)
                    figures.setdefault((name, validity, shape), []).append(figure)
    return figures


FORMAT_FAULTS = {
    "date-time": "yesterday",
    "email": "not-an-address",
    "uuid": "1234",
    "uri": "no scheme here",
}

DRAFT_2020_12 = [
    ("prefixItems", {"prefixItems": [{"type": "string"}]}, [1]),
    ("dependentRequired", {"dependentRequired": {"a": ["b"]}}, {"a": 1}),
    ("unevaluatedProperties", {"properties": {"a": {}}, "unevaluatedProperties": False}, {"b": 1}),
    ("$defs + $ref", {"$defs": {"n": {"type": "number"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}, {"a": "x"}),
]


def capabilities() -> dict[str, dict[str, str]]:
    """Per library: does it flag what it should (2020-12 keywords, formats), and report every fault?"""
    found: dict[str, dict[str, str]] = {}
    for name, build in list(LIBRARIES.items())[1:]:
        row = {}
        for keyword, schema, instance in DRAFT_2020_12:
            row[keyword] = "yes" if _flags(build, schema, instance) else "NO"
        for form, fault in FORMAT_FAULTS.items():
            row[f"format {form}"] = "yes" if _flags(build, {"format": form}, fault) else "NO"
        faults = len(build(plan())("type_0", events(1, False)[0][1]))
        row["faults reported (of 2)"] = str(faults)
        found[name] = row
    return found


def _flags(build: Callable, schema: dict, instance: Any) -> bool:
    try:
        return bool(build({"t": schema})("t", instance))
    except Exception:  # noqa: BLE001 - a keyword the library cannot compile is one it does not support
        return False


def versions() -> str:
    names = ("jsonschema", "fastjsonschema", "jsonschema-rs")
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in names)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement (default 1)")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()}; {versions()}; {args.rounds} rounds x {args.seconds}s per figure\n")
    figures = measure(args.rounds, args.seconds)
    print("| library | events | shape | us per event, median (min-max) | events/s per core |")
    print("|---|---|---|---|---|")
    for (name, validity, shape), values in figures.items():
        median = statistics.median(values)
        spread = f"{median:.2f} ({min(values):.2f}-{max(values):.2f})"
        print(f"| {name} | {validity} | {shape} | {spread} | {1e6 / median:,.0f} |")
    print()
    table = capabilities()
    columns = list(next(iter(table.values())))
    print("| library | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(row[column] for column in columns) + " |")


if __name__ == "__main__":
    main()
