"""A long list's items written as JSON by PostgreSQL, from the same declared schema: the cheapest answer there is.

lean.py compiles a schema into a Python dump; for the longest public lists even that, with the rows' fetch
and JSON encoding around it, was most of a request (a speciality's day: about 200 slots). `row_json(Schema)`
compiles the schema instead into one SQL column, the item's JSON text concatenated from the statement's columns
named by each field's attribute, so each row arrives as its finished item and the answer is the items joined
(envelope.ok_items). A field whose value only Python knows (a slot held in Redis) is added to the text after.
The schemas stay the one declaration of the answer and of the OpenAPI document.

Only fields whose text PostgreSQL writes exactly as marshmallow does are compiled; any other is refused when
the column is built (TypeError), never dumped differently:
- Integer (not as_string): the number's text; String: to_json's, which quotes and escapes it; Boolean over a
  boolean column: its text, `true` or `false`;
- DateTime with the ISO format over an instant (timestamptz): datetime.isoformat() of its UTC value, that is
  `YYYY-MM-DDTHH:MM:SS`, `.ffffff` only when there are microseconds, then `+00:00`;
- Decimal as_string with `places` equal to the column's scale: numeric's own text, which then has exactly
  those places (no rounding happens, so marshmallow's rounding mode never matters);
- Date with the ISO format over a date column: date.isoformat(), `YYYY-MM-DD`;
- Nested (one object) of a schema that compiles: its fields' columns are named `field.attribute` (`doctor.id`),
  and a nested object that may be None is null where the column named by the field's own attribute (`doctor`,
  the joined row's key, say) is NULL, as the row object's attribute is None then.
NULL is JSON null, as marshmallow dumps None. The text is concatenated, not built by json_build_object, which
spent 5 µs a slot on looking up each value's type where concatenation spends 1.9 (200,000 rows in psql).
tests/api/test_database_json.py compares each compiled schema with marshmallow's dump of the same rows, edge
values included.
"""
import json
from collections.abc import Collection, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing
from sqlalchemy import Boolean, ColumnElement, Date, Integer, Numeric, String, Text, case, cast, func

from portal.models.base import UTCDateTime
from portal.services.persistence import constant

ENDS_KEPT = 64  # distinct completions remembered per schema (a slot list has four)


def _text(value: str) -> ColumnElement[str]:
    """A constant of the statement written into its SQL (formats and keys), not a parameter."""
    return constant(value, Text)


def _concat(*parts) -> ColumnElement[str]:
    """`a || b || ...`: NULL when any part is NULL (concat() would drop it)."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||", return_type=Text)(part)
    return joined


def _iso_instant(column: ColumnElement) -> ColumnElement[str]:
    """datetime.isoformat() of the instant in UTC, as marshmallow's DateTime writes a UTCDateTime value."""
    utc = func.timezone(_text("UTC"), column)
    fraction = case((func.date_trunc(_text("second"), column) == column, _text("")),
                    else_=func.to_char(utc, _text(".US")))
    return _concat(func.to_char(utc, _text('YYYY-MM-DD"T"HH24:MI:SS')), fraction, _text("+00:00"))


def _quoted(text: ColumnElement[str]) -> ColumnElement[str]:
    return _concat(_text('"'), text, _text('"'))


def _nested(attribute: str, field: fields.Nested, columns: Mapping[str, ColumnElement]) -> ColumnElement[str]:
    """A nested object's JSON text from the columns named `attribute.<its field's attribute>`; null where the column
    `attribute` is NULL, when the field may be None."""
    if field.many or field.only or field.exclude or field.dump_default is not missing:
        raise TypeError(f"{attribute}: only one whole nested object is compiled")
    prefix = f"{attribute}."
    inner = row_json(type(field.schema)).column(
        {key.removeprefix(prefix): column for key, column in columns.items() if key.startswith(prefix)})
    if not field.allow_none:
        return inner
    return case((columns[attribute].is_(None), _text("null")), else_=inner)


def _value(name: str, field: fields.Field, column: ColumnElement) -> ColumnElement[str]:
    """The field's value as JSON text, `null` for NULL (marshmallow dumps None as null)."""
    kind, column_type = type(field), column.type
    plain = field.dump_default is missing and kind.serialize is fields.Field.serialize  # value -> _serialize
    if plain and kind is fields.Integer and not field.as_string and isinstance(column_type, Integer):
        written = cast(column, Text)
    elif plain and kind is fields.Boolean and isinstance(column_type, Boolean):
        written = cast(column, Text)
    elif plain and kind is fields.String and isinstance(column_type, String):
        written = cast(func.to_json(column), Text)  # quoted and escaped as JSON
    elif (plain and isinstance(field, fields.DateTime) and kind._serialize is fields.DateTime._serialize
          and (field.format or field.DEFAULT_FORMAT) == "iso" and isinstance(column_type, UTCDateTime)):
        written = _quoted(_iso_instant(column))
    elif (plain and kind is fields.Decimal and field.as_string and isinstance(column_type, Numeric)
          and column_type.scale is not None and field.places == Decimal(1).scaleb(-column_type.scale)):
        written = _quoted(cast(column, Text))
    elif (plain and kind is fields.Date and (field.format or field.DEFAULT_FORMAT) == "iso"
          and isinstance(column_type, Date)):
        written = _quoted(func.to_char(column, _text("YYYY-MM-DD")))
    else:
        raise TypeError(f"{name}: PostgreSQL cannot write {kind.__name__} over {column_type!r} as marshmallow does")
    return func.coalesce(written, _text("null"), type_=Text)


class RowJson:
    """One schema compiled for the database: column() is the SQL of an item's JSON, complete() adds the fields
    only Python knows (a slot's hold lives in Redis)."""

    def __init__(self, schema_class: type[ma.Schema]):
        schema = schema_class()
        if (schema.only or schema.exclude or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]
                or type(schema).get_attribute is not ma.Schema.get_attribute
                or type(schema)._serialize is not ma.Schema._serialize):
            raise TypeError(f"{schema_class.__name__}: hooks, field selections and own lookups are not compiled")
        self.fields = {field.attribute or name: (field.data_key or name, field)
                       for name, field in schema.dump_fields.items()}
        self._ends: dict[tuple, str] = {}  # complete()'s text by the values it adds

    def column(self, columns: Mapping[str, ColumnElement], *, later: Collection[str] = ()) -> ColumnElement[str]:
        """The item's JSON text as a column of the statement whose `columns` are named by each field's attribute
        (`doctor.fees` for a field of a joined row or nested object); the fields of the attributes `later` are left
        for complete()."""
        parts, joint = [], "{"
        for attribute, (key, field) in self.fields.items():
            if attribute not in later:
                value = (_nested(attribute, field, columns) if isinstance(field, fields.Nested)
                         else _value(key, field, columns[attribute]))
                parts += [_text(f"{joint}{json.dumps(key)}:"), value]
                joint = ","
        return _concat(*parts, _text("}")) if parts else _text("{}")

    def complete(self, text: str, values: Mapping[str, Any]) -> str:
        """The item `text` (from column(..., later=...)) with the fields of the attributes `later`, from `values`
        and dumped by marshmallow's own fields (each distinct set of values once: a slot's state is one of four)."""
        key = tuple(values.items())
        end = self._ends.get(key)
        if end is None:
            added = {name: field.serialize(attribute, values) for attribute, (name, field) in self.fields.items()
                     if attribute in values}
            if len(self._ends) >= ENDS_KEPT:
                self._ends.clear()
            end = self._ends[key] = json.dumps(added)[1:]
        return f"{text[:-1]}, {end}" if len(text) > 2 else "{" + end


@cache
def row_json(schema_class: type[ma.Schema]) -> RowJson:
    """`schema_class` compiled for the database (RowJson), once per class: statements built with it are cached
    by it."""
    return RowJson(schema_class)
