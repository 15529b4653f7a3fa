"""The resolution log's batch writer (masking/logwriter.py): rows reach the table within the
flush interval, in batches; a failed write keeps its rows; a clean exit writes what waits; a
forked child starts empty. The rest of the suite writes rows synchronously (tests/settings.py)."""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import DataError, OperationalError

from masking import logwriter
from masking.logwriter import ResolutionLogWriter
from masking.models import ResolutionLog
from tests.masking.conftest import dialplan_body, post_resolve, transfer_to
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def row(call_id: str) -> dict:
    return {
        "created_at": datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        "method": "POST",
        "call_id": call_id,
        "uuid": "u",
        "caller": "+919845012345",
        "dialled_number": "+918069000111",
        "outcome": ResolutionLog.Outcome.MATCHED,
        "answer": "9876500002",
        "fallback": False,
        "status_code": 200,
        "matched_rule": None,
        "latency_ms": 1.5,
    }


@pytest.fixture
def fresh_writer(monkeypatch):
    """The process's writer replaced by a new one for the test, closed afterwards."""
    created: list[ResolutionLogWriter] = []

    def make(flush_seconds: float) -> ResolutionLogWriter:
        writer = ResolutionLogWriter(flush_seconds)
        created.append(writer)
        monkeypatch.setattr(logwriter, "_writer", writer)
        return writer

    yield make
    for writer in created:
        atexit.unregister(writer.close)
        writer._closed = True
        writer._pending.clear()
        writer._wake.set()


def test_resolve_answers_before_the_row_is_written_and_the_writer_writes_it(
    transactional_db, client, settings, make_rule, fresh_writer
):
    settings.MASKING_LOG_FLUSH_SECONDS = 60.0
    writer = fresh_writer(60.0)
    rule = make_rule()

    for _ in range(3):
        response = post_resolve(client)
        assert transfer_to(response.json()) == "9876500002"  # the test client has closed it, as a server does
    assert ResolutionLog.objects.count() == 0  # handed over, not written in the request
    assert writer.pending == 3

    writer._wake.set()  # as the interval ending would
    assert wait_until(lambda: ResolutionLog.objects.count() == 3)
    assert set(ResolutionLog.objects.values_list("matched_rule", "outcome", "status_code")) == {
        (rule.pk, ResolutionLog.Outcome.MATCHED, 200)
    }
    assert writer.pending == 0 and writer.written == 3


def test_rows_are_written_within_the_flush_interval(transactional_db, fresh_writer):
    writer = fresh_writer(0.1)
    writer.submit(row("c0"))
    started = time.monotonic()
    assert wait_until(lambda: ResolutionLog.objects.filter(call_id="c0").exists(), timeout=5)
    assert time.monotonic() - started < 2
    assert writer.written == 1


def test_a_full_batch_is_written_at_once_without_waiting_for_the_interval(transactional_db, fresh_writer, monkeypatch):
    monkeypatch.setattr(logwriter, "BATCH_SIZE", 5)
    writer = fresh_writer(60.0)  # the interval alone would never fire during the test
    for i in range(5):
        writer.submit(row(f"c{i}"))
    assert wait_until(lambda: ResolutionLog.objects.count() == 5)
    assert sorted(ResolutionLog.objects.values_list("call_id", flat=True)) == [f"c{i}" for i in range(5)]


def test_a_failed_write_keeps_its_rows_in_order_and_the_next_flush_writes_them(
    transactional_db, fresh_writer, monkeypatch
):
    writer = fresh_writer(60.0)
    for i in range(3):
        writer.submit(row(f"c{i}"))
    real_insert = logwriter.resolution_log_insert_many

    def down(rows):
        raise OperationalError("database away")

    monkeypatch.setattr(logwriter, "resolution_log_insert_many", down)
    with pytest.raises(OperationalError):
        writer.flush()
    assert writer.pending == 3
    writer.submit(row("c3"))

    monkeypatch.setattr(logwriter, "resolution_log_insert_many", real_insert)
    assert writer.flush() == 4
    assert list(ResolutionLog.objects.order_by("pk").values_list("call_id", flat=True)) == ["c0", "c1", "c2", "c3"]


def test_the_thread_retries_after_a_failure_with_backoff(transactional_db, fresh_writer, monkeypatch, caplog):
    monkeypatch.setattr(logwriter, "RETRY_SECONDS", (0.05, 0.2))
    writer = fresh_writer(0.02)
    real_insert = logwriter.resolution_log_insert_many
    failures = []

    def flaky(rows):
        if len(failures) < 2:
            failures.append(len(rows))
            raise OperationalError("database restarting")
        real_insert(rows)

    monkeypatch.setattr(logwriter, "resolution_log_insert_many", flaky)
    with caplog.at_level(logging.ERROR, logger="masking.logwriter"):
        writer.submit(row("c0"))
        assert wait_until(lambda: ResolutionLog.objects.filter(call_id="c0").exists())
    assert failures == [1, 1]
    assert any("retrying in" in r.getMessage() for r in caplog.records)


def test_while_backing_off_a_full_queue_does_not_wake_the_writer(transactional_db, fresh_writer, monkeypatch):
    """The database is down and requests keep coming: attempts follow the backoff, they do not
    follow the traffic (which would hammer the database and flood the log)."""
    monkeypatch.setattr(logwriter, "BATCH_SIZE", 5)
    monkeypatch.setattr(logwriter, "RETRY_SECONDS", (0.4, 0.4))
    writer = fresh_writer(0.01)
    attempts = []

    def down(rows):
        attempts.append(len(rows))
        raise OperationalError("database away")

    monkeypatch.setattr(logwriter, "resolution_log_insert_many", down)
    deadline = time.monotonic() + 1.0
    i = 0
    while time.monotonic() < deadline:
        writer.submit(row(f"c{i}"))  # every submit past the batch size used to wake the thread
        i += 1
        time.sleep(0.002)
    assert i > 100
    assert 1 <= len(attempts) <= 4  # the first try, then one every 0.4 s
    assert writer.pending == i


def test_a_row_the_database_refuses_is_dropped_and_the_others_are_written(
    transactional_db, fresh_writer, monkeypatch, caplog
):
    writer = fresh_writer(60.0)
    real_insert = logwriter.resolution_log_insert_many

    def picky(rows):
        if any(r["call_id"] == "bad" for r in rows):
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes: +919845012345")
        real_insert(rows)

    monkeypatch.setattr(logwriter, "resolution_log_insert_many", picky)
    for call_id in ("c0", "bad", "c2"):
        writer.submit(row(call_id))
    with caplog.at_level(logging.ERROR, logger="masking.logwriter"):
        assert writer.flush() == 2
    assert sorted(ResolutionLog.objects.values_list("call_id", flat=True)) == ["c0", "c2"]
    assert writer.pending == 0  # the bad row does not block the queue
    (message,) = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert "1 rows refused" in message and "DataError" in message and "9845012345" not in message


def test_values_the_database_cannot_store_are_cleaned_before_the_row_is_queued(db, client, settings, make_rule):
    settings.MASKING_LOG_FLUSH_SECONDS = 0
    make_rule()
    post_resolve(client, dialplan_body(call_id="17152\x00357\ud800", uuid="\u0000"))
    logged = ResolutionLog.objects.get()
    assert "\x00" not in logged.call_id and "\x00" not in logged.uuid
    logged.call_id.encode("utf-8")  # no lone surrogate left


def test_beyond_max_pending_the_oldest_rows_are_dropped_and_counted(
    transactional_db, fresh_writer, monkeypatch, caplog
):
    monkeypatch.setattr(logwriter, "MAX_PENDING", 3)
    writer = fresh_writer(60.0)
    for i in range(5):
        writer.submit(row(f"c{i}"))
    assert writer.pending == 3
    with caplog.at_level(logging.ERROR, logger="masking.logwriter"):
        writer.flush()
    assert sorted(ResolutionLog.objects.values_list("call_id", flat=True)) == ["c2", "c3", "c4"]
    assert any("2 rows dropped" in r.getMessage() for r in caplog.records)


def test_a_forked_child_starts_with_no_rows_of_its_parent(fresh_writer):
    writer = fresh_writer(60.0)
    writer._closed = True  # no thread: the row stays pending in the parent
    writer.submit(row("c0"))
    assert writer.pending == 1
    pid = os.fork()
    if pid == 0:  # the child: gunicorn's worker after the fork
        os._exit(0 if writer.pending == 0 and writer._thread is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert writer.pending == 1


def test_zero_interval_writes_the_row_before_the_request_ends(db, client, settings, make_rule):
    settings.MASKING_LOG_FLUSH_SECONDS = 0
    make_rule()
    post_resolve(client)  # the test client closes the response, as a WSGI server does
    assert ResolutionLog.objects.count() == 1


def test_a_clean_exit_writes_the_rows_that_wait(tmp_path):
    """A server process that exits normally (gunicorn's graceful stop) loses no row."""
    database = tmp_path / "exit.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, django
        os.environ.update(DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL="sqlite:///{database}")
        django.setup()
        from django.core.management import call_command
        call_command("migrate", "masking", verbosity=0)
        from datetime import UTC, datetime
        from masking.logwriter import resolution_log_write
        from masking.models import ResolutionLog
        values = dict(created_at=datetime(2026, 11, 26, tzinfo=UTC), method="POST", uuid="u",
                      caller="", dialled_number="+918069000111", outcome="unmatched", answer="",
                      fallback=False, status_code=404, matched_rule=None, latency_ms=1.0)
        for i in range(3):
            resolution_log_write(dict(values, call_id=f"exit-{{i}}"), flush_seconds=600)
        assert ResolutionLog.objects.count() == 0  # all three wait for the interval
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]

    import sqlite3

    with sqlite3.connect(database) as db:
        rows = db.execute(f"SELECT call_id FROM {ResolutionLog._meta.db_table} ORDER BY call_id").fetchall()
    assert rows == [("exit-0",), ("exit-1",), ("exit-2",)]


def test_on_postgresql_a_row_copy_refuses_is_dropped_alone(transactional_db, fresh_writer, caplog):
    """The batch goes in by COPY: its errors must come out as Django's (DataError, not a bare
    psycopg error) for the writer to drop the one bad row rather than wait for ever."""
    from django.db import connection

    from tests.needs import skip_or_fail

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")
    writer = fresh_writer(60.0)
    for call_id in ("c0", "nul\x00byte", "c2"):  # the view cleans NULs; the writer must not rely on it
        writer.submit(row(call_id))
    with caplog.at_level(logging.ERROR, logger="masking.logwriter"):
        assert writer.flush() == 2
    assert sorted(ResolutionLog.objects.values_list("call_id", flat=True)) == ["c0", "c2"]
    assert any("1 rows refused" in r.getMessage() for r in caplog.records)
