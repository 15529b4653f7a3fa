"""Benchmark: the call records dashboard on PostgreSQL at 100,000 and 1,000,000 rows.

    .venv/bin/python bench/records_dashboard.py [--server postgres://postgres@127.0.0.1:5432] [--runs 15]

For each filter, the first page of the dashboard is requested through Django (middleware,
session, view, template: the server time) and, separately, the very SQL statements that request
ran are executed directly on the same connection. Printed per filter: p50 server time, p50 SQL
time, their ratio (target <= 2), and the 1M-row p50 over the 100k-row p50 (target <= 1.5).
Rows span 30 days, spread like the sandbox's (3 agents + 7 more, 70% answered, 45% inbound).
The database `bench_records_dash` is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_records_dash"

FILL = """
INSERT INTO calls_callrecord (
  call_id, provider_id, uuid, direction, status, started_at, ended_at, call_duration, answered_seconds,
  minutes_consumed, agent_id, agent_smartflo_id, agent_name, agent_number, client_number, did_number,
  destination, hangup_cause, recording_url, dtmf_input, broadcast_id, services, department, missed_agents,
  notes, contact_name, custom_identifier, outbound_call_id, raw, first_synced_at, synced_at)
SELECT
  (1700000000 + g)::text || '.' || lpad((g %% 1000000)::text, 6, '0'), g, md5(g::text),
  CASE WHEN r1 < 0.45 THEN 'inbound' ELSE 'outbound' END,
  CASE WHEN r2 < 0.7 THEN 'answered' ELSE 'missed' END,
  started, started + make_interval(secs => dur), dur,
  CASE WHEN r2 < 0.7 THEN greatest(dur - 10, 0) ELSE 0 END, ceil(dur / 60.0)::int,
  a.id, a.smartflo_id, a.name, a.follow_me_number,
  '+919' || lpad((g::bigint * 7919 %% 1000000000)::text, 9, '0'), '+918062000000',
  '', CASE WHEN r2 < 0.7 THEN 'NORMAL_CLEARING' ELSE 'NO_ANSWER' END,
  CASE WHEN r2 < 0.56 THEN 'http://127.0.0.1:8900/recordings/' || g || '.mp3' ELSE '' END,
  '', '', CASE WHEN r1 < 0.45 THEN 'IVR' ELSE 'Click to Call' END, '', NULL, '', '', '', NULL,
  '{"bench": true}'::jsonb, now(), now()
FROM (
  SELECT g, random() AS r1, random() AS r2, (3 + floor(random() * 900))::int AS dur,
         now() - random() * interval '30 days' AS started, 1 + floor(random() * %(agents)s)::int AS agent_n
  FROM generate_series(%(first)s, %(last)s) AS g
) AS s
JOIN (SELECT id, smartflo_id, name, follow_me_number, row_number() OVER (ORDER BY id) AS n FROM agents_agent) AS a
  ON a.n = s.agent_n
"""


def admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 1_000_000])
    args = parser.parse_args()
    admin(args.server, f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin(args.server, f"CREATE DATABASE {DB_NAME}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tests.settings",  # DEBUG off, no static manifest needed
        DATABASE_URL=f"{args.server}/{DB_NAME}",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="600",
    )
    try:
        import django

        django.setup()
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        admin(args.server, f"DROP DATABASE IF EXISTS {DB_NAME}")


def run(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from agents.models import Agent

    call_command("migrate", verbosity=0)
    agents = [
        Agent.objects.create(name=f"Agent {i:02d}", follow_me_number=f"+9198765{i:05d}", smartflo_id=str(100000 + i))
        for i in range(1, 11)
    ]
    small, large = args.sizes
    fill(connection, 1, small, len(agents))
    filters = bench_filters(connection, agents)
    at_small = measure_all(filters, args.runs)
    fill(connection, small + 1, large, len(agents))
    at_large = measure_all(filters, args.runs)

    print()
    print("At 1,000,000 rows (ms, p50). 'table' = the first page's queries through the ORM (the selector);")
    print("'request' = the whole page through Django (middleware, session, template). 1M/100k on both.")
    print(
        f"{'filter':<26} {'matches':>8} {'table':>6} {'SQL':>5} {'ratio':>6} {'1M/100k':>8} | "
        f"{'request':>8} {'SQL':>5} {'ratio':>6} {'1M/100k':>8}"
    )
    for name in filters:
        big, little = at_large[name], at_small[name]
        print(
            f"{name:<26} {big['matches']:>8} {big['query']:>6.1f} {big['query_sql']:>5.1f} "
            f"{big['query'] / big['query_sql']:>6.2f} {big['query'] / little['query']:>8.2f} | "
            f"{big['server']:>8.1f} {big['sql']:>5.1f} {big['server'] / big['sql']:>6.2f} "
            f"{big['server'] / little['server']:>8.2f}"
        )
    print("targets: ratio (server time / the same SQL run directly) <= 2; 1M/100k <= 1.5")


def fill(connection, first: int, last: int, agents: int) -> None:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(FILL, {"first": first, "last": last, "agents": agents})
        cursor.execute("VACUUM ANALYZE calls_callrecord")
        cursor.execute("SELECT count(*) FROM calls_callrecord")
        (count,) = cursor.fetchone()
    print(f"table holds {count} rows (filled in {time.perf_counter() - began:.1f}s)", flush=True)


def bench_filters(connection, agents) -> dict[str, dict[str, str]]:
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute("SELECT client_number FROM calls_callrecord ORDER BY id LIMIT 1 OFFSET 500")
        (number,) = cursor.fetchone()
    today = timezone.localdate()
    month = {"from": str(today - timezone.timedelta(days=30)), "to": str(today)}
    day = {"from": str(today - timezone.timedelta(days=3)), "to": str(today - timezone.timedelta(days=3))}
    return {
        "default (last 7 days)": {},
        "30 days": month,
        "one day": day,
        "agent": {**month, "agent": str(agents[3].pk)},
        "inbound": {**month, "direction": "inbound"},
        "missed": {**month, "status": "missed"},
        "duration >= 600 s": {**month, "op": ">=", "duration": "600"},
        "customer number": {**month, "number": number},
        "hour of day 14 (chart)": {**month, "hour": "14"},
        "sorted by duration": {**month, "sort": "-duration"},
        "agent+missed+day": {**day, "agent": str(agents[3].pk), "status": "missed"},
        "page 100": {**month, "page": "100"},
        "number, 4 digits (scan)": {**month, "number": number[-4:]},
    }


def measure_all(filters: dict[str, dict[str, str]], runs: int) -> dict[str, dict[str, float]]:
    from django.contrib.auth import get_user_model
    from django.http import QueryDict
    from django.test import Client

    from agents.models import Agent
    from calls.records_forms import RecordFilterForm
    from calls.records_selectors import RecordScope, call_record_table, call_records_filter, call_records_visible_to

    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", password="bench-only-password"
    )
    client = Client()
    client.force_login(user)
    results = {}
    scope = RecordScope(supervisor=True)
    for name, params in filters.items():
        server, sql = measure(client, params, runs)
        query = QueryDict(mutable=True)
        query.update(params)
        form = RecordFilterForm(query, agents=list(Agent.objects.all()))
        filters_ = form.filters()
        page = int(params.get("page", "1"))

        def table(filters_=filters_, form=form, page=page):
            return call_record_table(scope=scope, filters=filters_, sort=form.sort_key(), page=page)

        query_time, query_sql = measure_call(table, runs)
        capped = call_records_filter(call_records_visible_to(scope), filters_)
        matches = capped.order_by()[:10001].count()
        results[name] = {
            "server": server,
            "sql": sql,
            "query": query_time,
            "query_sql": query_sql,
            "matches": f"{matches}" if matches <= 10000 else "10000+",
        }
        print(
            f"  {name:<26} request p50 {server:7.1f} ms (its SQL {sql:6.1f} ms)   "
            f"table query p50 {query_time:6.1f} ms (its SQL {query_sql:6.1f} ms)",
            flush=True,
        )
    return results


def measure_call(function, runs: int) -> tuple[float, float]:
    """p50 of a selector call, and of running the SQL it ran directly."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        function()
    return statistics.median(times), run_sql([q["sql"] for q in captured.captured_queries], runs)


def run_sql(statements: list[str], runs: int) -> float:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            began = time.perf_counter()
            for statement in statements:
                cursor.execute(statement)
                cursor.fetchall()
            times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(client, params: dict[str, str], runs: int) -> tuple[float, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm caches and the connection
        assert client.get("/calls/records/", params).status_code == 200
    server_times = []
    for _ in range(runs):
        began = time.perf_counter()
        client.get("/calls/records/", params)
        server_times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get("/calls/records/", params)
    return statistics.median(server_times), run_sql([q["sql"] for q in captured.captured_queries], runs)


if __name__ == "__main__":
    main()
