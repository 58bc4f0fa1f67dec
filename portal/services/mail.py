"""Outgoing mail over SMTP (MAIL_* settings); without MAIL_SERVER, mails are written to the log.

In development (LOG_MAIL_BODIES) the log shows each mail as a person reads it - headers and the decoded
body, line by line, on stderr - rather than one escaped JSON string; elsewhere only that a mail was not sent.
"""
import logging
import smtplib
import sys
from email.message import EmailMessage
from logging import Logger

from flask import current_app

from portal.services.jobs import outbox

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
    """Deliver now; SMTP errors propagate. Only job handlers call it: everyone else uses send_later."""
    _deliver(_message(to, subject, body), {key: current_app.config.get(key) for key in SETTINGS},
             current_app.logger)


def send_later(to: str, subject: str, body: str) -> None:
    """Send through the job queue: written into the current transaction, delivered after its commit by
    a runner, retried while the mail server is down. Never inside a request."""
    outbox.enqueue("mail", {"to": to, "subject": subject, "body": body})


@outbox.handler("mail")
def _deliver_job(payload: dict) -> None:
    send(payload["to"], payload["subject"], payload["body"])
