"""Bench for issue 6: request intake under load, none lost, none duplicated.

    .venv/bin/python bench/requests_intake.py [--db sqlite|postgres|both] [--seconds 60]
        [--loader wrk|python] [--clients 12] [--workers 2] [--threads 4] [--seed-open 20000]
        [--scenarios floor,api-sync,open311-sync,api,open311,api-inline] [--markdown]

Each database gets a fresh bench database (a temp SQLite file in WAL mode, or a PostgreSQL 15
database ``sizhen_bench_intake`` owned by a ``sizhen_bench`` role that the bench creates as
the postgres superuser, like .ci/run), migrated, seeded with the demo city's regions, one
department, its ``requests:write`` token and ``--seed-open`` open requests (so that duplicate
detection works against a realistic ledger, not an empty one). The app runs under gunicorn
with the production settings on 127.0.0.1, with one ``run_worker`` at nice 10 beside it (it
runs the job that flags duplicates of API-token requests); one scenario at a time:

- ``floor``: a raw Django view (same middleware) doing one plain INSERT of the key and body
  into a bench table (``ON CONFLICT DO NOTHING``): what the stack costs without the service;
- ``api``: POST /api/v1/requests (JSON, Bearer token, Idempotency-Key header);
- ``open311``: POST /open311/v2/requests.json (form-encoded, api_key, Idempotency-Key);
- ``api-inline``: the API with the duplicate comparison inside the intake (the straightforward
  alternative, as intake did before issue 6) instead of the flag_duplicates job;
- ``*-orm`` (``api-orm-sync``, ``open311-orm-sync``): the ORM path of the intake instead of
  PostgreSQL's one composed statement, categories and regions read on every request (the
  straightforward alternative of docs/decisions/0008-single-statement-intake.md);
- ``*-sync`` (``api-sync``, ``open311-sync``): the same under the server of docs/operations.md
  (``--sync-workers`` sync workers: one request per process at a time, a new TCP connection per
  request); without the suffix gthread (``--workers`` processes × ``--threads``, keep-alive).

Load: ``--loader wrk`` (default) runs wrk with bench/requests_intake.lua (keep-alive
connections, ``--clients`` of them); ``--loader python`` a threaded ``http.client`` loader.
Both send 10 % retries: a key sent a moment before, reused (with wrk by another connection of
the same thread, so it may race its original). Checks after each scenario: the Python loader
records the number each key was answered with and compares per key (``lost`` = answered 2xx but
not stored; ``duplicated`` = more rows than keys, or one key answered with two numbers); wrk
cannot tell which key an answer belongs to, so it compares counts: every key sent must be
stored exactly once (``lost`` = keys sent − keys stored, ``duplicated`` = rows − keys stored).
The server's CPU (gunicorn master and workers, from /proc) per request and the loader's CPU
are reported beside the rate: on 2 shared cores they say more than the rate alone. For the
API scenarios the bench then waits (``--catch-up-limit``) for the job to compare every new
request and reports how many were pending when the load stopped and when it caught up.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_DB = "sizhen_bench_intake"
PG_URL = f"postgres://sizhen_bench:sizhen_bench@127.0.0.1:5432/{PG_DB}"
DISTRICTS = ["449901", "449902", "449903"]
TEXTS = [
    "企业开办时刻章环节需要跑多次，请协调解决",
    "申请的稳岗补贴至今未到账，请尽快核实发放",
    "园区道路破损严重，货车进出困难，请求修缮",
    "项目环评审批时间过长，影响开工进度",
    "增值税留抵退税材料反复退回，要求说明原因",
    "用电报装等待超过一个月，请求加快",
    "招投标设置不合理门槛，排斥本地中小企业",
    "政府采购货款拖欠半年，请协调支付",
    "消防验收标准前后不一，请求明确",
    "人才公寓申请流程不清楚，咨询办理条件",
]
FLOOR_TABLE = "bench_intake_floor"


# --- the app under test (imported by gunicorn as bench.requests_intake:application) -------------


def _floor_view(request: Any) -> Any:
    """The floor: one plain INSERT of the key and body, no service, no audit."""
    from django.db import connection
    from django.http import JsonResponse

    key = request.headers.get("Idempotency-Key", "")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} (idempotency_key, body) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            [key, request.body.decode()],
        )
        created = cursor.rowcount == 1
    return JsonResponse({"key": key, "number": key}, status=201 if created else 200)


def _urlpatterns() -> list[Any]:
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    return [
        path("bench/floor", csrf_exempt(_floor_view)),
        path("", include("config.urls")),
    ]


if os.environ.get("SIZHEN_BENCH_APP") == "1":
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    if os.environ.get("SIZHEN_BENCH_DEDUP") == "inline":
        from sizhen.enterprise_requests.services import intake

        # The straightforward alternative: compare with the open ledger inside the intake.
        intake.DEFER_TOKEN_DUPLICATE_CHECK = False
    if os.environ.get("SIZHEN_BENCH_ORM") == "1":
        from sizhen.enterprise_requests.services import intake

        # The straightforward alternative on PostgreSQL: the ORM path (probe, INSERT, UPDATE
        # of the number, audit INSERT, job probe) and categories and regions read every time.
        intake.ONE_STATEMENT_INTAKE = False
        settings.SIZHEN_REFERENCE_CACHE_SECONDS = 0
    # The bench's own URLconf: config.urls plus the floor view (bench processes only).
    settings.ROOT_URLCONF = __name__


def __getattr__(name: str) -> Any:
    # The URLconf's patterns, built on first use (after Django is set up), so that the bench
    # module works as the URLconf in-process as well as under gunicorn.
    if name == "urlpatterns":
        patterns = _urlpatterns()
        globals()["urlpatterns"] = patterns
        return patterns
    raise AttributeError(name)


# --- setup --------------------------------------------------------------------------------------


def bench_env(workdir: Path, database_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "SIZHEN_DATA_DIR": str(workdir),
        "SIZHEN_ANALYTICS_DIR": str(workdir / "analytics"),
        "SIZHEN_LOG_LEVEL": "WARNING",
    }


def ensure_pg_role() -> None:
    """The bench's role (``sizhen_bench``, CREATEDB), made as the postgres superuser the way
    .ci/run makes the CI role: the bench runs as root on a machine with PostgreSQL 15 up."""
    sql = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sizhen_bench') THEN "
        "CREATE ROLE sizhen_bench LOGIN CREATEDB PASSWORD 'sizhen_bench'; END IF; END $$;"
    )
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        cwd="/",
    )


def create_pg_database(url: str = PG_URL) -> None:
    """A fresh, empty database at ``url`` (dropped first), made by the URL's role (the bench's
    own role is created first when it is the default URL)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.username == "sizhen_bench":
        ensure_pg_role()
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(seed_open: int) -> dict[str, str]:
    """Migrate, seed the city, a token and the open ledger; returns the token secret."""
    import datetime as dt

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.utils import timezone

    from sizhen.accounts.services import create_api_token
    from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import DepartmentType, RegionLevel

    root = org.create_region(actor=None, code="449900", name="示范市", level=RegionLevel.CITY)
    regions = [
        org.create_region(
            actor=None, code=code, name=f"第{i + 1}区", level=RegionLevel.DISTRICT, parent=root
        )
        for i, code in enumerate(DISTRICTS)
    ]
    office = org.create_department(
        actor=None, code="SZ-12345", name="12345热线", type=DepartmentType.OFFICE, region=root
    )
    _row, secret = create_api_token(
        actor=None, name="12345 热线推送", department=office, scopes=["requests:write"]
    )
    leaves = list(RequestCategory.objects.filter(parent__isnull=False, active=True))
    rng = random.Random(6)
    now = timezone.now()
    rows = [
        EnterpriseRequest(
            number=f"SQ2025-9{i:06d}",
            channel="hotline_12345",
            kind="help",
            category=rng.choice(leaves),
            title=f"存量诉求 {i}",
            text=f"{rng.choice(TEXTS)}（存量 {i}，第 {rng.randint(1, 999)} 号）",
            region=rng.choice(regions),
            submitted_at=now - dt.timedelta(minutes=i),
            source_key="seed",
            duplicate_similarity=0.0,  # compared already: the job starts with the bench's rows
        )
        for i in range(seed_open)
    ]
    EnterpriseRequest.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {FLOOR_TABLE} (id {'SERIAL' if connection.vendor == 'postgresql' else 'INTEGER'}"
            " PRIMARY KEY, idempotency_key VARCHAR(100) UNIQUE NOT NULL, body TEXT NOT NULL)"
        )
    return {"token": secret, "categories": ",".join(c.code for c in leaves)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    env: dict[str, str],
    worker_class: str,
    workers: int,
    threads: int,
    dedup: str = "",
    orm: bool = False,
) -> Any:
    port = free_port()
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "bench.requests_intake:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads), "--keep-alive", "30"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={
            **os.environ,
            **env,
            "SIZHEN_BENCH_APP": "1",
            "SIZHEN_BENCH_DEDUP": dedup,
            "SIZHEN_BENCH_ORM": "1" if orm else "",
        },
    )
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/open311/v2/discovery.json")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def warm_up(scenario: str, port: int, token: str, categories: list[str], count: int) -> None:
    """A few requests before the measured minute, over as many connections as the server has
    workers, so that no worker's first request (imports, its database connection, the first
    use of each statement) falls inside the measurement. Their keys have their own prefix."""
    load = Load(scenario, port, token, categories, f"warm{int(time.time())}")

    def client(index: int) -> None:
        for n in range(count):
            method, path, body, headers = load._request(f"warm-{scenario}-{index}-{n}")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request(method, path, body=body, headers=headers)
            connection.getresponse().read()
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def stop(process: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def postgres_cpu() -> float | None:
    """CPU seconds used so far by the local PostgreSQL 15 cluster: the postmaster, its live
    backends and the children it has reaped (the backends of closed connections)."""
    try:
        pid = int(Path("/var/lib/postgresql/15/main/postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return process_tree_cpu(pid) + reaped


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children (the
    gunicorn master and its workers): the server's cost, whatever else loads the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def start_worker(env: dict[str, str]) -> Any:
    """One ``run_worker`` at nice 10: the job that flags duplicates runs beside the intake and
    takes the CPU the web workers leave (the production unit can set Nice=10 likewise)."""
    return subprocess.Popen(
        ["nice", "-n", "10", sys.executable, "manage.py", "run_worker"],
        cwd=ROOT,
        env={**os.environ, **env, "SIZHEN_JOB_POLL_SECONDS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["SIZHEN_DATA_DIR"]) / "worker.log", "ab"),
    )


def pending_duplicate_checks(prefix: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM enterprise_requests_enterpriserequest "
            "WHERE idempotency_key LIKE %s AND duplicate_similarity IS NULL",
            [prefix + "%"],
        )
        return int(cursor.fetchone()[0])


def wait_caught_up(prefix: str, limit: float) -> tuple[int, float | None, int]:
    """Pending duplicate checks when the load stops, the seconds the job took to compare the
    rest (None: not within ``limit``) and how many of the scenario's rows it flagged."""
    from django.db import connection

    at_end = pending_duplicate_checks(prefix)
    started = time.perf_counter()
    caught_up: float | None = None
    while time.perf_counter() - started < limit:
        if pending_duplicate_checks(prefix) == 0:
            caught_up = round(time.perf_counter() - started, 1)
            break
        connection.close()
        time.sleep(1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM enterprise_requests_enterpriserequest "
            "WHERE idempotency_key LIKE %s AND suspected_duplicate_of_id IS NOT NULL",
            [prefix + "%"],
        )
        flagged = int(cursor.fetchone()[0])
    return at_end, caught_up, flagged


# --- the load generators --------------------------------------------------------------------------


def run_wrk(
    scenario: str,
    port: int,
    token: str,
    categories: list[str],
    prefix: str,
    clients: int,
    seconds: float,
    threads: int,
) -> dict[str, Any]:
    """wrk with bench/requests_intake.lua: the same requests, keys and share of retries as the
    Python loader, from C (one event loop per thread) instead of Python threads."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: bash scripts/setup.sh --bench")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [
        wrk,
        f"-t{threads}",
        f"-c{clients}",
        f"-d{int(seconds)}s",
        "--timeout",
        "30s",
        "-s",
        str(ROOT / "bench/requests_intake.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        scenario,
        prefix.rstrip("-"),
        token,
        ",".join(categories),
        ",".join(DISTRICTS),
        "0.1",
    ]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed: {completed.stderr or completed.stdout}")
    output = completed.stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in output.splitlines() if x.startswith("WRK "))
    data = json.loads(line[4:])
    elapsed = data["duration_us"] / 1e6
    return {
        "elapsed_s": round(elapsed, 1),
        "deliveries": data["deliveries"],
        "rate": round(data["deliveries"] / elapsed, 1),
        "statuses": {
            k: v
            for k, v in {200: data["s200"], 201: data["s201"], "other": data["other"]}.items()
            if v
        },
        "failures": data["socket_errors"],
        "keys_sent": data["keys_sent"],
        "retries_sent": data["retries_sent"],
        "p50_ms": data["p50_ms"],
        "p95_ms": data["p95_ms"],
        "p99_ms": data["p99_ms"],
        "loader_cpu_s": round(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2
        ),
    }


def verify_counts(scenario: str, prefix: str, figures: dict[str, Any]) -> dict[str, Any]:
    """wrk cannot tell which key an answer belongs to: compare counts instead. Each 201 says
    "created": there must be as many stored keys as 201 answers (``lost`` = 201 answers without
    a row), no key stored twice (``duplicated``), and a stored key without a 201 can only be
    a request that wrk cut at the deadline before its answer came (``stored_not_answered``,
    at most one per connection)."""
    from django.db import connection

    table = FLOOR_TABLE if scenario.startswith("floor") else "enterprise_requests_enterpriserequest"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM {table} "
            "WHERE idempotency_key LIKE %s",
            [prefix + "%"],
        )
        rows, keys = cursor.fetchone()
    created = figures["statuses"].get(201, 0)
    return {
        "rows": rows,
        "unique_keys_answered": created,
        "lost": max(0, created - keys),
        "duplicated": rows - keys,
        "stored_not_answered": max(0, keys - created),
    }


class Load:
    """Closed-loop clients on keep-alive connections; records every answer per key."""

    def __init__(self, scenario: str, port: int, token: str, categories: list[str], run: str):
        self.scenario = scenario
        self.port = port
        self.token = token
        self.categories = categories
        self.prefix = f"{run}-{scenario}-"
        self.lock = threading.Lock()
        self.answers: dict[str, set[str]] = collections.defaultdict(set)
        self.statuses: collections.Counter[int] = collections.Counter()
        self.failures = 0
        self.deliveries = 0
        self.latencies: list[float] = []
        self.retry_pool: collections.deque[str] = collections.deque()
        self.sent_keys: set[str] = set()

    def _request(self, key: str) -> tuple[str, str, bytes, dict[str, str]]:
        rng = random.Random(key)
        text = f"{rng.choice(TEXTS)}（来电 {key}）"
        category, district = rng.choice(self.categories), rng.choice(DISTRICTS)
        headers = {"Idempotency-Key": key}
        if self.scenario.startswith("open311"):
            form = {
                "api_key": self.token,
                "service_code": category,
                "description": text,
                "attribute[region]": district,
                "phone": "13800001111",
            }
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            return "POST", "/open311/v2/requests.json", body, headers
        payload = {"text": text, "category": category, "region_code": district}
        headers["Content-Type"] = "application/json"
        headers["Authorization"] = f"Bearer {self.token}"
        path = "/bench/floor" if self.scenario.startswith("floor") else "/api/v1/requests"
        return "POST", path, json.dumps(payload, ensure_ascii=False).encode(), headers

    def _number(self, body: bytes) -> str:
        data = json.loads(body)
        if self.scenario.startswith("open311"):
            return str(data[0]["service_request_id"])
        return str(data["number"])

    def _deliver(self, connection: http.client.HTTPConnection, key: str) -> None:
        method, path, body, headers = self._request(key)
        for _attempt in range(5):
            started = time.perf_counter()
            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                with self.lock:
                    self.failures += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with self.lock:
                self.deliveries += 1
                self.statuses[status] += 1
                self.latencies.append(elapsed)
                if status in (200, 201):
                    self.answers[key].add(self._number(data))
            if status in (200, 201, 400, 403, 404):
                return

    def client(self, index: int, deadline: float) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        rng = random.Random(index)
        counter = 0
        while time.perf_counter() < deadline:
            retry = None
            if rng.random() < 0.1:
                with self.lock:
                    retry = self.retry_pool.popleft() if self.retry_pool else None
            if retry is not None:
                self._deliver(connection, retry)
                continue
            key = f"{self.prefix}{index}-{counter}"
            counter += 1
            with self.lock:
                self.sent_keys.add(key)
                if rng.random() < 0.1:
                    # Queued before the first delivery is answered: the retry may race it.
                    self.retry_pool.append(key)
            self._deliver(connection, key)
        connection.close()

    def run(self, clients: int, seconds: float) -> dict[str, Any]:
        deadline = time.perf_counter() + seconds
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        threads = [threading.Thread(target=self.client, args=(i, deadline)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        loader_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        ordered = sorted(self.latencies)
        return {
            "elapsed_s": round(elapsed, 1),
            "deliveries": self.deliveries,
            "rate": round(self.deliveries / elapsed, 1),
            "statuses": dict(sorted(self.statuses.items())),
            "failures": self.failures,
            "keys_sent": len(self.sent_keys),
            "keys_answered": len(self.answers),
            "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
            "p95_ms": round(ordered[int(len(ordered) * 0.95)], 1) if ordered else None,
            "p99_ms": round(ordered[int(len(ordered) * 0.99)], 1) if ordered else None,
            "loader_cpu_s": round(loader_cpu, 2),
        }

    def verify(self) -> dict[str, Any]:
        """Compare the rows in the database with the keys answered 2xx."""
        from django.db import connection

        if self.scenario.startswith("floor"):
            sql = f"SELECT idempotency_key, idempotency_key FROM {FLOOR_TABLE} WHERE idempotency_key LIKE %s"
        else:
            sql = (
                "SELECT idempotency_key, number FROM enterprise_requests_enterpriserequest "
                "WHERE idempotency_key LIKE %s"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.prefix + "%"])
            rows = cursor.fetchall()
        stored: dict[str, list[str]] = collections.defaultdict(list)
        for key, number in rows:
            stored[key].append(number)
        lost = [k for k in self.answers if k not in stored]
        two_numbers = [k for k, numbers in self.answers.items() if len(numbers) > 1]
        mismatched = [
            k for k, numbers in self.answers.items() if k in stored and numbers != set(stored[k])
        ]
        extra_rows = len(rows) - len(stored)
        return {
            "rows": len(rows),
            "unique_keys_answered": len(self.answers),
            "lost": len(lost),
            "duplicated": extra_rows + len(two_numbers) + len(mismatched),
            "stored_not_answered": len([k for k in stored if k not in self.answers]),
        }


# --- in-process cost per request ---------------------------------------------------------------


def in_process(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Server time per POST through the Django test client (one thread, no HTTP): the CPU a
    request costs, which bounds the throughput of 2 shared cores whatever the server does."""
    workdir = Path(tempfile.mkdtemp(prefix="sizhen-bench-intake-"))
    if kind == "postgres":
        create_pg_database()
        url = PG_URL
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(bench_env(workdir, url))
    seeded = prepare(args.seed_open)
    from django.test import Client
    from django.urls import clear_url_caches

    from sizhen.enterprise_requests.services import intake

    os.environ["SIZHEN_BENCH_APP"] = "1"
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.requests_intake"
    clear_url_caches()
    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    counter = 0
    for scenario in args.scenarios.split(","):
        if scenario.endswith("-sync"):
            continue
        intake.DEFER_TOKEN_DUPLICATE_CHECK = not scenario.endswith("-inline")
        load = Load(scenario, 0, seeded["token"], seeded["categories"].split(","), "inproc")
        timings = []
        for _ in range(args.inprocess):
            counter += 1
            method, path, body, headers = load._request(f"inproc-{scenario}-{counter}")
            extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
            content_type = extra.pop("HTTP_CONTENT_TYPE")
            started = time.perf_counter()
            response = client.generic(method, path, body, content_type=content_type, **extra)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 201), response.content
        timings = timings[len(timings) // 10 :]  # warm-up
        results.append(
            {
                "db": kind,
                "scenario": scenario,
                "ms_per_request": round(statistics.mean(timings), 1),
                "median_ms": round(statistics.median(timings), 1),
                "load": load_average(),
            }
        )
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    intake.DEFER_TOKEN_DUPLICATE_CHECK = True
    shutil.rmtree(workdir, ignore_errors=True)
    return results


# --- driver ---------------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_database(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="sizhen-bench-intake-"))
    if kind == "postgres":
        create_pg_database()
        url = PG_URL
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    env = bench_env(workdir, url)
    os.environ.update(env)
    seeded = prepare(args.seed_open)
    token, categories = seeded["token"], seeded["categories"].split(",")
    from django.db import connection

    connection.close()
    results = []
    run = f"r{int(time.time())}"
    try:
        for scenario in args.scenarios.split(","):
            worker_class = "sync" if scenario.endswith("-sync") else "gthread"
            workers = args.sync_workers if worker_class == "sync" else args.workers
            dedup = "inline" if scenario.endswith("-inline") else ""
            process, port = start_gunicorn(
                env, worker_class, workers, args.threads, dedup, orm="-orm" in scenario
            )
            job_worker = (
                start_worker(env) if args.job_worker and not scenario.startswith("floor") else None
            )
            prefix = f"{run}-{scenario}-"
            try:
                if args.warm_up:
                    warm_up(scenario, port, token, categories, args.warm_up)
                before = load_average()
                server_cpu = process_tree_cpu(process.pid)
                db_cpu = postgres_cpu() if kind == "postgres" else None
                if args.loader == "wrk":
                    figures = run_wrk(
                        scenario,
                        port,
                        token,
                        categories,
                        prefix,
                        args.clients,
                        args.seconds,
                        args.wrk_threads,
                    )
                    time.sleep(2)  # answers to requests wrk cut at the deadline still land
                    server_cpu = process_tree_cpu(process.pid) - server_cpu
                    figures.update(verify_counts(scenario, prefix, figures))
                else:
                    load = Load(scenario, port, token, categories, run)
                    figures = load.run(args.clients, args.seconds)
                    server_cpu = process_tree_cpu(process.pid) - server_cpu
                    figures.update(load.verify())
                after = load_average()
                # PostgreSQL's own CPU over the same span (the job worker's backend included).
                db_after = postgres_cpu() if db_cpu is not None else None
                figures["db_cpu_ms_per_request"] = (
                    round(1000 * (db_after - db_cpu) / max(1, figures["deliveries"]), 2)
                    if db_cpu is not None and db_after is not None
                    else None
                )
                figures["server_cpu_s"] = round(server_cpu, 1)
                figures["server_cpu_ms_per_request"] = round(
                    1000 * server_cpu / max(1, figures["deliveries"]), 2
                )
                if not scenario.startswith("floor"):
                    at_end, caught_up, flagged = wait_caught_up(
                        prefix, args.catch_up_limit if job_worker else 0
                    )
                    figures.update(
                        {
                            "dup_checks_pending_at_end": at_end,
                            "dup_checks_caught_up_s": caught_up,
                            "flagged_duplicates": flagged,
                        }
                    )
                connection.close()
                figures.update(
                    {
                        "db": kind,
                        "scenario": scenario,
                        "loader": args.loader,
                        "server": f"gunicorn {worker_class} -w {workers}"
                        + (f" --threads {args.threads}" if worker_class == "gthread" else ""),
                        "load_before": before,
                        "load_after": after,
                    }
                )
            finally:
                stop(process)
                if job_worker is not None:
                    stop(job_worker)
            print(json.dumps(figures, ensure_ascii=False), flush=True)
            results.append(figures)
    finally:
        if kind == "postgres":
            from django.db import connections

            connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| db | scenario | server | loader | req/s | deliveries | p50 / p95 / p99 ms | statuses "
        "| keys sent | rows | lost | duplicated | server CPU ms/req | PostgreSQL CPU ms/req "
        "| loader CPU s | dup checks pending at end → caught up | load avg before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
        if r.get("failures"):
            statuses += f", socket errors: {r['failures']}"
        if "dup_checks_pending_at_end" in r:
            caught = r["dup_checks_caught_up_s"]
            checks = f"{r['dup_checks_pending_at_end']} → " + (
                f"{caught} s" if caught is not None else "not within the limit"
            )
        else:
            checks = "–"
        lines.append(
            f"| {r['db']} | {r['scenario']} | {r['server']} | {r['loader']} | {r['rate']} "
            f"| {r['deliveries']} | {r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']} | {statuses} "
            f"| {r['keys_sent']} | {r['rows']} | {r['lost']} | {r['duplicated']} "
            f"| {r['server_cpu_ms_per_request']} | {r.get('db_cpu_ms_per_request') or '–'} "
            f"| {r['loader_cpu_s']} | {checks} "
            f"| {r['load_before']} → {r['load_after']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sync-workers", type=int, default=4)
    parser.add_argument("--seed-open", type=int, default=20000)
    parser.add_argument(
        "--scenarios",
        default="floor,api-sync,open311-sync,api,open311,api-inline",
    )
    parser.add_argument("--loader", choices=["wrk", "python"], default="wrk")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--job-worker",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run one niced run_worker beside the server (flags duplicates)",
    )
    parser.add_argument(
        "--catch-up-limit",
        type=float,
        default=180,
        help="seconds to wait after the load for the duplicate checks to catch up",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=10,
        help="requests per connection (12) before each measured scenario (0: none)",
    )
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--inprocess", type=int, default=0, help="time N POSTs per scenario in-process instead"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: list[dict[str, Any]] = []
    for kind in kinds:
        # Each database in its own process: Django settings are fixed once per process.
        if len(kinds) > 1:
            command = [sys.executable, __file__, *sys.argv[1:], "--db", kind]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results += [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        elif args.inprocess:
            results += in_process(kind, args)
        else:
            results += run_database(kind, args)
    if args.markdown and not args.inprocess:
        print(markdown(results))


if __name__ == "__main__":
    main()
