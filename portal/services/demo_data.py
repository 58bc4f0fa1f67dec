"""Demo data for a laptop or a review: departments, doctors with a month of free slots, one login per role.

It goes through the same services as the portal and the API, so the demo obeys every rule they do.
"""
from datetime import time, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User
from portal.services import clinic_time
from portal.services.accounts import user_accounts
from portal.services.actor import Actor
from portal.services.directory import listings
from portal.services.records import demo_records
from portal.services.scheduling import availability

ADMIN = ("admin", "admin", "admin-demo-pass-2026", "Ada Admin")
DOCTOR = ("doctor", "dr.house", "doctor-demo-pass-2026", "Gregory House")
PATIENT = ("patient", "pat.smith", "patient-demo-pass-2026", "Pat Smith")

DEPARTMENTS = {
    "Cardiology": "Heart and circulation.",
    "Dermatology": "Skin, hair and nails.",
    "Neurology": "Brain, spine and nerves.",
    "Paediatrics": "Children and teenagers.",
    "General practice": "First stop for any complaint.",
}

# (name, speciality, department, gender, fees); the first one belongs to the demo doctor login.
DOCTORS = [
    ("Gregory House", "Diagnostics", "General practice", "male", "80.00"),
    ("Meredith Grey", "Cardiology", "Cardiology", "female", "95.00"),
    ("Derek Shepherd", "Neurology", "Neurology", "male", "110.00"),
    ("Cristina Yang", "Cardiology", "Cardiology", "female", "100.00"),
    ("Lisa Cuddy", "Dermatology", "Dermatology", "female", "70.00"),
    ("James Wilson", "Paediatrics", "Paediatrics", "male", "65.00"),
    ("Miranda Bailey", "General practice", "General practice", "female", "60.00"),
]


def has_users() -> bool:
    return bool(db.session.scalar(select(func.count(User.id))))


def load() -> list[tuple[str, str, str]]:
    """Create everything and return the (role, username, password) logins to print."""
    admin = _account(ADMIN)
    doctor_user = _account(DOCTOR)
    _account(PATIENT)
    actor = Actor(user=admin)
    department_ids = {name: listings.create_department(actor, name=name, description=text).department.id
                      for name, text in DEPARTMENTS.items()}
    today = clinic_time.today()
    for index, (name, speciality, department, gender, fees) in enumerate(DOCTORS):
        fields = dict(full_name=name, speciality=speciality, department_id=department_ids[department],
                      gender=gender, fees=fees, description=f"{speciality} at the clinic.")
        if index == 0:
            doctor = listings.update_doctor(actor, doctor_user.doctor.id, **fields)
        else:
            doctor = listings.create_doctor(actor, **fields)
        availability.add_weekly_plan(
            actor, doctor.id, from_date=today + timedelta(days=1), to_date=today + timedelta(days=30),
            weekdays=[0, 1, 2, 3, 4] if index % 2 == 0 else [0, 2, 4, 5], start_time=time(9, 0),
            end_time=time(12, 0) if index % 3 else time(16, 0), duration=30,
        )
    demo_records.load(actor, doctor_user, PATIENT[1])
    return [(role, username, password) for role, username, password, _ in (ADMIN, DOCTOR, PATIENT)]


def _account(spec: tuple[str, str, str, str]) -> User:
    role, username, password, full_name = spec
    return user_accounts.create_user(role=role, username=username, email=f"{username.replace('.', '-')}@demo.clinic",
                                password=password, full_name=full_name)
