"""The dashboard's "Sync now" and its self-refreshing status line (/calls/records/sync/)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from kombu.exceptions import OperationalError

from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState
from calls.services.records import _lease_acquire, call_records_sync_request_taken
from calls.tasks import sync_call_records
from tests.records.conftest import assert_table_equals_sandbox, hours_ago, login

pytestmark = pytest.mark.django_db

URL = "/calls/records/sync/"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    """The sync task as a queue with no worker behind it: what was queued, nothing run."""
    calls: list[dict] = []
    monkeypatch.setattr(sync_call_records, "apply_async", lambda **options: calls.append(options))
    return calls


def polls_every(html: str) -> str:
    return re.search(r'hx-trigger="every (\d+s)"', html)[1]


def test_a_supervisor_syncs_now_and_the_line_says_what_was_stored(records_settings, sandbox, supervisor_client):
    sandbox.generate_records(count=40, start=hours_ago(5), end=hours_ago(1), seed=31)

    html = supervisor_client.post(URL, **HX).content.decode()  # tests run tasks eagerly: a worker at once

    assert_table_equals_sandbox(sandbox, hours_ago(6), hours_ago(0))
    run = CallRecordSyncRun.objects.get()
    assert (run.kind, run.trigger, run.status, run.records_stored) == ("incremental", "manual", "succeeded", 40)
    assert html.startswith('<div class="sync-status" id="sync-status"') and "Synced" in html and "40 records" in html
    assert polls_every(html) == "60s" and re.search(r'<button [^>]*id="sync-now"(?![^>]*disabled)', html)


def test_until_a_worker_starts_it_the_line_says_it_waits_and_polls_often(records_settings, supervisor_client, queued):
    html = supervisor_client.post(URL, **HX).content.decode()
    assert queued == [{"kwargs": {"trigger": "manual"}}]
    assert "Sync asked for" in html and "waiting for a worker" in html
    assert polls_every(html) == "3s" and re.search(r'<button [^>]*id="sync-now"[^>]*disabled', html)

    supervisor_client.post(URL, **HX)  # a second click while it waits queues nothing more
    assert len(queued) == 1
    assert "waiting for a worker" in supervisor_client.get("/calls/records/").content.decode()

    call_records_sync_request_taken()  # what the task does first, then its run
    CallRecordSyncRun.objects.create(trigger="manual", records_stored=7)
    html = supervisor_client.get(URL).content.decode()
    assert "Syncing" in html and "7 records so far" in html and polls_every(html) == "3s"
    supervisor_client.post(URL, **HX)  # nor while it runs
    assert len(queued) == 1


def test_the_task_takes_the_request_up_even_when_its_run_is_skipped(records_settings, supervisor_client, queued):
    """The line waits for the task, not for a run that starts after the click (clocks differ,
    and a run can be skipped while another holds the lock)."""
    supervisor_client.post(URL, **HX)
    assert "waiting for a worker" in supervisor_client.get(URL).content.decode()
    CallRecordSyncState.objects.create(name="default")
    assert _lease_acquire("a-stuck-run")  # another run holds the lock: the task's run is skipped

    sync_call_records.run(trigger="manual")

    assert CallRecordSyncRun.objects.get().status == "skipped"
    html = supervisor_client.get(URL).content.decode()
    assert "waiting for a worker" not in html and polls_every(html) == "60s"


def test_an_unreachable_queue_is_said_and_nothing_is_left_waiting(records_settings, supervisor_client, monkeypatch):
    def down(**options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sync_call_records, "apply_async", down)
    response = supervisor_client.post(URL, **HX)
    html = response.content.decode()
    assert response.status_code == 200  # HTMX swaps it in, so the error shows where the click was
    assert "The task queue cannot be reached" in html and "waiting for a worker" not in html
    assert polls_every(html) == "60s"
    assert not CallRecordSyncRun.objects.exists() and not CallRecord.objects.exists()


def test_without_javascript_the_form_post_goes_back_to_the_dashboard_with_a_message(
    records_settings, supervisor_client, queued
):
    response = supervisor_client.post(URL, follow=True)
    assert response.redirect_chain == [("/calls/records/", 302)]
    assert "Sync asked for: new records appear" in response.content.decode()


def test_agents_see_the_line_without_the_button_and_cannot_sync(records_settings, asha, queued):
    client = login(asha.user)
    html = client.get(URL).content.decode()
    assert "Not synced yet" in html and "sync-now" not in html
    assert "sync-now" not in client.get("/calls/records/").content.decode()
    assert client.post(URL, **HX).status_code == 403
    assert queued == []
