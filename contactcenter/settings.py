"""Settings for the contact center, driven by environment variables (see DESIGN.md).

`.env` in the project root is read when present. With DEBUG off, secrets have no defaults and
the process refuses to start without them.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or DEBUG=1 for local development)."
        )

# Old keys, newest first, still accepted for signatures (sessions, password resets) and for OTP
# codes in flight, so that SECRET_KEY rotates without signing everyone out. Empty it once
# sessions signed with the old key no longer matter (SESSION_COOKIE_AGE, two weeks).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # intcomma: "10,000+ calls"
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_celery_beat",
    "axes",
    "contactcenter.core",
    "agents",
    "calls",
    "masking",
    "otp",
]

MIDDLEWARE = [
    "contactcenter.core.middleware.FastLaneMiddleware",  # machine endpoints skip the rest
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "contactcenter.core.middleware.HtmxSignInMiddleware",  # signed out: a page load, not a swap
    "contactcenter.core.middleware.SignedInNoStoreMiddleware",  # Back re-asks, never a stored copy
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
WSGI_APPLICATION = "contactcenter.wsgi.application"
ASGI_APPLICATION = "contactcenter.asgi.application"

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
                "contactcenter.core.context_processors.roles",
                "contactcenter.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write at once: WAL lets readers run beside the writer, and the busy
    # timeout makes a writer wait for the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # The health check lets a request survive a database restart on a persistent connection.
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that polls the socket instead of a round trip.
        DATABASES["default"]["ENGINE"] = "contactcenter.db.postgresql"
    # The masking route lookup runs as a prepared statement (masking/hotpath.py): psycopg
    # prepares statements of server-binding cursors from their fifth run. Django's own cursors
    # bind on the client and never prepare, so nothing else changes. 0 for a pooler that cannot
    # carry prepared statements (PgBouncer before 1.21 in transaction mode).
    MASKING_PREPARED_LOOKUP = env.bool("MASKING_PREPARED_LOOKUP", default=True)
    if MASKING_PREPARED_LOOKUP:
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ---------------------------------------------------------------------------------
# Shared by web and worker processes (e.g. one live-calls poll for every open board). Nothing
# that must keep working without Redis (the masking endpoint) depends on it, and pages that use
# it keep working when Redis is down: the backend then misses instead of raising.
CACHE_URL = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "contactcenter.core.cache.ResilientRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "cc",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 300,
        }
    }

# --- Auth ---------------------------------------------------------------------------------

SESSION_ENGINE = "contactcenter.core.sessions"  # Django's database sessions, read with less Python

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-ins while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Repeated failed sign-ins lock out the username from that address for a while.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind reverse proxies REMOTE_ADDR is the proxy's address: with TRUSTED_PROXY_COUNT = n > 0 the
# client's address is the n-th entry from the right of X-Forwarded-For (each proxy appends the
# address it saw; entries further left are whatever the client sent). 0: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "contactcenter.core.clientip.client_ip"
AXES_VERBOSE = False
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Internationalisation -----------------------------------------------------------------

LANGUAGE_CODE = "en-in"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries come from npm (package.json, installed by `make dev` / `make test`), never
# committed; only their distribution folders are exposed, under /static/vendor/<name>/.
NODE_MODULES = BASE_DIR / "node_modules"
VENDOR_STATIC = {
    "htmx": NODE_MODULES / "htmx.org" / "dist",
    "chart.js": NODE_MODULES / "chart.js" / "dist",
    "swagger-ui": NODE_MODULES / "swagger-ui-dist",
}
STATICFILES_DIRS += [(f"vendor/{name}", path) for name, path in VENDOR_STATIC.items() if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -----------------------------------------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_SSL_REDIRECT
CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_SSL_REDIRECT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Django REST framework and the OpenAPI schema -----------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated API request answers 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "contactcenter.core.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "contactcenter.core.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "contactcenter.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact center API",
    "DESCRIPTION": "Click-to-call, number masking, voice OTP and call records on Tata Smartflo.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "PATH_CONVERTER_OVERRIDES": {"id": int},  # <id:pk>: contactcenter/core/converters.py
    # Swagger UI from npm (swagger-ui-dist), served by our own static files: no CDN.
    "SWAGGER_UI_DIST": STATIC_URL + "vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": STATIC_URL + "vendor/swagger-ui/favicon-32x32.png",
    # The masking resolve endpoint is a plain Django view: documented by hand (masking/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "masking.schema.document_masking_resolve",
    ],
}

# --- Celery -------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if not CELERY_BROKER_URL:
    # No broker server configured: an embedded broker on the file system, so `make dev` needs
    # no Redis. Worker and web share the folders under var/.
    broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker_dir / "out"),
        "data_folder_out": str(broker_dir / "out"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),  # else kombu writes ./control/
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Installed into the database schedule when beat starts; edit intervals in the admin.
CELERY_BEAT_SCHEDULE = {
    "sync-agents-hourly": {"task": "agents.sync_agents", "schedule": 3600.0},
    "reconcile-calls": {"task": "calls.reconcile_calls", "schedule": 300.0},
}

# --- Smartflo -----------------------------------------------------------------------------

SANDBOX_PORT = env.int("SANDBOX_PORT", default=8900)
SANDBOX_TOKEN = "sandbox-token"
SMARTFLO_BASE_URL = env.str("SMARTFLO_BASE_URL", default=f"http://127.0.0.1:{SANDBOX_PORT}/v1" if DEBUG else "")
SMARTFLO_API_TOKEN = env.str("SMARTFLO_API_TOKEN", default=SANDBOX_TOKEN if DEBUG else "")
if not DEBUG and not (SMARTFLO_BASE_URL and SMARTFLO_API_TOKEN):
    # Production never falls back to the sandbox silently.
    raise ImproperlyConfigured(
        "SMARTFLO_BASE_URL and SMARTFLO_API_TOKEN must be set when DEBUG is off "
        "(for the local sandbox: http://127.0.0.1:8900/v1 and sandbox-token)."
    )
SMARTFLO_TIMEOUT = env.float("SMARTFLO_TIMEOUT", default=10.0)
SMARTFLO_MAX_RETRIES = env.int("SMARTFLO_MAX_RETRIES", default=3)  # reads and idempotent writes only
SMARTFLO_BACKOFF_SECONDS = env.float("SMARTFLO_BACKOFF_SECONDS", default=0.5)  # first retry's ceiling
SMARTFLO_WEBHOOK_TOKEN = env.str("SMARTFLO_WEBHOOK_TOKEN", default="")
MASKING_API_TOKEN = env.str("MASKING_API_TOKEN", default="")
# During a rotation the old value of each token Smartflo presents to us, still accepted (with a
# warning in the log) until every DID and webhook sends the new one. Empty outside rotations.
SMARTFLO_WEBHOOK_TOKEN_PREVIOUS = env.str("SMARTFLO_WEBHOOK_TOKEN_PREVIOUS", default="")
MASKING_API_TOKEN_PREVIOUS = env.str("MASKING_API_TOKEN_PREVIOUS", default="")
MASKING_FALLBACK_NUMBER = env.str("MASKING_FALLBACK_NUMBER", default="")
# Calls: a second click for an agent whose previous call is still being set up (within this
# window) is refused instead of dialling twice; the live board polls Smartflo at most once per
# LIVE_CALLS_CACHE_SECONDS however many boards are open.
CALL_SETUP_WINDOW_SECONDS = env.int("CALL_SETUP_WINDOW_SECONDS", default=90)
LIVE_CALLS_CACHE_SECONDS = env.float("LIVE_CALLS_CACHE_SECONDS", default=3.0)
# Requests someone waits on (a click, the live board) use this timeout and no retries.
SMARTFLO_INTERACTIVE_TIMEOUT = env.float("SMARTFLO_INTERACTIVE_TIMEOUT", default=5.0)
# Click-to-call only to these country codes (toll-fraud guard); Smartflo dials India.
CALL_ALLOWED_COUNTRY_CODES = env.list("CALL_ALLOWED_COUNTRY_CODES", default=["91"])
# Calls still not final this long after they were placed are settled from Smartflo's view.
CALL_RECONCILE_AFTER_SECONDS = env.int("CALL_RECONCILE_AFTER_SECONDS", default=900)
# Voice OTP's broadcast list and click-to-call-support key. The sandbox's values are defaults
# with DEBUG on only: with DEBUG off, both unset means OTP is off (sends answer 503
# `otp_not_configured`), and a half-set pair, or the sandbox's values against a Smartflo that is
# not on this machine, refuses to start instead of failing every code at Smartflo.
SANDBOX_OTP_LEAD_ID, SANDBOX_OTP_C2C_API_KEY = "sandbox-lead", "sandbox-c2c-key"
OTP_LEAD_ID = env.str("OTP_LEAD_ID", default=SANDBOX_OTP_LEAD_ID if DEBUG else "")
OTP_C2C_API_KEY = env.str("OTP_C2C_API_KEY", default=SANDBOX_OTP_C2C_API_KEY if DEBUG else "")
if not DEBUG:
    if bool(OTP_LEAD_ID) != bool(OTP_C2C_API_KEY):
        raise ImproperlyConfigured(
            "Set both OTP_LEAD_ID and OTP_C2C_API_KEY for voice OTP, or neither (OTP off); "
            f"{'OTP_C2C_API_KEY' if OTP_LEAD_ID else 'OTP_LEAD_ID'} is missing."
        )
    _smartflo_host = (urlsplit(SMARTFLO_BASE_URL).hostname or "").lower()
    if (OTP_LEAD_ID == SANDBOX_OTP_LEAD_ID or OTP_C2C_API_KEY == SANDBOX_OTP_C2C_API_KEY) and _smartflo_host not in (
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        raise ImproperlyConfigured(
            "OTP_LEAD_ID / OTP_C2C_API_KEY hold the sandbox's values while SMARTFLO_BASE_URL is a real "
            "Smartflo: set your broadcast list id and click-to-call-support key (or unset both: OTP off)."
        )
OTP_TTL_SECONDS = min(env.int("OTP_TTL_SECONDS", default=300), 600)
CDR_SYNC_INTERVAL_SECONDS = env.int("CDR_SYNC_INTERVAL_SECONDS", default=300)
CDR_SYNC_OVERLAP_SECONDS = env.int("CDR_SYNC_OVERLAP_SECONDS", default=900)

# --- Logging ------------------------------------------------------------------------------
# Every handler passes through the redaction filter: phone numbers are masked and tokens never
# reach a log line, whatever the logger.

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "contactcenter.core.logging.RedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own loggers keep handlers of their own unless told otherwise: route them through
        # the redacting handler too (runserver's request lines carry ?token= and numbers).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Voice OTP ----------------------------------------------------------------------------
# See docs/otp.md. Codes are stored only as HMAC-SHA256 digests keyed from OTP_HASH_KEY (empty:
# a key derived from SECRET_KEY). Changing the key invalidates codes in flight (they live at
# most 10 minutes). Throttling counts challenges in the database: no Redis needed.
OTP_HASH_KEY = env.str("OTP_HASH_KEY", default="")
# Old OTP_HASH_KEY values still accepted for codes in flight (as SECRET_KEY_FALLBACKS are while
# OTP_HASH_KEY is empty): a rotation then voids no code. Empty it after OTP_TTL_SECONDS.
OTP_HASH_KEY_FALLBACKS = env.list("OTP_HASH_KEY_FALLBACKS", default=[])
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)  # wrong codes before a challenge locks
OTP_SEND_WINDOW_SECONDS = env.int("OTP_SEND_WINDOW_SECONDS", default=900)
OTP_SEND_LIMIT_PER_PHONE = env.int("OTP_SEND_LIMIT_PER_PHONE", default=3)  # sends per window
OTP_SEND_LIMIT_PER_CLIENT = env.int("OTP_SEND_LIMIT_PER_CLIENT", default=100)  # sends per window
OTP_RESEND_COOLDOWN_SECONDS = env.int("OTP_RESEND_COOLDOWN_SECONDS", default=30)  # per phone
OTP_LEAD_MAX_TRIES = env.int("OTP_LEAD_MAX_TRIES", default=3)  # task runs of the lead step
OTP_LEAD_RETRY_SECONDS = env.float("OTP_LEAD_RETRY_SECONDS", default=5.0)  # first re-run delay
OTP_TASK_QUEUE = env.str("OTP_TASK_QUEUE", default="")  # empty: Celery's default queue
CELERY_BEAT_SCHEDULE["otp-expire-stale"] = {"task": "otp.expire_stale", "schedule": 300.0}

# --- Number masking -----------------------------------------------------------------------
# See docs/masking.md. MASKING_API_TOKEN and MASKING_FALLBACK_NUMBER are under Smartflo above.
# A released session number rests this long before it is lent again to either of its parties.
MASKING_COOLOFF_SECONDS = env.int("MASKING_COOLOFF_SECONDS", default=3600)
MASKING_SESSION_MAX_TTL_SECONDS = env.int("MASKING_SESSION_MAX_TTL_SECONDS", default=7 * 24 * 3600)
MASKING_RESOLUTION_LOG_DAYS = env.int("MASKING_RESOLUTION_LOG_DAYS", default=90)  # then purged daily
# Resolution log rows are written in batches this often by a background thread of each server
# process (0: each row before its request ends). See masking/logwriter.py for what this trades.
MASKING_LOG_FLUSH_SECONDS = env.float("MASKING_LOG_FLUSH_SECONDS", default=0.2)
# MASKING_PREPARED_LOOKUP is with the database settings above.
CELERY_BEAT_SCHEDULE["close-expired-masking-sessions"] = {"task": "masking.close_expired_sessions", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["purge-masking-resolution-logs"] = {"task": "masking.purge_resolution_logs", "schedule": 86400.0}

# --- Call records -------------------------------------------------------------------------
# See docs/call-records.md. CDR_SYNC_INTERVAL_SECONDS and CDR_SYNC_OVERLAP_SECONDS are under
# Smartflo above. A sync pulls [watermark - overlap, now] in windows of at most
# CDR_SYNC_WINDOW_SECONDS; the watermark moves only once a whole window is stored.
CDR_SYNC_PAGE_SIZE = min(env.int("CDR_SYNC_PAGE_SIZE", default=1000), 1000)  # rows per request
CDR_SYNC_WINDOW_SECONDS = env.int("CDR_SYNC_WINDOW_SECONDS", default=3600)
CDR_SYNC_INITIAL_LOOKBACK_SECONDS = env.int("CDR_SYNC_INITIAL_LOOKBACK_SECONDS", default=86400)  # no watermark yet
# The sync's lock is a lease renewed with every page: it must outlast one page's worst case
# (SMARTFLO_TIMEOUT x (SMARTFLO_MAX_RETRIES + 1) plus backoff). A dead run's lease just expires.
CDR_SYNC_LEASE_SECONDS = env.int("CDR_SYNC_LEASE_SECONDS", default=120)
CDR_DASHBOARD_PAGE_SIZE = env.int("CDR_DASHBOARD_PAGE_SIZE", default=50)
CDR_DASHBOARD_COUNT_CAP = env.int("CDR_DASHBOARD_COUNT_CAP", default=10000)  # "10,000+" past this
# Recording playback goes through an authenticated proxy that fetches only from these hosts
# ("host" or "host:port"; "*.example.com" for subdomains) and never follows a redirect elsewhere.
RECORDING_ALLOWED_HOSTS = env.list(
    "RECORDING_ALLOWED_HOSTS",
    default=[f"127.0.0.1:{SANDBOX_PORT}", f"localhost:{SANDBOX_PORT}", "cloudphone.tatateleservices.com"],
)
RECORDING_PROXY_TIMEOUT = env.float("RECORDING_PROXY_TIMEOUT", default=SMARTFLO_TIMEOUT)
CELERY_BEAT_SCHEDULE["sync-call-records"] = {
    "task": "calls.sync_call_records",
    "schedule": float(CDR_SYNC_INTERVAL_SECONDS),
    # a run still queued when the next one is due is dropped: the next one covers its window
    "options": {"expires": CDR_SYNC_INTERVAL_SECONDS},
}
# Daily, a backfill of this much of the recent past: calls longer than the overlap, and
# recording URLs Smartflo adds late, that the incremental runs cannot see (docs/call-records.md).
CDR_SYNC_SETTLE_SECONDS = env.int("CDR_SYNC_SETTLE_SECONDS", default=2 * 86400)
CELERY_BEAT_SCHEDULE["settle-call-records"] = {
    "task": "calls.settle_call_records",
    "schedule": crontab(hour=3, minute=15),  # in TIME_ZONE: a quiet hour for a contact center
}

# --- Personal data: retention and erasure -------------------------------------------------
# See docs/operations.md. Rows older than these many days are deleted by the daily
# `core.purge_expired_personal_data` task, in batches (0 keeps them for ever). The call-record
# sync also skips records older than CALL_RECORD_RETENTION_DAYS, so a backfill does not bring
# back what the purge removed. The same task deletes expired sign-in sessions (`clearsessions`).
CALL_RECORD_RETENTION_DAYS = env.int("CALL_RECORD_RETENTION_DAYS", default=365)
CALL_RETENTION_DAYS = env.int("CALL_RETENTION_DAYS", default=365)  # calls, their events, pop-up alerts
OTP_RETENTION_DAYS = env.int("OTP_RETENTION_DAYS", default=30)
IDEMPOTENCY_RETENTION_DAYS = env.int("IDEMPOTENCY_RETENTION_DAYS", default=2)  # retries come within minutes
SIGNIN_LOG_RETENTION_DAYS = env.int("SIGNIN_LOG_RETENTION_DAYS", default=90)  # django-axes access logs
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)  # rows per delete (short locks)
CELERY_BEAT_SCHEDULE["purge-expired-personal-data"] = {
    "task": "core.purge_expired_personal_data",
    "schedule": crontab(hour=4, minute=30),  # a quiet hour (TIME_ZONE), after the nightly settle sync
}
# `manage.py erase_personal_data` leaves a keyed hash of each erased number (never the number) so
# that the call-record sync does not import it again. The key: ERASURE_HASH_KEY, else derived
# from SECRET_KEY (then SECRET_KEY_FALLBACKS are tried too). Set it once, to a random value, so
# that a later SECRET_KEY rotation cannot orphan the list.
ERASURE_HASH_KEY = env.str("ERASURE_HASH_KEY", default="")
