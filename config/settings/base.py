"""Settings shared by every environment. Values that vary are read from the environment."""

from __future__ import annotations

from pathlib import Path

from config.env import env_bool, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("SIZHEN_DATA_DIR", str(BASE_DIR / "data")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdef")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "sizhen.core",
    "sizhen.organisations",
    "sizhen.accounts",
    "sizhen.indicators",
    "sizhen.monitoring",
    "sizhen.reports",
    "sizhen.dispatch",
    "sizhen.work_tasks",
    "sizhen.rectification",
    "sizhen.enterprise_requests",
    "sizhen.surveys",
    "sizhen.thinktank",
    "sizhen.training",
    "sizhen.assets",
    "sizhen.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sizhen.core.middleware.RequestContextMiddleware",
    "sizhen.core.middleware.ContentSecurityPolicyMiddleware",
    "sizhen.core.middleware.ApiNulMiddleware",
    "sizhen.accounts.middleware.IdleTimeoutMiddleware",
    "sizhen.accounts.middleware.ForcePasswordChangeMiddleware",
]

# List filters (django-filter) offer "全部" as their blank choice, not "---------".
FILTERS_EMPTY_CHOICE_LABEL = "全部"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "sizhen.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", DATA_DIR / "sizhen.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "sizhen.accounts.passwords.ChineseUserAttributeSimilarityValidator",
    },
    {
        "NAME": "sizhen.accounts.passwords.ChineseMinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("SIZHEN_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "sizhen.accounts.passwords.ChineseCommonPasswordValidator"},
    {"NAME": "sizhen.accounts.passwords.ChineseNumericPasswordValidator"},
    {"NAME": "sizhen.accounts.passwords.ComplexityValidator"},
    {
        "NAME": "sizhen.accounts.passwords.HistoryValidator",
        "OPTIONS": {"remember": env_int("SIZHEN_PASSWORD_HISTORY", 5)},
    },
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

# Uploaded files are spooled to disk past 5 MB; imports read them as streams.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SIZHEN_MAX_REQUEST_BYTES", 64 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag; kept default
# A refused form gets the Chinese page in the site's layout, with the user's navigation.
CSRF_FAILURE_VIEW = "sizhen.core.errorpages.csrf_failure"

# --- Sizhen security policy (等保 2.0 spirit) ---------------------------------------------
SIZHEN_IDLE_TIMEOUT_SECONDS = env_int("SIZHEN_IDLE_TIMEOUT_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = env_int("SIZHEN_SESSION_MAX_AGE_SECONDS", 12 * 60 * 60)
SIZHEN_LOCKOUT_ATTEMPTS = env_int("SIZHEN_LOCKOUT_ATTEMPTS", 5)
SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS = env_int("SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS", 20)
SIZHEN_LOCKOUT_MINUTES = env_int("SIZHEN_LOCKOUT_MINUTES", 15)
# Proxies whose X-Forwarded-For is trusted for the client address in the audit log.
SIZHEN_TRUSTED_PROXIES = env_list("SIZHEN_TRUSTED_PROXIES", [])

# Scripts only from our own static files: no inline script, no event-handler attribute, no eval.
# Inline styles stay allowed: ECharts writes its tooltips as HTML with style attributes, and
# pages carry small <style> blocks (docs/operations.md, "Security headers").
SIZHEN_CONTENT_SECURITY_POLICY = env_str(
    "SIZHEN_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

# --- Working-day calendar ----------------------------------------------------------------
# "next_day": the clock starts on the working day after acceptance (the national rule for
# government-service time limits); "same_day": the acceptance day counts if it is a working day.
SIZHEN_CLOCK_START = env_str("SIZHEN_CLOCK_START", "next_day")

# Enterprise requests (企业诉求): the first-contact clock (首次联系) in clock hours from
# dispatch, unless the request's category sets its own; and the working days without progress
# after which a request escalates to its unit's head, the city's special team and listed
# supervision (升级督办; three increasing numbers). docs/enterprise-requests.md, "Escalation".
SIZHEN_REQUEST_FIRST_CONTACT_HOURS = env_int("SIZHEN_REQUEST_FIRST_CONTACT_HOURS", 12)
SIZHEN_REQUEST_ESCALATION_DAYS = env_list("SIZHEN_REQUEST_ESCALATION_DAYS", ["3", "7", "15"])

# Uploaded import files wait here between "校验" and "确认导入"; outside MEDIA_ROOT because they
# hold personal data.
SIZHEN_IMPORT_STAGING_DIR = Path(
    env_str("SIZHEN_IMPORT_STAGING_DIR", str(DATA_DIR / "import-staging"))
)
SIZHEN_MAX_UPLOAD_BYTES = env_int("SIZHEN_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)
#: Attachments and evidence files of requests, tasks and rectification (sizhen/core/uploads.py).
SIZHEN_ATTACHMENT_MAX_BYTES = env_int("SIZHEN_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)

# --- Analytical store (DuckDB embedded; written by the worker process only) ----------------
SIZHEN_ANALYTICS_DIR = Path(env_str("SIZHEN_ANALYTICS_DIR", str(DATA_DIR / "analytics")))
SIZHEN_DUCKDB_THREADS = env_int("SIZHEN_DUCKDB_THREADS", 2)
# DuckDB spills to disk past this; with the Python process it keeps a load under 4 GB.
SIZHEN_DUCKDB_MEMORY_LIMIT = env_str("SIZHEN_DUCKDB_MEMORY_LIMIT", "3GB")

# Working days a department has to fill in a periodic figure (定期填报) after the period ends.
SIZHEN_FILLING_WORKING_DAYS = env_int("SIZHEN_FILLING_WORKING_DAYS", 10)
# Days after a period ends before a records-based indicator's period counts as complete (its
# sources may still be sending the last days' records); headlines show complete periods only.
SIZHEN_PERIOD_GRACE_DAYS = env_int("SIZHEN_PERIOD_GRACE_DAYS", 5)

# The satisfaction index (企业满意度指数, docs/surveys.md): a region with fewer responding
# enterprises than this gets no value; the catalogue leaf the overall index is published to.
SIZHEN_SURVEY_MIN_SAMPLE = env_int("SIZHEN_SURVEY_MIN_SAMPLE", 30)
SIZHEN_SURVEY_INDEX_INDICATOR = env_str("SIZHEN_SURVEY_INDEX_INDICATOR", "BE18.07")

# Government-service cases the demo city gets by default (manage.py demo --records N).
SIZHEN_DEMO_RECORDS = env_int("SIZHEN_DEMO_RECORDS", 300_000)
# Alert scans check series one by one (STL) up to this many indicator × region series and
# switch to the vectorised bulk mode above it (docs/alerts-detection.md, "Bulk mode").
SIZHEN_ALERT_EXACT_SERIES = env_int("SIZHEN_ALERT_EXACT_SERIES", 2_000)

# --- Jobs and notifications --------------------------------------------------------------
SIZHEN_JOB_POLL_SECONDS = env_int("SIZHEN_JOB_POLL_SECONDS", 1)
# Reference rows (request categories, regions) looked up by code on the intake path are kept
# per process this long (sizhen/core/refcache.py); 0 turns the caches off.
SIZHEN_REFERENCE_CACHE_SECONDS = env_int("SIZHEN_REFERENCE_CACHE_SECONDS", 60)
SIZHEN_NOTIFICATION_CHANNELS = env_list(
    "SIZHEN_NOTIFICATION_CHANNELS", ["sizhen.core.notifications.EmailChannel"]
)
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "sizhen@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SIZHEN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "py4j": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50
