"""The call records sync against the sandbox: complete, idempotent, resumable, never overlapping."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState, OutboundCall
from calls.models import CallRecordSyncRunStatus as RunStatus
from calls.services import LeaseLost, call_records_sync
from calls.services.records import _lease_acquire
from contactcenter.smartflo import SmartfloServerError, format_ist
from tests.records.conftest import (
    PAGE,
    assert_table_equals_sandbox,
    hours_ago,
    table_snapshot,
    watermark,
)

pytestmark = pytest.mark.django_db


def sync(**kwargs) -> CallRecordSyncRun:
    return call_records_sync(trigger="manual", **kwargs)


def test_first_run_stores_every_record_of_the_lookback_and_sets_the_watermark(records_settings, sandbox):
    sandbox.generate_records(count=230, start=hours_ago(20), end=hours_ago(0.1), seed=1)
    sandbox.generate_records(count=5, start=hours_ago(30), end=hours_ago(26), seed=2)  # before the lookback

    before = timezone.now().replace(microsecond=0)
    run = sync()

    assert run.status == RunStatus.SUCCEEDED
    assert run.kind == "incremental"
    assert CallRecord.objects.count() == 230
    assert_table_equals_sandbox(sandbox, hours_ago(24), timezone.now())
    assert watermark() >= before
    assert run.watermark_after == watermark() and run.watermark_before is None
    assert run.records_stored == 230 and run.pages >= 230 // PAGE
    missed = CallRecord.objects.filter(status="missed").first()
    raw = sandbox.record(missed.call_id)
    assert missed.missed_agents == raw["missed_agents"] and missed.raw["call_id"] == missed.call_id
    # a time cursor, never a page number past 1 (pages cannot shift under it)
    assert {entry["query"]["page"] for entry in sandbox.requests(path="/v1/call/records")} == {"1"}


def test_one_statement_writes_a_whole_page(records_settings, sandbox, django_assert_max_num_queries):
    sandbox.generate_records(count=PAGE * 3, start=hours_ago(3), end=hours_ago(1), seed=3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        sync()
    inserts = [q["sql"] for q in queries.captured_queries if 'INSERT INTO "calls_callrecord"' in q["sql"]]
    assert len(inserts) == 4  # three full pages and the boundary re-read (one row), one statement each
    assert CallRecord.objects.count() == PAGE * 3


def test_incremental_runs_read_from_the_watermark_minus_the_overlap(records_settings, sandbox):
    sandbox.generate_records(count=40, start=hours_ago(5), end=hours_ago(1), seed=4)
    sync()
    first_watermark = watermark()
    sandbox.clear_requests()

    second = sync()

    (request, *_) = sandbox.requests(path="/v1/call/records")
    expected_from = timezone.localtime(first_watermark - timedelta(seconds=900))
    assert request["query"]["from_date"] == format_ist(expected_from)
    assert second.window_from == first_watermark - timedelta(seconds=900)
    assert watermark() >= first_watermark


def test_a_record_that_appears_late_inside_the_overlap_is_picked_up_by_the_next_run(records_settings, sandbox):
    sandbox.generate_records(count=60, start=hours_ago(2), end=hours_ago(0.2), seed=5)
    sync()
    mark = watermark()
    # A call that started 5 minutes before the watermark ended only now: listed late.
    late_start = timezone.localtime(mark - timedelta(minutes=5))
    (late,) = sandbox.insert_records([{"start": late_start.strftime("%Y-%m-%d %H:%M:%S"), "call_duration": 600}])
    assert not CallRecord.objects.filter(call_id=late).exists()

    sync()

    assert CallRecord.objects.get(call_id=late).call_duration == 600
    assert_table_equals_sandbox(sandbox, hours_ago(24), timezone.now())


def test_a_record_later_than_the_overlap_needs_a_backfill(records_settings, sandbox):
    sync()
    mark = watermark()
    very_late = timezone.localtime(mark - timedelta(minutes=30))
    (call_id,) = sandbox.insert_records([{"start": very_late.strftime("%Y-%m-%d %H:%M:%S")}])

    sync()
    assert not CallRecord.objects.filter(call_id=call_id).exists()

    backfill = sync(start=mark - timedelta(hours=1))
    assert backfill.kind == "backfill"
    assert CallRecord.objects.filter(call_id=call_id).exists()


def test_faults_repeated_rows_and_failed_runs_end_with_the_table_equal_to_smartflo(records_settings, sandbox):
    """30% 5xx and 30% timeouts on every request, pages that repeat rows: runs may fail part-way,
    and the next run finishes the window. Nothing missing, nothing twice."""
    records_settings.SMARTFLO_TIMEOUT = 0.2
    records_settings.SMARTFLO_MAX_RETRIES = 1  # fewer retries than production: some runs must fail
    records_settings.CDR_SYNC_WINDOW_SECONDS = 2 * 3600  # a failed run keeps its finished windows
    sandbox.generate_records(count=600, start=hours_ago(23), end=hours_ago(0.5), seed=6)
    sandbox.add_fault(endpoint="call_records", status=503, times=2)  # the first run surely fails
    sandbox.add_fault(endpoint="call_records", error_rate=0.3, timeout_rate=0.3, repeat_rows=0.2)

    outcomes = []
    for _ in range(40):
        try:
            outcomes.append(sync().status)
        except SmartfloServerError:
            outcomes.append("failed")
        except Exception as exc:  # a timeout after the retries
            outcomes.append(type(exc).__name__)
        if outcomes[-1] == RunStatus.SUCCEEDED:
            break

    assert outcomes[-1] == RunStatus.SUCCEEDED, outcomes
    failed = [s for s in outcomes if s != RunStatus.SUCCEEDED]
    assert failed, "the faults never stopped a run: make them bite"
    faulted = [e["fault"] for e in sandbox.requests(path="/v1/call/records") if e["fault"]]
    assert any("timeout" in f for f in faulted) and any("error 503" in f for f in faulted)
    assert CallRecordSyncRun.objects.filter(status=RunStatus.FAILED).count() == len(failed)
    sandbox.clear_faults()
    assert_table_equals_sandbox(sandbox, hours_ago(24), timezone.now())
    assert watermark() is not None


def test_pages_with_repeated_rows_by_page_number_are_read_completely(records_settings, sandbox):
    """Even when a whole page starts in one second (read by page number, where the repeat fault
    bites), the provider's count catches the gap and the second walk fills it."""
    start = hours_ago(2)
    stamp = timezone.localtime(start).strftime("%Y-%m-%d %H:%M:%S")
    sandbox.insert_records([{"start": stamp, "call_id": f"1700000000.{i:06d}"} for i in range(PAGE * 2 + 7)])
    sandbox.add_fault(endpoint="call_records", repeat_rows=0.3)

    run = sync(start=start - timedelta(minutes=1), end=start + timedelta(minutes=1))

    assert run.status == RunStatus.SUCCEEDED
    sandbox.clear_faults()
    assert_table_equals_sandbox(sandbox, start - timedelta(minutes=1), start + timedelta(minutes=1))


def test_a_run_killed_mid_window_keeps_its_pages_but_not_the_watermark(records_settings, sandbox):
    sandbox.generate_records(count=PAGE * 6, start=hours_ago(6), end=hours_ago(1), seed=7)

    def fail_after_two_pages(progress):
        if progress.pages == 2:  # every retry of the third page fails
            sandbox.add_fault(endpoint="call_records", status=503, times=10)

    with pytest.raises(SmartfloServerError):
        sync(on_progress=fail_after_two_pages)

    failed = CallRecordSyncRun.objects.get()
    assert failed.status == RunStatus.FAILED and "503" in failed.error
    assert failed.pages == 2
    assert PAGE * 2 - 2 <= CallRecord.objects.count() <= PAGE * 2
    assert watermark() is None  # the window was not finished
    state = CallRecordSyncState.objects.get()
    assert state.lease_owner == "" and state.lease_expires_at is None  # released on the way out

    sandbox.clear_faults()
    assert sync().status == RunStatus.SUCCEEDED
    assert_table_equals_sandbox(sandbox, hours_ago(24), timezone.now())
    assert watermark() is not None


def test_a_run_that_died_holding_the_lock_blocks_others_only_until_its_lease_expires(records_settings, sandbox):
    sandbox.generate_records(count=30, start=hours_ago(3), end=hours_ago(1), seed=8)
    CallRecordSyncState.objects.create(name="default")
    assert _lease_acquire("a-worker-that-was-killed")
    dead = CallRecordSyncRun.objects.create(status=RunStatus.RUNNING, trigger="beat")

    skipped = sync()
    assert skipped.status == RunStatus.SKIPPED and "holds the lock" in skipped.error
    assert CallRecord.objects.count() == 0 and not sandbox.requests(path="/v1/call/records")

    CallRecordSyncState.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert sync().status == RunStatus.SUCCEEDED
    assert CallRecord.objects.count() == 30
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "lock expired" in dead.error


def test_a_run_that_lost_its_lease_stops_writing(records_settings, sandbox):
    sandbox.generate_records(count=PAGE * 4, start=hours_ago(4), end=hours_ago(1), seed=9)

    def steal_the_lease(progress):
        if progress.pages == 1:
            CallRecordSyncState.objects.update(lease_owner="somebody-else")

    with pytest.raises(LeaseLost):
        sync(on_progress=steal_the_lease)
    assert CallRecord.objects.count() <= PAGE
    assert watermark() is None


def test_a_second_run_changes_nothing(records_settings, sandbox):
    sandbox.generate_records(count=120, start=hours_ago(8), end=hours_ago(1), seed=10)
    sync()
    once = table_snapshot()
    sync()
    sync(start=hours_ago(10))
    assert table_snapshot() == once


def test_long_ranges_are_stored_window_by_window(records_settings, sandbox):
    records_settings.CDR_SYNC_WINDOW_SECONDS = 6 * 3600
    sandbox.generate_records(count=100, start=hours_ago(23), end=hours_ago(1), seed=11)
    seen = []

    run = sync(on_progress=lambda p: seen.append((p.window_index, p.windows)))

    assert run.status == RunStatus.SUCCEEDED
    assert {w for w, _ in seen} == {1, 2, 3, 4} and {n for _, n in seen} == {4}
    assert CallRecord.objects.count() == 100


def test_a_recording_url_that_arrives_later_updates_the_row(records_settings, sandbox):
    start = timezone.localtime(hours_ago(0.1)).strftime("%Y-%m-%d %H:%M:%S")  # inside the overlap
    (call_id,) = sandbox.insert_records([{"start": start, "recording_url": None}])
    sync()
    assert CallRecord.objects.get(call_id=call_id).recording_url == ""

    url = f"{sandbox.url}/recordings/{call_id}.mp3"
    sandbox.patch_record(call_id, recording_url=url)
    sync()

    assert CallRecord.objects.get(call_id=call_id).recording_url == url


def test_blanks_never_erase_known_values_but_real_changes_land(records_settings, sandbox, sandbox_agents):
    start = timezone.localtime(hours_ago(0.1)).strftime("%Y-%m-%d %H:%M:%S")
    (call_id,) = sandbox.insert_records(
        [
            {
                "start": start,
                "recording_url": "http://example.test/r.mp3",
                "hangup_cause": "NORMAL_CLEARING",
                "agent_id": 100001,
                "agent_name": "Asha Rao",
                "call_duration": 95,
                "dtmf_input": "2",
                "department": ["Sales"],
            }
        ]
    )
    sync()
    sandbox.patch_record(
        call_id,
        recording_url=None,
        hangup_cause="",
        agent_id=None,
        agent_name=None,
        call_duration=None,
        dtmf_input=None,
        department=[],
        status="missed",
    )

    sync()

    record = CallRecord.objects.get(call_id=call_id)
    assert record.recording_url == "http://example.test/r.mp3"
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.agent == sandbox_agents["asha"] and record.agent_name == "Asha Rao"
    assert record.call_duration == 95
    assert record.dtmf_input == "2" and record.department == "Sales"
    assert record.status == "missed"  # a real change is applied
    assert record.raw["recording_url"] is None  # raw is the payload as last received


def test_a_page_that_repeats_a_row_writes_it_once(records_settings, sandbox):
    start = hours_ago(1)
    stamp = timezone.localtime(start).strftime("%Y-%m-%d %H:%M:%S")
    (call_id,) = sandbox.insert_records([{"start": stamp}])
    real_query = sandbox.state.records.query

    def doubled(query, *, repeat_rows=0.0):
        data = real_query(query, repeat_rows=repeat_rows)
        data["results"] = data["results"] * 2
        data["size"] = len(data["results"])
        return data

    sandbox.state.records.query = doubled
    try:
        run = sync()
    finally:
        sandbox.state.records.query = real_query
    assert run.records_received == 2 and run.records_stored == 1
    assert CallRecord.objects.filter(call_id=call_id).count() == 1


def test_records_link_to_their_agent_and_outbound_call(records_settings, sandbox, sandbox_agents, make_user):
    asha, vikram = sandbox_agents["asha"], sandbox_agents["vikram"]
    user = make_user("placer", role="agent")
    by_identifier = OutboundCall.objects.create(requested_by=user, agent=asha, destination="+919812345678")
    by_call_id = OutboundCall.objects.create(
        requested_by=user, agent=asha, destination="+919812345679", call_id="1717000000.000042"
    )
    stamp = timezone.localtime(hours_ago(1)).strftime("%Y-%m-%d %H:%M:%S")
    sandbox.insert_records(
        [
            {"start": stamp, "call_id": "1717000000.000041", "custom_identifier": str(by_identifier.custom_identifier),
             "agent_id": 100001},
            {"start": stamp, "call_id": "1717000000.000042", "agent_id": None, "agent_number": "+919876500002"},
            {"start": stamp, "call_id": "1717000000.000043", "custom_identifier": str(uuid.uuid4()),
             "agent_id": 999999},
        ]
    )  # fmt: skip

    sync()

    first, second, third = CallRecord.objects.order_by("call_id")
    assert (first.outbound_call, first.agent) == (by_identifier, asha)
    assert (second.outbound_call, second.agent) == (by_call_id, vikram)
    assert (third.outbound_call, third.agent) == (None, None) and third.agent_smartflo_id == "999999"


def test_a_backfill_that_continues_the_watermark_moves_it(records_settings, sandbox):
    sandbox.generate_records(count=20, start=hours_ago(30), end=hours_ago(2), seed=12)
    run = sync(start=hours_ago(48), end=hours_ago(1))
    assert run.watermark_after == hours_ago(1) or abs((run.watermark_after - hours_ago(1)).total_seconds()) < 5
    # a backfill of an older range leaves it alone
    sync(start=hours_ago(72), end=hours_ago(60))
    assert abs((watermark() - hours_ago(1)).total_seconds()) < 5


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_leave_the_same_result_as_one(records_settings, sandbox):
    sandbox.generate_records(count=PAGE * 5, start=hours_ago(6), end=hours_ago(1), seed=13)
    sandbox.add_fault(endpoint="call_records", latency=0.05)  # both are surely running at once
    barrier = threading.Barrier(2, timeout=10)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(sync().status)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert sorted(results) == [RunStatus.SKIPPED, RunStatus.SUCCEEDED]
    sandbox.clear_faults()
    assert_table_equals_sandbox(sandbox, hours_ago(24), timezone.now())
    concurrent = table_snapshot()

    CallRecord.objects.all().delete()
    CallRecordSyncState.objects.all().delete()
    assert sync().status == RunStatus.SUCCEEDED
    assert table_snapshot() == concurrent


def test_a_number_smartflo_recorded_is_kept_as_it_is_even_one_that_cannot_exist(records_settings, sandbox):
    """Typed numbers must exist in the numbering plan; numbers from the network are what they
    are: the sync normalises them without judging them."""
    (call_id,) = sandbox.insert_records(
        [{"start": timezone.localtime(hours_ago(1)).strftime("%Y-%m-%d %H:%M:%S"), "client_number": "5555555555"}]
    )
    sync()
    assert CallRecord.objects.get(call_id=call_id).client_number == "+915555555555"
