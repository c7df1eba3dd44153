"""The reference: a bare Django project (one model, one view) on the same database type as Tessera.

Database: REFERENCE_DATABASE_URL (PostgreSQL) or, when empty, SQLite at
$TESSERA_DATA_DIR/reference.sqlite3 with the same options Tessera uses (WAL, IMMEDIATE, busy timeout),
so the comparison isolates what Tessera's own code costs per request.
Import path: put `bench/` on PYTHONPATH and use DJANGO_SETTINGS_MODULE=reference_app.settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

SECRET_KEY = "reference-app-benchmark-only"  # noqa: S105 - local benchmark, never deployed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["reference_app"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "reference_app.urls"
WSGI_APPLICATION = "reference_app.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_url = os.environ.get("REFERENCE_DATABASE_URL", "")
if _url:
    DATABASES = {"default": dict(dj_database_url.parse(_url, conn_max_age=60, conn_health_checks=True))}
else:
    _data = Path(os.environ.get("TESSERA_DATA_DIR", "/tmp/tessera-bench-sqlite"))  # noqa: S108
    _data.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _data / "reference.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000;"
                ),
            },
        }
    }
