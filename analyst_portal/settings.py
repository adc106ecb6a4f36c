"""Murmuration settings: one module, read from the environment, with embedded defaults.

With no environment at all the portal runs on a SQLite file, django-q2's ORM broker and the
in-memory channel layer, so `make run` works on a fresh clone.  Production sets:

- ``DATABASE_URL=postgres://user:pass@host:5432/name``: PostgreSQL;
- ``REDIS_URL=redis://host:6379/0``: django-q2's Redis broker and channels-redis;
- ``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``: the deployment switches (``check --deploy`` passes).

Malformed values are rejected at start-up with the variable's name, never silently defaulted.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    return value


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        name = parsed.path.lstrip("/")
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database (postgres://host:5432/NAME)")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": parsed.username or "",
            "PASSWORD": parsed.password or "",
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            # No persistent connections (as Django advises under ASGI): daphne runs each request's view in a
            # thread of its own, and a kept connection outlived its thread, so 50 analysts at once held about
            # 90 open and PostgreSQL refused the next ("too many clients"; bench/load.py). A worker, too, opens
            # one per job, so a restarted server only costs the job it cut off (tests/security/test_faults.py).
            "CONN_MAX_AGE": 0,
            "TEST": {"NAME": f"test_{name}"},
        }
    if parsed.scheme == "sqlite":
        path = parsed.path if parsed.netloc == "" else f"{parsed.netloc}{parsed.path}"
        return sqlite_database(Path(path or BASE_DIR / "var" / "murmuration.sqlite3"))
    raise ImproperlyConfigured(f"DATABASE_URL={url!r}: only postgres:// and sqlite:// are supported")


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the web process read while a worker writes; the timeout covers a long batch commit.
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def redis_url_checked(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ImproperlyConfigured(f"REDIS_URL={url!r} is not a redis://host:port/db URL")
    return url


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-murmuration-0123456789-abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

VAR_DIR = Path(os.environ.get("MURMURATION_VAR_DIR", BASE_DIR / "var"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# The columnar analysis store (apps.collections.store): each collection's posts and interactions as Parquet.
# Empty: MEDIA_ROOT/store, resolved when used (so a test's own MEDIA_ROOT holds its stores).
ANALYSIS_STORE_DIR = os.environ.get("ANALYSIS_STORE_DIR", "")

INSTALLED_APPS = [
    "daphne",  # first: runserver then serves ASGI (websockets)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets from the installed package, not a CDN
    "channels",
    "django_q",
    "axes",
    "apps.common",
    "apps.investigations",
    "apps.collections",
    "apps.jobs",
    "apps.analyses",
    "apps.audit",
    "apps.notes",
    "apps.workspace",
    "apps.pins",
    "apps.triage",
    "apps.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out login into the lockout response
]

ROOT_URLCONF = "analyst_portal.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "analyst_portal.wsgi.application"
ASGI_APPLICATION = "analyst_portal.asgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {"default": sqlite_database(VAR_DIR / "murmuration.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url_checked(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else ""

# Jobs run for minutes (a 1.35 M-row import, a fine-tuning run): the timeout is above the longest
# job and django-q2 redelivers only after `retry`, which must be above `timeout`.
JOB_TIMEOUT_S = env_int("JOB_TIMEOUT_S", 6 * 3600, minimum=60)
Q_CLUSTER = {
    "name": "murmuration",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": JOB_TIMEOUT_S,
    "retry": JOB_TIMEOUT_S + 600,
    "max_attempts": 1,
    "queue_limit": 50,
    "catch_up": False,
    "ack_failures": True,
    "poll": 0.2,
    "label": "Jobs queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Django's cache holds the login-failure counts (django-axes): per process in memory by default, shared
# across web processes through Redis in production.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # axes.W001 warns that an in-memory cache counts per process: right for one daphne process (the
    # embedded mode); several web processes share counts through REDIS_URL.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account or address before checking
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force: after LOGIN_FAILURE_LIMIT wrong passwords for one account, or from one address, that
# account (from anywhere) and that address (for any account) are refused for LOGIN_LOCKOUT_MINUTES,
# on the login form and on the API's Basic auth alike.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "apps.common.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "investigation-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]


def package_static_dir(package: str, *parts: str) -> Path:
    """A folder inside an installed package, found without importing it."""
    from importlib.util import find_spec

    spec = find_spec(package)
    path = Path(next(iter(spec.submodule_search_locations or []), "")).joinpath(*parts) if spec else None
    if path is None or not path.is_dir():
        raise ImproperlyConfigured(f"{'/'.join((package, *parts))} is missing: install requirements.txt ({package})")
    return path


# bertviz's views need require.js and d3 5.x (jQuery comes with django.contrib.admin): served from the
# installed packages under /static/vendor/, never from a CDN (see ml.text.attention).
STATICFILES_DIRS += [
    ("vendor/requirejs", package_static_dir("require", "resources")),
    ("vendor/d3", package_static_dir("mpld3", "js")),
]
WHITENOISE_MANIFEST_STRICT = False
# Static files straight from the apps and packages, without `collectstatic` (about four minutes here, most of it
# compressing vendor files): whitenoise's own default in DEBUG; with DEBUG off only for a benchmark or a trial of the
# production settings, never in production.
WHITENOISE_USE_FINDERS = env_bool("STATIC_FROM_FINDERS", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without `manage.py collectstatic` there is no manifest: pages still render (unhashed names) rather
    # than 500, and the system check apps.common.checks says to run collectstatic.
    "staticfiles": {"BACKEND": "apps.common.storage.StaticFilesStorage"}
    if not DEBUG
    else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "apps.common.authentication.LockoutAwareBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.common.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.apis.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    # The schema and Swagger UI describe every route: members only, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # <id:pk> (apps.common.converters): an integer id within BigAutoField's range
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
    "TITLE": "Murmuration API",
    "DESCRIPTION": "Investigations, collections, imports and jobs.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Analysis parameters that share a field name or a set of choices across kinds get one name each.
    "ENUM_NAME_OVERRIDES": {
        "SpreadActionEnum": ["repost", "quote", "reply"],
        "CoactionActionEnum": ["repost", "url", "hashtag", "mention", "reply", "text"],
        # behaviour's encoder and the hybrid's evaluated encoders: one choice set (ml.behaviour.ENCODERS)
        "TiesEncoderEnum": ["cnn", "rnn", "deepset"],
    },
    "REDOC_DIST": "SIDECAR",
}

# Content-Security-Policy on every page (django-csp): scripts and styles from this origin only (pages pass
# data through json_script, no inline script). 'unsafe-eval' is for plotly.js's WebGL traces (scattergl
# compiles its shaders' glue with `new Function`); inline style attributes draw progress bars and
# heatmaps. bertviz's sandboxed views set their own stricter policy, which the middleware keeps.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "worker-src": ["'self'", "blob:"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

MURMURATION = {
    # ingest
    "INGEST_BATCH_ROWS": env_int("INGEST_BATCH_ROWS", 20000, minimum=1),
    "MAX_FIELD_CHARS": env_int("MAX_FIELD_CHARS", 1_000_000, minimum=1000),
    "MAX_UNZIPPED_BYTES": env_int("MAX_UNZIPPED_BYTES", 20 * 1024**3, minimum=1024),
    "MAX_REJECTED_KEPT": env_int("MAX_REJECTED_KEPT", 1000, minimum=0),
    # analyses: the most rows (events, interactions, posts) one analysis holds in memory; over it the latest are
    # kept and the run says what it left out (about 100 bytes a row in the detectors' frames: 50 M ~ 5 GB)
    "ANALYSIS_ROWS_MAX": env_int("ANALYSIS_ROWS_MAX", 50_000_000, minimum=1),
    # jobs: a running job whose heartbeat is older than this is taken as dead (its worker died)
    "JOB_STALE_AFTER_S": env_int("JOB_STALE_AFTER_S", 120, minimum=1),
    "PROGRESS_MIN_INTERVAL_S": 0.5,
    # scale-out: a co-action run over more rows than DASK_MIN_ROWS tallies its pairs on a Dask cluster
    # (ml/coordination/dask_engine.py): DASK_SCHEDULER's ("tcp://host:8786"), or a 2-worker cluster inside the
    # django-q2 worker when it is empty. 0 (the default) keeps every run in its worker's process.
    "DASK_MIN_ROWS": env_int("DASK_MIN_ROWS", 0, minimum=0),
    "DASK_SCHEDULER": os.environ.get("DASK_SCHEDULER", ""),
    "MODEL_DIR": os.environ.get("MURMURATION_MODEL_DIR", ""),
    # Local model directories an editor may name as a base model (os.pathsep-separated): the
    # server's file system is not the analysts' to browse.
    "BASE_MODEL_DIRS": [p for p in os.environ.get("MURMURATION_BASE_MODEL_DIRS", "").split(os.pathsep) if p],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
