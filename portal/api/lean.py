"""Answers dumped by plain functions compiled from the declared schemas: the same JSON, a fraction of the cost.

marshmallow's generic dump walks several layers per field and value (Field.serialize, get_value,
_get_value_for_key, _serialize...); for a week of 80 slots that was most of the request's CPU
(docs/performance.md). The schemas stay what they are, the one declaration of each answer and of the
OpenAPI document; `dumper(SchemaClass)` reads one schema's fields once and returns a function that
builds the same dict with one getter and one converter per field:

- Integer, Float and String (not as_string), DateTime/Date/Time/AwareDateTime with a named format: the
  same conversions marshmallow applies (int(), float(), str(), its own SERIALIZATION_FUNCS); Decimal by
  marshmallow's own serialisation, remembered per exact value;
- Nested and List(Nested) (without only/exclude): the nested schema compiled the same way;
- every other field (Constant, Raw, Method, ...), and any field with a dump_default, is dumped
  by marshmallow's own Field.serialize, so whatever is not listed above is exact by construction;
- a schema's pre_dump/post_dump hooks run as marshmallow runs them; a schema that overrides
  get_attribute or _serialize is dumped by marshmallow entirely.

Values are looked up as marshmallow does (utils.get_value: item first for mappings, dotted
attributes), and a field whose value is missing is left out, as marshmallow leaves it out.
tests/api/test_lean_answers.py checks the compiled dump against marshmallow's and the OpenAPI schema.
"""
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing

Dump = Callable[[Any], Any]
NUMBERS = {fields.Integer: int, fields.Float: float}
TEMPORAL = (fields.DateTime, fields.Date, fields.Time)  # AwareDateTime and NaiveDateTime are DateTimes
DECIMALS_KEPT = 1024  # distinct values remembered per Decimal field (a clinic's fees are a few dozen)


# Per type: can obj[key] work? Only a __getitem__ in the class makes it (an instance attribute or a __getattr__
# does not), so for the other types marshmallow's lookup always ends in getattr(obj, key, missing) and its
# hasattr(obj, "__getitem__") (a failing __getattr__ call for wrappers) can be skipped.
_SUBSCRIPTABLE: dict[type, bool] = {}


def _key_getter(key: str) -> Callable[[Any], Any]:
    """marshmallow.utils._get_value_for_key for one key (and the type learnt for the compiled fast path)."""
    def get(obj):
        kind = type(obj)
        if kind not in _SUBSCRIPTABLE:
            _SUBSCRIPTABLE[kind] = any("__getitem__" in vars(klass) for klass in kind.__mro__)
        if not hasattr(obj, "__getitem__"):
            return getattr(obj, key, missing)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, missing)
    return get


def _none_or(convert: Callable[[Any], Any]) -> Dump:
    return lambda value: None if value is None else convert(value)


def _value_dump(field: fields.Field) -> Dump | None:
    """The converter of one value of `field` (None stays None), or None when the compiler cannot convert it."""
    convert = _converter(field)
    return None if convert is None else _none_or(convert)


def _converter(field: fields.Field) -> Dump | None:
    """The conversion of one value of `field` that is not None, or None when the compiler does not know it."""
    kind = type(field)
    if kind in NUMBERS and not field.as_string:
        return NUMBERS[kind]
    if kind is fields.String:
        return str
    if isinstance(field, TEMPORAL) and type(field)._serialize is fields.DateTime._serialize:
        data_format = field.format or field.DEFAULT_FORMAT
        return field.SERIALIZATION_FUNCS.get(data_format)
    if kind is fields.Decimal and kind._serialize is fields.Number._serialize:
        return _decimal_converter(field)
    if kind is fields.Nested and not field.only and not field.exclude:
        nested = field.schema
        if nested.only or nested.exclude:
            return None
        inner = _schema_dump(type(nested))
        if field.many or nested.many:
            return lambda values: [inner(value) for value in values]
        return inner
    if kind is fields.List:
        inner_dump = _value_dump(field.inner)
        if inner_dump is None:
            return None
        return lambda values: [inner_dump(value) for value in values]
    return None


def _decimal_converter(field: fields.Decimal) -> Dump:
    """marshmallow's own Decimal serialisation (quantize, format), remembered per value: a list of slots repeats
    each doctor's fee on every slot. Keyed by the Decimal's exact digits, sign and exponent (80.0 and 80.00,
    0 and -0 are equal Decimals that marshmallow may write differently); other types are not remembered."""
    serialize = field._serialize
    known: dict[tuple, Any] = {}

    def convert(value):
        if type(value) is not Decimal:
            return serialize(value, None, None)
        key = value.as_tuple()
        if key not in known:
            if len(known) >= DECIMALS_KEPT:
                known.clear()
            known[key] = serialize(value, None, None)
        return known[key]
    return convert


def _reads_attribute(field: fields.Field) -> bool:
    """Whether marshmallow's Field.serialize comes down to: look the value up, leave it out when missing, else
    field._serialize(value, name, obj). Not for fields with a dump_default, nor those that read no attribute
    (Constant, Method, Function) or read it their own way."""
    return (field.dump_default is missing and field._CHECK_ATTRIBUTE
            and type(field).serialize is fields.Field.serialize and type(field).get_value is fields.Field.get_value)


def _plain(schema: ma.Schema) -> bool:
    return (type(schema).get_attribute is ma.Schema.get_attribute
            and type(schema)._serialize is ma.Schema._serialize)


class _Source:
    """The lines of one schema's compiled dump and the names they use."""

    def __init__(self):
        self.lines = ["def dump_one(obj):", "    out = {}"]
        self.names = {"missing": missing, "SUBSCRIPTABLE": _SUBSCRIPTABLE}
        self.paths = {(): "obj"}
        self.plain: dict[str, str] = {}  # variable -> the flag saying its type is known not to be subscriptable

    def name(self, value) -> str:
        name = f"_{len(self.names)}"
        self.names[name] = value
        return name

    def lookup(self, path: tuple[str, ...]) -> str:
        """The variable holding the value at `path`, each step looked up once for all the fields under it: a
        plain getattr for a type known not to be subscriptable (asked once per object), else marshmallow's own
        lookup (_key_getter)."""
        if path not in self.paths:
            parent, key = self.lookup(path[:-1]), path[-1]
            if parent not in self.plain:
                self.plain[parent] = f"plain_{parent}"
                self.lines.append(f"    plain_{parent} = SUBSCRIPTABLE.get(type({parent})) is False")
            variable = f"at_{len(self.paths)}"
            self.lines.append(f"    {variable} = getattr({parent}, {key!r}, missing) if {self.plain[parent]} "
                              f"else {self.name(_key_getter(key))}({parent})")
            self.paths[path] = variable
        return self.paths[path]

    def field(self, name: str, field: fields.Field) -> None:
        key = field.data_key if field.data_key is not None else name
        if not _reads_attribute(field):
            self.lines += [f"    value = {self.name(field.serialize)}({name!r}, obj)",
                           "    if value is not missing:", f"        out[{key!r}] = value"]
            return
        value = self.lookup(tuple((field.attribute or name).split(".")))
        self.lines.append(f"    if {value} is not missing:")
        convert = _converter(field)
        if convert is not None:
            self.lines.append(f"        out[{key!r}] = None if {value} is None else {self.name(convert)}({value})")
        else:  # as Field.serialize does after the lookup
            self.lines += [f"        value = {self.name(field._serialize)}({value}, {name!r}, obj)",
                           "        if value is not missing:", f"            out[{key!r}] = value"]

    def function(self) -> Dump:
        exec("\n".join([*self.lines, "    return out"]), self.names)  # noqa: S102 - our own generated source
        return self.names["dump_one"]


def _compiled(schema: ma.Schema) -> Dump:
    """One function of straight-line code for the schema's fields, in their order (built with exec, as
    dataclasses builds __init__): no loop over fields, no lookup repeated for fields under one object."""
    source = _Source()
    for name, field in schema.dump_fields.items():
        source.field(name, field)
    return source.function()


@cache
def _schema_dump(schema_class: type[ma.Schema]) -> Dump:
    schema = schema_class()
    if not _plain(schema):
        return schema.dump
    dump_one = _compiled(schema)

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
