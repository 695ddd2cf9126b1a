"""Bench for issue 16: a soak of request intake and page reads together, on PostgreSQL.

    .venv/bin/python bench/soak.py [--seconds 300] [--database-url URL] [--clients 12]
        [--workers 2] [--threads 4] [--seed-open 20000] [--sample-every 10] [--markdown]

One server for both streams, as in production: gunicorn (gthread, ``--workers`` ×
``--threads``) with the production settings on 127.0.0.1, one ``run_worker`` at nice 10 beside
it, on a fresh PostgreSQL database (by default ``sizhen_bench_soak`` of the bench's own role,
made like bench/requests_intake.py makes its database; ``--database-url`` names another, which
is dropped and re-created by the URL's role). The setup is the two benches' own: the intake's
city, token and ``--seed-open`` open requests (bench/requests_intake.py ``prepare``), then the
pages' 100 indicators × 20 regions × 120 months of values and a leader's session
(bench/pages.py ``seed``).

For ``--seconds`` two wrk processes run at once: the intake's (POST /api/v1/requests with
Idempotency-Key and 10 % retries, bench/requests_intake.lua, ``--clients`` connections) and
the pages' (indicator pages and the cockpit as the leader, wrk -t2 -c4). Checks: every key
sent is stored exactly once (``lost``, ``duplicated``, as bench/requests_intake.py counts
them), no page answers other than 200 and no socket errors. Reported: req/s and p50/p95/p99
per stream, and the resident memory (RSS) of the server (gunicorn master and workers) and of
the job worker, sampled every ``--sample-every`` seconds: first, last and max.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pages  # noqa: E402
from bench import requests_intake as intake  # noqa: E402

SOAK_URL = "postgres://sizhen_bench:sizhen_bench@127.0.0.1:5432/sizhen_bench_soak"
SCENARIO = "api"


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


class MemorySampler(threading.Thread):
    """RSS of the server (master + workers, summed: a worker that is replaced still counts)
    and of the job worker, every ``every`` seconds until stopped."""

    def __init__(self, server_pid: int, worker_pid: int, every: float):
        super().__init__(name="rss-sampler", daemon=True)
        self.server_pid = server_pid
        self.worker_pid = worker_pid
        self.every = every
        self.samples: list[dict[str, float]] = []
        self.stopped = threading.Event()

    def sample(self, started: float) -> None:
        server = sum(rss_mb(p) or 0.0 for p in process_tree(self.server_pid))
        self.samples.append(
            {
                "t_s": round(time.perf_counter() - started, 1),
                "server_mb": round(server, 1),
                "job_worker_mb": round(rss_mb(self.worker_pid) or 0.0, 1),
            }
        )

    def run(self) -> None:
        started = time.perf_counter()
        self.sample(started)
        while not self.stopped.wait(self.every):
            self.sample(started)
        self.sample(started)

    def stop(self) -> None:
        self.stopped.set()
        self.join()

    def summary(self, name: str) -> dict[str, float]:
        values = [s[name] for s in self.samples]
        return {"first": values[0], "last": values[-1], "max": max(values)}


def page_paths() -> list[str]:
    """Indicator pages of random indicators and regions, with the cockpit every tenth."""
    paths = pages._indicator_urls(450, 5)
    for i in range(0, len(paths), 9):
        paths.insert(i, "/dashboards/cockpit/")
    return paths


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="sizhen-bench-soak-"))
    url = args.database_url or SOAK_URL
    intake.create_pg_database(url)
    env = intake.bench_env(workdir, url)
    os.environ.update(env)
    started = time.perf_counter()
    seeded = intake.prepare(args.seed_open)
    seeded_pages = pages.seed(workdir)
    prepare_s = round(time.perf_counter() - started, 1)
    token, categories = seeded["token"], seeded["categories"].split(",")
    session = json.loads((workdir / "session.json").read_text())
    cookie = f"{session['name']}={session['value']}"
    from django.db import connection, connections

    connection.close()
    server, port = intake.start_gunicorn(env, "gthread", args.workers, args.threads)
    job_worker = intake.start_worker(env)
    prefix = f"soak{int(time.time())}-{SCENARIO}-"
    try:
        pages._wait_ready(port, cookie, server)
        if args.warm_up:
            intake.warm_up(SCENARIO, port, token, categories, args.warm_up)
        load_before = intake.load_average()
        sampler = MemorySampler(server.pid, job_worker.pid, args.sample_every)
        sampler.start()
        figures: dict[str, Any] = {}
        problems: list[BaseException] = []

        def stream(name: str, function: Any, *call: Any) -> None:
            try:
                figures[name] = function(*call)
            except BaseException as exc:  # reported after both streams ended
                problems.append(exc)

        streams = [
            threading.Thread(
                target=stream,
                args=(
                    "intake",
                    intake.run_wrk,
                    SCENARIO,
                    port,
                    token,
                    categories,
                    prefix,
                    args.clients,
                    args.seconds,
                    args.wrk_threads,
                ),
            ),
            threading.Thread(
                target=stream,
                args=("pages", pages._run_wrk, port, cookie, page_paths(), args.seconds, workdir),
            ),
        ]
        for thread in streams:
            thread.start()
        for thread in streams:
            thread.join()
        sampler.stop()
        load_after = intake.load_average()
        if problems:
            raise problems[0]
        time.sleep(2)  # answers to requests wrk cut at the deadline still land
        figures["intake"].update(intake.verify_counts(SCENARIO, prefix, figures["intake"]))
        at_end, caught_up, _flagged = intake.wait_caught_up(prefix, args.catch_up_limit)
        connection.close()
    finally:
        intake.stop(server)
        intake.stop(job_worker)
        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
    intake_figures, page_figures = figures["intake"], figures["pages"]
    return {
        "seconds": args.seconds,
        "server": f"gunicorn gthread -w {args.workers} --threads {args.threads}",
        "prepare_s": prepare_s,
        "page_values": seeded_pages["values"],
        "intake": intake_figures,
        "pages": page_figures,
        "dup_checks_pending_at_end": at_end,
        "dup_checks_caught_up_s": caught_up,
        "rss_server_mb": sampler.summary("server_mb"),
        "rss_job_worker_mb": sampler.summary("job_worker_mb"),
        "rss_samples": sampler.samples,
        "ok": intake_figures["lost"] == 0
        and intake_figures["duplicated"] == 0
        and intake_figures["failures"] == 0
        and not intake_figures["statuses"].get("other")
        and page_figures["non_2xx"] == 0
        and page_figures["socket_errors"] == 0,
        "load_before": load_before,
        "load_after": load_after,
    }


def markdown(result: dict[str, Any]) -> str:
    i, p = result["intake"], result["pages"]
    server, worker = result["rss_server_mb"], result["rss_job_worker_mb"]
    return "\n".join(
        [
            "| stream | req/s | requests | p50 / p95 / p99 ms | checks |",
            "|---|---|---|---|---|",
            f"| intake (POST /api/v1/requests) | {i['rate']} | {i['deliveries']} "
            f"| {i['p50_ms']} / {i['p95_ms']} / {i['p99_ms']} | keys sent {i['keys_sent']}, "
            f"rows {i['rows']}, lost {i['lost']}, duplicated {i['duplicated']}, "
            f"socket errors {i['failures']} |",
            f"| pages (indicator pages + cockpit) | {round(p['rps'], 1)} | {p['requests']} "
            f"| {p['p50_ms']} / {p['p95_ms']} / {p['p99_ms']} | non-200 {p['non_2xx']}, "
            f"socket errors {p['socket_errors']} |",
            "",
            f"RSS (MB) first / last / max — server (gunicorn master + workers): "
            f"{server['first']} / {server['last']} / {server['max']}; job worker: "
            f"{worker['first']} / {worker['last']} / {worker['max']}. "
            f"Duplicate checks pending at end: {result['dup_checks_pending_at_end']} → caught up "
            f"in {result['dup_checks_caught_up_s']} s. Load average before → after: "
            f"{result['load_before']} → {result['load_after']}. Passed: {result['ok']}.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--database-url", default="", help=f"default {SOAK_URL}")
    parser.add_argument("--clients", type=int, default=12, help="intake connections")
    parser.add_argument("--wrk-threads", type=int, default=2, help="intake wrk threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed-open", type=int, default=20000)
    parser.add_argument("--sample-every", type=float, default=10)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--catch-up-limit", type=float, default=120)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, ensure_ascii=False))
    if args.markdown:
        print(markdown(result))
    if not result["ok"]:
        raise SystemExit("soak failed: requests lost or duplicated, or pages not answered")


if __name__ == "__main__":
    main()
