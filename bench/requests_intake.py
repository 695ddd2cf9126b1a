"""Bench for issue 6: request intake under load, none lost, none duplicated.

    .venv/bin/python bench/requests_intake.py [--db sqlite|postgres|both] [--seconds 60]
        [--clients 12] [--workers 3] [--threads 4] [--seed-open 20000]
        [--scenarios floor,api,open311,open311-sync] [--markdown]

Each database gets a fresh bench database (a temp SQLite file in WAL mode, or a PostgreSQL 15
database ``sizhen_bench_intake`` created as the ``sizhen`` role), migrated, seeded with the
demo city's regions, one department, its ``requests:write`` token and ``--seed-open`` open
requests (so that duplicate detection works against a realistic ledger, not an empty one).
The app runs under gunicorn with the production settings on 127.0.0.1; a threaded
``http.client`` load generator (keep-alive connections) drives one scenario at a time:

- ``floor``: a raw Django view (same middleware) doing one plain INSERT of the key and body
  into a bench table (``ON CONFLICT DO NOTHING``): what the stack costs without the service;
- ``api``: POST /api/v1/requests (JSON, Bearer token, Idempotency-Key header);
- ``open311``: POST /open311/v2/requests.json (form-encoded, api_key, Idempotency-Key);
- ``open311-sync``: the same endpoint under the straightforward server configuration of
  docs/operations.md (sync workers: one request per process at a time, a new TCP connection
  per request), for comparison with the gthread configuration used for the other rows;
- ``*-lean``: the same, with the change proposed for ``services.intake.find_duplicate``
  patched in (bench processes only): fetch (pk, text) of the candidates, not full rows;
- ``*-deferred``: the same, with duplicate detection taken out of intake (to run as a job).

Retries: 10 % of the keys are queued for a second delivery by another client thread before
their first delivery is answered (so some retries race the original), and every failed or
5xx delivery is retried with the same key (up to 5 times), as a real client would. After each
scenario the rows are counted in the database and compared with the keys that were answered
2xx: ``lost`` = answered but not stored; ``duplicated`` = more rows than keys, or one key
answered with two different request numbers.
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
PG_URL = f"postgres://sizhen:sizhen@127.0.0.1:5432/{PG_DB}"
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


def lean_find_duplicate(
    *,
    text: str,
    enterprise: Any,
    category: Any,
    region: Any,
    exclude_pk: int | None = None,
) -> tuple[Any, float]:
    """The change proposed for ``services.intake.find_duplicate``: the same candidates, order
    and thresholds, but only (pk, text) is fetched for the up to 2 × 200 candidates and the
    one best match is loaded at the end, instead of 400 full model instances per intake."""
    from sizhen.enterprise_requests import similarity
    from sizhen.enterprise_requests.models import EnterpriseRequest
    from sizhen.enterprise_requests.services.common import (
        DUPLICATE_CANDIDATES,
        SAME_ENTERPRISE_THRESHOLD,
        SAME_MATTER_THRESHOLD,
    )
    from sizhen.enterprise_requests.workflow import TERMINAL

    grams = similarity.bigrams(text)
    if not grams:
        return None, 0.0
    open_requests = EnterpriseRequest.objects.exclude(status__in=TERMINAL)
    if exclude_pk is not None:
        open_requests = open_requests.exclude(pk=exclude_pk)
    candidates: list[tuple[int, str, float]] = []
    if enterprise is not None:
        same = open_requests.filter(enterprise=enterprise).order_by("-submitted_at")
        candidates += [
            (pk, body, SAME_ENTERPRISE_THRESHOLD)
            for pk, body in same.values_list("pk", "text")[:DUPLICATE_CANDIDATES]
        ]
    if category is not None and region is not None:
        matter = open_requests.filter(category=category, region=region).order_by("-submitted_at")
        if enterprise is not None:
            matter = matter.exclude(enterprise=enterprise)
        candidates += [
            (pk, body, SAME_MATTER_THRESHOLD)
            for pk, body in matter.values_list("pk", "text")[:DUPLICATE_CANDIDATES]
        ]
    best_pk, best_score = None, 0.0
    for pk, body, threshold in candidates:
        score = similarity.similarity(grams, body)
        if score >= threshold and score > best_score:
            best_pk, best_score = pk, score
    if best_pk is None:
        return None, 0.0
    return EnterpriseRequest.objects.get(pk=best_pk), best_score


def deferred_find_duplicate(**_kwargs: Any) -> tuple[Any, float]:
    """Duplicate detection moved out of the intake transaction into a background job (the
    job would set ``suspected_duplicate_of`` seconds later): intake itself compares nothing."""
    return None, 0.0


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
    _dedup = os.environ.get("SIZHEN_BENCH_DEDUP", "")
    if _dedup:
        from sizhen.enterprise_requests.services import intake

        # Bench-only variants of the proposed service changes (see the module docstring).
        intake.find_duplicate = (  # type: ignore[assignment]
            lean_find_duplicate if _dedup == "lean" else deferred_find_duplicate
        )
    # The bench's own URLconf: config.urls plus the floor view (bench processes only).
    settings.ROOT_URLCONF = __name__
    urlpatterns = _urlpatterns()


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


def create_pg_database() -> None:
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 user=sizhen password=sizhen dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        conn.execute(f"CREATE DATABASE {PG_DB}")


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
        )
        for i in range(seed_open)
    ]
    EnterpriseRequest.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Bench-only work-around: submit_request's placeholder number "TMP-<32 hex>" has 36
            # characters and the column 32, which PostgreSQL refuses (SQLite does not check).
            cursor.execute(
                "ALTER TABLE enterprise_requests_enterpriserequest "
                "ALTER COLUMN number TYPE varchar(40)"
            )
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
    env: dict[str, str], worker_class: str, workers: int, threads: int, dedup: str = ""
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
        env={**os.environ, **env, "SIZHEN_BENCH_APP": "1", "SIZHEN_BENCH_DEDUP": dedup},
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


def stop(process: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


# --- the load generator ---------------------------------------------------------------------------


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
        path = "/bench/floor" if self.scenario == "floor" else "/api/v1/requests"
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
            "loader_cpu_s": round(loader_cpu, 1),
        }

    def verify(self) -> dict[str, Any]:
        """Compare the rows in the database with the keys answered 2xx."""
        from django.db import connection

        if self.scenario == "floor":
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
    original = intake.find_duplicate
    results = []
    counter = 0
    for scenario in args.scenarios.split(","):
        if scenario.endswith("-sync"):
            continue
        dedup = next((d for d in ("lean", "deferred") if scenario.endswith(f"-{d}")), "")
        intake.find_duplicate = {  # type: ignore[assignment]
            "": original,
            "lean": lean_find_duplicate,
            "deferred": deferred_find_duplicate,
        }[dedup]
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
    intake.find_duplicate = original  # type: ignore[assignment]
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
            dedup = next((d for d in ("lean", "deferred") if scenario.endswith(f"-{d}")), "")
            process, port = start_gunicorn(env, worker_class, workers, args.threads, dedup)
            try:
                load = Load(scenario, port, token, categories, run)
                before = load_average()
                figures = load.run(args.clients, args.seconds)
                figures.update(load.verify())
                connection.close()
                figures.update(
                    {
                        "db": kind,
                        "scenario": scenario,
                        "server": f"gunicorn {worker_class} -w {workers}"
                        + (f" --threads {args.threads}" if worker_class == "gthread" else ""),
                        "load_before": before,
                        "load_after": load_average(),
                    }
                )
            finally:
                stop(process)
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
        "| db | scenario | server | req/s | deliveries | p50 / p95 / p99 ms | statuses "
        "| keys answered | rows | lost | duplicated | load avg before→after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['db']} | {r['scenario']} | {r['server']} | {r['rate']} | {r['deliveries']} "
            f"| {r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']} | {r['statuses']} "
            f"| {r['unique_keys_answered']} | {r['rows']} | {r['lost']} | {r['duplicated']} "
            f"| {r['load_before']} → {r['load_after']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sync-workers", type=int, default=4)
    parser.add_argument("--seed-open", type=int, default=20000)
    parser.add_argument(
        "--scenarios",
        default="floor,api,open311,open311-sync,api-lean,open311-lean,open311-deferred",
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
