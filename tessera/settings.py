"""Tessera's only settings module: every deployment-specific value comes from `tessera.conf`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from tessera import conf

BASE_DIR = conf.BASE_DIR
DATA_DIR = conf.env_path("TESSERA_DATA_DIR")

PRODUCTION = conf.env_bool("TESSERA_PRODUCTION")
DEBUG = conf.env_bool("TESSERA_DEBUG")
SECRET_KEY = conf.env_str("TESSERA_SECRET_KEY")
# Keys for secrets stored in the database (tessera.mail.crypto); empty: derived from SECRET_KEY.
TESSERA_ENCRYPTION_KEYS = conf.env_list("TESSERA_ENCRYPTION_KEYS")
ALLOWED_HOSTS = conf.env_list("TESSERA_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = conf.env_list("TESSERA_CSRF_TRUSTED_ORIGINS")
BASE_URL = conf.env_str("TESSERA_BASE_URL").rstrip("/")
if PRODUCTION:  # here, not only in a system check, so that no entry point starts with these settings
    conf.refuse_insecure_production(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks_db",
    "channels",
    "tessera.core",
    "tessera.accounts",
    "tessera.tickets",
    "tessera.sla",
    "tessera.catalog",
    "tessera.search",
    "tessera.mail",
    "tessera.notifications",
    "tessera.status",
    "tessera.reports",
    "tessera.workspace",
    "tessera.portal",
]

MIDDLEWARE = [
    "tessera.core.middleware.AllowedHostMiddleware",
    "tessera.core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "tessera.core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tessera.core.middleware.PrivateResponseMiddleware",
    "tessera.core.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tessera.accounts.middleware.UserLanguageMiddleware",
    "tessera.accounts.middleware.AgentMfaMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tessera.api.problems.ProblemMiddleware",
]

ROOT_URLCONF = "tessera.urls"
WSGI_APPLICATION = "tessera.wsgi.application"
ASGI_APPLICATION = "tessera.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tessera" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tessera.core.context_processors.live",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = conf.env_str("DATABASE_URL")
    if url:
        database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        database["ATOMIC_REQUESTS"] = False
        # Parameters bound by the server, and a statement run 5 times on a connection prepared there: the
        # hot statements skip PostgreSQL's parse and plan (measured: -22 % of the database's CPU per new
        # ticket, -11 % of ours). Behind PgBouncer in transaction mode this needs max_prepared_statements.
        if database["ENGINE"] == "django.db.backends.postgresql":
            database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
        return dict(database)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return sqlite_database(DATA_DIR / "tessera.sqlite3", test_name=DATA_DIR / "test.sqlite3")


def sqlite_database(name: Path, *, test_name: Path | None = None, timeout: float = 20) -> dict[str, Any]:
    """Django's stock SQLite backend as Tessera runs it. Concurrent writers (web workers + task worker)
    need WAL, IMMEDIATE transactions (the write lock is taken at BEGIN, so a transaction never fails
    half-way on upgrading a read lock) and a busy timeout; a writer that waits longer than `timeout`
    seconds gets Django's OperationalError ("database is locked")."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": timeout,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
            ),
        },
        "TEST": {"NAME": test_name or name},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = conf.env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Enqueued tasks are rows in the same database, so an enqueue commits or rolls back
# together with the change that caused it. Mail has its own queues, so a worker can be started per kind
# (`tessera worker --queue mail-out`) and a burst of inbound mail never holds back outgoing email.
TASK_QUEUE_DEFAULT = "default"
TASK_QUEUE_MAIL_IN = "mail-in"  # processing stored inbound messages
TASK_QUEUE_MAIL_OUT = "mail-out"  # delivering outbound email (acknowledgements, replies, notifications)
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": [TASK_QUEUE_DEFAULT, TASK_QUEUE_MAIL_IN, TASK_QUEUE_MAIL_OUT],
    }
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Failed sign-ins are limited by tessera.accounts.lockout (per account and per address, in the database).
ACCOUNT_RATE_LIMITS = {"login_failed": False}
# The client address allauth (and so the lockout) uses: X-Forwarded-For only as far as our own proxies.
ALLAUTH_TRUSTED_PROXY_COUNT = conf.env_int("TESSERA_TRUSTED_PROXIES")
LOGIN_REDIRECT_URL = "/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]

# Client area and accounts (portal) ------------------------------------------------------------------
# Self-service sign-ups are customers in the page's language; the extra form asks for a name and
# sends the browser's time zone.
ACCOUNT_ADAPTER = "tessera.accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "tessera.accounts.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Tessera] "
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_TOTP_ISSUER = "Tessera"
# Agents and admins must set up TOTP before using anything else (tessera.accounts.middleware).
TESSERA_AGENT_MFA_REQUIRED = conf.env_bool("TESSERA_AGENT_MFA_REQUIRED")
# Pending uploads of a ticket form that failed validation are kept this long for the retry.
TESSERA_PENDING_UPLOAD_HOURS = 24

# Session security: a session not "remembered" at sign-in ends when the browser closes (allauth asks);
# a remembered one lasts two weeks. Sign-in, sign-out and password changes rotate the session key.
SESSION_COOKIE_AGE = 14 * 24 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

# Notifications and account settings (notifications) ------------------------------------------------
# Email change through allauth: the new address is confirmed before it replaces the old one, and the
# old address is told about the change.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
# The unread count reaches open pages over a websocket (tessera.notifications.live); pages poll this often
# only while their socket is closed, and with Redis the websocket process re-reads the count this often too.
NOTIFICATIONS_POLL_SECONDS = 20

LANGUAGE_CODE = conf.env_str("TESSERA_LANGUAGE")
LANGUAGES = [("en", _("English")), ("it", _("Italian")), ("pl", _("Polish")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "tessera" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = conf.env_time_zone("TESSERA_TIME_ZONE")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The site-wide design system (tessera/static/tessera/) lives outside any app, so it is listed here.
STATICFILES_DIRS = [BASE_DIR / "tessera" / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

TESSERA_TICKET_PREFIX = conf.env_str("TESSERA_TICKET_PREFIX")
TESSERA_MAX_ATTACHMENT_BYTES = conf.env_int("TESSERA_MAX_ATTACHMENT_MB", minimum=1) * 1024 * 1024
TESSERA_MAX_ATTACHMENTS = conf.env_int("TESSERA_MAX_ATTACHMENTS", minimum=1)
# A person's quota of stored files over the last 24 hours (tessera.tickets.attachments.check_daily_quota).
TESSERA_DAILY_UPLOAD_FILES = conf.env_int("TESSERA_DAILY_UPLOAD_FILES")
TESSERA_DAILY_UPLOAD_BYTES = conf.env_int("TESSERA_DAILY_UPLOAD_MB") * 1024 * 1024
TESSERA_API_RATE = conf.env_str("TESSERA_API_RATE")
TESSERA_SERVE_WORKERS = conf.env_int("TESSERA_SERVE_WORKERS", minimum=1)
TESSERA_SERVE_THREADS = conf.env_int("TESSERA_SERVE_THREADS", minimum=1)
TESSERA_WEBSOCKET_PORT = conf.env_int("TESSERA_WEBSOCKET_PORT")
TESSERA_WORKER_STALE_SECONDS = conf.env_int("TESSERA_WORKER_STALE_SECONDS", minimum=1)
# A request body may carry the largest allowed attachments; anything beyond is refused early.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The most a request may declare in Content-Length (every attachment at its limit, and the form): a larger
# one is answered 413 before its body is read (tessera.core.middleware.RequestSizeLimitMiddleware). Put
# the same limit in front, e.g. nginx `client_max_body_size`.
TESSERA_MAX_REQUEST_BYTES = TESSERA_MAX_ATTACHMENTS * TESSERA_MAX_ATTACHMENT_BYTES + 1024 * 1024
# Files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file, never past the attachment limit.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "tessera.tickets.uploads.LimitedTemporaryFileUploadHandler",
]

DEFAULT_FROM_EMAIL = conf.env_str("TESSERA_DEFAULT_FROM_EMAIL")
MAILERS = {"default": conf.env_mailer("TESSERA_EMAIL_URL")}

# --- Email channel (tessera.mail) ---------------------------------------------------------------------
TESSERA_MAIL_MAILER = "default"  # the MAILERS alias outbound mail goes through (an anymail backend works)
TESSERA_MAIL_LISTEN = conf.env_str("TESSERA_MAIL_LISTEN")
TESSERA_MAIL_AUTHSERV_ID = conf.env_str("TESSERA_MAIL_AUTHSERV_ID").strip()
TESSERA_MAIL_MAX_BYTES = conf.env_int("TESSERA_MAIL_MAX_MB", minimum=1) * 1024 * 1024
TESSERA_MAIL_SENDER_LIMIT = conf.env_int("TESSERA_MAIL_SENDER_LIMIT", minimum=1)
TESSERA_MAIL_ACK_WINDOW_SECONDS = conf.env_int("TESSERA_MAIL_ACK_WINDOW_SECONDS", minimum=0)
TESSERA_MAIL_DEFAULT_DEPARTMENT = conf.env_str("TESSERA_MAIL_DEFAULT_DEPARTMENT")
TESSERA_MAIL_KIND_BY_DEPARTMENT = dict(
    item.split("=", 1) for item in conf.env_list("TESSERA_MAIL_KIND_BY_DEPARTMENT") if "=" in item
)
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": conf.env_str("TESSERA_MAILGUN_WEBHOOK_SIGNING_KEY"),
    "MANDRILL_WEBHOOK_KEY": conf.env_str("TESSERA_MANDRILL_WEBHOOK_KEY"),
    "WEBHOOK_SECRET": conf.env_str("TESSERA_ANYMAIL_WEBHOOK_SECRET") or None,
}
# --- end email channel -------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600

# Every HTML page: scripts only from our own static files (or carrying the request's nonce), no inline
# handlers, no plugins, no framing, forms post only to us. Style attributes stay allowed: templates set
# CSS variables (priority colours, chart bars) in them and htmx adds its indicator style.
_WEBSOCKETS = (
    [f"ws://*:{TESSERA_WEBSOCKET_PORT}", f"wss://*:{TESSERA_WEBSOCKET_PORT}"]
    if TESSERA_WEBSOCKET_PORT
    else []
)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF, *_WEBSOCKETS],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Browser features no page of a help desk uses.
TESSERA_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), accelerometer=(), gyroscope=(), "
    "magnetometer=()"
)

NINJA_PAGINATION_MAX_LIMIT = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO" if PRODUCTION else "WARNING"},
    "loggers": {"tessera": {"level": "INFO"}},
}

# --- Agent workspace (tessera.workspace) ---
# How often an open ticket page's websocket re-reads the ticket's newest event id. Without a cross-process
# channel layer (no REDIS_URL) this is how a page learns of changes made through the HTTP workers.
TESSERA_LIVE_POLL_SECONDS = 3.0
