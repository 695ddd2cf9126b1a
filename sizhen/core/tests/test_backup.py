"""manage.py backup and restore: a round trip on the database the suite runs on (SQLite, or
PostgreSQL through pg_dump/pg_restore), the analytical store and the media. Back up, change
all three, restore: the row counts, the rows, the store's checksum and the files are those of
the backup. A tampered archive, and a restore nobody confirmed, change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import tarfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from sizhen.core.backup import STORE_FILE, read_manifest, table_counts
from sizhen.core.models import CalendarDay, Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def installation(settings: Any, tmp_path: Path, personas: dict[str, Any]) -> dict[str, Path]:
    if connection.vendor == "postgresql" and not (
        shutil.which("pg_dump") and shutil.which("pg_restore")
    ):
        pytest.skip("pg_dump/pg_restore are not on PATH")
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    settings.MEDIA_ROOT = tmp_path / "media"
    for n in range(3):
        Job.objects.create(name="backup.test", label=f"任务{n}", created_by=personas["coordinator"])
    CalendarDay.objects.create(date=dt.date(2026, 10, 10), kind="workday", name="调休上班")
    store = settings.SIZHEN_ANALYTICS_DIR / STORE_FILE
    store.parent.mkdir(parents=True)
    with duckdb.connect(str(store)) as con:
        con.execute(
            "CREATE TABLE records_cases AS SELECT range AS id, range * 7 AS v FROM range(500)"
        )
    (settings.SIZHEN_ANALYTICS_DIR / "incoming").mkdir()
    (settings.SIZHEN_ANALYTICS_DIR / "incoming" / "batch-1.csv").write_text("id\n1\n")
    (settings.MEDIA_ROOT / "evidence").mkdir(parents=True)
    (settings.MEDIA_ROOT / "evidence" / "photo.jpg").write_bytes(b"\xff\xd8" + bytes(range(256)))
    return {
        "store": store,
        "media": settings.MEDIA_ROOT,
        "analytics": settings.SIZHEN_ANALYTICS_DIR,
    }


def store_checksum(store: Path) -> tuple[int, int]:
    with duckdb.connect(str(store)) as con:
        row = con.execute("SELECT count(*), sum(hash(id, v)) FROM records_cases").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def state(paths: dict[str, Path]) -> dict[str, Any]:
    user = apps.get_model("accounts", "User")
    return {
        "counts": table_counts(),
        "jobs": sorted(Job.objects.values_list("pk", "label")),
        "users": sorted(user.objects.values_list("pk", "username", "is_active")),
        "store": store_checksum(paths["store"]),
        "media": files(paths["media"]),
        "analytics": sorted(files(paths["analytics"])),
    }


def change_everything(paths: dict[str, Path]) -> None:
    user = apps.get_model("accounts", "User")
    Job.objects.filter(label="任务1").delete()
    Job.objects.create(name="backup.test", label="备份后新增")
    user.objects.filter(username="district_b").update(is_active=False)
    CalendarDay.objects.all().delete()
    with duckdb.connect(str(paths["store"])) as con:
        con.execute("DELETE FROM records_cases WHERE id < 100")
        con.execute("INSERT INTO records_cases VALUES (9999, 1)")
    (paths["media"] / "evidence" / "photo.jpg").write_bytes(b"overwritten")
    (paths["media"] / "new.pdf").write_bytes(b"%PDF-")
    (paths["analytics"] / "incoming" / "batch-1.csv").unlink()


def test_backup_change_restore_gives_back_the_backed_up_state(
    installation: dict[str, Path], tmp_path: Path
) -> None:
    before = state(installation)
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "backups"), stdout=out)
    archive = Path(out.getvalue().splitlines()[0])
    assert archive.parent == tmp_path / "backups" and archive.name.endswith(".tar.gz")
    manifest = read_manifest(archive)
    assert manifest["counts"] == before["counts"]
    assert manifest["counts"]["core_job"] == 3
    assert manifest["database"]["vendor"] == connection.vendor
    assert {
        "analytics/records.duckdb",
        "analytics/incoming/batch-1.csv",
        "media/evidence/photo.jpg",
    } <= set(manifest["files"])
    assert manifest["files"]["media/evidence/photo.jpg"] == before["media"]["evidence/photo.jpg"]

    change_everything(installation)
    changed = state(installation)
    for part in ("counts", "jobs", "users", "store", "media", "analytics"):
        assert changed[part] != before[part], part

    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert "行数与清单一致" in out.getvalue()
    assert state(installation) == before


def test_a_tampered_archive_or_an_unconfirmed_restore_changes_nothing(
    installation: dict[str, Path], tmp_path: Path, monkeypatch: Any
) -> None:
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "backups"), stdout=out)
    archive = Path(out.getvalue().splitlines()[0])
    change_everything(installation)
    changed = state(installation)

    # The same archive with one media file altered and the manifest kept.
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name == "media/evidence/photo.jpg":
                content = b"not the photo"
                member.size = len(content)
                data = io.BytesIO(content)
            target.addfile(member, data)
    with pytest.raises(CommandError, match=r"校验和不符：media/evidence/photo\.jpg"):
        call_command("restore", str(tampered), "--yes")
    assert state(installation) == changed

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="已取消"):
        call_command("restore", str(archive))
    assert state(installation) == changed
