"""Benchmark: the call records dashboard on PostgreSQL at 100,000 and 1,000,000 rows.

    .venv/bin/python bench/records_dashboard.py [--server postgres://postgres@127.0.0.1:5432] [--runs 15]
    .venv/bin/python bench/records_dashboard.py --sizes 5000 20000 --runs 3      # a quick look
    .venv/bin/python bench/records_dashboard.py --keep-db; ... --reuse-db         # fill once, measure again

Two scratch databases, `bench_records_dash_<size>`, hold the two sizes (the large one's first
rows are the small one's). For each of 14 filters, the first page of the dashboard is requested
through Django's WSGI application, as a server calls it (middleware, session, auth, view, form,
template: the server time), and the very
SQL statements that request ran (captured, every one of them: session, user, roles, agents, the
page with its count, sync status) are run directly on the same connection. The same for the
table a filter change swaps in by HTMX (the page without its frame, sync status and filter
controls) and for the table's own query through the selector (`call_record_table`). Within each
run the sizes take turns (small page, its SQL, large page, its SQL), so load from elsewhere on
the machine hits them alike. Printed per filter, at the large size: p50 server time, p50 of its SQL, their ratio
(target <= 2), what Python adds (server - SQL), and the large size's p50 over the small size's
(target <= 1.5). Rows span 30 days, spread like the sandbox's (3 agents + 7 more, 70% answered,
45% inbound), 60% of them with an outcome (one of the 6 default dispositions). The databases
are dropped at the end (`--keep-db` keeps them, `--reuse-db` measures them again without filling).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_records_dash"
PAGE = "/calls/records/"

FILL = """
INSERT INTO calls_callrecord (
  call_id, provider_id, uuid, direction, status, started_at, ended_at, call_duration, answered_seconds,
  minutes_consumed, agent_id, agent_smartflo_id, agent_name, agent_number, client_number, did_number,
  destination, hangup_cause, recording_url, dtmf_input, broadcast_id, services, department, missed_agents,
  notes, contact_name, custom_identifier, outbound_call_id, disposition_id, raw, first_synced_at, synced_at)
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
  '', '', CASE WHEN r1 < 0.45 THEN 'IVR' ELSE 'Click to Call' END, '', NULL, '', '', '', NULL, d.id,
  '{"bench": true}'::jsonb, now(), now()
FROM (
  SELECT g, r1, r2, dur, started, agent_n,
         CASE WHEN r2 < 0.6 THEN 1 + floor(random() * 6)::int END AS outcome_n  -- most answered calls noted
  FROM (
    SELECT g, random() AS r1, random() AS r2, (3 + floor(random() * 900))::int AS dur,
           now() - random() * interval '30 days' AS started, 1 + floor(random() * %(agents)s)::int AS agent_n
    FROM generate_series(%(first)s, %(last)s) AS g
  ) AS drawn
) AS s
JOIN (SELECT id, smartflo_id, name, follow_me_number, row_number() OVER (ORDER BY id) AS n FROM agents_agent) AS a
  ON a.n = s.agent_n
LEFT JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM calls_disposition) AS d ON d.n = s.outcome_n
"""


def admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def exists(server: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/14", help="the cache, as in production")
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 1_000_000])
    parser.add_argument("--keep-db", action="store_true", help="keep the databases at the end")
    parser.add_argument(
        "--reuse-db", action="store_true", help="use databases a --keep-db run left (migrated again, not refilled)"
    )
    args = parser.parse_args()
    args.keep_db = args.keep_db or args.reuse_db
    names = [f"{DB_NAME}_{size}" for size in args.sizes]
    args.reuse_db = args.reuse_db and all(exists(args.server, name) for name in names)  # else fill both
    for name in names if not args.reuse_db else ():
        admin(args.server, f"DROP DATABASE IF EXISTS {name}")
        admin(args.server, f"CREATE DATABASE {name}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tests.settings",  # DEBUG off, no static manifest needed
        DATABASE_URL=f"{args.server}/{names[0]}",
        CACHE_URL=args.cache_url,  # as deployed (the page reads a "Sync now" marker from it)
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="600",
    )
    try:
        import django

        django.setup()
        run(args, names)
    finally:
        from django.db import connections

        connections.close_all()
        for database in _databases.values():
            database.close()
        if not args.keep_db:
            for name in names:
                admin(args.server, f"DROP DATABASE IF EXISTS {name}")


_databases: dict = {}


def use(name: str):
    """Make the database `name` Django's default (one persistent connection per database)."""
    from django.db import connections

    if name not in _databases:
        settings = {**connections.settings["default"], "NAME": name}
        _databases[name] = connections["default"].__class__(settings, alias="default")
    connections["default"] = _databases[name]
    return _databases[name]


def run(args, names: list[str]) -> None:
    from django.core.management import call_command

    from agents.models import Agent

    small, large = args.sizes
    for name, size in zip(names, args.sizes, strict=True):
        connection = use(name)
        call_command("migrate", verbosity=0)
        if args.reuse_db:
            agents = list(Agent.objects.order_by("pk"))
            print(f"{name}: reused ({Agent.objects.count()} agents)")
            continue
        agents = make_agents()
        fill(connection, 1, small, len(agents))
        if size > small:
            fill(connection, small + 1, size, len(agents))
    filters = bench_filters(use(names[0]), agents)  # fresh databases: the same agent ids in both
    at = measure_all(filters, names, args.runs)
    rows = compare(filters, at[names[0]], at[names[1]])
    print_table(rows, small, large)
    import report  # bench/report.py: the rows of `make bench`'s table (a no-op when run by hand)

    for row in rows:  # one row per filter; `make bench` shows each metric's worst filter
        for part, key in (("table query", "table"), ("page request", "request"), ("filter change (HTMX)", "partial")):
            report.result(bench="records_dashboard", metric=f"{part} / its SQL at {large} rows", detail=row["filter"],
                          value=row[f"{key}_ratio"], target="<= 2")  # fmt: skip
            report.result(bench="records_dashboard", metric=f"{part}, {large} / {small} rows", detail=row["filter"],
                          value=row[f"{key}_growth"], target="<= 1.5")  # fmt: skip


def compare(filters, at_small: dict, at_large: dict) -> list[dict]:
    """The issue's ratios, per filter, at the large size: server time / the same SQL run directly,
    and large-size time / small-size time; for the table's query (the selector) and the whole page."""
    rows = []
    for name in filters:
        big, little = at_large[name], at_small[name]
        row = {"filter": name, "matches": big["matches"]}
        for key in ("table", "request", "partial"):
            row[key], row[f"{key}_sql"] = big[key], big[f"{key}_sql"]
            row[f"{key}_ratio"] = big[key] / big[f"{key}_sql"]
            row[f"{key}_growth"] = big[key] / little[key]
        rows.append(row)
    return rows


def print_table(rows: list[dict], small: int, large: int) -> None:
    growth = f"{large // 1000}k/{small // 1000}k" if large < 1_000_000 else f"{large // 1_000_000}M/{small // 1000}k"
    print()
    print(f"At {large:,} rows (ms, p50). 'table' = the first page's query through the selector; 'page' = the")
    print("whole page through Django (middleware, session, auth, form, template); 'HTMX' = the table a filter")
    print("change swaps in (the same, without the page around it); 'SQL' = every statement each ran, run")
    print(f"directly; 'py' = time - SQL; {growth} = p50 at {large:,} / {small:,}.")
    parts = (("table", "table"), ("page", "request"), ("HTMX", "partial"))
    print(f"{'':<35}" + "".join(f" | {label:<29}" for label, _ in parts))
    heading = f" | {'time':>5} {'SQL':>5} {'py':>4} {'ratio':>5} {growth:>7}"
    print(f"{'filter':<26} {'matches':>8}" + heading * len(parts))
    for row in rows:
        print(
            f"{row['filter']:<26} {row['matches']:>8}"
            + "".join(
                f" | {row[key]:>5.1f} {row[f'{key}_sql']:>5.1f} {row[key] - row[f'{key}_sql']:>4.1f}"
                f" {row[f'{key}_ratio']:>5.2f} {row[f'{key}_growth']:>7.2f}"
                for _, key in parts
            )
        )
    print("targets: ratio (server time / the same SQL run directly) <= 2; growth (1M/100k) <= 1.5")


def make_agents() -> list:
    from agents.models import Agent

    return [
        Agent.objects.create(name=f"Agent {i:02d}", follow_me_number=f"+9198765{i:05d}", smartflo_id=str(100000 + i))
        for i in range(1, 11)
    ]


def fill(connection, first: int, last: int, agents: int) -> None:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(FILL, {"first": first, "last": last, "agents": agents})
        cursor.execute("VACUUM ANALYZE calls_callrecord")
        cursor.execute("SELECT count(*) FROM calls_callrecord")
        (count,) = cursor.fetchone()
    print(f"{connection.settings_dict['NAME']} holds {count} rows (filled in {time.perf_counter() - began:.1f}s)")


def bench_filters(connection, agents) -> dict[str, dict[str, str]]:
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute("SELECT client_number FROM calls_callrecord ORDER BY id LIMIT 1 OFFSET 500")
        (number,) = cursor.fetchone()
        cursor.execute("SELECT id FROM calls_disposition ORDER BY id OFFSET 2 LIMIT 1")  # about 10% of the calls
        (outcome,) = cursor.fetchone()
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
        "outcome": {**month, "outcome": str(outcome)},
    }


def measure_all(filters: dict[str, dict[str, str]], names: list[str], runs: int) -> dict[str, dict[str, dict]]:
    """`{database: {filter: {"request", "request_sql", "table", "table_sql", "matches"}}}` (p50s in ms)."""
    from django.contrib.auth import get_user_model
    from django.http import QueryDict
    from django.test import Client

    from calls.records_forms import RecordFilterForm
    from calls.records_selectors import (
        RecordScope,
        call_record_table,
        call_records_filter,
        call_records_visible_to,
        record_filter_agents,
        record_outcomes,
    )

    scope = RecordScope(supervisor=True)
    clients = {}  # each database's session cookie
    for name in names:
        use(name)
        client = Client()
        user = get_user_model().objects.filter(username="bench").first()
        user = user or get_user_model().objects.create_superuser("bench", password="bench-only-password")
        client.force_login(user)
        clients[name] = "; ".join(f"{key}={morsel.value}" for key, morsel in client.cookies.items())
    results: dict[str, dict[str, dict]] = {name: {} for name in names}
    for label, params in filters.items():
        requests, tables, partials = {}, {}, {}
        for name in names:
            use(name)
            query = QueryDict(mutable=True)
            query.update(params)
            form = RecordFilterForm(query, agents=record_filter_agents(scope=scope), outcomes=record_outcomes())
            filters_, page = form.filters(), int(params.get("page", "1"))

            def request(cookie=clients[name], params=params):
                status, body = serve(cookie, params)
                assert status == 200 and b"<html" in body, status

            def partial(cookie=clients[name], params=params):  # what a filter change in the page asks
                status, body = serve(cookie, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="records-results")
                assert status == 200 and b"<html" not in body, status

            def table(filters_=filters_, form=form, page=page):
                return call_record_table(scope=scope, filters=filters_, sort=form.sort_key(), page=page)

            requests[name], tables[name], partials[name] = request, table, partial
            matches = call_records_filter(call_records_visible_to(scope), filters_).order_by()[:10001].count()
            results[name][label] = {"matches": f"{matches}" if matches <= 10000 else "10000+"}
        for kind, functions in (("request", requests), ("partial", partials), ("table", tables)):
            for name, (p50, sql) in measure(functions, runs).items():
                results[name][label].update({kind: p50, f"{kind}_sql": sql})
        print(
            f"  {label:<24}"
            + "".join(
                f" | {name.rsplit('_', 1)[-1]:>7}: page {r['request']:5.1f} ms (SQL {r['request_sql']:4.1f}),"
                f" HTMX {r['partial']:5.1f} ({r['partial_sql']:4.1f}), table {r['table']:5.1f} ({r['table_sql']:4.1f})"
                for name, r in ((name, results[name][label]) for name in names)
            ),
            flush=True,
        )
    return results


_application = None


def serve(cookie: str, params: dict[str, str], **headers: str) -> tuple[int, bytes]:
    """The page as a WSGI server gets it: Django's WSGI application called with the request's
    environ, its body read and closed (`request_finished` and all). Server time is this call; the
    test client would add its own work (building the request, recording templates and cookies)."""
    global _application
    from urllib.parse import urlencode

    from django.core.handlers.wsgi import WSGIHandler

    _application = _application or WSGIHandler()
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": PAGE, "QUERY_STRING": urlencode(params), "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver", "HTTP_COOKIE": cookie, "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, **headers,
    }  # fmt: skip
    started = []
    body = _application(environ, lambda status, headers, exc_info=None: started.append(status))
    try:
        content = b"".join(body)
    finally:
        body.close()
    return int(started[0].split()[0]), content


def measure(functions: dict, runs: int) -> dict[str, tuple[float, float]]:
    """For each database, p50 of its function and p50 of running the SQL statements it ran
    directly on the same connection; every run times them all, one after the other."""
    from django.test.utils import CaptureQueriesContext

    statements = {}
    for name, function in functions.items():
        connection = use(name)
        for _ in range(2):  # warm caches and the connection
            function()
        with CaptureQueriesContext(connection) as captured:
            function()
        statements[name] = [q["sql"] for q in captured.captured_queries]
    times = {name: ([], []) for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            connection = use(name)
            began = time.perf_counter()
            function()
            times[name][0].append((time.perf_counter() - began) * 1000)
            with connection.cursor() as cursor:
                began = time.perf_counter()
                for statement in statements[name]:
                    cursor.execute(statement)
                    cursor.fetchall()
                times[name][1].append((time.perf_counter() - began) * 1000)
    return {name: (statistics.median(page), statistics.median(sql)) for name, (page, sql) in times.items()}


if __name__ == "__main__":
    main()
