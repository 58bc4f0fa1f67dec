"""Demo data for a laptop or a review: departments, doctors with a month of free slots, one login per role,
and the demo doctor's visits earlier today and on the last few days, so marking completed or no-show can
be tried at once.

It goes through the same services as the portal and the API, so the demo obeys every rule they do; only
the visits that have already begun are written directly, because the services rightly refuse to book the past.
"""
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Appointment, Patient, Slot, User
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
    patient_user = _account(PATIENT)
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
    _visits_already_begun(doctor_user.doctor.id, patient_user.patient.id)
    return [(role, username, password) for role, username, password, _ in (ADMIN, DOCTOR, PATIENT)]


PAST_PATIENTS = ["Alex Morgan", "Sam Rivera", "Jo Fischer", "Kim Novak"]


def _visits_already_begun(doctor_id: int, demo_patient_id: int) -> None:
    """Two visits earlier today (when today has had time for them) and two on each of the last three days,
    all still open: the demo doctor's dashboard offers "Mark completed" and "Mark no-show" at once."""
    today, moment = clinic_time.today(), clinic_time.now()
    patients = [demo_patient_id, *(_patient(name) for name in PAST_PATIENTS)]
    half_hour = moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)
    starts = [start for start in (half_hour - timedelta(minutes=90), half_hour - timedelta(minutes=30))
              if clinic_time.to_local(start).date() == today]
    for days_ago in (1, 2, 3):
        starts += [clinic_time.local_instant(today - timedelta(days=days_ago), time(hour)) for hour in (10, 11)]
    for n, start in enumerate(start for start in starts if start is not None):
        _visit(doctor_id, patients[n % len(patients)], start)
    db.session.commit()


def _patient(full_name: str) -> int:
    patient = Patient(full_name=full_name)
    db.session.add(patient)
    db.session.flush()
    return patient.id


def _visit(doctor_id: int, patient_id: int, starts_at: datetime) -> None:
    slot = Slot(doctor_id=doctor_id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), duration=30)
    db.session.add(slot)
    db.session.flush()
    db.session.add(Appointment(slot_id=slot.id, patient_id=patient_id, doctor_id=doctor_id, starts_at=slot.starts_at,
                               ends_at=slot.ends_at, reason="Demo visit"))


def _account(spec: tuple[str, str, str, str]) -> User:
    role, username, password, full_name = spec
    return user_accounts.create_user(role=role, username=username, email=f"{username.replace('.', '-')}@demo.clinic",
                                password=password, full_name=full_name)
