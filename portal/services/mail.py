"""Outgoing mail over SMTP (MAIL_* settings); without MAIL_SERVER, mails are written to the log.

In development (LOG_MAIL_BODIES) the log shows each mail as a person reads it - headers and the decoded
body, line by line, on stderr - rather than one escaped JSON string; elsewhere only that a mail was not sent.
"""
import logging
import smtplib
import sys
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


def _readable(message: EmailMessage) -> str:
    headers = "".join(f"{name}: {message[name]}\n" for name in ("From", "To", "Subject"))
    return f"----- mail not sent (no MAIL_SERVER) -----\n{headers}\n{message.get_content().rstrip()}\n" \
           "----- end of mail -----"


class _ToStderr(logging.Handler):
    """Each message as it is, to whatever stderr is at the time (the console of `make run`)."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(record.getMessage() + "\n")


def _plain_log() -> Logger:
    """A logger that writes messages as they are (no JSON around them), for mails a developer reads."""
    log = logging.getLogger("portal.mail.readable")
    if not log.handlers:
        log.addHandler(_ToStderr())
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def _deliver(message: EmailMessage, settings: dict, log: Logger) -> None:
    if not settings.get("MAIL_SERVER"):
        # Bodies may hold one-time links: only a development setup writes them out.
        if settings.get("LOG_MAIL_BODIES"):
            _plain_log().info(_readable(message))
        else:
            log.info("mail not sent (no MAIL_SERVER): %s (body withheld)", message["Subject"])
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


def send_later(to: str, subject: str, body: str) -> None:
    """STAND-IN until the lead's outbox lands: a mail job in the current transaction (see jobs/outbox.py)."""
    from portal.services.jobs import outbox

    outbox.enqueue("mail", {"to": to, "subject": subject, "body": body})


def _send_job(payload: dict) -> None:
    send(payload["to"], payload["subject"], payload["body"])


def _register_mail_job() -> None:
    from portal.services.jobs import outbox

    outbox.handler("mail")(_send_job)


_register_mail_job()
