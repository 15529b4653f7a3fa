"""The project's one settings module, with the environment a test run needs.

Only environment defaults and the static-files storage differ: DEBUG stays off, as in
production. Anything already set in the environment (DATABASE_URL, REDIS_URL...) wins.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SMARTFLO_BASE_URL", "http://127.0.0.1:8900/v1")  # tests point it at their sandbox
os.environ.setdefault("SMARTFLO_API_TOKEN", "sandbox-token")
os.environ.setdefault("SMARTFLO_WEBHOOK_TOKEN", "test-webhook-token")
os.environ.setdefault("MASKING_API_TOKEN", "test-masking-token")
# DEBUG is off, so OTP has no sandbox defaults: the tests run it against their sandbox.
os.environ.setdefault("OTP_LEAD_ID", "sandbox-lead")
os.environ.setdefault("OTP_C2C_API_KEY", "sandbox-c2c-key")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("LOG_LEVEL", "DEBUG")
# Resolution log rows written before the request ends, so tests can read them at once; the batch
# writer has tests of its own (tests/masking/test_logwriter.py).
os.environ.setdefault("MASKING_LOG_FLUSH_SECONDS", "0")

from contactcenter.settings import *  # noqa: F403

# No collectstatic before tests: serve static files from their sources.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation in tests

if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405 (no REDIS_URL: files)
    # One cache folder per run, never var/cache: runs side by side (and `make dev`) keep theirs.
    import atexit
    import shutil
    import tempfile

    CACHES["default"]["LOCATION"] = tempfile.mkdtemp(prefix="contactcenter-test-cache-")  # noqa: F405
    atexit.register(shutil.rmtree, CACHES["default"]["LOCATION"], ignore_errors=True)  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the live server's and worker threads then get connections of their own.
    # One file per run, so runs side by side never share it; pytest-django deletes it at the end.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
