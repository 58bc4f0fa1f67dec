"""Schemas every endpoint shares: the envelopes, paging arguments and the error shape.

`envelope(ItemSchema)` is how an endpoint documents and dumps its answer: the view returns
envelope.ok(obj) and the response schema serialises `data` with ItemSchema (through the dump
compiled from it, portal/api/lean.py: same JSON, less CPU).
"""
from functools import cache

import marshmallow as ma
from marshmallow import fields, validate

from portal.api.lean import LeanSchema
from portal.input_rules import MAX_ID

SUCCESS_STATUSES = ("success", "created", "updated", "deleted")
ERROR_STATUSES = ("failed", "invalid", "incomplete", "forbidden")
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # far past any real list, and the OFFSET stays a number PostgreSQL accepts
ENUM_COMPONENT = "enum_component"  # field metadata: the name of the shared enum in the OpenAPI document


def enum_field(component: str, values, **kwargs) -> fields.String:
    """A string that is one of `values`, documented as the shared enum `component` (openapi.named_enum):
    every field with the same meaning names the same component, so clients get one type for it."""
    metadata = {**kwargs.pop("metadata", {}), ENUM_COMPONENT: component}
    return fields.String(validate=validate.OneOf(values), metadata=metadata, **kwargs)


def id_field(**kwargs) -> fields.Integer:
    """A database id in a JSON body: an integer from 1 to MAX_ID, else 422 (a 500 from the database otherwise).

    Strict: 1.5 would silently become slot 1 and "1" hides a client's bug, so only JSON integers pass.
    """
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def query_id_field(**kwargs) -> fields.Integer:
    """A database id in a query string, where every value is text: digits only, 1 to MAX_ID."""
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class JsonBoolean(fields.Boolean):
    """A yes/no in a JSON body: true or false only; "yes", "on" or 1 are a client's mistake, so 422.

    A type check rather than truthy={True}: 1 == True in Python, so 1 and 0 would slip through the sets.
    Query strings keep fields.Boolean, since there "true" is the only way to say it.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def json_boolean(**kwargs) -> JsonBoolean:
    return JsonBoolean(**kwargs)


class ErrorDetailSchema(ma.Schema):
    code = fields.String(required=True, metadata={"description": "snake_case error code", "example": "not_found"})
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Per field, what is wrong (validation errors only)."})


class ErrorEnvelopeSchema(ma.Schema):
    status = enum_field("ErrorStatus", ERROR_STATUSES, required=True)
    message = fields.String(required=True)
    data = fields.Raw(required=True, metadata={"type": "null"})
    error = fields.Nested(ErrorDetailSchema, required=True)


class PageMetaSchema(ma.Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class PageArgsSchema(ma.Schema):
    """Query parameters of every list; subclass it to add filters."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "Page number, from 1."})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}."})


class MessageEnvelopeSchema(ma.Schema):
    """An answer that only says something: `data` is null."""

    status = enum_field("SuccessStatus", SUCCESS_STATUSES, required=True)
    message = fields.String(required=True)
    data = fields.Raw(required=True, metadata={"type": "null"})


@cache
def envelope(schema: type[ma.Schema], *, many: bool = False, paged: bool = False) -> type[ma.Schema]:
    """The envelope schema around `schema` (one class per combination, so the OpenAPI names are stable)."""
    attrs = {
        "status": enum_field("SuccessStatus", SUCCESS_STATUSES, required=True),
        "message": fields.String(required=True),
        "data": fields.List(fields.Nested(schema), required=True) if many else fields.Nested(schema, required=True),
    }
    suffix = "List" if many else ""
    if paged:
        attrs["meta"] = fields.Nested(PageMetaSchema, required=True)
        suffix = "Page"
    # LeanSchema: the same answer dumped by functions compiled from these declarations (portal/api/lean.py)
    return type(f"{schema.__name__.removesuffix('Schema')}{suffix}EnvelopeSchema", (LeanSchema,), attrs)
