"""Django settings for fangkong.

Everything that differs between a laptop and a command centre's server comes from the
environment. Development defaults exist so that `make run` works with no configuration,
and the process refuses to start with them when FANGKONG_PRODUCTION=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("FANGKONG_VAR_DIR", PROJECT_DIR / "var"))

PRODUCTION = os.environ.get("FANGKONG_PRODUCTION", "") in {"1", "true", "yes"}

# Development defaults: deliberately recognisable so a production start can refuse them.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktMzItYnl0ZXMtbG9uZyE="  # 32 bytes, base64
DEV_HMAC_KEY = "ZGV2LW9ubHktaG1hYy1rZXktZm9yLXBlcnNvbi1sb29rdXA="

SECRET_KEY = os.environ.get("FANGKONG_SECRET_KEY", DEV_SECRET_KEY)
# AES-GCM key for ID numbers and phones at rest (base64 of 32 random bytes).
FANGKONG_DATA_KEY = os.environ.get("FANGKONG_DATA_KEY", DEV_DATA_KEY)
# Key for the keyed hashes (HMAC-SHA256) that find a person by ID number or phone.
FANGKONG_HMAC_KEY = os.environ.get("FANGKONG_HMAC_KEY", DEV_HMAC_KEY)

if PRODUCTION:
    for name, value, dev in (
        ("FANGKONG_SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY),
        ("FANGKONG_DATA_KEY", FANGKONG_DATA_KEY, DEV_DATA_KEY),
        ("FANGKONG_HMAC_KEY", FANGKONG_HMAC_KEY, DEV_HMAC_KEY),
    ):
        if value == dev:
            raise ImproperlyConfigured(
                f"{name} must be set in production (FANGKONG_PRODUCTION=1); "
                "the development default is refused."
            )
    if "DATABASE_URL" not in os.environ:
        raise ImproperlyConfigured("DATABASE_URL must be set in production.")

DEBUG = os.environ.get("FANGKONG_DEBUG", "0" if PRODUCTION else "1") in {"1", "true", "yes"}
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "FANGKONG_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("FANGKONG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the API docs page's Swagger UI locally (else django-ninja uses a CDN)
    "fangkong.core",
    "fangkong.accounts",
    "fangkong.protocol",
    "fangkong.areas",
    "fangkong.people",
    "fangkong.scans",
    "fangkong.tracing",
    "fangkong.testing",
    "fangkong.web",
    "fangkong.drill",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fangkong.web.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer; no-store on authenticated answers and files.
    "fangkong.web.security.SecurityHeadersMiddleware",
    # A DomainError escaping a view becomes a page (or JSON) with its message and status.
    "fangkong.web.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "fangkong.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.web.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "fangkong.wsgi.application"
ASGI_APPLICATION = "fangkong.asgi.application"

# --- Database -------------------------------------------------------------------------
# SQLite (WAL) is the embedded default; PostgreSQL via DATABASE_URL for production.
DEFAULT_SQLITE = VAR_DIR / "fangkong.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"),
        conn_max_age=int(os.environ.get("FANGKONG_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=10000;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own cursors bind parameters client-side and never prepare. The sampling
    # sync's fixed statements go through a server-side binding cursor, which PostgreSQL
    # prepares on their second run in a connection. Set FANGKONG_PG_PREPARE_THRESHOLD
    # to "off" behind a pooler in transaction mode (PgBouncer before 1.21), which
    # cannot keep prepared statements.
    _prepare = os.environ.get("FANGKONG_PG_PREPARE_THRESHOLD", "2")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        None if _prepare.lower() in ("off", "none", "") else int(_prepare)
    )
# Test database name: each parallel worker or developer can get its own.
if os.environ.get("FANGKONG_TEST_DB"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["FANGKONG_TEST_DB"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Background jobs (django-tasks backport of Django's task interface) ----------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "FANGKONG_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        ),
    }
}

# --- i18n -----------------------------------------------------------------------------
# UI strings are written in Simplified Chinese (the default language); English comes
# from each app's locale/en catalogue.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
LOCALE_PATHS = [BASE_DIR / "locale"]

# Covering indexes (INCLUDE columns, e.g. on mass-testing samples) are a PostgreSQL
# optimisation; SQLite builds the same index on its key columns alone, as intended.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Static files: everything served locally (intranet, no CDN) ----------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
if not PRODUCTION:
    # Development serves from the finders; the folder only has to exist.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
# No script reads the CSRF cookie: htmx sends the token from base.html's hx-headers, the
# sampler page asks GET /csrf-token for a fresh one (web.views.csrf_token).
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# One policy for every path (web/security.py says why none needs an exception).
FANGKONG_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # ECharts, Leaflet, Swagger UI set styles
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
# FANGKONG_PLAIN_HTTP=1: a production install served over plain HTTP on an intranet (no
# TLS anywhere): cookies without Secure, no HSTS, no redirect to https. The older name
# FANGKONG_INSECURE_COOKIES=1 means the same.
PLAIN_HTTP = "1" in {
    os.environ.get("FANGKONG_PLAIN_HTTP", ""),
    os.environ.get("FANGKONG_INSECURE_COOKIES", ""),
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = not PLAIN_HTTP
    CSRF_COOKIE_SECURE = not PLAIN_HTTP
    SECURE_SSL_REDIRECT = not PLAIN_HTTP
    SECURE_HSTS_SECONDS = (
        0 if PLAIN_HTTP else int(os.environ.get("FANGKONG_HSTS_SECONDS", "31536000"))
    )
    # Only behind a TLS-terminating proxy that sets X-Forwarded-Proto itself (and drops
    # the client's): FANGKONG_TLS_PROXY=1. Trusting the header otherwise would let any
    # client claim https.
    if os.environ.get("FANGKONG_TLS_PROXY", "") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Lockout after repeated failed logins (per username and per client address).
FANGKONG_LOGIN_MAX_FAILURES = int(os.environ.get("FANGKONG_LOGIN_MAX_FAILURES", "5"))
FANGKONG_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("FANGKONG_LOGIN_LOCKOUT_MINUTES", "15"))

# Client address: trust X-Forwarded-For only behind a known proxy.
FANGKONG_TRUSTED_PROXY_COUNT = int(os.environ.get("FANGKONG_TRUSTED_PROXY_COUNT", "0"))

# --- Contact tracing -------------------------------------------------------------------
# Case numbers: PREFIX + year + sequence (TX2022-0001).
FANGKONG_CASE_NUMBER_PREFIX = os.environ.get("FANGKONG_CASE_NUMBER_PREFIX", "TX")
# A venue scan stands for presence from the scan until DWELL minutes later.
FANGKONG_STOP_DWELL_MINUTES = int(os.environ.get("FANGKONG_STOP_DWELL_MINUTES", "60"))
# Co-presence from venue scans: a case's stops are widened by TOLERANCE minutes on both
# sides; a person whose overlaps with the case, summed over the look-back window, reach
# CLOSE_MIN_OVERLAP minutes is a close contact (repeated or prolonged shared presence),
# below that a co-presence contact (时空伴随者: tested and monitored, not quarantined).
# The same threshold makes secondary contacts from a close contact's own scans.
FANGKONG_COPRESENCE_TOLERANCE_MINUTES = int(
    os.environ.get("FANGKONG_COPRESENCE_TOLERANCE_MINUTES", "15")
)
FANGKONG_CLOSE_CONTACT_MIN_OVERLAP = int(
    os.environ.get("FANGKONG_CLOSE_CONTACT_MIN_OVERLAP", "240")
)
# The command centre's phone printed on assist requests (协查函).
FANGKONG_COMMAND_PHONE = os.environ.get("FANGKONG_COMMAND_PHONE", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FANGKONG_LOG_LEVEL", "WARNING")},
}
