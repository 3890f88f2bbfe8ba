"""Settings for sentiment_ops, read from the environment (API.md, "Set-up commands").

Every variable has a default that runs the whole system on one machine with no server:
SQLite in ``var/`` and Celery over kombu's filesystem transport. Production sets
``DATABASE_URL`` (PostgreSQL), ``REDIS_URL``, ``SECRET_KEY``, ``DEBUG=0``, ``ALLOWED_HOSTS``.
"""

import datetime
import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Demo mode (``make run`` sets DEMO=1): the only mode in which the demo users with the published
# password may exist; ``seed_demo`` refuses outside it and ``check --deploy`` fails while any
# user still has that password (organization/checks.py).
DEMO = env.bool("DEMO", default=False)


def _local_secret_key() -> str:
    """A key generated once for this installation and kept in var/ (never a known default)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "django_htmx",
    "organization",
    "incidents",
    "early_warnings.apps.EarlyWarningsConfig",
    "responses",
    "deadlines",
    "documents",
    "workplace",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sentiment_ops.middleware.RequestBudgetMiddleware",
    "sentiment_ops.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "organization.middleware.PasswordChangeRequiredMiddleware",  # one-time passwords are changed first
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sentiment_ops.urls"
WSGI_APPLICATION = "sentiment_ops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers and one writer work together,
    # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # A file, not memory, so that a worker process in an integration test sees the same data.
    DATABASES["default"].setdefault("TEST", {"NAME": str(VAR_DIR / "test.sqlite3")})
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# PostgreSQL: the pages' and the API's fixed statements planned once per connection (PREPARE; see
# sentiment_ops/prepared.py). Off behind a pooler that hands a session to other clients
# between transactions (pgbouncer's transaction mode), where a connection's statements are
# not its own.
SERVER_PREPARED = env.bool("SERVER_PREPARED", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Every web and API request runs in one transaction with this statement timeout and JIT off
# (PostgreSQL; sentiment_ops/middleware.py). Tasks, migrations and commands are not requests.
STATEMENT_TIMEOUT_MS = env.int("STATEMENT_TIMEOUT_MS", default=5000)
STATEMENT_TIMEOUT_EXEMPT_PATHS = ("/healthz",)  # reports a database outage as 503, not a 500

AUTH_USER_MODEL = "organization.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Django's default hashers, and last (never preferred) the cheap one for one-time passwords of
# imported people (organization/hashers.py): re-hashed with PBKDF2 at their first login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "organization.hashers.OneTimePasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions
GUARDIAN_MONKEY_PATCH_USER = False
SESSION_COOKIE_AGE = int(env.float("SESSION_HOURS", default=8) * 3600)

# --- Brute force: django-axes locks a username (not an address: a whole office shares one NAT
# address during an incident) after LOGIN_FAILURE_LIMIT wrong passwords on the login page or
# the token endpoint, for LOGIN_COOLOFF_MINUTES; an administrator unlocks in the admin
# (访问尝试 → delete) or with `manage.py axes_reset_username <name>`.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sentiment_ops.security.locked_out"
AXES_CLIENT_IP_CALLABLE = "sentiment_ops.security.client_ip"  # the real address behind the proxy
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# axes.W006 asks for the address as a lockout parameter too: deliberately not (one NAT address
# for a whole office would lock everyone out during an incident). Per-username locks are not
# bypassed by rotating user agents or cookies; spraying one password over many usernames is
# left to the proxy's rate limit (docs/operations.md).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- API tokens (django-rest-knox): digests in the database, expiring; long-lived only for
# service accounts (organization/tokens.py).
API_TOKEN_TTL_HOURS = env.float("API_TOKEN_TTL_HOURS", default=8)
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Internationalisation: Chinese first, English alongside -------------------------------
LANGUAGE_CODE = "zh-hans"
# Each language by its own name in the menu (中文 / English), whatever the page language.
LANGUAGES = [("zh-hans", "中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: everything served locally (no CDN on a government intranet) ------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
_node = BASE_DIR / "node_modules"
for _prefix, _dist in [("vendor/bootstrap", _node / "bootstrap" / "dist"), ("vendor/echarts", _node / "echarts" / "dist")]:
    if _dist.is_dir():
        STATICFILES_DIRS.append((_prefix, _dist))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: attachments go through a permission-checked view

# --- Security (check --deploy clean when DEBUG=0 and HTTPS=1) ------------------------------
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxy the client's address is the right-most X-Forwarded-For entry the trusted
# proxies appended (PROXY_COUNT of them); anything further left the client could have forged.
PROXY_COUNT = env.int("PROXY_COUNT", default=1)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts only from this server, never inline (the
# pages' scripts are files; Swagger UI's initialiser carries the request's nonce).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],  # style attributes; no script runs from them
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
CSRF_FAILURE_VIEW = "sentiment_ops.errors.csrf_failure"

# --- Email (reminders and escalations; admins are told of calendar gaps) -----------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sentiment-ops@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [tuple(a.split(":", 1)) if ":" in a else (a, a) for a in env.list("ADMINS", default=[])]

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "sentiment_ops API",
    "DESCRIPTION": _("网络舆情突发事件应急处置系统 公共接口 (v1)"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the 1–4 level choice set wherever it appears.
    "ENUM_NAME_OVERRIDES": {"LevelEnum": "early_warnings.models.Level"},
}

# --- Celery (CELERY_ namespace) ---------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # CELERY_KEY_PREFIX puts every broker key under a prefix (the integration tests give
        # each worker and beat their own); empty, the default, means no prefix.
        "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=""),
    }
else:
    _broker = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # tasks write their outcome to the database
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # The deadline sweep (R40): reminders, missed, escalation. An idle sweep is one query.
    "process-deadlines": {
        "task": "deadlines.tasks.sweep",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=2.0),
        "options": {"expires": 30},
    },
    # Fold the triggers' change logs: accountability's into the day and month tallies, the
    # incidents' into their count (deadlines.tasks.compact_tallies).
    "compact-tallies": {"task": "deadlines.tasks.compact_tallies", "schedule": 60.0, "options": {"expires": 120}},
    # Retry the outbox (email, group robots) with backoff.
    "deliver-outbox": {"task": "deadlines.tasks.deliver", "schedule": 30.0, "options": {"expires": 60}},
    # Import new years from chinesecalendar and warn admins before the calendar runs out.
    "calendar-sync": {
        "task": "organization.tasks.calendar_sync",
        "schedule": crontab(hour=3, minute=17),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A task received and succeeded every SWEEP_INTERVAL_SECONDS is no news: the sweep
        # task logs what it did (deadlines/tasks.py), and errors still show.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
    },
}

# --- Attachments (R53): size limits per kind, in bytes ----------------------------------
ATTACHMENT_MAX_BYTES = {
    "text": env.int("ATTACHMENT_MAX_TEXT_MB", default=20) * 1024 * 1024,
    "image": env.int("ATTACHMENT_MAX_IMAGE_MB", default=20) * 1024 * 1024,
    "audio": env.int("ATTACHMENT_MAX_AUDIO_MB", default=100) * 1024 * 1024,
    "video": env.int("ATTACHMENT_MAX_VIDEO_MB", default=500) * 1024 * 1024,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Official documents (documents/) ----------------------------------------------------
# A warm LibreOffice (unoserver, "host:port") converts DOCX to PDF; empty: run SOFFICE per batch.
UNOSERVER = env.str("UNOSERVER", default="")
SOFFICE = env.str("SOFFICE", default="soffice")

# --- Deadlines ---------------------------------------------------------------------------
# The sweep compares due times with the database's clock; "application" only for tests that
# walk simulated days with time-machine.
DEADLINE_CLOCK = env.str("DEADLINE_CLOCK", default="database")
SWEEP_INTERVAL_SECONDS = env.float("SWEEP_INTERVAL_SECONDS", default=2.0)
# Absolute links in email and group-robot messages.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
