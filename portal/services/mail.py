"""Outgoing mail over SMTP (MAIL_* settings); without MAIL_SERVER, mails are written to the log."""
import smtplib
import threading
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


def send_soon(to: str, subject: str, body: str) -> None:
    """Deliver in the background, so the answer to the request does not wait for SMTP, nor does its
    timing tell whether a mail was sent at all; a failure is logged."""
    message = _message(to, subject, body)
    settings = {key: current_app.config.get(key) for key in SETTINGS}
    log = current_app.logger

    def deliver() -> None:
        try:
            _deliver(message, settings, log)
        except OSError:
            log.exception("mail could not be sent: %s", message["Subject"])

    threading.Thread(target=deliver, name="mail", daemon=True).start()
