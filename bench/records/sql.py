"""Set-based SQL that adds a medical history to a booking clinic: assignments, records with versions,
an admin, and the audit trail of years of reading. Parameters are psycopg named placeholders."""
ADMIN = """
INSERT INTO users (username, email, password_hash, role, approved, is_active, full_name, created_at, updated_at)
VALUES ('bench.admin', 'admin@bench.example', %(hash)s, 'admin', true, true, 'Bench Admin', now(), now())
"""
# What portal.models.patients.search_text_of computes, for the bench's plain ASCII names and no phones.
SEARCH_TEXT = """
UPDATE patients SET search_text = trim(lower(regexp_replace(full_name, '[^A-Za-z0-9]+', ' ', 'g'))
                                       || coalesce(' ' || to_char(dob, 'YYYY-MM-DD'), ''))
"""
# Every patient is assigned to one doctor (patient n to doctor n mod D), so a doctor sees about
# patients/doctors of them (250 in the large clinic) besides those they treated.
ASSIGNMENTS = """
INSERT INTO assignments (patient_id, doctor_id, created_by_id, created_at)
SELECT p.id, d.id, d.user_id, p.created_at
FROM patients AS p
JOIN (SELECT id, user_id, row_number() OVER (ORDER BY id) - 1 AS k FROM doctors) AS d
  ON d.k = p.id %% %(doctors)s
"""
# `per_patient` records each, filed over four years by doctors of every department; every tenth was
# edited once (version 2, its first text kept in medical_record_versions).
RECORDS = """
INSERT INTO medical_records (patient_id, doctor_id, department_id, author_id, diagnostics, observations,
                             treatments, misc, recorded_at, version, created_at, updated_at)
SELECT p.id, d.id, d.department_id, d.user_id,
       (ARRAY['Hypertension','Type 2 diabetes','Asthma','Migraine','Back pain','Influenza','Eczema',
              'Anaemia','Bronchitis','Sprained ankle'])[1 + (p.id + k) %% 10] || ', visit ' || k,
       'Blood pressure ' || (110 + (p.id * k) %% 50) || '/' || (70 + (p.id + k) %% 25) || '; no fever.',
       'Follow-up in ' || (1 + k %% 6) || ' weeks.', NULL,
       %(now)s - ((p.id * 31 + k * 67) %% 1460) * interval '1 day',
       CASE WHEN k %% 10 = 0 THEN 2 ELSE 1 END,
       %(now)s - ((p.id * 31 + k * 67) %% 1460) * interval '1 day',
       %(now)s - ((p.id * 31 + k * 67) %% 1460) * interval '1 day'
FROM patients AS p
CROSS JOIN generate_series(1, %(per_patient)s) AS k
JOIN (SELECT id, user_id, department_id, row_number() OVER (ORDER BY id) - 1 AS j FROM doctors) AS d
  ON d.j = (p.id * 7 + k) %% %(doctors)s
"""
VERSIONS = """
INSERT INTO medical_record_versions (record_id, version, diagnostics, observations, treatments, misc,
                                     department_id, recorded_at, edited_by_id, edited_at)
SELECT id, 1, diagnostics || ' (first draft)', observations, treatments, misc, department_id, recorded_at,
       author_id, recorded_at + interval '1 hour'
FROM medical_records WHERE version = 2
"""
# Reads of records by their doctors until the trail holds `audit_total` rows, `csv_rows` of them by
# the admin (the CSV export path selects exactly those), every 50th under emergency access.
AUDIT_READS = """
INSERT INTO audit_events (at, actor_id, action, object_type, object_id, patient_id, ip, request_id, emergency)
SELECT %(now)s - (n %% 700) * interval '1 day' - (n %% 86400) * interval '1 second',
       CASE WHEN n <= %(csv_rows)s THEN (SELECT id FROM users WHERE username = 'bench.admin') ELSE r.author_id END,
       'read', 'medical_record', r.id, r.patient_id,
       '10.1.' || (n %% 250) || '.' || (r.patient_id %% 250), md5(n::text), n %% 50 = 0
FROM generate_series(1, %(reads)s) AS n
JOIN medical_records AS r ON r.id = 1 + (n::bigint * 7919) %% %(records)s
ORDER BY 1
"""
COUNTS = """
SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM assignments), (SELECT count(*) FROM medical_records),
       (SELECT count(*) FROM medical_record_versions), (SELECT count(*) FROM audit_events),
       (SELECT count(*) FROM audit_events WHERE actor_id = (SELECT id FROM users WHERE username = 'bench.admin'))
"""
COUNT_NAMES = ("patients", "assignments", "records", "record_versions", "audit_events", "admin_audit_rows")
