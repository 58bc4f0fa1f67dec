"""Without MAIL_SERVER a development setup writes mails to its log: as a person reads them (headers, the
decoded body line by line), not quoted-printable, base64 or one escaped JSON string."""
from portal.services import mail

BODY = "Hallo Jürgen,\n\nchoose a new password: https://portal.example/reset/" + "t" * 90 + "\n\nGrüße\n"


def test_a_development_log_shows_the_mail_as_text(app, capfd, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "LOG_MAIL_BODIES", True)
    with app.app_context():
        mail.send("juergen@example.org", "Ihr neues Passwort – Grüße", BODY)
    logged = capfd.readouterr().err
    assert "To: juergen@example.org\nSubject: Ihr neues Passwort – Grüße\n" in logged
    assert "Hallo Jürgen,\n\nchoose a new password: https://portal.example/reset/" + "t" * 90 + "\n" in logged
    assert "=C3" not in logged and "\\u00fc" not in logged and "base64" not in logged


def test_elsewhere_the_body_is_withheld(app, capfd, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "LOG_MAIL_BODIES", False)
    with app.app_context():
        mail.send("juergen@example.org", "Reset", BODY)
    assert "reset/" not in capfd.readouterr().err and "reset/" not in caplog.text
