"""Demo patient records: a few patients of the demo doctor, assigned to him, each with records that
were edited once and two images drawn with Pillow, so every records page and endpoint shows something
on a fresh demo database.

Written through the records services as the demo doctor (the admin assigns), so the demo obeys and
audits like real use.
"""
import io
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from portal.extensions import db
from portal.models import Patient, User
from portal.services import clinic_time
from portal.services.actor import Actor
from portal.services.records import assignments, images, medical_records, patients

# (full_name, gender, dob, city, phone); the demo patient login's own profile comes first, from its account
PATIENTS = [
    ("Zoë Müller", "female", date(1984, 3, 12), "Berlin", "+49 30 1234567"),
    ("José Álvarez", "male", date(1971, 11, 2), "Hamburg", "+49 40 7654321"),
    ("Aisling O'Brien", "female", date(2001, 6, 23), "Köln", "+49 221 555012"),
]

# (diagnostics, observations, treatments) as first filed, then as edited a few days later
RECORDS = [
    (("Acute bronchitis", "Cough for 5 days, no fever.", "Rest, fluids."),
     ("Acute bronchitis", "Cough for 5 days, low fever on day 4.", "Rest, fluids, paracetamol as needed.")),
    (("Hypertension, stage 1", "BP 145/92 at rest.", "Lifestyle advice; re-check in 4 weeks."),
     ("Hypertension, stage 1", "BP 145/92 at rest; 142/90 at re-check.", "Start ramipril 2.5 mg daily.")),
]


def _picture(name: str, background: str, shape: str, seed: int) -> images.Upload:
    """A small PNG that looks like what it is named after, drawn here: no binary files in the repository."""
    picture = Image.new("RGB", (480, 360), background)
    draw = ImageDraw.Draw(picture)
    offset = 12 * seed
    draw.ellipse((120 + offset, 60, 360 + offset, 300), outline=shape, width=10)
    draw.line((60, 330 - offset, 420, 40 + offset), fill=shape, width=6)
    data = io.BytesIO()
    picture.save(data, "PNG")
    data.seek(0)
    return images.Upload(data, name)


def _pictures(seed: int) -> list[images.Upload]:
    return [_picture("chest-x-ray.png", "black", "lightgray", seed),
            _picture("skin-rash.png", "peachpuff", "firebrick", seed)]


def load(admin: Actor, doctor_user: User, patient_username: str) -> None:
    """Seed the records of the demo doctor's patients; `patient_username` is the demo patient login, whom
    the admin assigns to the doctor (a doctor may only assign patients they already see)."""
    actor = Actor(user=doctor_user)
    own = db.session.scalar(select(Patient).join(Patient.user).where(User.username == patient_username))
    profiles = [own] + [patients.create_patient(actor, full_name=name, gender=gender, dob=dob, city=city, phone=phone)
                        for name, gender, dob, city, phone in PATIENTS]
    now = clinic_time.now()
    for index, patient in enumerate(profiles):
        assignments.create_assignment(admin, patient.id, doctor_user.doctor.id)
        images.upload(actor, patient.id, _pictures(index))
        for months_ago, (first, edited) in enumerate(RECORDS, start=1):
            recorded_at = now - timedelta(days=30 * months_ago + 7 * index)
            diagnostics, observations, treatments = first
            record = medical_records.create_record(actor, patient.id, diagnostics=diagnostics,
                                                   observations=observations, treatments=treatments,
                                                   recorded_at=recorded_at)
            diagnostics, observations, treatments = edited
            medical_records.update_record(actor, record.id, record.version, diagnostics=diagnostics,
                                          observations=observations, treatments=treatments)
