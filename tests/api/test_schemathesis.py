"""Schemathesis over every operation of the served document, against a live server, as four callers:
anonymous, a patient, a doctor and an admin. No answer may be a 5xx or differ from the document.

Bounded so it stays about a minute on a 2-core machine: a few examples per operation, caller and
mode (data that fits the document, and data that does not), derandomized so CI sees the same cases
every run, no shrinking. One test per caller, so pytest-xdist spreads the four over its workers
instead of one worker running them all at the end of the suite. Endpoints added later are covered
without touching this file. A finding gets a focused regression test of its own beside the code it fixes.
"""
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.openapi import from_dict
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.clinic_api import token_for
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 2}
ROLES = ("anonymous", "patient", "doctor", "admin")
FUZZ = settings(deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def users(app, ctx, factories) -> dict[str, int | None]:
    """One account of each role, and something for their ids to find: a department, a doctor with slots."""
    doctor = factories.user(role="doctor")
    clinic.future_slots(doctor.doctor_id, 3, clinic.soon(30))
    clinic.department("Cardiology")
    return {"anonymous": None, "patient": factories.user().id, "doctor": doctor.id,
            "admin": factories.user(role="admin").id}


def _fuzz(operation, mode: GenerationMode, base: str, headers: dict) -> list[str]:
    """Run one operation in one mode; the failures, each as schemathesis reports it (with a curl line)."""
    failures: list[str] = []

    @settings(FUZZ, max_examples=EXAMPLES[mode])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        try:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)
        except FailureGroup as failure:
            failures.append(f"{operation.label} [{mode.value}]: {failure}")

    try:
        run()
    except Unsatisfiable:  # negative mode with nothing to make invalid: no parameters, no body
        pass
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_no_operation_answers_5xx_or_off_the_document(app, users, live_server, role):
    base = live_server.removesuffix(PREFIX)
    schema = from_dict(requests.get(f"{live_server}/openapi.json", timeout=30).json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 44
    failures: list[str] = []
    for operation in operations:
        for mode in EXAMPLES:  # a fresh token each time: a fuzzed logout ends only its own examples
            headers = {"Authorization": f"Bearer {token_for(app, users[role])}"} if users[role] else {}
            failures += [f"{role} {failure}" for failure in _fuzz(operation, mode, base, headers)]
    assert not failures, "\n\n".join(failures[:20]) + f"\n\n{len(failures)} failures in all"
