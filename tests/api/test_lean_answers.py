"""The answers dumped by portal/api/lean.py: the same JSON as marshmallow's dump of the declared schema, and
valid against the operation's schema in the OpenAPI document, on the hot booking paths."""
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import jsonschema_rs
import marshmallow as ma
import pytest

from portal.api import lean
from portal.api.schemas.booking import AppointmentSchema, HoldSchema, SlotSchema
from portal.api.schemas.common import envelope
from portal.api.schemas.directory import (
    AvailableSlotSchema,
    DoctorDetailSchema,
    DoctorListingSchema,
    SpecialitySlotSchema,
)
from portal.extensions import db
from portal.models import Appointment
from portal.services.directory import doctor_search
from portal.services.scheduling import holds, slot_lists
from tests.api.clinic_api import iso
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX
from tests.fixtures.api_client import envelope as body_of

pytestmark = pytest.mark.laptop  # the same dump on SQLite and PostgreSQL

SOON = clinic.soon(30).replace(minute=0)


@pytest.fixture
def document(client):
    return client.get(f"{PREFIX}/openapi.json").get_json()


@pytest.fixture
def booked_clinic(app, api, ctx, alice):
    """A doctor (fees, gender, department) with a booked, a held, free and past slots; alice booked one."""
    heart = clinic.department("Heart centre")
    ada = clinic.doctor(heart, "Cardiology", full_name="Ada Heart", gender="female", fees=Decimal("95.5"))
    clinic.doctor(None, "Cardiology", full_name="Bob Beat")  # no department, no fees, no free slot
    slots = clinic.future_slots(ada.id, 5, SOON)
    clinic.slot(ada.id, clinic.soon(-2))  # past: shown as `past` in the doctor's own list
    clinic.appointment(alice.patient_id, slots[0], reason="Chest pain")
    hold = body_of(api.post("/holds", json={"slot_id": slots[1].id}, token=alice.token))["data"]
    return {"doctor": ada, "slots": slots, "hold": hold}


def _validator(document: dict, path: str, method: str, status: str):
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def _assert_valid(document, path, method, status, answer):
    errors = [error.message for error in _validator(document, path, method, status).iter_errors(answer)]
    assert errors == [], (path, errors)


def test_hot_answers_validate_against_their_operation_schema(api, document, booked_clinic, alice):
    ada = booked_clinic["doctor"]
    start = (SOON - timedelta(days=1)).date()
    day_from, day_to = quote(SOON.isoformat()), quote((SOON + timedelta(days=1)).isoformat())  # the free slots
    reads = [
        (f"/doctors/{ada.id}/slots?from={start}", "/doctors/{doctor_id}/slots"),
        (f"/doctors/{ada.id}/slots?from={quote(clinic.soon(-24).isoformat())}", "/doctors/{doctor_id}/slots"),
        (f"/doctors/{ada.id}", "/doctors/{doctor_id}"),
        ("/doctors?per_page=50", "/doctors"),
        (f"/specialities/cardiology/slots?start={day_from}&end={day_to}", "/specialities/{name}/slots"),
    ]
    for url, operation in reads:
        answer = body_of(api.get(url))
        assert answer["data"], url
        _assert_valid(document, PREFIX + operation, "get", "200", answer)
    mine = body_of(api.get("/appointments?per_page=20", token=alice.token))
    assert mine["data"] and mine["meta"]["total"] == 1
    _assert_valid(document, f"{PREFIX}/appointments", "get", "200", mine)
    held = body_of(api.post("/holds", json={"slot_id": booked_clinic["slots"][2].id}, token=alice.token))
    _assert_valid(document, f"{PREFIX}/holds", "post", "201", held)
    booked = body_of(api.post("/appointments", json={"hold_id": held["data"]["hold_id"]}, token=alice.token))
    _assert_valid(document, f"{PREFIX}/appointments", "post", "201", booked)


def _marshmallow(schema_class: type[ma.Schema], obj, many: bool = False):
    """What marshmallow's own dump makes of it (LeanSchema's compiled dump bypassed)."""
    return ma.Schema.dump(schema_class(), obj, many=many)


def test_the_compiled_dump_is_marshmallows_dump(ctx, booked_clinic, alice):
    ada = booked_clinic["doctor"]
    views = slot_lists.doctor_slots(ada.id, clinic.soon(-24), SOON + timedelta(days=2))
    assert {view.state for view in views} == {"booked", "held", "free", "past"}
    detail = doctor_search.doctor_detail(ada.id)
    listing = doctor_search.search_doctors(per_page=50).items
    assert {item.next_free_slot is None for item in listing} == {True, False}
    appointments = list(db.session.scalars(db.select(Appointment)))
    speciality = doctor_search.speciality_free_slots("cardiology", SOON, SOON + timedelta(days=1))
    pairs = [(SlotSchema, views), (DoctorDetailSchema, [detail]), (DoctorListingSchema, listing),
             (AvailableSlotSchema, detail.available_slots), (AppointmentSchema, appointments),
             (HoldSchema, [holds.get_hold(booked_clinic["hold"]["hold_id"])]), (SpecialitySlotSchema, speciality)]
    for schema_class, objects in pairs:
        assert objects, schema_class
        compiled = lean.dumper(schema_class)
        assert [compiled(obj) for obj in objects] == _marshmallow(schema_class, objects, many=True), schema_class
    page = {"status": "success", "message": "Slots.", "data": views}
    wrapped = envelope(SlotSchema, many=True)
    assert wrapped().dump(page) == _marshmallow(wrapped, page)


class _Odd(ma.Schema):
    """Fields the compiler leaves to marshmallow, and values it must leave out."""

    constant = ma.fields.Constant("always")
    fee = ma.fields.Decimal(as_string=True, places=2, allow_none=True)
    count = ma.fields.Integer(dump_default=7)
    maybe = ma.fields.String()
    nested = ma.fields.Nested(AvailableSlotSchema, allow_none=True)
    words = ma.fields.List(ma.fields.String())
    when = ma.fields.DateTime(format="%Y-%m-%d")
    method = ma.fields.Method("_shout")

    def _shout(self, obj):
        return str(obj.get("maybe", "")).upper()


def test_fields_it_does_not_compile_are_marshmallows_and_missing_values_stay_out():
    compiled = lean.dumper(_Odd)
    for obj in ({}, {"fee": Decimal("3.5"), "maybe": "x", "nested": None, "words": ["a", 1], "when": SOON},
                {"count": None, "maybe": None, "words": None, "when": None}):
        assert compiled(obj) == _marshmallow(_Odd, obj), obj


def test_decimals_dump_as_marshmallow_writes_each_even_when_equal_values_come_again():
    """The compiled Decimal is remembered per value: equal Decimals written differently (80.0 and 80.00 are
    alike once quantized, 0 and -0 are not) and values of other types must still come out as marshmallow's."""
    compiled = lean.dumper(_Odd)
    for fee in (Decimal("80"), Decimal("80.0"), Decimal("80.00"), Decimal("80.005"), Decimal("0"), Decimal("-0"),
                Decimal("0"), Decimal("NaN"), Decimal("1E+3"), Decimal("80.00"), 3.5, -0.0, 0.0, 7, "12.345", None):
        assert compiled({"fee": fee}) == _marshmallow(_Odd, {"fee": fee}), fee


class _Shelf:
    """Subscriptable by its own rule: a missing key raises KeyError, so the lookup falls back to attributes."""

    id = 7

    def __init__(self, items):
        self.items = items

    def __getitem__(self, key):
        return self.items[key]


class _Proxy:
    """Everything through __getattr__, as the doctor results' wrapper: not subscriptable, whatever it answers."""

    def __init__(self, target):
        self._target = target

    def __getattr__(self, name):
        return getattr(self._target, name)


def test_objects_and_mappings_in_turn_are_looked_up_as_marshmallow_does():
    slot = slot_lists.SlotRow(3, 1, SOON, SOON + timedelta(minutes=20), 20)
    mapping = {"id": 4, "starts_at": SOON, "ends_at": None, "duration": 15, "extra": 1}
    objects = [slot, mapping, _Shelf({"starts_at": SOON, "duration": 5}), _Proxy(slot), slot, mapping,
               _Shelf({}), _Proxy(mapping), None]
    compiled = lean.dumper(AvailableSlotSchema)
    assert [compiled(obj) for obj in objects] == _marshmallow(AvailableSlotSchema, objects, many=True)
    views = [slot_lists.SlotView(slot, "free"), {"slot": mapping, "state": "held"},
             slot_lists.SlotView(None, "past")]
    assert [lean.dumper(SlotSchema)(view) for view in views] == _marshmallow(SlotSchema, views, many=True)


def test_a_doctor_list_answer_is_marshmallows_answer(api, booked_clinic):
    answer = body_of(api.get("/doctors"))
    listing = doctor_search.search_doctors(per_page=20)
    expected = _marshmallow(envelope(DoctorListingSchema, many=True, paged=True),
                            {"status": "success", "message": "Doctors.", "data": listing.items,
                             "meta": {"page": 1, "per_page": 20, "total": listing.total}})
    assert answer == expected
    assert answer["data"][0]["next_free_slot"] == iso(booked_clinic["slots"][1].starts_at)
