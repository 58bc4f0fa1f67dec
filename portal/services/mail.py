"""Outgoing mail over SMTP (MAIL_* settings); without MAIL_SERVER, mails are written to the log."""
import smtplib
from email.message import EmailMessage

from flask import current_app


def send(to: str, subject: str, body: str) -> None:
    """Deliver now; SMTP errors propagate so the caller decides whether they matter."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        # Bodies may hold one-time links: only a development setup writes them out.
        shown = body if config.get("LOG_MAIL_BODIES") else "(body withheld)"
        current_app.logger.info("mail not sent (no MAIL_SERVER): %s\n%s", subject, shown)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
