"""The admin's users page: filters, approving doctors, deactivating, changing roles, and who may see it."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import Doctor
from tests.fixtures.web_client import WebClient


def test_only_admins_may_open_the_users_page(web_as, web):
    for role in ("patient", "doctor"):
        client, _user = web_as(role)
        response = client.get("/admin/users")
        assert response.status_code == 403
        assert "You may not open this page" in response.get_data(as_text=True)
    assert web.get("/admin/users").headers["Location"] == "/login?next=/admin/users"


def test_the_list_filters_by_role_and_pending(web_as, factories):
    admin, _me = web_as("admin")
    factories.user(role="patient", username="pat")
    factories.user(role="doctor", username="doc")
    factories.user(role="doctor", username="waiting", approved=False)
    html = admin.get("/admin/users?role=doctor").get_data(as_text=True)
    assert "<strong>doc</strong>" in html and "<strong>waiting</strong>" in html
    assert "<strong>pat</strong>" not in html
    html = admin.get("/admin/users?pending=y").get_data(as_text=True)
    assert "<strong>waiting</strong>" in html and "Waiting for approval" in html
    assert "<strong>doc</strong>" not in html


def test_the_filter_widget_gets_only_the_table(web_as, factories):
    admin, _me = web_as("admin")
    factories.user(role="doctor", username="waiting", approved=False)
    response = admin.htmx_get("/admin/users?pending=y", target="users-table")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="users-table"') and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
    boosted = admin.client.get("/admin/users", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_approving_a_doctor_lets_them_log_in_with_a_doctor_profile(web_as, factories, app):
    admin, _me = web_as("admin")
    pending = factories.user(role="doctor", username="newdoc", approved=False)
    admin.get("/admin/users?pending=y")
    response = admin.post(f"/admin/users/{pending.id}/approve", htmx_target=f"user-{pending.id}")
    row = response.get_data(as_text=True)
    assert response.status_code == 200
    assert row.lstrip().startswith(f'<tr id="user-{pending.id}" hx-target="this" hx-swap="outerHTML">')
    assert "newdoc: approved." in row and "Active" in row and "Approve</button>" not in row

    doctor = WebClient(app.test_client())
    html = doctor.login("newdoc", pending.password, follow_redirects=True).get_data(as_text=True)
    assert "<h1>Doctor's dashboard</h1>" in html
    with app.app_context():
        assert db.session.scalar(select(Doctor.id).where(Doctor.user_id == pending.id)) is not None


def test_deactivating_a_user_ends_their_live_session(web_as, app):
    admin, _me = web_as("admin")
    patient, user = web_as("patient")
    assert patient.get("/dashboard").status_code == 200
    admin.get("/admin/users")
    response = admin.post(f"/admin/users/{user.id}/deactivate", htmx_target=f"user-{user.id}")
    assert "Deactivated" in response.get_data(as_text=True)
    assert patient.get("/dashboard").status_code == 302
    assert "Your account was deactivated." in patient.get("/login").get_data(as_text=True)

    response = admin.post(f"/admin/users/{user.id}/reactivate", htmx_target=f"user-{user.id}")
    assert "reactivated." in response.get_data(as_text=True)
    assert WebClient(app.test_client()).login(user.username, user.password).status_code == 302


def test_without_javascript_an_action_comes_back_to_the_list_with_a_message(web_as):
    admin, _me = web_as("admin")
    _patient, user = web_as("patient")
    admin.get("/admin/users?role=patient")
    response = admin.post(f"/admin/users/{user.id}/role", {"role": "doctor", "next": "/admin/users?role=patient"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users?role=patient"
    html = admin.get("/admin/users?role=doctor").get_data(as_text=True)
    assert f"{user.username}: role changed to doctor." in html


def test_an_admin_cannot_lock_themselves_out_and_the_row_says_why(web_as):
    admin, me = web_as("admin")
    admin.get("/admin/users")
    response = admin.post(f"/admin/users/{me.id}/deactivate", htmx_target=f"user-{me.id}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "You cannot lock yourself out of the admin role." in html and "Active" in html
    assert admin.get("/dashboard").status_code == 200


def test_an_unknown_user_is_404(web_as):
    admin, _me = web_as("admin")
    admin.get("/admin/users")
    assert admin.post("/admin/users/99999/approve", htmx_target="user-99999").status_code == 404


def test_the_list_is_paged(web_as, factories):
    admin, _me = web_as("admin")
    for n in range(26):
        factories.user(username=f"p{n:02d}")
    first = admin.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first and "27 users" in first
    second = admin.get("/admin/users?page=2").get_data(as_text=True)
    assert "<strong>p25</strong>" in second and "<strong>p00</strong>" not in second
