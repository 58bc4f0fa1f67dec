"""Outgoing mail over SMTP (MAIL_* settings); without MAIL_SERVER, mails are written to the log."""
import smtplib
import threading
from collections.abc import Callable
from email.message import EmailMessage
from logging import Logger

from flask import current_app

SETTINGS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD", "LOG_MAIL_BODIES")


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def _deliver(message: EmailMessage, settings: dict, log: Logger) -> None:
    if not settings.get("MAIL_SERVER"):
        # Bodies may hold one-time links: only a development setup writes them out.
        shown = message.get_content() if settings.get("LOG_MAIL_BODIES") else "(body withheld)"
        log.info("mail not sent (no MAIL_SERVER): %s\n%s", message["Subject"], shown)
        return
    with smtplib.SMTP(settings["MAIL_SERVER"], int(settings["MAIL_PORT"]), timeout=10) as smtp:
        if settings.get("MAIL_USE_TLS"):
            smtp.starttls()
        if settings.get("MAIL_USERNAME"):
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
        smtp.send_message(message)


def send(to: str, subject: str, body: str) -> None:
    """Deliver now; SMTP errors propagate so the caller decides whether they matter."""
    _deliver(_message(to, subject, body), {key: current_app.config.get(key) for key in SETTINGS},
             current_app.logger)


def run_soon(work: Callable[..., None], *args) -> None:
    """Run `work(*args)` in the background with this app's context, so the answer to the request waits
    neither for it nor for SMTP, and its timing tells nothing of what the work found; failures are logged."""
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                work(*args)
            except Exception:  # a background failure has no caller to tell; the log does
                app.logger.exception("background work failed: %s", getattr(work, "__name__", work))

    threading.Thread(target=run, name="mail", daemon=True).start()


def send_soon(to: str, subject: str, body: str) -> None:
    """Deliver in the background (see run_soon); a failure is logged."""
    run_soon(send, to, subject, body)
