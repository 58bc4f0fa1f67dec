"""The operationId of every API operation, in one place: generated clients name their functions after them.

A client made with openapi-python-client calls `login(...)` and `book_appointment(...)` instead of
`post_api_v1_auth_login(...)`, so these names are part of the contract: never rename one. A new
endpoint needs a line here (tests/api/test_openapi.py fails and names it until it has one), and a
line whose endpoint is gone fails the same test. Keys are "METHOD /path" below /api/v1, as API.md
writes them; names are camelCase verb + noun: list…, get…, create…, update… (PATCH), put… (PUT), delete….
"""

OPERATION_IDS = {
    "POST /auth/register": "register",
    "POST /auth/login": "login",
    "POST /auth/token": "refreshToken",
    "POST /auth/logout": "logout",
    "POST /auth/password-reset/request": "requestPasswordReset",
    "POST /auth/password-reset": "resetPassword",
    "POST /sessions": "startSession",
    "GET /sessions": "getSession",
    "DELETE /sessions": "endSession",
    "GET /me": "getMe",
    "PATCH /me": "updateMe",
    "PUT /me": "putMe",
    "GET /me/picture": "getMyPicture",
    "PUT /me/picture": "uploadMyPicture",
    "DELETE /me/picture": "deleteMyPicture",
    "GET /admin/users": "listUsers",
    "PATCH /admin/users/{user_id}": "updateUser",
    "GET /admin/audit": "listAuditEvents",
    "GET /departments": "listDepartments",
    "POST /departments": "createDepartment",
    "GET /departments/{department_id}": "getDepartment",
    "PATCH /departments/{department_id}": "updateDepartment",
    "PUT /departments/{department_id}": "putDepartment",
    "DELETE /departments/{department_id}": "deleteDepartment",
    "GET /departments/{department_id}/doctors": "listDepartmentDoctors",
    "GET /specialities": "listSpecialities",
    "GET /specialities/{name}/slots": "listSpecialitySlots",
    "GET /doctors": "listDoctors",
    "POST /doctors": "createDoctor",
    "GET /doctors/{doctor_id}": "getDoctor",
    "PATCH /doctors/{doctor_id}": "updateDoctor",
    "PUT /doctors/{doctor_id}": "putDoctor",
    "DELETE /doctors/{doctor_id}": "deleteDoctor",
    "GET /doctors/{doctor_id}/slots": "listDoctorSlots",
    "POST /doctors/{doctor_id}/slots": "createSlots",
    "DELETE /slots/{slot_id}": "deleteSlot",
    "POST /holds": "createHold",
    "DELETE /holds/{hold_id}": "releaseHold",
    "GET /appointments": "listAppointments",
    "POST /appointments": "bookAppointment",
    "GET /appointments/{appointment_id}": "getAppointment",
    "PATCH /appointments/{appointment_id}": "updateAppointment",
    "DELETE /appointments/{appointment_id}": "cancelAppointment",
    "GET /appointments/{appointment_id}.ics": "getAppointmentCalendar",
}


def operation_key(method: str, path: str, prefix: str) -> str:
    """The key of an operation in OPERATION_IDS: "POST /auth/login" for POST {prefix}/auth/login."""
    return f"{method.upper()} {path.removeprefix(prefix)}"
