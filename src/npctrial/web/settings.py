"""Django settings for the npctrial EDC.

Database: ``DATABASE_URL`` (``postgresql://user:pass@host:port/name``, psycopg 3) or, by default,
SQLite in WAL mode at ``$NPCTRIAL_VAR_DIR/npctrial.sqlite3`` (``var/`` under the working directory).
Secrets: ``NPCTRIAL_SECRET_KEY`` (otherwise a random key persisted in the var directory).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("NPCTRIAL_VAR_DIR", Path.cwd() / "var")).resolve()


def _secret_key() -> str:
    key = os.environ.get("NPCTRIAL_SECRET_KEY")
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def database_from_url(url: str | None) -> dict:
    """Translate ``DATABASE_URL`` into a Django DATABASES entry (SQLite WAL when empty)."""
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "npctrial.sqlite3"),
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL scheme must be postgresql://, got {parsed.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 0,
    }


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("NPCTRIAL_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("NPCTRIAL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "ninja",
    "npctrial.web.core",
    "npctrial.web.languages",
]
# Further EDC apps, when present: NPCTRIAL_EXTRA_APPS (comma-separated; default the clinical app).
for _optional in os.environ.get("NPCTRIAL_EXTRA_APPS", "npctrial.web.clinical").split(","):
    _optional = _optional.strip()
    if not _optional:
        continue
    try:
        __import__(_optional)
    except ModuleNotFoundError:
        continue
    INSTALLED_APPS.append(_optional)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "npctrial.web.languages.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "npctrial.web.core.middleware.LoginRequiredMiddleware",
    "npctrial.web.core.middleware.SecureHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "npctrial.web.urls"
WSGI_APPLICATION = "npctrial.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "npctrial.web.core.context.nav",
                "npctrial.web.languages.context.languages",
            ]
        },
    }
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock the username+IP after 5 failures for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Part 11 e-signature: this many wrong passwords in a row lock signing for the cool-off time.
ESIGNATURE_FAILURE_LIMIT = int(os.environ.get("NPCTRIAL_SIGNATURE_FAILURE_LIMIT", "3"))
ESIGNATURE_COOLOFF = timedelta(minutes=int(os.environ.get("NPCTRIAL_SIGNATURE_COOLOFF_MINUTES", "30")))

# Sessions: expire after 30 minutes of inactivity and when the browser closes.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
_https = os.environ.get("NPCTRIAL_HTTPS", "") == "1"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https
SECURE_HSTS_SECONDS = 31536000 if _https else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# English and Simplified Chinese: the user's saved choice, else the language cookie, else the
# browser's Accept-Language (zh-CN, zh-SG -> zh-hans). Catalogues: web/locale (compiled .mo
# files are committed; `make messages` regenerates both, tests check they agree).
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "npctrial_language"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# No patient identifiers in logs: only warnings from Django itself, no request bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"axes": {"level": "ERROR"}, "django.request": {"level": "ERROR"}},
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
