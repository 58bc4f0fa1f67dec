"""Answers dumped by plain functions compiled from the declared schemas: the same JSON, a fraction of the cost.

marshmallow's generic dump walks several layers per field and value (Field.serialize, get_value,
_get_value_for_key, _serialize...); for a week of 80 slots that was most of the request's CPU
(docs/performance.md). The schemas stay what they are, the one declaration of each answer and of the
OpenAPI document; `dumper(SchemaClass)` reads one schema's fields once and returns a function that
builds the same dict with one getter and one converter per field:

- Integer, Float and String (not as_string), DateTime/Date/Time/AwareDateTime with a named format: the
  same conversions marshmallow applies (int(), float(), str(), its own SERIALIZATION_FUNCS);
- Nested and List(Nested) (without only/exclude): the nested schema compiled the same way;
- every other field (Decimal, Constant, Raw, Method, ...), and any field with a dump_default, is dumped
  by marshmallow's own Field.serialize, so whatever is not listed above is exact by construction;
- a schema's pre_dump/post_dump hooks run as marshmallow runs them; a schema that overrides
  get_attribute or _serialize is dumped by marshmallow entirely.

Values are looked up as marshmallow does (utils.get_value: item first for mappings, dotted
attributes), and a field whose value is missing is left out, as marshmallow leaves it out.
tests/api/test_lean_answers.py checks the compiled dump against marshmallow's and the OpenAPI schema.
"""
from collections.abc import Callable
from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing

Dump = Callable[[Any], Any]
NUMBERS = {fields.Integer: int, fields.Float: float}
TEMPORAL = (fields.DateTime, fields.Date, fields.Time)  # AwareDateTime and NaiveDateTime are DateTimes


def _key_getter(key: str) -> Callable[[Any], Any]:
    """marshmallow.utils._get_value_for_key for one key."""
    def get(obj):
        if not hasattr(obj, "__getitem__"):
            return getattr(obj, key, missing)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, missing)
    return get


def _getter(path: str) -> Callable[[Any], Any]:
    """marshmallow.utils.get_value: a dotted path is followed step by step (missing stays missing)."""
    steps = [_key_getter(key) for key in path.split(".")]
    if len(steps) == 1:
        return steps[0]

    def get(obj):
        for step in steps:
            obj = step(obj)
        return obj
    return get


def _none_or(convert: Callable[[Any], Any]) -> Dump:
    return lambda value: None if value is None else convert(value)


def _value_dump(field: fields.Field) -> Dump | None:
    """The converter of one value of `field`, or None when marshmallow must dump the field itself."""
    kind = type(field)
    if kind in NUMBERS and not field.as_string:
        return _none_or(NUMBERS[kind])
    if kind is fields.String:
        return _none_or(str)
    if isinstance(field, TEMPORAL) and type(field)._serialize is fields.DateTime._serialize:
        data_format = field.format or field.DEFAULT_FORMAT
        format_func = field.SERIALIZATION_FUNCS.get(data_format)
        if format_func is None:
            return None
        return _none_or(format_func)
    if kind is fields.Nested and not field.only and not field.exclude:
        nested = field.schema
        if nested.only or nested.exclude:
            return None
        inner = _schema_dump(type(nested))
        if field.many or nested.many:
            return _none_or(lambda values: [inner(value) for value in values])
        return _none_or(inner)
    if kind is fields.List:
        inner_dump = _value_dump(field.inner)
        if inner_dump is None:
            return None
        return _none_or(lambda values: [inner_dump(value) for value in values])
    return None


def _plain(schema: ma.Schema) -> bool:
    return (type(schema).get_attribute is ma.Schema.get_attribute
            and type(schema)._serialize is ma.Schema._serialize)


@cache
def _schema_dump(schema_class: type[ma.Schema]) -> Dump:
    schema = schema_class()
    if not _plain(schema):
        return schema.dump
    parts = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        convert = _value_dump(field) if field.dump_default is missing and field._CHECK_ATTRIBUTE else None
        if convert is None:
            parts.append((key, None, lambda obj, name=name, field=field: field.serialize(name, obj)))
        else:
            parts.append((key, _getter(field.attribute or name), convert))

    def dump_one(obj):
        out = {}
        for key, get, convert in parts:
            if get is None:
                value = convert(obj)
            else:
                value = get(obj)
                if value is not missing:
                    value = convert(value)
            if value is not missing:
                out[key] = value
        return out

    if not (schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]):
        return dump_one

    def dump_hooked(obj):
        ready = schema._invoke_dump_processors(PRE_DUMP, obj, many=False, original_data=obj) \
            if schema._hooks[PRE_DUMP] else obj
        out = dump_one(ready)
        if schema._hooks[POST_DUMP]:
            out = schema._invoke_dump_processors(POST_DUMP, out, many=False, original_data=obj)
        return out
    return dump_hooked


def dumper(schema_class: type[ma.Schema]) -> Dump:
    """The compiled dump of one object with `schema_class` (cached per class)."""
    return _schema_dump(schema_class)


class LeanSchema(ma.Schema):
    """A schema whose dump() is the compiled one (the envelopes: schemas.common.envelope); load is marshmallow's."""

    def dump(self, obj, *, many=None):
        many = self.many if many is None else bool(many)
        if self.only or self.exclude or not _plain(self):
            return super().dump(obj, many=many)
        one = _schema_dump(type(self))
        return [one(item) for item in obj] if many else one(obj)
