"""HTML blueprints (auth, main, profile, admin, booking and the doctor's pages) and the portal's error pages."""
from flask import Flask


def init_app(app: Flask) -> None:
    from portal.web import (
        access,
        admin,
        admin_directory,
        appointments,
        auth,
        availability,
        booking,
        doctor_day,
        doctor_profile,
        errors,
        filters,
        main,
        profile,
    )

    filters.init_app(app)
    errors.init_app(app)
    access.init_app(app)
    for blueprint in (main.bp, auth.bp, profile.bp, admin.bp, booking.bp, appointments.bp, doctor_day.bp,
                      availability.bp, admin_directory.bp, doctor_profile.bp):
        app.register_blueprint(blueprint)
