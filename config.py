"""Settings from the environment, one class per mode (development, test, production).

Every value an operator may change comes from an environment variable; nothing secret lives in code.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET = "dev-secret-do-not-use-in-production"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def lead_minutes(text: str, name: str = "REMINDER_LEAD_MINUTES") -> tuple[int, ...]:
    """'1440,120' -> (120, 1440): whole minutes before a start, sorted, each once; '' -> () (no reminders).

    Anything else refuses to start (RuntimeError naming the setting and the bad part), rather than
    quietly sending no reminder or one at a time nobody meant.
    """
    leads = set()
    for part in (piece.strip() for piece in text.split(",")):
        if not part and text.strip():
            raise RuntimeError(f"{name}={text!r}: an empty entry; give minutes separated by commas, e.g. 1440,120.")
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) < 1:
            raise RuntimeError(f"{name}={text!r}: {part!r} is not a whole number of minutes of at least 1; "
                               "give minutes separated by commas, e.g. 1440,120.")
        leads.add(int(part))
    return tuple(sorted(leads))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'portal.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL", "")
    CLINIC_NAME = os.environ.get("CLINIC_NAME", "Riverside Clinic")
    CLINIC_TZ = os.environ.get("CLINIC_TZ", "Europe/Berlin")
    CLINIC_CURRENCY = os.environ.get("CLINIC_CURRENCY", "EUR").strip().upper() or "EUR"  # ISO 4217, for fees
    # Whom patients call when a page or a mail cannot do it online (e.g. too late to cancel), and where
    # the clinic is; reminder mails carry both when they are set.
    CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "").strip()
    CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "").strip()
    # Reminder mails: minutes before each appointment's start, comma-separated (default a day and two hours).
    REMINDER_LEAD_MINUTES = lead_minutes(os.environ.get("REMINDER_LEAD_MINUTES", "1440,120"))
    HOLD_TTL_SECONDS = _env_int("HOLD_TTL_SECONDS", 300)
    MAX_HOLDS_PER_PATIENT = _env_int("MAX_HOLDS_PER_PATIENT", 3)
    # Waitlist: how long an offered slot is held for its patient, and how many live entries a patient keeps.
    WAITLIST_OFFER_MINUTES = _env_int("WAITLIST_OFFER_MINUTES", 30)
    WAITLIST_MAX_ENTRIES = _env_int("WAITLIST_MAX_ENTRIES", 5)
    # Idempotency-Key: how long a key's answer is given again, and how long a running request holds its key.
    IDEMPOTENCY_TTL_SECONDS = _env_int("IDEMPOTENCY_TTL_SECONDS", 24 * 60 * 60)
    IDEMPOTENCY_LEASE_SECONDS = _env_int("IDEMPOTENCY_LEASE_SECONDS", 120)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(BASE_DIR / "instance" / "uploads"))
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 105 * 1024 * 1024)  # multipart uploads only
    MAX_JSON_BYTES = _env_int("MAX_JSON_BYTES", 1024 * 1024)  # every other body: JSON, form posts
    MAX_IMAGE_BYTES = _env_int("MAX_IMAGE_BYTES", 10 * 1024 * 1024)
    # Width × height × frames an upload may have; larger ones are refused from the header, undecoded.
    MAX_IMAGE_PIXELS = _env_int("MAX_IMAGE_PIXELS", 25_000_000)
    MAX_IMAGES_PER_UPLOAD = _env_int("MAX_IMAGES_PER_UPLOAD", 10)
    # Break the glass: how long a doctor's emergency access to a patient lasts.
    EMERGENCY_ACCESS_MINUTES = _env_int("EMERGENCY_ACCESS_MINUTES", 60)
    # Booking rules for patients (services/scheduling/booking_rules.py); an admin overrides the first three
    # per doctor. Notice and cut-off are elapsed time; the horizon counts whole clinic days.
    BOOKING_MIN_NOTICE_MINUTES = _env_int("BOOKING_MIN_NOTICE_MINUTES", 120)
    BOOKING_HORIZON_DAYS = _env_int("BOOKING_HORIZON_DAYS", 90)
    CHANGE_CUTOFF_HOURS = _env_int("CHANGE_CUTOFF_HOURS", 24)
    NO_SHOW_LIMIT = _env_int("NO_SHOW_LIMIT", 0)  # no-shows in 12 months that stop self-booking; 0 = off
    # Anonymous directory answers kept per process (services/directory/answer_cache.py): for at most this
    # many seconds (0: off), and at most this many bytes of answers per process.
    DIRECTORY_CACHE_SECONDS = float(os.environ.get("DIRECTORY_CACHE_SECONDS", 5))
    DIRECTORY_CACHE_BYTES = _env_int("DIRECTORY_CACHE_BYTES", 16 * 1024 * 1024)

    # Access tokens (JWT) and refresh tokens.
    JWT_ALGORITHM = "HS256"
    JWT_ISSUER = os.environ.get("JWT_ISSUER", "clinic-portal")
    JWT_AUDIENCE = os.environ.get("JWT_AUDIENCE", "clinic-portal-api")
    ACCESS_TOKEN_SECONDS = _env_int("ACCESS_TOKEN_SECONDS", 15 * 60)
    REFRESH_TOKEN_DAYS = _env_int("REFRESH_TOKEN_DAYS", 30)
    PASSWORD_RESET_SECONDS = _env_int("PASSWORD_RESET_SECONDS", 30 * 60)
    # A spent refresh token presented this soon after its spend lost a race (token_in_use); later, a replay.
    REFRESH_REUSE_GRACE_SECONDS = _env_int("REFRESH_REUSE_GRACE_SECONDS", 10)
    # argon2id cost: OWASP's baseline (t=2, m=19 MiB, p=1). Hashes made otherwise are upgraded on login.
    PASSWORD_HASH_TIME_COST = _env_int("PASSWORD_HASH_TIME_COST", 2)
    PASSWORD_HASH_MEMORY_KIB = _env_int("PASSWORD_HASH_MEMORY_KIB", 19456)
    PASSWORD_HASH_PARALLELISM = _env_int("PASSWORD_HASH_PARALLELISM", 1)

    # Portal sessions: a server-side row per login, idle and absolute limits.
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 15)
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it belongs to
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]

    # Rate limits, in the notation of the `limits` library.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "")
    LOGIN_FAILURE_LIMITS = os.environ.get("LOGIN_FAILURE_LIMITS", "10/minute")
    LOGIN_FAILURE_ACCOUNT_HOURLY = os.environ.get("LOGIN_FAILURE_ACCOUNT_HOURLY", "100/hour")
    LOGIN_FAILURE_ADDRESS_LIMITS = os.environ.get("LOGIN_FAILURE_ADDRESS_LIMITS", "300/hour")
    RESET_REQUEST_LIMIT = os.environ.get("RESET_REQUEST_LIMIT", "5/hour")
    RESET_REQUEST_ADDRESS_LIMIT = os.environ.get("RESET_REQUEST_ADDRESS_LIMIT", "30/hour")
    REGISTRATION_LIMIT = os.environ.get("REGISTRATION_LIMIT", "100/hour")

    # Mail: without MAIL_SERVER, mails are written to the log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "clinic@localhost")
    # The job queue (portal/services/jobs): who runs it ("rq", "thread"; default rq with REDIS_URL),
    # how long a runner may hold a job, how often it is retried, how often periodic work runs.
    JOBS_RUNNER = os.environ.get("JOBS_RUNNER", "")
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "portal-jobs")
    JOBS_LEASE_SECONDS = _env_int("JOBS_LEASE_SECONDS", 120)
    JOBS_MAX_ATTEMPTS = _env_int("JOBS_MAX_ATTEMPTS", 8)
    JOBS_RETRY_SECONDS = _env_int("JOBS_RETRY_SECONDS", 30)
    JOBS_TICK_SECONDS = _env_int("JOBS_TICK_SECONDS", 10)
    JOBS_KEEP_DAYS = _env_int("JOBS_KEEP_DAYS", 30)
    # Where people reach the portal; links in mails are built from it, never from a request's Host.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    # How many reverse proxies in front set X-Forwarded-For/-Proto; 0 trusts none of those headers.
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)

    # OpenAPI (flask-smorest).
    API_TITLE = "Clinic portal API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


class DevelopmentConfig(Config):
    LOG_MAIL_BODIES = True
    PUBLIC_BASE_URL = Config.PUBLIC_BASE_URL or (
        f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}")
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/clinic_portal_test"
    )
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")  # xdist worker N: db 14 + N
    SESSION_COOKIE_SECURE = False
    PUBLIC_BASE_URL = Config.PUBLIC_BASE_URL or "http://localhost"
    # A test runs the jobs it waits for (outbox.run_due; the mailbox does), or starts a worker.
    JOBS_RUNNER = os.environ.get("JOBS_RUNNER", "manual")
    # argon2id's cheapest parameters (argon2.profiles.CHEAPEST): a user costs microseconds, not 90 ms.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 8
    PASSWORD_HASH_PARALLELISM = 1
    # No booking rules unless a test sets them (tests/fixtures/booking_rules.py): most tests book slots an
    # hour or a day ahead and cancel them, which the production defaults would refuse.
    BOOKING_MIN_NOTICE_MINUTES = 0
    BOOKING_HORIZON_DAYS = 3650
    CHANGE_CUTOFF_HOURS = 0
    NO_SHOW_LIMIT = 0


class ProductionConfig(Config):
    @classmethod
    def check(cls) -> None:
        """Refuse to start with settings that are only safe on a laptop."""
        if cls.SECRET_KEY == DEV_SECRET or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("Set SECRET_KEY (32+ random characters) before running in production.")
        if not cls.PUBLIC_BASE_URL.startswith(("https://", "http://")):
            raise RuntimeError("Set PUBLIC_BASE_URL (e.g. https://portal.example.org): links in mails use it.")


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_for(mode: str | None = None) -> type[Config]:
    return CONFIGS[mode or os.environ.get("PORTAL_ENV", "development")]
