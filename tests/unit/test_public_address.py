"""Where links in mails point: PUBLIC_BASE_URL, required in production, derived from HOST and PORT in
development (`make run` exports it from the same two); never the request's Host header (see
tests/api/test_password_reset.py).

Settings are read when config.py is imported, so each case starts a fresh interpreter with its environment.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s" * 40


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "HOST", "PORT", "PORTAL_ENV")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_production_refuses_to_start_without_a_public_address():
    started = _python("from portal import create_app; create_app('production')", SECRET_KEY=GOOD_SECRET)
    assert started.returncode != 0 and "Set PUBLIC_BASE_URL" in started.stderr


def test_production_starts_with_one():
    started = _python("from portal import create_app; print(create_app('production').config['PUBLIC_BASE_URL'])",
                      SECRET_KEY=GOOD_SECRET, PUBLIC_BASE_URL="https://portal.example.org")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "https://portal.example.org"


def test_development_derives_it_from_host_and_port():
    code = "from config import config_for; print(config_for('development').PUBLIC_BASE_URL)"
    assert _python(code, HOST="10.1.2.3", PORT="8123").stdout.strip() == "http://10.1.2.3:8123"
    assert _python(code).stdout.strip() == "http://127.0.0.1:5000"
    assert _python(code, PUBLIC_BASE_URL="https://clinic.example").stdout.strip() == "https://clinic.example"

