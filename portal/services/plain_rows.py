"""Lists that only show fields: columns selected as one entity whose rows are plain frozen objects.

A page of ORM entities costs an instance, its state and an identity-map entry per row (and per joined
doctor or department); a list that is dumped or rendered and then dropped needs none of it. Selected as
one Bundle, the columns still come out of `Session.scalars` (and so out of persistence.paginate) one
object per row. The API's longest and busiest lists (the public slot lists, the record lists, the patient
search, the appointment list) go further: PostgreSQL writes each row as the answer's item (ItemJson, which
the API gives; persistence.written_by_database).
"""
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Bundle


@dataclass(frozen=True, slots=True)
class Party:
    """A doctor or patient a row names, as PartySchema shows them; a doctor's speciality where the answer
    shows it too (DoctorPartySchema, an appointment's doctor)."""

    id: int
    full_name: str
    speciality: str | None = None


@dataclass(frozen=True, slots=True)
class DepartmentRef:
    id: int
    name: str


class PlainRows(Bundle):
    """These columns as one entity; `make` builds each row's object from their values, in order."""

    def __init__(self, name: str, make: Callable, *columns):
        super().__init__(name, *columns)
        self.make = make

    def create_row_processor(self, query, procs, labels):
        make = self.make

        def row(values):
            return make(*[proc(values) for proc in procs])
        return row


class ItemJson(Protocol):
    """An answer's item as JSON written by the database (api/database_json.RowJson): the service names its
    statement's columns by the attributes its own result objects would have."""

    def column(self, columns: Mapping[str, ColumnElement], *, later: Collection[str] = ()) -> ColumnElement[str]:
        """The item's JSON text, but for the attributes `later`."""

    def complete(self, text: str, values: Mapping[str, Any]) -> str:
        """The item with the attributes left for later."""


ITEM = "item"  # the name of each row's JSON text in a list's statement


def item_column(item_json: ItemJson, columns: Mapping[str, ColumnElement], *,
                later: Collection[str] = ()) -> ColumnElement[str]:
    """Each row's JSON text written from `columns` (the rows' attributes and their columns; a nested object's as
    `doctor.id`, the object itself as `doctor`, NULL where it is None) but for `later`, as the column ITEM."""
    return item_json.column(columns, later=later).label(ITEM)


def listed(rows: PlainRows, columns: Mapping[str, ColumnElement], item_json: ItemJson | None) -> ColumnElement:
    """What a list selects: its plain `rows`, or, given `item_json`, each row's JSON text (item_column)."""
    return rows if item_json is None else item_column(item_json, columns)


def selects_json(query: Select) -> bool:
    """Whether a list's statement selects each row's JSON text (the column ITEM) rather than its rows."""
    return query.selected_columns[0].key == ITEM
