"""The admin's patient-data pages: the audit log (filters, sorting, CSV of the selection), assignments,
and who may open them."""
import csv
import io
import re

from tests.web.record_pages import assign, is_patient_page, patient_of, record


def test_the_audit_log_finds_a_doctors_read_and_exports_it(app, web_as, factories):
    doctor, doc = web_as("doctor", full_name="Dr Audit Able")
    patient_id = patient_of(app, doc.id, "Audited Anna")
    other_id = patient_of(app, doc.id, "Other Otto")
    record(app, patient_id, doc.doctor_id, "Something")
    doctor.get(f"/patients/{patient_id}")
    doctor.get(f"/patients/{other_id}")
    admin, _me = web_as("admin")
    response = admin.get(f"/admin/audit?patient_id={patient_id}&action=read")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_patient_page(response)
    assert "Dr Audit Able" in html and f">{other_id}</td>" not in html
    assert f"/admin/audit.csv?patient_id={patient_id}&amp;action=read" in html
    export = admin.get(f"/admin/audit.csv?patient_id={patient_id}&action=read")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert rows and {row["patient_id"] for row in rows} == {str(patient_id)}
    assert {row["action"] for row in rows} == {"read"}


def test_the_audit_table_sorts_by_a_column_and_swaps_alone(app, web_as):
    doctor, doc = web_as("doctor")
    first, second = patient_of(app, doc.id, "First"), patient_of(app, doc.id, "Second")
    doctor.get(f"/patients/{second}")
    doctor.get(f"/patients/{first}")
    admin, _me = web_as("admin")
    response = admin.htmx_get("/admin/audit?sort=patient_id&action=read", "audit-table")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="audit-table"')
    assert 'aria-sort="ascending"' in html and "sort=-patient_id" in html
    assert html.index(f'data-label="Patient">{first}</td>') < html.index(f'data-label="Patient">{second}</td>')


def test_a_filter_changed_after_sorting_keeps_the_order_chosen(web_as):
    """The headers swap only the table; the filter form's sort travels with that swap (an input of the
    form by its form= attribute), so the next filter sends the order the admin picked instead of none."""
    admin, _me = web_as("admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert '<form id="audit-filter"' in page
    assert len(re.findall(r'<input[^>]*name="sort"', page)) == 1
    html = admin.htmx_get("/admin/audit?sort=actor_id", "audit-table").get_data(as_text=True)
    sort = re.search(r'<input[^>]*name="sort"[^>]*>', html)
    assert sort and 'form="audit-filter"' in sort.group(0) and 'value="actor_id"' in sort.group(0)


def test_a_bad_filter_is_said_and_nothing_is_listed(web_as):
    admin, _me = web_as("admin")
    response = admin.get("/admin/audit?from=yesterday")
    assert response.status_code == 422 and "Correct the filter" in response.get_data(as_text=True)


def test_assignments_are_listed_and_ended(app, web_as, factories):
    admin, _me = web_as("admin")
    doctor = factories.user("doctor", full_name="Dr Ann Assigned")
    patient_id = patient_of(app, None, "Assigned Pat")
    assignment_id = assign(app, patient_id, doctor.doctor_id)
    html = admin.get("/admin/assignments").get_data(as_text=True)
    assert "Dr Ann Assigned" in html and "Assigned Pat" in html and "Active" in html
    response = admin.post(f"/patients/assignments/{assignment_id}/end", {"next": "/admin/assignments"},
                          follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The assignment is ended." in html and "No assignments match." in html
    assert "Dr Ann Assigned" in admin.get("/admin/assignments?include_ended=true").get_data(as_text=True)


def test_only_admins_open_these_pages(web_as):
    for role in ("patient", "doctor"):
        client, _me = web_as(role)
        for url in ("/admin/audit", "/admin/audit.csv", "/admin/assignments", "/admin/emergency-access"):
            assert client.get(url).status_code == 403, (role, url)
