"""Scheduled pulls (数据对接): incremental by watermark over HTTP JSON and SQLite, failures leave
the watermark where it was, the periodic job, and the pull source pages.

The HTTP source is a real ``http.server`` on 127.0.0.1 with an ephemeral port."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.urls import include, path
from django.utils import timezone

from sizhen.core.jobs import REGISTRY, SCHEDULES, claim_next, run_job
from sizhen.core.models import AuditEvent, Job
from sizhen.indicators import urls as indicators_urls
from sizhen.indicators.ingestion import loads, pulls
from sizhen.indicators.ingestion.models import Dataset, DatasetVersion, LoadBatch, PullSource

urlpatterns = [
    path("monitoring/filling/", include(indicators_urls.filling_urls)),
    path("", include("config.urls")),
]

FIELDS = [
    {"name": "case_id", "label": "办件编号", "type": "string", "required": True},
    {"name": "region_code", "label": "区划代码", "type": "string", "required": True},
    {"name": "fee", "label": "费用", "type": "decimal", "required": False},
    {"name": "updated_at", "label": "更新时间", "type": "datetime", "required": True},
]
FIRST = [
    {"case_id": "C1", "region_code": "449901", "fee": 10, "updated_at": "2025-10-01 08:00:00"},
    {"case_id": "C2", "region_code": "449902", "fee": 20, "updated_at": "2025-10-02 09:30:00"},
]
NEWER = {"case_id": "C3", "region_code": "449901", "fee": 5, "updated_at": "2025-10-03 08:00:00"}


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    settings.ROOT_URLCONF = __name__
    # The local test server must be reached directly, whatever proxy the machine has.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def dataset(city: dict[str, Any]) -> Dataset:
    ds = Dataset.objects.create(code="permit_cases", name="许可办件")
    DatasetVersion.objects.create(dataset=ds, version=1, key="case_id", fields=FIELDS)
    return ds


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        mode = self.server.mode
        if mode == "500":
            self._send(500, b'{"error": "boom"}')
            return
        if mode == "bad_json":
            self._send(200, b"<html>not json</html>")
            return
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        since = query.get("since", [""])[0]
        fresh = [r for r in self.server.records if r["updated_at"] > since]
        body = {"data": {"items": fresh}} if mode == "nested" else fresh
        self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.records: list[dict[str, Any]] = []
        self.seen: list[str] = []
        self.mode = "list"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Any:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _http_source(dataset: Dataset, city: dict[str, Any], url: str, **extra: Any) -> PullSource:
    fields = {
        "dataset": dataset,
        "department": city["market"],
        "name": "许可系统接口",
        "kind": "http_json",
        "url": url,
        "records_path": "",
        "watermark_field": "updated_at",
        **extra,
    }
    return PullSource.objects.create(**fields)


def _staged(batch: LoadBatch) -> list[dict[str, Any]]:
    return json.loads(Path(batch.staged_path).read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_http_pull_is_incremental_over_runs(dataset, city, server):
    server.records = list(FIRST)
    source = _http_source(dataset, city, f"{server.base}/cases")

    first = pulls.run_pull(source)

    source.refresh_from_db()
    assert first.status == "loaded"
    assert first.records == 2
    assert source.watermark_value == "2025-10-02 09:30:00"
    assert server.seen == ["/cases"]
    batch = LoadBatch.objects.get(pk=first.batch_id)
    assert (batch.channel, batch.department_id, batch.rows_total, batch.status) == (
        "pull",
        city["market"].pk,
        2,
        "queued",
    )
    assert sorted(r["case_id"] for r in _staged(batch)) == ["C1", "C2"]
    assert source.last_status == f"成功：拉取 2 条，批次 #{batch.pk}，水位 2025-10-02 09:30:00"

    server.records.append(NEWER)
    second = pulls.run_pull(source)

    source.refresh_from_db()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(server.seen[1]).query)
    assert query == {"since": ["2025-10-02 09:30:00"]}
    assert second.status == "loaded"
    assert second.records == 1
    assert [r["case_id"] for r in _staged(LoadBatch.objects.get(pk=second.batch_id))] == ["C3"]
    assert source.watermark_value == "2025-10-03 08:00:00"
    assert LoadBatch.objects.count() == 2

    third = pulls.run_pull(source)

    source.refresh_from_db()
    assert (third.status, source.last_status) == ("empty", "无新数据")
    assert source.watermark_value == "2025-10-03 08:00:00"
    assert LoadBatch.objects.count() == 2
    events = list(
        AuditEvent.objects.filter(action="pull_source.run", object_id=str(source.pk))
        .order_by("id")
        .values_list("before", "after")
    )
    assert [(b["watermark_value"], a["watermark_value"], a["status"]) for b, a in events] == [
        ("", "2025-10-02 09:30:00", "loaded"),
        ("2025-10-02 09:30:00", "2025-10-03 08:00:00", "loaded"),
        ("2025-10-03 08:00:00", "2025-10-03 08:00:00", "empty"),
    ]


@pytest.mark.django_db
def test_http_pull_reads_records_at_the_configured_path(dataset, city, server):
    server.records = list(FIRST)
    server.mode = "nested"
    source = _http_source(
        dataset, city, f"{server.base}/cases?token=abc&since=stale", records_path="data.items"
    )

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    assert outcome.status == "loaded"
    assert outcome.records == 2
    # The configured query string is kept; a "since" in it is replaced by the watermark.
    assert server.seen == ["/cases?token=abc"]
    assert source.watermark_value == "2025-10-02 09:30:00"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("500", "失败：接口返回 HTTP 500"),
        ("bad_json", "失败：接口返回的不是有效的 JSON（UTF-8）"),
        ("nested", "失败：接口返回的是 JSON 对象，请设置“JSON 记录路径”"),
    ],
)
@pytest.mark.django_db
def test_failing_endpoint_keeps_the_watermark(dataset, city, server, mode, message):
    server.records = [NEWER]
    server.mode = mode
    source = _http_source(
        dataset, city, f"{server.base}/cases", watermark_value="2025-10-02 09:30:00"
    )

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    assert outcome.status == "failed"
    assert source.last_status == message
    assert source.watermark_value == "2025-10-02 09:30:00"
    assert source.last_run_at is not None
    assert LoadBatch.objects.count() == 0
    event = AuditEvent.objects.get(action="pull_source.failed", object_id=str(source.pk))
    assert event.message == message
    assert event.after == {"status": "failed", "watermark_value": "2025-10-02 09:30:00"}


@pytest.mark.django_db
def test_connection_refused_keeps_the_watermark(dataset, city):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = _http_source(dataset, city, f"http://127.0.0.1:{port}/cases", watermark_value="7")

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    assert outcome.status == "failed"
    assert source.last_status.startswith("失败：无法连接接口：")
    assert source.watermark_value == "7"
    assert LoadBatch.objects.count() == 0


@pytest.mark.django_db
def test_rejected_batch_keeps_the_watermark(dataset, city, server):
    server.records = [{**NEWER, "region_code": "999999"}]
    source = _http_source(
        dataset, city, f"{server.base}/cases", watermark_value="2025-10-02 09:30:00"
    )

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    batch = LoadBatch.objects.get()
    assert outcome.status == "rejected"
    assert (batch.status, batch.channel, batch.error_count) == ("rejected", "pull", 1)
    assert source.watermark_value == "2025-10-02 09:30:00"
    assert source.last_status.startswith(f"校验未通过：批次 #{batch.pk}，")


@pytest.mark.django_db
def test_record_without_watermark_is_not_submitted(dataset, city, server):
    server.records = [NEWER]
    source = _http_source(dataset, city, f"{server.base}/cases", watermark_field="changed_at")

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    assert outcome.status == "failed"
    assert source.last_status == "失败：有 1 条记录缺少水位字段“changed_at”，本次未入库"
    assert source.watermark_value == ""
    assert LoadBatch.objects.count() == 0


# --- SQL ------------------------------------------------------------------------------------


def _sqlite_source(tmp_path: Path, dataset: Dataset, city: dict[str, Any], rows: int) -> PullSource:
    db = tmp_path / "source.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE cases (seq INTEGER, case_id TEXT, region_code TEXT, fee REAL, updated_at TEXT)"
        )
        con.executemany(
            "INSERT INTO cases VALUES (?, ?, ?, ?, ?)",
            [(n, f"S{n}", "449901", n * 1.5, f"2025-10-0{n} 10:00:00") for n in range(1, rows + 1)],
        )
    con.close()
    return PullSource.objects.create(
        dataset=dataset,
        department=city["market"],
        name="许可系统库",
        kind="sql",
        url=f"sqlite:///{db}",
        query="SELECT seq, case_id, region_code, fee, updated_at FROM cases "
        "WHERE seq > :watermark ORDER BY seq",
        watermark_field="seq",
        watermark_value="0",
    )


@pytest.mark.django_db
def test_sql_pull_from_sqlite_is_incremental_with_a_numeric_watermark(tmp_path, dataset, city):
    source = _sqlite_source(tmp_path, dataset, city, rows=9)

    first = pulls.run_pull(source)

    source.refresh_from_db()
    assert first.status == "loaded"
    assert first.records == 9
    assert source.watermark_value == "9"

    with sqlite3.connect(tmp_path / "source.db") as con:
        con.execute("INSERT INTO cases VALUES (10, 'S10', '449902', 3, '2025-10-10 10:00:00')")
    con.close()
    second = pulls.run_pull(source)

    source.refresh_from_db()
    staged = _staged(LoadBatch.objects.get(pk=second.batch_id))
    assert [r["case_id"] for r in staged] == ["S10"]
    # The pulled batches are ordinary loads: the worker commits them to the store.
    loaded = [loads.run_load(pk) for pk in (first.batch_id, second.batch_id)]
    assert [(b.status, b.imported) for b in loaded] == [("loaded", 9), ("loaded", 1)]
    # Numerically later: as text "9" would sort after "10".
    assert source.watermark_value == "10"


@pytest.mark.django_db
def test_sql_pull_failure_and_read_only_source(tmp_path, dataset, city):
    source = _sqlite_source(tmp_path, dataset, city, rows=2)
    PullSource.objects.filter(pk=source.pk).update(query="DELETE FROM cases WHERE seq > :watermark")

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    assert outcome.status == "failed"
    assert source.last_status == "失败：数据库查询失败：attempt to write a readonly database"
    assert source.watermark_value == "0"
    with sqlite3.connect(tmp_path / "source.db") as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone() == (2,)
    con.close()
    assert LoadBatch.objects.count() == 0


@pytest.mark.django_db
def test_sql_pull_missing_database_file(tmp_path, dataset, city):
    source = _sqlite_source(tmp_path, dataset, city, rows=1)
    PullSource.objects.filter(pk=source.pk).update(url=f"sqlite:///{tmp_path / 'absent.db'}")

    outcome = pulls.run_pull(source)

    source.refresh_from_db()
    assert outcome.status == "failed"
    assert source.last_status == "失败：无法连接数据库：unable to open database file"
    assert source.watermark_value == "0"


# --- scheduling -----------------------------------------------------------------------------


def test_pull_job_is_scheduled_every_five_minutes():
    assert SCHEDULES["indicators.pull_sources"].every == dt.timedelta(minutes=5)
    assert "indicators.pull_sources" in REGISTRY
    assert "indicators.run_pull" in REGISTRY


@pytest.mark.django_db
def test_due_sources_and_the_periodic_job(dataset, city, server):
    server.records = list(FIRST)
    now = timezone.now()
    never = _http_source(dataset, city, f"{server.base}/a", name="从未运行")
    late = _http_source(
        dataset,
        city,
        f"{server.base}/b",
        name="已到期",
        interval_minutes=60,
        last_run_at=now - dt.timedelta(minutes=61),
    )
    recent = _http_source(
        dataset,
        city,
        f"{server.base}/c",
        name="未到期",
        interval_minutes=60,
        last_run_at=now - dt.timedelta(minutes=10),
    )
    _http_source(dataset, city, f"{server.base}/d", name="已停用", is_active=False)

    assert [s.name for s in pulls.due_sources(now)] == ["从未运行", "已到期"]

    queued = Job.objects.create(name="indicators.pull_sources", kwargs={})
    claimed = claim_next("test-worker")
    assert claimed is not None and claimed.pk == queued.pk
    finished = run_job(claimed)

    assert finished.status == "succeeded"
    assert finished.result == {"sources": {str(never.pk): "loaded", str(late.pk): "loaded"}}
    assert sorted(server.seen) == ["/a", "/b"]
    recent.refresh_from_db()
    assert (recent.watermark_value, recent.last_status) == ("", "")


# --- services and pages ---------------------------------------------------------------------


def _form(dataset: Dataset, city: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "办件库",
        "dataset": dataset.pk,
        "department": city["market"].pk,
        "kind": "sql",
        "url": "postgresql://reader:s3cret@10.0.0.8:5432/cases",
        "query": "SELECT * FROM cases WHERE updated_at > :watermark",
        "records_path": "",
        "watermark_field": "updated_at",
        "watermark_value": "",
        "interval_minutes": 30,
        "is_active": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_pull_source_pages_for_the_coordinator(dataset, city, client_for):
    client = client_for("coordinator")

    created = client.post("/monitoring/filling/pulls/new/", _form(dataset, city))

    source = PullSource.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/monitoring/filling/pulls/{source.pk}/edit/"
    assert source.url == "postgresql://reader:s3cret@10.0.0.8:5432/cases"
    event = AuditEvent.objects.get(action="pull_source.create")
    assert event.after["url"] == "postgresql://reader:***@10.0.0.8:5432/cases"

    listing = client.get("/monitoring/filling/pulls/")
    assert listing.status_code == 200
    assert "postgresql://reader:***@10.0.0.8:5432/cases" in listing.content.decode()
    assert "s3cret" not in listing.content.decode()

    page = client.get(f"/monitoring/filling/pulls/{source.pk}/edit/")
    assert "s3cret" not in page.content.decode()
    # Saving the masked URL back keeps the stored password.
    saved = client.post(
        f"/monitoring/filling/pulls/{source.pk}/edit/",
        _form(
            dataset, city, url="postgresql://reader:***@10.0.0.8:5432/cases", interval_minutes=15
        ),
    )
    source.refresh_from_db()
    assert saved.status_code == 302
    assert (source.url, source.interval_minutes) == (
        "postgresql://reader:s3cret@10.0.0.8:5432/cases",
        15,
    )

    run = client.post(f"/monitoring/filling/pulls/{source.pk}/run/")
    assert run.status_code == 302
    job = Job.objects.get(name="indicators.run_pull")
    assert (job.key, job.kwargs) == (f"pull:{source.pk}", {"source_id": source.pk})


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"kind": "http_json", "url": "file:///etc/passwd"},
            "url",
            "接口地址应以 http:// 或 https:// 开头",
        ),
        (
            {"query": "UPDATE cases SET x = :watermark"},
            "query",
            "只能使用查询语句（SELECT 或 WITH 开头）",
        ),
        ({"query": "SELECT * FROM cases"}, "query", "SQL 查询中应包含 :watermark 参数"),
        ({"url": "mysql://h/db"}, "url", "数据库连接串应为 sqlite:////绝对路径/文件.db"),
        ({"interval_minutes": 1}, "interval_minutes", "间隔应为 5–10080 分钟之间的整数"),
    ],
)
@pytest.mark.django_db
def test_invalid_pull_source_is_refused(dataset, city, client_for, overrides, field, message):
    response = client_for("coordinator").post(
        "/monitoring/filling/pulls/new/", _form(dataset, city, **overrides)
    )

    assert response.status_code == 400
    assert any(e.startswith(message) for e in response.context["form"].errors[field])
    assert PullSource.objects.count() == 0
    assert not AuditEvent.objects.filter(action="pull_source.create").exists()


@pytest.mark.parametrize("persona", ["leader", "lead_department", "district_a", "enterprise"])
@pytest.mark.django_db
def test_pull_source_pages_refuse_other_roles(dataset, city, client_for, persona):
    source = _http_source(dataset, city, "http://127.0.0.1:9/cases")
    client = client_for(persona)

    responses = [
        client.get("/monitoring/filling/pulls/"),
        client.post("/monitoring/filling/pulls/new/", _form(dataset, city)),
        client.post(
            f"/monitoring/filling/pulls/{source.pk}/edit/", _form(dataset, city, name="改名")
        ),
        client.post(f"/monitoring/filling/pulls/{source.pk}/run/"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    source.refresh_from_db()
    assert source.name == "许可系统接口"
    assert PullSource.objects.count() == 1
    assert not Job.objects.filter(name="indicators.run_pull").exists()
    assert AuditEvent.objects.filter(action="access.denied").count() == 4


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(dataset, city, client_for):
    response = client_for(None).get("/monitoring/filling/pulls/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
