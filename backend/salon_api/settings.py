"""Salon settings.

Every setting is read from the environment (12-factor) with a default that makes
the embedded setup work: SQLite, console message provider, messages sent
in-process after commit. Production sets DATABASE_URL, CELERY_BROKER_URL,
SECRET_KEY, ALLOWED_HOSTS and the provider variables.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    # An empty variable counts as unset (`DATABASE_URL= make test-sqlite`).
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Development is the embedded default: no SECRET_KEY needed there. Anything that
# says it is production (DJANGO_ENV=production) must bring its own key.
DJANGO_ENV = env_str("DJANGO_ENV", "development")
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DJANGO_ENV == "production":
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
IS_PRODUCTION = DJANGO_ENV == "production"
if IS_PRODUCTION and not env_str("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")

# --- Transport security (production) --------------------------------------------
# TLS ends at a proxy in front of gunicorn, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Joining the browsers' HSTS preload list binds the whole domain and its
# subdomains to HTTPS for months and is slow to undo: the operator opts in with
# SECURE_HSTS_PRELOAD=1, so the deploy check does not insist (docs/decisions.md).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A CSRF refusal under /api/ is the API's JSON 403; the admin keeps Django's page.
CSRF_FAILURE_VIEW = "apps.common.exceptions.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "apps.common",
    "apps.accounts",
    "apps.salons",
    "apps.bookings",
    "apps.notifications",
    "apps.privacy",
    "apps.waitlist",
    "apps.disruptions",
]

MIDDLEWARE = [
    "apps.common.metrics.MiddlewareTimer",
    "apps.common.middleware.NulByteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, Swagger UI) from this process, compressed, also with DEBUG off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.common.middleware.ApiPathMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.common.middleware.AdminLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, inside AdminLocaleMiddleware: its lockout page is in the admin's language.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salon_api.urls"
WSGI_APPLICATION = "salon_api.wsgi.application"

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

# --- Dependencies: short, explicit timeouts; a dependency that is down is a 503 ---
REDIS_CONNECT_TIMEOUT_SECONDS = float(env_str("REDIS_CONNECT_TIMEOUT_SECONDS", "1"))
REDIS_TIMEOUT_SECONDS = float(env_str("REDIS_TIMEOUT_SECONDS", "1"))
DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 3)
BROKER_TIMEOUT_SECONDS = float(env_str("BROKER_TIMEOUT_SECONDS", "2"))
DEPENDENCY_RETRY_AFTER_SECONDS = env_int("DEPENDENCY_RETRY_AFTER_SECONDS", 5)

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Behind a pooler in transaction mode (PgBouncer's pool_mode=transaction) each
# transaction may run on another server connection, so nothing may outlive one:
# no prepared statements (PgBouncer 1.18 keeps none across transactions), no
# server-side cursors (a WITH HOLD cursor lives on one server connection), no
# session-level SET, advisory lock or LISTEN (the code has none: docs/decisions.md).
DATABASE_TRANSACTION_POOLER = env_bool("DATABASE_TRANSACTION_POOLER", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS,
            # Values travel apart from the statement, so psycopg prepares a statement
            # a connection runs often and PostgreSQL stops planning the hot paths'
            # joins on every request (docs/decisions.md). Off behind a transaction
            # pooler: values inlined, nothing prepared (Django's own default).
            "server_side_binding": env_bool("DATABASE_SERVER_SIDE_BINDING", not DATABASE_TRANSACTION_POOLER),
            # Prepared after this many runs on a connection; never behind a transaction
            # pooler unless set here on purpose (check salon.W001 warns).
            "prepare_threshold": (
                env_int("DATABASE_PREPARE_THRESHOLD", 5)
                if not DATABASE_TRANSACTION_POOLER or env_str("DATABASE_PREPARE_THRESHOLD")
                else None
            ),
        }
    )
    # QuerySet.iterator() reads in chunks from the result set held in memory instead.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_TRANSACTION_POOLER
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is the embedded default: wait for a writer instead of failing at once,
    # and take the write lock at BEGIN so a read-check-write cannot interleave.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# The admin's login takes a phone in any form the API accepts (0500000001, +966...);
# axes first refuses a login that is locked out (apps/accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "apps.accounts.backends.PhoneBackend"]

# --- Admin login lockout (django-axes) ---------------------------------------------
# ADMIN_LOGIN_FAILURE_LIMIT failed logins for one account (its phone in any form) or
# from one client address lock further logins there, the right password included,
# until ADMIN_LOGIN_LOCKOUT_MINUTES have passed without another try. Counted in the
# database, so every web process sees the same counts.
AXES_ENABLED = env_bool("ADMIN_LOGIN_LOCKOUT", True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each one on its own
AXES_USERNAME_FORM_FIELD = "username"  # the admin login form's field (the model's is "phone")
AXES_USERNAME_CALLABLE = "apps.accounts.lockout.typed_phone"
AXES_CLIENT_IP_CALLABLE = "apps.common.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
# A success does not wipe the failures: it would wipe the address's too, and a
# staff member could guess another account's password between logins of their own.
AXES_RESET_ON_SUCCESS = False
# Every failure is kept (AccessFailureLog, at most 1,000 per account), readable by
# superusers in the admin; phone numbers and addresses are masked in the log lines.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("ar", "العربية"), ("en", "English")]
# Our own translations (Arabic labels of models, fields and the admin's columns).
LOCALE_PATHS = [BASE_DIR / "locale"]
# One 24-hour date and time format in both languages (salon_api/formats/).
FORMAT_MODULE_PATH = ["salon_api.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
SALON_DEFAULT_TIME_ZONE = env_str("SALON_DEFAULT_TIME_ZONE", "Asia/Riyadh")
# Availability offers a start every this many minutes from each shift's opening.
AVAILABILITY_STEP_MINUTES = env_int("AVAILABILITY_STEP_MINUTES", 15)
# A booking may start on a local day at most this many days after today, and
# availability is shown up to that day: one rule for both.
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", 180)

STATIC_URL = "static/"
# `manage.py collectstatic` gathers them here (a deploy step; `make run` does it too).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies, without a manifest: pages render even before collectstatic (tests).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Request size: booking and login bodies are tiny; refuse anything large early.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 64 * 1024)
# Provider webhooks (/api/webhooks/) take more: Meta batches up to 1,000 updates in
# one signed body and documents payloads of up to 3 MB. A refused batch is retried
# and then dropped, so the limit follows the provider, not our own clients.
WEBHOOK_MAX_BODY_SIZE = env_int("WEBHOOK_MAX_BODY_SIZE", 3 * 1024 * 1024)

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("REDIS_URL"),
            # A stopped or hung Redis fails the request in about a second (503), never hangs it.
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
        if env_str("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "salon"}
    )
}

# --- API -------------------------------------------------------------------
# Proxies in front whose X-Forwarded-For is trusted (0: the socket's address is the
# client's). One rule for every per-address counter: apps/common/addresses.py.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.UserReadingJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.common.parsers.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["apps.common.filtering.QueryFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.common.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.exceptions.api_exception_handler",
    # The client address is the connecting address unless a trusted proxy count is
    # set. Never None: DRF then trusts any X-Forwarded-For a client sends.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "otp_request_phone": env_str("OTP_REQUEST_RATE_PER_PHONE", "5/hour"),
        "otp_request_ip": env_str("OTP_REQUEST_RATE_PER_IP", "20/hour"),
        "otp_verify_ip": env_str("OTP_VERIFY_RATE_PER_IP", "30/hour"),
        # GET /api/me/export/ per person (each export is also logged as a data request).
        "data_export": env_str("DATA_EXPORT_RATE", "10/hour"),
    },
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Salon API",
    "DESCRIPTION": "Booking backend for hair and beauty salons: phone login, catalog, bookings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.schema.add_error_responses",
    ],
    # One name per vocabulary wherever it appears (the channel: a person's preferred
    # one, a consent's; the kinds of personal data requests).
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "apps.common.channels.Channel",
        "DataRequestKindEnum": "apps.privacy.models.DataRequestKind",
        "RequestableKindEnum": "apps.privacy.models.REQUESTABLE_KIND_CHOICES",
        # A booking's status keeps its name beside the waiting list's.
        "StatusEnum": "apps.bookings.models.BookingStatus",
        "WaitlistStatusEnum": "apps.waitlist.models.WaitlistStatus",
    },
    # Swagger UI assets served from this server, not a CDN (works offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Login by one-time code -------------------------------------------------
OTP_PROVIDER = env_str("OTP_PROVIDER", "console")
OTP_CODE_TTL_SECONDS = env_int("OTP_CODE_TTL_SECONDS", 300)
OTP_MAX_ATTEMPTS = env_int("OTP_MAX_ATTEMPTS", 5)
OTP_RESEND_COOLDOWN_SECONDS = env_int("OTP_RESEND_COOLDOWN_SECONDS", 60)
OTP_ALLOWED_COUNTRY_CODES = [int(code) for code in env_list("OTP_ALLOWED_COUNTRY_CODES", "966")]
# At most this many login codes per window across all phones and addresses (SMS pumping).
OTP_REQUEST_RATE_GLOBAL = env_str("OTP_REQUEST_RATE_GLOBAL", "1000/hour")
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "SA")

# --- Notifications ------------------------------------------------------------
NOTIFICATION_PROVIDER = env_str("NOTIFICATION_PROVIDER", OTP_PROVIDER)
NOTIFICATION_DEFAULT_CHANNEL = env_str("NOTIFICATION_DEFAULT_CHANNEL", "sms")
# How long a worker owns a claimed notification before another may retry it.
NOTIFICATION_CLAIM_SECONDS = env_int("NOTIFICATION_CLAIM_SECONDS", 60)

# Delivery: transient failures are retried with exponential backoff and jitter
# until a deadline (provider incidents last minutes to hours; a message about an
# appointment also gives up at its start), and the sweep re-publishes messages
# whose publish was lost (broker down at commit, worker killed).
NOTIFICATION_RETRY_DEADLINE_SECONDS = env_int("NOTIFICATION_RETRY_DEADLINE_SECONDS", 6 * 3600)
NOTIFICATION_RETRY_BACKOFF_SECONDS = float(env_str("NOTIFICATION_RETRY_BACKOFF_SECONDS", "5"))
NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = float(env_str("NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS", "600"))
NOTIFICATION_SWEEP_AFTER_SECONDS = env_int("NOTIFICATION_SWEEP_AFTER_SECONDS", 120)
NOTIFICATION_SWEEP_INTERVAL_SECONDS = env_int("NOTIFICATION_SWEEP_INTERVAL_SECONDS", 60)
# After WhatsApp says a number cannot get our messages, that person's messages go
# by SMS (with no WhatsApp call) for this many days, unless they write to us there.
NOTIFICATION_WHATSAPP_RETRY_AFTER_DAYS = env_int("NOTIFICATION_WHATSAPP_RETRY_AFTER_DAYS", 30)
# Messages per second per provider account, held by all workers together, e.g.
# {"whatsapp_cloud": 80, "twilio": 30}. Unset: no pacing.
PROVIDER_RATE_LIMITS = json.loads(env_str("PROVIDER_RATE_LIMITS", "{}"))
# Answers to replies (button taps) per booking and person per hour; more taps are recorded, not answered.
REPLY_ANSWERS_PER_HOUR = env_int("REPLY_ANSWERS_PER_HOUR", 3)
# How often the beat scans for due reminders (a reminder goes out within this of its moment).
REMINDER_SCAN_INTERVAL_SECONDS = env_int("REMINDER_SCAN_INTERVAL_SECONDS", 60)

# --- Personal data (apps/privacy, docs/privacy.md) -------------------------------
# Message texts and phone numbers (notifications, their attempts, inbound messages)
# are redacted this many days after the message; event, channel, status, times,
# segments and cost stay for statistics. Used and expired login codes go after a day.
MESSAGE_RETENTION_DAYS = env_int("MESSAGE_RETENTION_DAYS", 365)

# --- Waiting list, disruptions, the staff member's day (issue #21) ----------------
# A freed time offered from the waiting list may be claimed for this long.
WAITLIST_OFFER_MINUTES = env_int("WAITLIST_OFFER_MINUTES", 15)
# Waiting list entries a customer may have on the list at once.
WAITLIST_ENTRIES_PER_CUSTOMER = env_int("WAITLIST_ENTRIES_PER_CUSTOMER", 10)
# A disrupted booking (closure, time off) nobody answered for is cancelled this long before its start.
DISRUPTION_CANCEL_BEFORE_MINUTES = env_int("DISRUPTION_CANCEL_BEFORE_MINUTES", 120)
# Alternatives for a disrupted booking are looked for this many days either side of it.
DISRUPTION_SEARCH_DAYS = env_int("DISRUPTION_SEARCH_DAYS", 14)
# How often beat expires offers and entries, cancels unanswered disruptions and sends due agendas.
WAITLIST_SCAN_INTERVAL_SECONDS = env_int("WAITLIST_SCAN_INTERVAL_SECONDS", 60)

# --- Celery ------------------------------------------------------------------
# Production: Redis (CELERY_BROKER_URL). Without one, the embedded broker: a folder
# under SALON_RUN_DIR shared by the web server, the worker and beat (kombu's
# filesystem transport, apps/common/broker.py), so retries, the sweep and reminders
# run on a laptop with nothing installed. The test suite runs tasks in-process.
RUN_DIR = Path(env_str("SALON_RUN_DIR", str(BASE_DIR / ".run")))
EMBEDDED_BROKER_URL = "filesystem://localhost/"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", EMBEDDED_BROKER_URL)
EMBEDDED_BROKER = CELERY_BROKER_URL == EMBEDDED_BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "salon")
CELERY_TASK_IGNORE_RESULT = True
# At-least-once: a task is acknowledged after it ran, a task whose worker died is
# delivered again, and a worker holds one message per process/thread at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Unacknowledged messages of a lost worker come back after this long; it
    # must exceed the longest retry countdown (NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS).
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # A stopped or hung Redis broker holds a publish for seconds, not forever.
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
}
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
if EMBEDDED_BROKER:
    from apps.common.broker import transport_options as embedded_broker_options

    CELERY_BROKER_TRANSPORT = "apps.common.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = embedded_broker_options(
        RUN_DIR / "broker", polling_interval=float(env_str("EMBEDDED_BROKER_POLL_SECONDS", "0.5"))
    )
    # Remote control needs a broadcast the folder broker does not carry across processes.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish with the broker down must not hold the booking request: try briefly,
# then give up; the sweep sends the message once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {"task": "notifications.sweep", "schedule": float(NOTIFICATION_SWEEP_INTERVAL_SECONDS)},
    "notifications-remind": {"task": "notifications.remind", "schedule": float(REMINDER_SCAN_INTERVAL_SECONDS)},
    # Once a day, at a quiet hour (UTC; the default 00:30 is 03:30 in Riyadh).
    "privacy-retention": {
        "task": "privacy.retention",
        "schedule": crontab(minute=30, hour=env_int("PRIVACY_RETENTION_HOUR_UTC", 0)),
    },
    "notifications-agenda": {"task": "notifications.agenda", "schedule": float(WAITLIST_SCAN_INTERVAL_SECONDS)},
    "waitlist-expire": {"task": "waitlist.expire", "schedule": float(WAITLIST_SCAN_INTERVAL_SECONDS)},
    "disruptions-deadline": {"task": "disruptions.deadline", "schedule": float(WAITLIST_SCAN_INTERVAL_SECONDS)},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Which provider sends each channel. Unset: NOTIFICATION_PROVIDER when it can send
# that channel, else OTP_PROVIDER (an SMS gateway) for SMS.
NOTIFICATION_SMS_PROVIDER = env_str("NOTIFICATION_SMS_PROVIDER")
NOTIFICATION_WHATSAPP_PROVIDER = env_str("NOTIFICATION_WHATSAPP_PROVIDER")
# The address providers call back (delivery reports), e.g. https://api.salon.example
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")
# Without PUBLIC_BASE_URL (development), links in messages point at the local server.
RUN_PORT = env_int("PORT", 8000)

# --- Promotional messages (Saudi CST rules; docs/compliance.md) ----------------------
# Daytime window for promotional messages, salon local time (a salon may narrow it).
PROMOTIONAL_HOURS = env_str("PROMOTIONAL_HOURS", "09:00-20:00")
# Promotional SMS at all; when on with a real SMS provider, SMS_PROMOTIONAL_SENDER_ID is required.
PROMOTIONAL_SMS_ENABLED = env_bool("PROMOTIONAL_SMS_ENABLED", True)
# The registered sender name for promotional SMS: must end in -AD.
SMS_PROMOTIONAL_SENDER_ID = env_str("SMS_PROMOTIONAL_SENDER_ID")
# The registered sender name for service SMS; the provider's own setting wins when set.
SMS_SENDER_ID = env_str("SMS_SENDER_ID")
# The provider for promotional SMS (default: the SMS provider). Never Twilio.
NOTIFICATION_PROMOTIONAL_SMS_PROVIDER = env_str("NOTIFICATION_PROMOTIONAL_SMS_PROVIDER")

# --- Providers -------------------------------------------------------------------
PROVIDER_HTTP_TIMEOUT_SECONDS = float(env_str("PROVIDER_HTTP_TIMEOUT_SECONDS", "10"))
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM = env_str("TWILIO_FROM")
TWILIO_WHATSAPP_FROM = env_str("TWILIO_WHATSAPP_FROM")
TWILIO_BASE_URL = env_str("TWILIO_BASE_URL", "https://api.twilio.com")
# WhatsApp content templates: JSON {"booking_created_customer:ar": "HX...", ...}
TWILIO_CONTENT_SIDS = json.loads(env_str("TWILIO_CONTENT_SIDS", "{}"))
UNIFONIC_APP_SID = env_str("UNIFONIC_APP_SID")
UNIFONIC_SENDER_ID = env_str("UNIFONIC_SENDER_ID")
UNIFONIC_BASE_URL = env_str("UNIFONIC_BASE_URL", "https://el.cloud.unifonic.com")
TAQNYAT_TOKEN = env_str("TAQNYAT_TOKEN")
TAQNYAT_SENDER = env_str("TAQNYAT_SENDER")
TAQNYAT_BASE_URL = env_str("TAQNYAT_BASE_URL", "https://api.taqnyat.sa")
WHATSAPP_TOKEN = env_str("WHATSAPP_TOKEN")
WHATSAPP_PHONE_NUMBER_ID = env_str("WHATSAPP_PHONE_NUMBER_ID")
WHATSAPP_API_VERSION = env_str("WHATSAPP_API_VERSION", "v21.0")
WHATSAPP_APP_SECRET = env_str("WHATSAPP_APP_SECRET")
WHATSAPP_VERIFY_TOKEN = env_str("WHATSAPP_VERIFY_TOKEN")
WHATSAPP_BASE_URL = env_str("WHATSAPP_BASE_URL", "https://graph.facebook.com")
# Approved template names per event and audience; JSON to override
# {"booking_created:customer": "salon_booking_received", ...}. Default: "<event>_<audience>".
WHATSAPP_TEMPLATES = json.loads(env_str("WHATSAPP_TEMPLATES", "{}"))

# --- Observability -------------------------------------------------------------
# GET /metrics (Prometheus). With a token set, only `Authorization: Bearer <token>` may read it.
METRICS_TOKEN = env_str("METRICS_TOKEN")  # required in production (check salon.E001)
# The database and broker gauges are read at most once per this many seconds per process.
METRICS_CACHE_SECONDS = float(env_str("METRICS_CACHE_SECONDS", "5"))
# How long a scrape waits for the broker's queue depth (-1 when it does not answer).
METRICS_BROKER_TIMEOUT_SECONDS = float(env_str("METRICS_BROKER_TIMEOUT_SECONDS", "0.5"))
# Error reporting to Sentry (or a compatible service) when a DSN is given.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    from apps.common.scrubbing import sentry_options

    # No phone numbers, codes, tokens or message texts in error reports (apps/common/scrubbing.py).
    sentry_sdk.init(
        **sentry_options(
            dsn=SENTRY_DSN,
            environment=DJANGO_ENV,
            traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
        )
    )

# --- Logging -----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Phone numbers masked, tokens and codes hidden, in every line but the console provider's.
    "filters": {"personal_data": {"()": "apps.common.scrubbing.PersonalDataFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
