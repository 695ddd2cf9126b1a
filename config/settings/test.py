"""Test settings: the same database engines as production, faster hashing."""

import os
import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
INSTALLED_APPS = [*INSTALLED_APPS, "tests.workflow_testapp"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The demo command's record step is exercised by its own test with a small N.
SIZHEN_DEMO_RECORDS = 0

# Each test process gets its own analytical store; tests that load records point it at tmp_path.
SIZHEN_ANALYTICS_DIR = Path(
    os.environ.get("SIZHEN_ANALYTICS_DIR")
    or Path(tempfile.gettempdir()) / f"sizhen-test-analytics-{os.getpid()}"
)
