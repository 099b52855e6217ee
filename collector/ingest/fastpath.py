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

Only public schema information is read: `load_fields`, field classes and
attributes, `unknown`, `many`, `partial`. Whatever that cannot show (a method
or hook on the schema class, a field subclass, a renamed or defaulted field)
is refused with a TypeError when the app is built, never mirrored wrongly.

tests/unit/ingest/test_fastpath.py proves with hypothesis that, for generated
valid and invalid payloads, both paths accept exactly the same requests.
Payloads are values parsed from JSON (dicts with string keys, lists, str, int,
float, bool, None), which is all the service ever gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate

Check = Callable[[Any], bool]

# What marshmallow's SchemaMeta (and ABCMeta under it) put in every schema
# class's namespace, besides dunders: bookkeeping, not behaviour. `Meta` and
# `OPTIONS_CLASS` are the documented ways to configure a schema; what they set
# is read back through the schema's public attributes.
_SCHEMA_CLASS_BOOKKEEPING = frozenset({"Meta", "OPTIONS_CLASS", "opts", "_declared_fields", "_hooks", "_abc_impl"})


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
    """A predicate that is True only for values `schema.load` accepts unchanged.

    :raises TypeError: naming the schema and the attribute, for anything the
        predicate could not mirror.
    """
    name = type(schema).__name__
    _refuse_schema_methods(schema)
    if schema.unknown != RAISE:
        raise TypeError(f"{name}.unknown={schema.unknown!r}: only unknown=RAISE schemas compile")
    if schema.many or schema.partial:
        raise TypeError(f"{name}: many={schema.many!r}, partial={schema.partial!r}: only whole single objects compile")
    checks = {}
    for field_name, field in schema.load_fields.items():
        where = f"{name}.{field_name}"
        if field.data_key not in (None, field_name) or field.attribute not in (None, field_name):
            raise TypeError(f"{where}: renamed fields (data_key, attribute) change the loaded data")
        if field.load_default is not missing:
            raise TypeError(f"{where}: defaulted fields (load_default) change the loaded data")
        checks[field_name] = compile_field(field, where)
    required = frozenset(field_name for field_name, field in schema.load_fields.items() if field.required)

    def check(value: Any) -> bool:
        if not _is_mapping(value) or not required <= value.keys():
            return False
        for key, item in value.items():
            field_check = checks.get(key)
            if field_check is None or not field_check(item):
                return False
        return True

    return check


def _refuse_schema_methods(schema: Schema) -> None:
    """Refuse a schema class that defines anything but fields and options.

    A method is how marshmallow is extended (pre_load, post_load, validates,
    validates_schema hooks; an overridden `load`, `handle_error`,
    `on_bind_field`, ...), and the fast path cannot know what one does: so a
    schema class, and every class it inherits from below marshmallow's Schema,
    may hold only declared fields, `Meta`, what SchemaMeta itself stores and
    plain dunders.

    :raises TypeError: naming the schema and the first such attribute.
    """
    for klass in type(schema).__mro__:
        if klass in Schema.__mro__:
            continue
        for attribute, value in vars(klass).items():
            if not _is_plain_schema_attribute(schema, attribute, value):
                raise TypeError(
                    f"{type(schema).__name__}: {klass.__name__}.{attribute} cannot be mirrored by the fast path, "
                    "which compiles only declared fields and Meta; move the check out of the schema "
                    "(as RequestValidator.refuse_oversized_batch does)"
                )


def _is_plain_schema_attribute(schema: Schema, attribute: str, value: Any) -> bool:
    if attribute in _SCHEMA_CLASS_BOOKKEEPING or attribute in schema.declared_fields:
        return True
    if attribute.startswith("__") and attribute.endswith("__"):
        # __module__, __doc__, __dict__, ... but not __init__ or __getattr__.
        return not (callable(value) or isinstance(value, (classmethod, staticmethod, property)))
    return False


def compile_field(field: fields.Field, where: str = "field") -> Check:
    """A predicate that is True only for values `field` loads unchanged.

    :raises TypeError: naming `where` (schema.field), for a field the fast path cannot mirror.
    """
    type_check = _type_check(field, where)
    rules = tuple(_rule_check(validator) for validator in field.validators)
    allow_none = field.allow_none

    # The common cases, kept to as few calls as they can be.
    if not rules and not allow_none:
        return type_check
    if len(rules) == 1 and not allow_none and type(field) is fields.String:
        rule = rules[0]
        return lambda value: isinstance(value, str) and rule(value)

    def check(value: Any) -> bool:
        if value is None:
            return allow_none
        if not type_check(value):
            return False
        return all(rule(value) for rule in rules)

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


def _type_check(field: fields.Field, where: str) -> Check:
    # Exact classes only: a subclass (UUID, Email, one of ours) may override
    # how a value is loaded, and only the classes below are known to load a
    # JSON value unchanged.
    # `type(field) is ...` spelled out each time: mypy narrows field on it, not on a local.
    kind = type(field)
    if kind is fields.String:
        return lambda value: isinstance(value, str)
    if type(field) is fields.Dict:
        return _dict_check(field, where)
    if type(field) is fields.List:
        inner = compile_field(field.inner, f"{where}[]")
        return lambda value: isinstance(value, list) and all(inner(item) for item in value)
    if type(field) is fields.Nested:
        if field.many:
            raise TypeError(f"{where}: Nested(many=True) is not supported; use List(Nested(...))")
        if field.unknown not in (None, RAISE):
            raise TypeError(f"{where}: Nested(unknown={field.unknown!r}) is not supported; only RAISE")
        return compile_schema(field.schema)
    if kind is fields.Raw:
        return lambda value: True
    raise TypeError(f"{where}: {kind.__name__} fields are not supported by the fast path")


def _dict_check(field: fields.Dict, where: str) -> Check:
    # Keys of a JSON object are strings: a plain String key field, the usual
    # one, cannot refuse any (this module checks values parsed from JSON).
    key_field = field.key_field
    key_check = None if key_field is None or _is_plain_string(key_field) else compile_field(key_field, f"{where} key")
    value_check = compile_field(field.value_field, f"{where} value") if field.value_field else None

    def check(value: Any) -> bool:
        if not _is_mapping(value):
            return False
        if key_check is not None and not all(key_check(key) for key in value):
            return False
        return value_check is None or all(value_check(item) for item in value.values())

    return check


def _is_mapping(value: Any) -> bool:
    # JSON objects are dicts: skip the slow ABC check for them.
    return type(value) is dict or isinstance(value, Mapping)


def _is_plain_string(field: fields.Field | None) -> bool:
    return type(field) is fields.String and not field.validators and not field.allow_none
