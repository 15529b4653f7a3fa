"""Benchmark: the masking resolve endpoint against a minimal Django JSON view, under gunicorn.

    .venv/bin/python bench/masking_resolve.py [--rules 100000] [--seconds 10] [--concurrency 16]

What it does, all on 127.0.0.1 and bounded in time and request count:

1. Takes the PostgreSQL server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
   creates a scratch database `bench_masking` there (dropped at the end unless --keep-db),
   migrates it and seeds --rules active masking rules (half of them two-way) over 100 numbers.
2. Serves, one after the other with identical gunicorn settings (sync workers, --workers):
   - the real app (contactcenter.wsgi, full middleware stack, DEBUG off), and
   - bench/masking_baseline.py: a Django JSON view with no middleware and no database.
3. Drives each with the same closed-loop load (--concurrency connections from --procs client
   processes, each POSTing a Smartflo-shaped body for a random seeded caller), in alternating
   rounds after a warm-up, and prints throughput and latency percentiles, then the ratios the
   issue asks for: throughput >= 0.5x and p99 <= 3x the baseline.

The load generator shares the machine with the servers and PostgreSQL, as it does for the
baseline; the ratios, not the absolute numbers, are the result. It is not a test and never runs
in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from threading import Thread
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "bench_masking"
TOKEN = "bench-masking-token"
RESOLVE_PATH = "/api/v1/masking/resolve/"
NUMBERS = 100
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# --- Database -----------------------------------------------------------------------------------


def bench_database_url() -> str:
    source = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test"
    parts = urlsplit(source)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"DATABASE_URL must point at PostgreSQL (got {parts.scheme or 'nothing'}).")
    if parts.hostname not in LOOPBACK:
        sys.exit("This benchmark creates and drops a database: it runs only against PostgreSQL on 127.0.0.1.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DB}", "", ""))


def admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def recreate_database(url: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_database(url: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def server_env(database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MASKING_", "SMARTFLO_", "CELERY_", "REDIS_", "CACHE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="contactcenter.settings",
        DJANGO_ENV_FILE=os.devnull,  # a developer's .env must not change the numbers
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        CONN_MAX_AGE="600",
        MASKING_API_TOKEN=TOKEN,
        SMARTFLO_BASE_URL="http://127.0.0.1:8900/v1",  # required with DEBUG off; never called here
        SMARTFLO_API_TOKEN="sandbox-token",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def party_a(i: int) -> str:
    return f"+9198{i:08d}"


def party_b(i: int) -> str:
    return f"+9197{i:08d}"


def masking_number(i: int) -> str:
    return f"+918069{i % NUMBERS:06d}"


def migrate_and_seed(database_url: str, rules: int) -> None:
    """Migrate the scratch database and write `rules` active rules (and their routes)."""
    os.environ.update(server_env(database_url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from masking.models import MaskingNumber, MaskingRoute, MaskingRule

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now()
    with transaction.atomic():
        numbers = MaskingNumber.objects.bulk_create(
            MaskingNumber(number=masking_number(i), pooled=i % 2 == 0) for i in range(NUMBERS)
        )
        by_number = {n.number: n for n in numbers}
        batch = 5000
        for start in range(0, rules, batch):
            chunk = [
                MaskingRule(
                    masking_number=by_number[masking_number(i)],
                    party_a=party_a(i),
                    party_b=party_b(i),
                    two_way=i % 2 == 0,
                    # a mix of open and bounded windows, all live now
                    valid_from=now - timedelta(days=1) if i % 3 == 0 else None,
                    valid_until=now + timedelta(days=30) if i % 4 == 0 else None,
                    reference=f"bench-{i}",
                )
                for i in range(start, min(start + batch, rules))
            ]
            MaskingRule.objects.bulk_create(chunk)
            routes = []
            for rule in chunk:
                routes += [
                    MaskingRoute(rule=rule, masking_number=rule.masking_number, caller=caller, callee=callee)
                    for caller, callee in rule.callers()
                ]
            MaskingRoute.objects.bulk_create(routes)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    count = MaskingRule.objects.filter(active=True).count()
    connections.close_all()
    print(f"seeded {count:,} active rules over {NUMBERS} numbers in {time.perf_counter() - started:.1f}s")


def resolution_log_count() -> int:
    from django.db import connections

    from masking.models import ResolutionLog

    count = ResolutionLog.objects.count()
    connections.close_all()
    return count


# --- CPU accounting (Linux /proc) --------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, ppid, command name) of every process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        found.append((int(entry), ppid, name))
    return found


def cpu_snapshot(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds used so far, per process, by the gunicorn master and workers and by PostgreSQL."""
    processes = _processes()
    server = {server_pid} | {pid for pid, ppid, _ in processes if ppid == server_pid}
    postgres = {pid for pid, _, name in processes if name.startswith("postgres")}
    return {
        "server": {pid: _proc_cpu(pid) for pid in server},
        "postgres": {pid: _proc_cpu(pid) for pid in postgres},
    }


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], group: str) -> float:
    """CPU seconds a group used between two snapshots (processes that ended meanwhile are lost)."""
    return sum(max(0.0, cpu - before[group].get(pid, 0.0)) for pid, cpu in after[group].items())


# --- Servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app: str
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            *self.extra_args,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--timeout",
            "30",
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
        ]
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}")
            try:
                status, _ = one_request(self.port, build_request(party_a(0), masking_number(0)))
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: gunicorn did not answer within 30s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the group this script started: gunicorn and its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- Load ---------------------------------------------------------------------------------------


def build_request(caller: str, number: str) -> bytes:
    body = json.dumps(
        {
            "uuid": "7611",
            "call_id": "1715235734.129662",
            "call_to_number": f"+91-{number[3:]}",
            "caller_id_number": caller,
            "start_stamp": "2024-05-09 11:52:14",
        }
    ).encode()
    head = (
        f"POST {RESOLVE_PATH} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return head + body


def one_request(port: int, request: bytes) -> tuple[int, bytes]:
    """Send one request; return (status, body) as soon as Content-Length bytes of body are in,
    as an HTTP client such as Smartflo's does (not waiting for the server to close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while length is not None and len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    status = int(head[9:12]) if head.startswith(b"HTTP/1.") else 0
    return status, body


def _client_process(port: int, threads: int, seconds: float, max_requests: int, rules: int, seed: int) -> dict:
    """One load process: `threads` closed loops until the deadline or the request cap."""
    rng = random.Random(seed)
    requests = [build_request(party_a(i), masking_number(i)) for i in (rng.randrange(rules) for _ in range(2000))]
    deadline = time.perf_counter() + seconds
    results: list[tuple[list[float], dict[int, int]]] = []

    def loop(offset: int) -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        i = offset
        while time.perf_counter() < deadline and len(latencies) < max_requests:
            request = requests[i % len(requests)]
            i += 1
            began = time.perf_counter()
            try:
                status, _ = one_request(port, request)
            except OSError:
                status = 0
            latencies.append(time.perf_counter() - began)
            statuses[status] = statuses.get(status, 0) + 1
        results.append((latencies, statuses))

    workers = [Thread(target=loop, args=(n * 97,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time()
    latencies = [value for chunk, _ in results for value in chunk]
    statuses: dict[int, int] = {}
    for _, chunk in results:
        for status, count in chunk.items():
            statuses[status] = statuses.get(status, 0) + count
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed, "cpu": cpu}


@dataclass
class Measurement:
    requests: int
    ok: int
    elapsed: float
    latencies: list[float]
    statuses: dict[int, int]
    cpu: dict[str, float]  # CPU seconds: server, postgres, client

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def drive(
    server: Server, *, concurrency: int, procs: int, seconds: float, max_requests: int, rules: int
) -> Measurement:
    port = server.port
    assert server.process is not None
    before = cpu_snapshot(server.process.pid)
    per_proc = [concurrency // procs + (1 if n < concurrency % procs else 0) for n in range(procs)]
    cap = max(1, max_requests // concurrency)
    with ProcessPoolExecutor(max_workers=procs, mp_context=get_context("fork")) as pool:
        futures = [
            pool.submit(_client_process, port, threads, seconds, cap, rules, 1000 + n)
            for n, threads in enumerate(per_proc)
            if threads
        ]
        parts = [future.result() for future in futures]
    after = cpu_snapshot(server.process.pid)
    statuses: dict[int, int] = {}
    for part in parts:
        for status, count in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    latencies = [value for part in parts for value in part["latencies"]]
    return Measurement(
        requests=len(latencies),
        ok=statuses.get(200, 0),
        elapsed=max(part["elapsed"] for part in parts),
        latencies=latencies,
        statuses=statuses,
        cpu={
            "server": cpu_used(before, after, "server"),
            "postgres": cpu_used(before, after, "postgres"),
            "client": sum(part["cpu"] for part in parts),
        },
    )


# --- Main ---------------------------------------------------------------------------------------


def merge(measurements: list[Measurement]) -> Measurement:
    return Measurement(
        requests=sum(m.requests for m in measurements),
        ok=sum(m.ok for m in measurements),
        elapsed=sum(m.elapsed for m in measurements),
        latencies=[value for m in measurements for value in m.latencies],
        statuses={
            status: sum(m.statuses.get(status, 0) for m in measurements)
            for status in {s for m in measurements for s in m.statuses}
        },
        cpu={key: sum(m.cpu[key] for m in measurements) for key in ("server", "postgres", "client")},
    )


def describe(name: str, m: Measurement) -> str:
    ms = 1000
    per_request = {key: value / max(m.requests, 1) * ms for key, value in m.cpu.items()}
    return (
        f"{name:<10} {m.throughput:7.0f} req/s  p50 {m.percentile(50) * ms:6.2f} ms  "
        f"p90 {m.percentile(90) * ms:6.2f} ms  p99 {m.percentile(99) * ms:6.2f} ms  "
        f"CPU/request: app {per_request['server']:.2f} + postgres {per_request['postgres']:.2f} "
        f"+ load {per_request['client']:.2f} ms  ({m.ok:,} ok of {m.requests:,}"
        + ("" if m.ok == m.requests else f"; statuses {dict(sorted(m.statuses.items()))}")
        + ")"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=100_000, help="active rules to seed (default 100000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per round (max 60)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per app (max 5)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load per app first")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections in flight (max 256)")
    parser.add_argument("--procs", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per round")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    args = parser.parse_args()
    args.seconds = min(max(args.seconds, 1.0), 60.0)
    args.rounds = min(max(args.rounds, 1), 5)
    args.concurrency = min(max(args.concurrency, 1), 256)
    args.procs = min(max(args.procs, 1), args.concurrency)

    database_url = bench_database_url()
    print(f"PostgreSQL scratch database: {BENCH_DB} on {urlsplit(database_url).netloc}")
    recreate_database(database_url)
    servers = [
        Server("baseline", "masking_baseline:application", ("--pythonpath", str(ROOT / "bench"))),
        Server("resolve", "contactcenter.wsgi:application"),
    ]
    try:
        migrate_and_seed(database_url, args.rules)
        env = server_env(database_url)
        print(
            f"gunicorn: {args.workers} sync workers; load: {args.concurrency} connections from {args.procs} "
            f"processes, {args.rounds} x {args.seconds:g}s per app after {args.warmup:g}s warm-up; "
            f"{os.cpu_count()} CPUs shared by servers, PostgreSQL and the load"
        )
        results: dict[str, list[Measurement]] = {server.name: [] for server in servers}
        load = {"concurrency": args.concurrency, "procs": args.procs, "rules": args.rules}
        for round_number in range(args.rounds):
            order = servers if round_number % 2 == 0 else list(reversed(servers))
            for server in order:
                server.start(env, args.workers)
                try:
                    drive(server, seconds=args.warmup, max_requests=args.max_requests, **load)
                    measured = drive(server, seconds=args.seconds, max_requests=args.max_requests, **load)
                finally:
                    server.stop()
                results[server.name].append(measured)
                print(f"  round {round_number + 1}: {describe(server.name, measured)}")
        baseline, resolve = merge(results["baseline"]), merge(results["resolve"])
        logged = resolution_log_count()
        print()
        print(describe("baseline", baseline))
        print(describe("resolve", resolve))
        throughput_ratio = resolve.throughput / baseline.throughput
        p99_ratio = resolve.percentile(99) / baseline.percentile(99)
        per_round = [r.throughput / b.throughput for r, b in zip(results["resolve"], results["baseline"], strict=True)]
        print()
        print(
            f"throughput ratio (resolve / baseline): {throughput_ratio:.2f}x   (target >= 0.5x; "
            f"per round {', '.join(f'{v:.2f}' for v in per_round)}; median {statistics.median(per_round):.2f})"
        )
        print(f"p99 latency ratio (resolve / baseline): {p99_ratio:.2f}x   (target <= 3x)")
        print(f"resolution log rows written: {logged:,} (every resolve request, warm-ups included)")
        met = throughput_ratio >= 0.5 and p99_ratio <= 3.0 and resolve.ok == resolve.requests
        print("targets met" if met else "TARGETS NOT MET")
        import report  # bench/report.py: the rows of `make bench`'s table (a no-op when run by hand)

        answered = resolve.ok / max(resolve.requests, 1)
        report.result(
            bench="masking_resolve", metric="throughput, resolve / baseline", value=throughput_ratio, target=">= 0.5"
        )
        report.result(bench="masking_resolve", metric="p99 latency, resolve / baseline", value=p99_ratio, target="<= 3")
        report.result(bench="masking_resolve", metric="answers that are 200 transfers", value=answered, target="== 1")
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep_db:
            print(f"kept database {BENCH_DB}")
        else:
            drop_database(database_url)


if __name__ == "__main__":
    sys.exit(main())
