"""HTML blueprints (auth, main, profile, admin, booking, the doctor's pages and patient records) and the portal's
error pages."""
from flask import Flask


def init_app(app: Flask) -> None:
    from portal.web import (
        absences,
        access,
        admin,
        admin_audit,
        admin_booking_rules,
        admin_directory,
        admin_records,
        appointments,
        auth,
        availability,
        booking,
        department,
        desk_booking,
        doctor_day,
        doctor_profile,
        emergency,
        errors,
        filters,
        images_pages,
        main,
        my_records,
        my_trail,
        patients,
        profile,
        records_pages,
        reminder_pages,
        waitlist_pages,
    )

    filters.init_app(app)
    errors.init_app(app)
    access.init_app(app)
    for blueprint in (main.bp, auth.bp, profile.bp, admin.bp, booking.bp, appointments.bp, doctor_day.bp,
                      availability.bp, admin_directory.bp, doctor_profile.bp, patients.bp, records_pages.bp,
                      images_pages.bp, emergency.bp, department.bp, my_records.bp, my_trail.bp, admin_records.bp,
                      admin_audit.bp, reminder_pages.bp, absences.bp, waitlist_pages.bp, desk_booking.bp,
                      admin_booking_rules.bp):
        app.register_blueprint(blueprint)
