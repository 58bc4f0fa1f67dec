"""persistence.paginate: a page and its total in one statement, on PostgreSQL and SQLite alike.

The total rides on the page's rows, so only a page with no rows past the first asks for it apart; the
answers (items, total, page, per_page) are what a separate count gave.
"""
import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.models import Department, Doctor
from portal.services.persistence import paginate
from tests.fixtures import clinic

pytestmark = pytest.mark.laptop


@pytest.fixture
def names(ctx):
    return [clinic.department(f"Dept {n:02}").name for n in range(7)]


def page_of(page: int, per_page: int):
    query = select(Department).where(Department.name.like("Dept %")).order_by(Department.name)
    with clinic.counted_queries() as statements:
        found = paginate(query, page, per_page)
    selects = sum(statement.lstrip().upper().startswith("SELECT") for statement in statements)  # not SQLite's BEGIN
    return ([d.name for d in found.items], found.total, found.page, found.per_page), selects


@pytest.mark.parametrize("page, per_page, items, statements", [
    (1, 3, slice(0, 3), 1),    # a full page
    (3, 3, slice(6, 7), 1),    # the last, short
    (2, 7, slice(0, 0), 2),    # past the end: no row carries the total
    (1, 20, slice(0, 7), 1),   # all on the first
    (0, 3, slice(0, 3), 1),    # a page below 1 is the first
])
def test_a_page_carries_its_total(names, page, per_page, items, statements):
    expected = (names[items], 7, max(1, page), per_page)
    assert page_of(page, per_page) == (expected, statements)


def test_per_page_is_capped_and_an_empty_list_is_one_statement(ctx):
    assert page_of(1, 500) == (([], 0, 1, 100), 1)
    assert page_of(1, 0) == (([], 0, 1, 1), 1)


def test_eager_loads_stay_out_of_the_count(ctx):
    doctor = clinic.doctor(clinic.department("Dept with doctor"))
    found = paginate(select(Doctor).options(joinedload(Doctor.department)).where(Doctor.id == doctor.id), 1, 5)
    assert ([d.department.name for d in found.items], found.total) == (["Dept with doctor"], 1)
