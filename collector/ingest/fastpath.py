"""A fast yes/no check for valid requests, compiled from the marshmallow schemas.

marshmallow's `load` costs about 50x the JSON parse per event (bench/RESULTS.md),
almost all of it machinery for building error messages and transforming data
that valid events never need. This module walks the schema's declared fields
once and compiles plain predicates from them: the same field types, the same
`required` and unknown-key rules, and the very same validator callables. So the
schema stays the one definition of the contract:

- a request the predicate accepts is stored as parsed (marshmallow would have
  returned an equal value: no field renames or defaults are used), and
- anything it does not accept goes through `schema.load`, which decides and
  writes every error message.

tests/unit/test_fastpath.py proves with hypothesis that, for generated valid
and invalid payloads, both paths accept exactly the same requests. Payloads
are values parsed from JSON (dicts with string keys, lists, str, int, float,
bool, None), which is all the service ever gives it. A schema
using anything this compiler does not know fails at start-up, not silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.constants import missing
from marshmallow.decorators import POST_LOAD, VALIDATES, VALIDATES_SCHEMA

Check = Callable[[Any], bool]


class Rule(validate.Validator):
    """A marshmallow validator written as `problem(value) -> message or None`.

    marshmallow calls it like any validator; the fast path calls `problem`
    directly, without raising and catching an exception per valid value.
    """

    def __init__(self, problem: Callable[[Any], str | None]) -> None:
        self.problem = problem

    def __call__(self, value: Any) -> Any:
        message = self.problem(value)
        if message is not None:
            raise ValidationError(message)
        return value


def compile_schema(schema: Schema) -> Check:
    """A predicate that is True only for values `schema.load` accepts unchanged."""
    name_of_schema = type(schema).__name__
    if schema.unknown != RAISE:
        raise TypeError(f"{name_of_schema}: only unknown=RAISE schemas can be compiled")
    # Hooks that validate or transform are not compiled. (pre_load hooks that
    # only refuse, like the early batch-size check, agree with a field rule.)
    if any(schema._hooks[tag] for tag in (POST_LOAD, VALIDATES, VALIDATES_SCHEMA)):
        raise TypeError(f"{name_of_schema}: schemas with post_load or validates hooks are not supported")
    checks = {}
    for name, field in schema.fields.items():
        if field.data_key not in (None, name) or field.load_default is not missing:
            raise TypeError(f"{name}: renamed or defaulted fields change the loaded data")
        checks[name] = compile_field(field)
    required = frozenset(name for name, field in schema.fields.items() if field.required)

    def check(value: Any) -> bool:
        if not _is_mapping(value) or not required <= value.keys():
            return False
        for key, item in value.items():
            field_check = checks.get(key)
            if field_check is None or not field_check(item):
                return False
        return True

    return check


def compile_field(field: fields.Field) -> Check:
    type_check = _type_check(field)
    rules = tuple(_rule_check(validator) for validator in field.validators)
    allow_none = field.allow_none

    # The common cases, kept to as few calls as they can be.
    if not rules and not allow_none:
        return type_check
    if len(rules) == 1 and not allow_none and isinstance(field, fields.String):
        rule = rules[0]
        return lambda value: isinstance(value, str) and rule(value)

    def check(value: Any) -> bool:
        if value is None:
            return allow_none
        if not type_check(value):
            return False
        for rule in rules:
            if not rule(value):
                return False
        return True

    return check


def _rule_check(validator: Callable[[Any], Any]) -> Check:
    """A validator as a predicate; marshmallow's Length, the most common, as plain len()."""
    if type(validator) is validate.Length and validator.equal is None:
        low = validator.min or 0
        high = validator.max if validator.max is not None else float("inf")
        return lambda value: low <= len(value) <= high
    if isinstance(validator, Rule):
        problem = validator.problem
        return lambda value: problem(value) is None

    def passes(value: Any) -> bool:
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return passes


def _type_check(field: fields.Field) -> Check:
    # Order matters: the subclasses before the classes they extend.
    if isinstance(field, fields.String):
        return lambda value: isinstance(value, str)
    if isinstance(field, fields.Dict):
        return _dict_check(field)
    if isinstance(field, fields.List):
        inner = compile_field(field.inner)
        return lambda value: isinstance(value, list) and all(inner(item) for item in value)
    if isinstance(field, fields.Nested):
        nested = field.schema
        if field.many:
            raise TypeError("Nested(many=True) is not supported; use List(Nested(...))")
        return compile_schema(nested)
    if type(field) is fields.Raw:
        return lambda value: True
    raise TypeError(f"{type(field).__name__} fields are not supported by the fast path")


def _dict_check(field: fields.Dict) -> Check:
    # Keys of a JSON object are strings: a plain String key field, the usual
    # one, cannot refuse any (this module checks values parsed from JSON).
    plain_keys = field.key_field is None or _is_plain_string(field.key_field)
    key_check = None if plain_keys else compile_field(field.key_field)
    value_check = compile_field(field.value_field) if field.value_field else None

    def check(value: Any) -> bool:
        if not _is_mapping(value):
            return False
        if key_check is not None and not all(key_check(key) for key in value):
            return False
        if value_check is not None and not all(value_check(item) for item in value.values()):
            return False
        return True

    return check


def _is_mapping(value: Any) -> bool:
    # JSON objects are dicts: skip the slow ABC check for them.
    return type(value) is dict or isinstance(value, Mapping)


def _is_plain_string(field: fields.Field | None) -> bool:
    return isinstance(field, fields.String) and not field.validators and not field.allow_none
