"""Typed helpers to read settings from environment variables.

Every setting that differs between machines is read here, never with a bare os.environ.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class ImproperlyConfiguredEnv(RuntimeError):
    pass


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfiguredEnv(f"environment variable {name} is required")
        return default
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredEnv(f"{name} must be a boolean, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_database(name: str, default_sqlite_path: Path) -> dict[str, Any]:
    """Parse DATABASE_URL (sqlite:///path or postgres://user:pass@host:port/db)."""
    raw = os.environ.get(name, "")
    if not raw:
        return sqlite_database(default_sqlite_path)
    parsed = urlparse(raw)
    if parsed.scheme == "sqlite":
        path = raw[len("sqlite:///") :]
        return sqlite_database(Path(path))
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "TEST": {"NAME": os.environ.get("DATABASE_TEST_NAME") or None},
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {},
        }
    raise ImproperlyConfiguredEnv(f"{name}: unsupported scheme {parsed.scheme!r}")


def sqlite_database(path: Path) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Keep each thread's connection between requests, as for PostgreSQL: a new SQLite
        # connection runs the PRAGMAs and reads the schema again (about 3 ms a request).
        "CONN_MAX_AGE": 60,
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two concurrent
            # writers serialise instead of failing with "database is locked" on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        },
        # A file (not :memory:) so that concurrency tests use real connections; one per process
        # so that parallel runs never share it.
        "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"sizhen-test-{os.getpid()}.sqlite3")},
    }
