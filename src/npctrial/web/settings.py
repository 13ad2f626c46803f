"""Django settings for the npctrial EDC (all from environment variables; README "Deployment").

Database: ``DATABASE_URL`` (``postgresql://user:pass@host:port/name``, psycopg 3) or, by default,
SQLite in WAL mode with ``synchronous=FULL`` at ``$NPCTRIAL_VAR_DIR/npctrial.sqlite3`` (``var/``
under the working directory).
Secrets: ``NPCTRIAL_SECRET_KEY`` (otherwise a random key persisted in the var directory).
Hosts: ``NPCTRIAL_ALLOWED_HOSTS`` (comma-separated; default ``127.0.0.1,localhost``).
Behind a TLS reverse proxy: ``NPCTRIAL_HTTPS=1`` (secure cookies, HSTS, redirect to https),
``NPCTRIAL_TRUSTED_PROXIES=N`` (the number of reverse proxies in front: their
``X-Forwarded-Proto`` marks a request as https and ``X-Forwarded-For`` gives the client address
for login lockout and the audit log; with 0, the default, both headers are ignored) and
``NPCTRIAL_CSRF_TRUSTED_ORIGINS`` (default: ``https://<host>`` of every allowed host when https).
``NPCTRIAL_PRODUCTION=1`` (set by ``npctrial serve --production``): static files from
``collectstatic`` with hashed names, compressed and cached for a year by WhiteNoise.
Cache (the study report per data version, its figures by content): ``NPCTRIAL_CACHE`` is
``memory`` (one per process: the default without ``--production``), ``file`` (shared by every
worker process on the host, in ``$NPCTRIAL_VAR_DIR/cache``: the default with ``--production``) or
``none``. Cached values are keyed on the data they were computed from, never served stale.
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
                # WAL with synchronous=FULL: a committed (acknowledged) write is on disk before the
                # commit returns, so it survives a power cut (NORMAL may lose the last commits).
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
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
        # Persistent connections (one per worker thread, checked before reuse): opening a PostgreSQL
        # connection per request (CONN_MAX_AGE 0) costs more than most pages' queries together.
        "CONN_MAX_AGE": int(os.environ.get("NPCTRIAL_DB_CONN_MAX_AGE", "300")),
        "CONN_HEALTH_CHECKS": True,
    }


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("NPCTRIAL_DEBUG", "") == "1"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("NPCTRIAL_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
                 if h.strip()]
PRODUCTION = os.environ.get("NPCTRIAL_PRODUCTION", "") == "1"

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
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
    "npctrial.web.core.middleware.IdleSessionMiddleware",
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
SESSION_SAVE_EVERY_REQUEST = False  # idle expiry refreshed once a minute: core.middleware.IdleSessionMiddleware
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
_https = os.environ.get("NPCTRIAL_HTTPS", "") == "1"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the proxy's / load balancer's health check may use plain http
SECURE_HSTS_SECONDS = 31536000 if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https

# Reverse proxies: trust their headers only when the deployment says how many there are.
TRUSTED_PROXY_COUNT = max(0, int(os.environ.get("NPCTRIAL_TRUSTED_PROXIES", "0") or 0))
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
AXES_CLIENT_IP_CALLABLE = "npctrial.web.core.network.client_ip"  # lockout per real client address
_origins = os.environ.get("NPCTRIAL_CSRF_TRUSTED_ORIGINS", "")
CSRF_TRUSTED_ORIGINS = ([o.strip() for o in _origins.split(",") if o.strip()] if _origins else
                        [f"https://{h.lstrip('.')}" for h in ALLOWED_HOSTS if h != "*" and _https])
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
# WhiteNoise serves /static/ from the application in every mode. Production: the collected,
# hashed and compressed files (cached for a year); otherwise straight from the app folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if PRODUCTION
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_MAX_AGE = 31536000 if PRODUCTION else 0

def cache_from_name(name: str, var_dir: Path) -> dict:
    """``NPCTRIAL_CACHE`` as a Django CACHES entry (module docstring)."""
    backends: dict[str, dict] = {
        "memory": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "npctrial"},
        "file": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                 "LOCATION": str(var_dir / "cache"), "OPTIONS": {"MAX_ENTRIES": 2000}},
        "none": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    if name not in backends:
        raise ValueError(f"NPCTRIAL_CACHE must be one of {', '.join(backends)}, got {name!r}")
    return backends[name]


CACHES = {"default": cache_from_name(os.environ.get("NPCTRIAL_CACHE", "file" if PRODUCTION else "memory"), VAR_DIR)}

# No patient identifiers in logs: only warnings from Django itself, no request bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"axes": {"level": "ERROR"}, "django.request": {"level": "ERROR"}},
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
