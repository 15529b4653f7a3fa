"""Benchmark: the call records sync, sandbox -> PostgreSQL. Prints records/s and ratios.

    .venv/bin/python bench/records_sync.py [--sizes 10000 100000] [--server postgres://postgres@127.0.0.1:5432]

For each size: the sandbox (its own process, as Smartflo would be) generates that many records
over 7 days; the sync stores them (a backfill of the 7 days, the production code path); then
the baseline is measured on the same data:

  serve  = the same GET /call/records requests the sync made, replayed with a bare HTTP client
  insert = one bulk_create of the same rows into the emptied table (indexes included)
  COPY   = the same rows by COPY, PostgreSQL's fastest way in (a stricter floor, for reference)

ratio = sync / (serve + insert), target <= 1.5; "vs COPY" = sync / (serve + COPY). Linearity =
seconds per record at the largest size / at the smallest, target ~1.
The database `bench_records` is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_records"


def admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def start_sandbox() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    url = next(word for word in line.split() if word.startswith("http://"))
    return process, url.rstrip("/").removesuffix("/v1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    admin(args.server, f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin(args.server, f"CREATE DATABASE {DB_NAME}")
    sandbox, sandbox_url = start_sandbox()
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="tests.settings",  # DEBUG off, no static manifest needed
            DATABASE_URL=f"{args.server}/{DB_NAME}",
            LOG_LEVEL="WARNING",
            SMARTFLO_BASE_URL=f"{sandbox_url}/v1",
            SMARTFLO_API_TOKEN="sandbox-token",
            SMARTFLO_TIMEOUT="30",
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        results = [measure(size, sandbox_url) for size in args.sizes]
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        from django.db import connections

        connections.close_all()
        admin(args.server, f"DROP DATABASE IF EXISTS {DB_NAME}")

    print()
    print(
        f"{'records':>8} {'sync s':>7} {'rec/s':>6} {'serve s':>8} {'bulk_create s':>14} {'ratio':>6} "
        f"{'COPY s':>7} {'vs COPY':>8}   (target: ratio <= 1.5)"
    )
    for r in results:
        print(
            f"{r['size']:>8} {r['sync']:>7.2f} {r['size'] / r['sync']:>6.0f} {r['serve']:>8.2f} "
            f"{r['insert']:>14.2f} {r['ratio']:>6.2f} {r['copy']:>7.2f} {r['strict']:>8.2f}"
        )
    small, large = results[0], results[-1]
    linearity = (large["sync"] / large["size"]) / (small["sync"] / small["size"])
    print(f"linearity: seconds per record at {large['size']} / at {small['size']} = {linearity:.2f} (target ~1)")
    import report  # bench/report.py: the rows of `make bench`'s table (a no-op when run by hand)

    for r in results:
        report.result(bench="records_sync", metric=f"sync / (serve + bulk_create), {r['size']} records",
                      value=r["ratio"], target="<= 1.5")  # fmt: skip
    if len(results) > 1:  # ~1 is the target; up to 1.25 is taken as linear
        report.result(bench="records_sync", metric=f"linearity, s/record {large['size']} / {small['size']}",
                      value=linearity, target="<= 1.25 (~1)")  # fmt: skip


def measure(size: int, sandbox_url: str) -> dict:
    import httpx
    from django.db import connection
    from django.db.models import JSONField
    from django.utils import timezone

    from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState
    from calls.services import call_records_sync
    from contactcenter.smartflo import CallRecord as ProviderRecord

    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=120)
    control.post("/reset").raise_for_status()
    end = timezone.now().replace(microsecond=0)
    start = end - timedelta(days=7)
    stamp = lambda t: timezone.localtime(t).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    control.post("/records/generate", json={"count": size, "from": stamp(start), "to": stamp(end), "seed": 1})
    control.delete("/requests")

    def empty_tables() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {CallRecord._meta.db_table}")
        CallRecordSyncRun.objects.all().delete()
        CallRecordSyncState.objects.all().delete()

    # 1. The sync, as production runs it.
    empty_tables()
    began = time.perf_counter()
    run = call_records_sync(start=start, end=end, trigger="manual")
    sync_seconds = time.perf_counter() - began
    assert run.status == "succeeded" and CallRecord.objects.count() == size, (run.status, CallRecord.objects.count())
    requests = control.get("/requests", params={"path": "/v1/call/records"}).json()

    # 2. The sandbox serving the same requests to a bare client (bodies read, not parsed).
    pages = []
    with httpx.Client(base_url=f"{sandbox_url}/v1", headers={"Authorization": "sandbox-token"}, timeout=60) as api:
        began = time.perf_counter()
        for entry in requests:
            pages.append(api.get("/call/records", params=entry["query"]).content)
        serve_seconds = time.perf_counter() - began

    # 3. A bare bulk insert of the same rows (built beforehand, not timed).
    now = timezone.now()
    seen, rows = set(), []
    for body in pages:
        for raw in json.loads(body)["results"]:
            if raw["call_id"] in seen:
                continue
            seen.add(raw["call_id"])
            r = ProviderRecord.from_api(raw)
            rows.append(
                CallRecord(
                    call_id=r.call_id, provider_id=r.id, uuid=r.uuid, direction=r.direction, status=r.status,
                    started_at=r.started_at, ended_at=r.ended_at, call_duration=r.call_duration,
                    answered_seconds=r.answered_seconds, minutes_consumed=r.minutes_consumed,
                    agent_smartflo_id=r.agent_id, agent_name=r.agent_name, agent_number=r.agent_number,
                    client_number=r.client_number, did_number=r.did_number, destination=r.destination,
                    hangup_cause=r.hangup_cause, recording_url=r.recording_url, dtmf_input=r.dtmf_input,
                    broadcast_id=r.broadcast_id, services=", ".join(r.services), department=", ".join(r.department),
                    missed_agents=[{"name": m.name, "number": m.number} for m in r.missed_agents] or None,
                    notes=r.notes, contact_name=r.contact_name, custom_identifier=r.custom_identifier, raw=raw,
                    first_synced_at=now, synced_at=now,
                )
            )  # fmt: skip
    empty_tables()
    began = time.perf_counter()
    CallRecord.objects.bulk_create(rows, batch_size=1000)
    insert_seconds = time.perf_counter() - began
    assert CallRecord.objects.count() == size

    # 4. The floor: COPY of the same rows (PostgreSQL's fastest way in), for a stricter ratio.
    fields = [f for f in CallRecord._meta.concrete_fields if not f.primary_key]
    values = [
        [json.dumps(v) if isinstance(f, JSONField) and v is not None else v for f in fields
         for v in (getattr(row, f.attname),)]
        for row in rows
    ]  # fmt: skip
    empty_tables()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    began = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {CallRecord._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)
    copy_seconds = time.perf_counter() - began
    assert CallRecord.objects.count() == size

    ratio = sync_seconds / (serve_seconds + insert_seconds)
    strict = sync_seconds / (serve_seconds + copy_seconds)
    print(
        f"{size} records: sync {sync_seconds:.2f}s ({len(requests)} requests, {run.pages} pages); "
        f"serve {serve_seconds:.2f}s + bulk_create {insert_seconds:.2f}s: ratio {ratio:.2f}; "
        f"serve + COPY {copy_seconds:.2f}s: ratio {strict:.2f}",
        flush=True,
    )
    return {
        "size": size,
        "sync": sync_seconds,
        "serve": serve_seconds,
        "insert": insert_seconds,
        "copy": copy_seconds,
        "ratio": ratio,
        "strict": strict,
    }


if __name__ == "__main__":
    main()
