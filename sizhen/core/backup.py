"""Backup and restore of one installation (`manage.py backup`, `manage.py restore`).

One archive holds everything that cannot be recreated from the release: the application
database (SQLite through its online backup API, PostgreSQL through `pg_dump` in the snapshot
that the row counts were taken in), the analytical store (DuckDB, checkpointed and copied while
this process holds its file lock, so no worker writes it meanwhile), the uploaded files (media)
and the files waiting to be loaded. `manifest.json` lists the row count of every table and the
SHA-256 of every file; restore refuses an archive whose files do not match it and checks the
counts after loading. docs/operations.md, "Backup and restore", says how to run them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
STORE_FILE = "records.duckdb"
#: How long backup and restore wait for a running job to release the analytical store.
STORE_WAIT_SECONDS = 300.0


class BackupError(RuntimeError):
    pass


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def managed_tables() -> list[str]:
    """The table of every model that owns one."""
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
    )


def table_counts() -> dict[str, int]:
    """Rows per table, in the current transaction."""
    counts = {}
    with connection.cursor() as cursor:
        for table in managed_tables():
            # Table names come from the models, quoted.
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


@contextmanager
def locked_store(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the analytical store: DuckDB's file lock keeps every job out while it
    is open (a job waits for it, as for any other job)."""
    deadline = time.monotonic() + STORE_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise BackupError(f"分析库被占用，无法备份或恢复：{exc}") from exc
            time.sleep(0.5)
    try:
        yield con
    finally:
        con.close()


def _postgres_environment() -> tuple[list[str], dict[str, str]]:
    database = connection.settings_dict
    arguments = ["--dbname", database["NAME"]]
    if database.get("HOST"):
        arguments += ["--host", str(database["HOST"])]
    if database.get("PORT"):
        arguments += ["--port", str(database["PORT"])]
    if database.get("USER"):
        arguments += ["--username", str(database["USER"])]
    environment = dict(os.environ)
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    return arguments, environment


def _run(command: list[str], environment: dict[str, str] | None = None) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"找不到 {command[0]}：请安装 PostgreSQL 客户端（postgresql-client-15）")
    # The PostgreSQL client found on PATH, with arguments from the settings: no shell.
    result = subprocess.run(  # noqa: S603
        [tool, *command[1:]], env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失败：{result.stderr.strip()}")


def _dump_database(target: Path) -> tuple[str, dict[str, int]]:
    """Writes the database into `target` and returns the file name and the row counts of the
    same moment."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(target / SQLITE_FILE)
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
        # Counted in the copy: the live database may have moved on since.
        with sqlite3.connect(target / SQLITE_FILE) as snapshot:
            counts = {
                table: snapshot.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in managed_tables()
            }
        return SQLITE_FILE, counts
    if connection.vendor == "postgresql":
        arguments, environment = _postgres_environment()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot_id = cursor.fetchone()[0]
            counts = table_counts()
            # pg_dump reads in the snapshot the counts were taken in, while it is held open.
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot_id}",
                    f"--file={target / POSTGRES_FILE}",
                    *arguments,
                ],
                environment,
            )
        return POSTGRES_FILE, counts
    raise BackupError(f"不支持的数据库：{connection.vendor}")


def _copy_tree(source: Path, target: Path, *, skip: set[str] | None = None) -> None:
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if skip and relative.parts[0] in skip:
            continue
        if path.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)


def create_backup(output: Path) -> Path:
    """Writes one archive into the folder `output` and returns its path."""
    output.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = output / f"sizhen-backup-{stamp}.tar.gz"
    analytics = Path(settings.SIZHEN_ANALYTICS_DIR)
    store = analytics / STORE_FILE
    with tempfile.TemporaryDirectory(prefix="sizhen-backup-") as work:
        root = Path(work)
        database_file, counts = _dump_database(root)
        (root / "analytics").mkdir()
        if store.exists():
            with locked_store(store) as con:
                con.execute("CHECKPOINT")
                shutil.copy2(store, root / "analytics" / STORE_FILE)
        _copy_tree(analytics, root / "analytics", skip={STORE_FILE, f"{STORE_FILE}.wal"})
        _copy_tree(Path(settings.MEDIA_ROOT), root / "media")
        files = {
            str(path.relative_to(root)): sha256(path)
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": {"vendor": connection.vendor, "file": database_file},
            "counts": counts,
            "files": files,
        }
        (root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for name in sorted(os.listdir(root)):
                tar.add(root / name, arcname=name)
        partial.replace(archive)
    return archive


def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError("备份文件中没有 manifest.json")
        manifest: dict[str, Any] = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不认识的备份格式：{manifest.get('format')}")
    return manifest


def _unpack_verified(archive: Path, root: Path) -> dict[str, Any]:
    manifest = read_manifest(archive)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(root, filter="data")
    present = {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    if present != set(manifest["files"]):
        raise BackupError("备份文件内容与清单不符（文件缺失或多出）")
    for name, expected in manifest["files"].items():
        if sha256(root / name) != expected:
            raise BackupError(f"校验和不符：{name}")
    if manifest["database"]["vendor"] != connection.vendor:
        raise BackupError(
            f"备份来自 {manifest['database']['vendor']} 数据库，当前为 {connection.vendor}"
        )
    return manifest


def _load_database(manifest: dict[str, Any], root: Path) -> None:
    source = root / manifest["database"]["file"]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(source) as saved:
            saved.backup(connection.connection)
        return
    arguments, environment = _postgres_environment()
    connections.close_all()
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *arguments,
            str(source),
        ],
        environment,
    )


def _replace_tree(source: Path, target: Path, *, keep: set[str] | None = None) -> None:
    """Makes `target` hold exactly the files of `source` (entries named in `keep` stay)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in target.iterdir():
        if keep and entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if source.is_dir():
        for entry in source.iterdir():
            shutil.move(str(entry), target / entry.name)


def restore_backup(archive: Path) -> dict[str, Any]:
    """Replaces the database, the analytical store and the media with the archive's, after
    checking every file against the manifest, and checks the row counts after loading."""
    analytics = Path(settings.SIZHEN_ANALYTICS_DIR)
    with tempfile.TemporaryDirectory(prefix="sizhen-restore-") as work:
        root = Path(work)
        manifest = _unpack_verified(archive, root)
        _load_database(manifest, root)
        saved_store = root / "analytics" / STORE_FILE
        analytics.mkdir(parents=True, exist_ok=True)
        store = analytics / STORE_FILE
        with locked_store(store):
            # Swapped in by rename while the lock is held: a job that waits for the store
            # opens the restored file.
            (analytics / f"{STORE_FILE}.wal").unlink(missing_ok=True)
            if saved_store.exists():
                staged = analytics / f"{STORE_FILE}.restoring"
                shutil.copy2(saved_store, staged)
                staged.replace(store)
                saved_store.unlink()
            else:
                store.unlink()
            _replace_tree(root / "analytics", analytics, keep={STORE_FILE})
        _replace_tree(root / "media", Path(settings.MEDIA_ROOT))
    counts = table_counts()
    if counts != manifest["counts"]:
        differing = sorted(
            table
            for table in counts.keys() | manifest["counts"].keys()
            if counts.get(table) != manifest["counts"].get(table)
        )
        raise BackupError(f"恢复后的行数与备份清单不符：{', '.join(differing)}")
    return manifest
