"""Set-based SQL that fills a freshly migrated database; every statement is one INSERT ... SELECT.

Parameters are psycopg named placeholders. Times are computed in the clinic's zone and stored as
timestamptz, so a slot plan of 08:00-12:00 stays 08:00-12:00 across a DST change.
"""

DEPARTMENTS = """
INSERT INTO departments (name, description, created_at)
SELECT (ARRAY['Cardiology','Dermatology','Neurology','Orthopaedics','Paediatrics','Gynaecology',
              'Ophthalmology','Oncology','Psychiatry','General Medicine'])[1 + (n - 1) %% 10]
       || CASE WHEN n > 10 THEN ' ' || n ELSE '' END,
       'Bench department ' || n, now() - interval '3 years'
FROM generate_series(1, %(departments)s) AS n
"""

# Doctor n works in department n % D and has speciality n % S; every doctor has an approved user.
DOCTOR_USERS = """
INSERT INTO users (username, email, password_hash, role, approved, is_active, full_name, gender,
                   created_at, updated_at)
SELECT 'bench.d' || n, 'd' || n || '@bench.example', %(hash)s, 'doctor', true, true,
       'Dr. ' || (ARRAY['Anna','Ben','Clara','David','Eva','Felix','Greta','Hugo','Ida','Jonas',
                        'Karla','Lukas','Mia','Noah','Olga','Paul','Rosa','Simon','Tina','Uwe'])[1 + n %% 20]
       || ' ' || (ARRAY['Adler','Bauer','Conrad','Dietz','Engel','Fuchs','Graf','Hahn','Imhof','Jung',
                        'Kraus','Lang','Mayer','Neumann','Otto','Peters','Roth','Schulz','Vogel','Wolf',
                        'Zimmer','Berg','Horn','Keller','Lorenz'])[1 + (n / 20) %% 25],
       CASE WHEN n %% 2 = 0 THEN 'female' ELSE 'male' END, now() - interval '3 years', now() - interval '3 years'
FROM generate_series(1, %(doctors)s) AS n
"""

DOCTORS = """
INSERT INTO doctors (user_id, department_id, full_name, speciality, gender, fees, email, created_at)
SELECT u.id, dep.id, u.full_name, sp.name, u.gender, 40 + (u.n %% 9) * 10, u.email, u.created_at
FROM (SELECT id, full_name, gender, email, created_at,
             substr(username, 8)::int AS n FROM users WHERE username LIKE 'bench.d%%') AS u
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM departments) AS dep
  ON dep.k = u.n %% %(departments)s
JOIN (SELECT name, ord - 1 AS k FROM unnest(ARRAY['Cardiology','Dermatology','Neurology','Orthopaedics',
        'Paediatrics','Gynaecology','Ophthalmology','Oncology','Psychiatry','General Practice','Endocrinology',
        'Gastroenterology','Urology','Pulmonology','Rheumatology','Nephrology','Haematology','ENT',
        'Allergology','Radiology']) WITH ORDINALITY AS s(name, ord)) AS sp
  ON sp.k = u.n %% %(specialities)s
ORDER BY u.n
"""

PATIENT_USERS = """
INSERT INTO users (username, email, password_hash, role, approved, is_active, full_name, gender, dob,
                   created_at, updated_at)
SELECT 'bench.p' || n, 'p' || n || '@bench.example', %(hash)s, 'patient', true, true,
       (ARRAY['Alex','Birgit','Carl','Dana','Emil','Frieda','Georg','Hanna','Ingo','Julia','Kai','Lena',
              'Max','Nina','Oskar','Petra','Quirin','Ruth','Sven','Tara'])[1 + n %% 20] || ' ' ||
       (ARRAY['Albers','Brandt','Claussen','Dorn','Ebert','Frank','Gross','Hoffmann','Iske','Jansen',
              'Koch','Lehmann','Martin','Nagel','Ott','Pohl','Richter','Schmidt','Thiel','Ulrich',
              'Voss','Weber','Xander','Young','Ziegler'])[1 + (n / 20) %% 25] || ' ' || n,
       (ARRAY['female','male','other','unspecified'])[1 + n %% 4],
       date '1940-01-01' + (n * 7919) %% 27000, now() - interval '2 years', now() - interval '2 years'
FROM generate_series(1, %(patients)s) AS n
"""

PATIENTS = """
INSERT INTO patients (user_id, created_by_id, full_name, gender, dob, city, email, created_at, updated_at)
SELECT id, id, full_name, gender, dob, 'Riverside', email, created_at, updated_at
FROM users WHERE username LIKE 'bench.p%%' ORDER BY substr(username, 8)::int
"""

# Working days of the plan window, 16 half-hour slots a day with a lunch hour; doctors start at
# 07:00, 08:00 or 09:00. Rows go in the order doctors publish them: month by month, doctor by doctor.
SLOTS = """
INSERT INTO slots (doctor_id, starts_at, ends_at, duration, created_at)
SELECT d.id, (day + t.at) AT TIME ZONE %(tz)s, (day + t.at + interval '30 minutes') AT TIME ZONE %(tz)s, 30,
       (date_trunc('month', day) - interval '1 month') AT TIME ZONE %(tz)s
FROM doctors AS d
CROSS JOIN generate_series(%(first_day)s::timestamp, %(last_day)s::timestamp, interval '1 day') AS day
CROSS JOIN LATERAL (
    SELECT make_interval(hours => 7 + d.id %% 3) + k * interval '30 minutes'
           + CASE WHEN k >= 8 THEN interval '1 hour' ELSE interval '0' END AS at
    FROM generate_series(0, 15) AS k
) AS t
WHERE extract(isodow FROM day) < 6
ORDER BY date_trunc('month', day), d.id, day, t.at
"""

# Appointments in a random share of the slots. Patients are dealt out by row number in start order,
# so a patient's next appointment is `dealt` rows later: never at the same time (at most one row per
# doctor shares a start, and dealt > doctors). The first `bookers` patients get no future ones:
# the hold+confirm path books for them.
APPOINTMENTS = """
WITH chosen AS (
    SELECT s.id, s.doctor_id, s.starts_at, s.ends_at, random() AS r,
           row_number() OVER (ORDER BY s.starts_at, s.doctor_id) AS k
    FROM slots AS s
    WHERE s.starts_at {cmp} %(now)s AND random() < %(share)s
), pats AS (
    SELECT id, user_id, row_number() OVER (ORDER BY id) - 1 AS k
    FROM patients WHERE id > %(skip)s
)
INSERT INTO appointments (slot_id, patient_id, doctor_id, starts_at, ends_at, status, reason,
                          created_by_id, created_at, updated_at, cancelled_at)
SELECT c.id, p.id, c.doctor_id, c.starts_at, c.ends_at, st.status,
       (ARRAY['Check-up','Follow-up','Consultation','Results','Vaccination'])[1 + c.k %% 5],
       p.user_id, c.starts_at - (1 + c.k %% 40) * interval '1 day',
       CASE WHEN st.status = 'scheduled' THEN c.starts_at - (1 + c.k %% 40) * interval '1 day'
            ELSE least(c.starts_at + interval '1 hour', %(now)s) END,
       CASE WHEN st.status = 'cancelled' THEN c.starts_at - interval '1 day' END
FROM chosen AS c
JOIN pats AS p ON p.k = c.k %% %(dealt)s
CROSS JOIN LATERAL (SELECT CASE {statuses} END AS status) AS st
ORDER BY c.starts_at
"""

# `r` is drawn independently of the choice, so these are shares of the chosen rows.
PAST_STATUSES = "WHEN c.r < 0.10 THEN 'cancelled' WHEN c.r < 0.18 THEN 'no_show' ELSE 'completed'"
FUTURE_STATUSES = "WHEN c.r < 0.07 THEN 'cancelled' WHEN c.r < 0.10 THEN 'rescheduled' ELSE 'scheduled'"

# Login history: two earlier logins per patient (API token families, mostly revoked, each with its
# spent refresh token), so the per-request token check reads a table of realistic size.
TOKEN_FAMILIES = """
INSERT INTO token_families (id, user_id, created_at, revoked_at)
SELECT gen_random_uuid()::text, u.id, %(now)s - (1 + (u.id * 7 + k * 13) %% 300) * interval '1 day',
       CASE WHEN k = 1 THEN %(now)s - (u.id %% 30) * interval '1 day' END
FROM users AS u CROSS JOIN generate_series(1, 2) AS k
WHERE u.role = 'patient'
"""
REFRESH_TOKENS = """
INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at, spent_at)
SELECT md5(f.id) || md5(f.id || 'x'), f.id, f.user_id, f.created_at, f.created_at + interval '30 days',
       f.created_at + interval '15 minutes'
FROM token_families AS f
"""

# The audit trail of that history: each appointment created once and read twice by its patient.
AUDIT_EVENTS = """
INSERT INTO audit_events (at, actor_id, action, object_type, object_id, patient_id, ip, request_id)
SELECT least(a.created_at + (k - 1) * interval '2 days', %(now)s), a.created_by_id,
       CASE WHEN k = 1 THEN 'create' ELSE 'read' END,
       'appointment', a.id, a.patient_id, '10.0.' || (a.id %% 250) || '.' || (a.patient_id %% 250),
       md5(a.id::text || k)
FROM appointments AS a CROSS JOIN generate_series(1, 3) AS k
ORDER BY 1
"""

COUNTS = """
SELECT (SELECT count(*) FROM departments), (SELECT count(DISTINCT speciality) FROM doctors),
       (SELECT count(*) FROM doctors), (SELECT count(*) FROM users), (SELECT count(*) FROM patients),
       (SELECT count(*) FROM slots), (SELECT count(*) FROM slots WHERE starts_at >= now()),
       (SELECT count(*) FROM appointments), (SELECT count(*) FROM appointments WHERE starts_at >= now()),
       (SELECT count(*) FROM appointments WHERE starts_at >= now() AND status <> 'cancelled'),
       (SELECT count(*) FROM token_families), (SELECT count(*) FROM audit_events)
"""
COUNT_NAMES = ("departments", "specialities", "doctors", "users", "patients", "slots", "future_slots",
               "appointments", "future_appointments", "future_active_appointments", "token_families",
               "audit_events")

# What the generator sets aside while loading the big tables and builds again afterwards, read from
# the catalog so the definitions are always the migrated ones.
SECONDARY_CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE conrelid = ANY(%(tables)s::regclass[]) AND contype IN ('x', 'f', 'u', 'c')
ORDER BY contype DESC
"""
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = ANY(%(tables)s::regclass[]) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""
