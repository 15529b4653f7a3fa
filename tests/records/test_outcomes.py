"""The agents' outcome (disposition) on call records: copied by the sync and by wrap-ups, then
filtered, shown and counted by the dashboard."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from calls.models import CallRecord, CallStatus, Disposition, OutboundCall, RingingAlert
from calls.services import call_records_sync
from calls.services.actions import call_wrap_up, inbound_call_wrap_up
from calls.services.events import inbound_call_moved
from calls.services.outcomes import inbound_outcome
from tests.records.conftest import hours_ago, login, make_record

pytestmark = pytest.mark.django_db

URL = "/calls/records/"


def sync():
    return call_records_sync(trigger="manual")


def stamp(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")


def outcome_of(call_id: str) -> str | None:
    record = CallRecord.objects.select_related("disposition").get(call_id=call_id)
    return record.disposition.label if record.disposition else None


@pytest.fixture
def labels():
    return {d.label: d for d in Disposition.objects.all()}


def answered_alert(agent, call_id: str, *, minutes_ago: int, **fields) -> RingingAlert:
    return RingingAlert.objects.create(
        agent=agent, call_id=call_id, caller_number="+919812345678", direction="inbound",
        answered_at=timezone.now() - timedelta(minutes=minutes_ago), **fields,
    )  # fmt: skip


def test_records_carry_the_outcome_noted_before_the_sync_and_follow_wrap_ups_after_it(
    records_settings, sandbox, sandbox_agents, make_user, labels
):
    asha, vikram = sandbox_agents["asha"], sandbox_agents["vikram"]
    user = make_user("placer", role="agent")
    ours = OutboundCall.objects.create(
        requested_by=user, agent=asha, destination="+919812345678", call_id="1717000000.000051",
        status=CallStatus.COMPLETED,
    )  # fmt: skip
    call_wrap_up(call=ours, note="wants a demo", disposition=labels["Interested"])  # before any record exists
    # an inbound call Asha passed on to Vikram: each noted an outcome; Vikram had it last
    passed = answered_alert(asha, "1717000000.000052", minutes_ago=20, disposition=labels["Call back later"])
    inbound_call_moved(call_id="1717000000.000052", to_agent=vikram)
    taken = RingingAlert.objects.get(agent=vikram, call_id="1717000000.000052")
    inbound_call_wrap_up(call=taken, note="sold", disposition=labels["Interested"])
    # one nobody noted an outcome for
    answered_alert(asha, "1717000000.000053", minutes_ago=10)
    when = stamp(hours_ago(1))
    sandbox.insert_records(
        [
            {"start": when, "call_id": "1717000000.000051", "custom_identifier": str(ours.custom_identifier)},
            {"start": when, "call_id": "1717000000.000052", "direction": "inbound"},
            {"start": when, "call_id": "1717000000.000053", "direction": "inbound"},
        ]
    )

    sync()

    assert outcome_of("1717000000.000051") == "Interested"
    assert outcome_of("1717000000.000052") == "Interested"  # Vikram's, not what Asha noted
    assert outcome_of("1717000000.000053") is None

    # wrap-ups saved after the sync change the stored records at once
    call_wrap_up(call=ours, note="not now", disposition=labels["Not interested"])
    assert outcome_of("1717000000.000051") == "Not interested"
    inbound_call_wrap_up(call=taken, note="", disposition=None)  # Vikram clears his: Asha's shows
    assert outcome_of("1717000000.000052") == "Call back later"
    inbound_call_wrap_up(call=passed, note="", disposition=None)
    assert outcome_of("1717000000.000052") is None

    # and a sync that reads the records again keeps what the wrap-ups say
    call_wrap_up(call=ours, note="", disposition=labels["Wrong number"])
    sandbox.patch_record("1717000000.000051", recording_url="https://example.invalid/rec.mp3")
    sync()
    assert outcome_of("1717000000.000051") == "Wrong number"
    assert outcome_of("1717000000.000052") is None


def test_the_last_holder_s_outcome_wins():
    now = timezone.now()
    early, late = now - timedelta(minutes=9), now - timedelta(minutes=1)
    # (disposition, transferred_to, answered_at, id)
    assert inbound_outcome([]) is None
    assert inbound_outcome([(None, None, late, 1)]) is None
    assert inbound_outcome([(1, 7, early, 1), (2, None, late, 2)]) == 2  # passed on, then taken
    assert inbound_outcome([(1, 7, early, 1), (None, None, late, 2)]) == 1  # the taker noted none
    assert inbound_outcome([(1, None, early, 1), (2, None, late, 2)]) == 2  # two holders: the later
    assert inbound_outcome([(1, None, late, 1), (2, None, None, 2)]) == 1  # answered beats not answered
    assert inbound_outcome([(1, 7, early, 1), (2, 8, late, 2)]) == 2  # both passed it on: the later


@pytest.mark.django_db(transaction=True)
def test_a_wrap_up_saved_while_the_sync_stores_its_record_is_not_lost(
    records_settings, sandbox, sandbox_agents, make_user
):
    """The sync reads outcomes under lock in the page's transaction: a wrap-up in progress on the
    call makes the page wait, and the record gets the new outcome (not the one read before)."""
    from tests.needs import skip_or_fail

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (row locks): set DATABASE_URL=postgres://...")
    labels = {  # a flush by an earlier transactional test took the migration's defaults
        label: Disposition.objects.get_or_create(label=label)[0] for label in ("Call back later", "Interested")
    }
    user = make_user("placer", role="agent")
    ours = OutboundCall.objects.create(
        requested_by=user, agent=sandbox_agents["asha"], destination="+919812345678", call_id="1717000000.000061",
        status=CallStatus.COMPLETED, disposition=labels["Call back later"],
    )  # fmt: skip
    sandbox.insert_records([{"start": stamp(hours_ago(1)), "call_id": "1717000000.000061"}])
    locked, done = threading.Event(), threading.Event()
    errors = []

    def wrap_up_slowly() -> None:
        try:
            with transaction.atomic():
                call_wrap_up(call=ours, note="", disposition=labels["Interested"])
                locked.set()
                time.sleep(1.0)  # the sync reaches the page meanwhile
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            connections.close_all()

    thread = threading.Thread(target=wrap_up_slowly)
    thread.start()
    assert locked.wait(10)
    sync()
    thread.join(10)

    assert not errors, errors
    assert done.is_set()
    assert outcome_of("1717000000.000061") == "Interested"


def test_the_dashboard_filters_shows_and_counts_outcomes(asha, supervisor_client, labels):
    day = timezone.now() - timedelta(hours=2)
    interested = [make_record(agent=asha, started_at=day, disposition=labels["Interested"]) for _ in range(2)]
    later = make_record(agent=asha, started_at=day, disposition=labels["Call back later"])
    unnoted = make_record(agent=asha, started_at=day)
    today = {"from": "", "to": ""}

    html = supervisor_client.get(URL, today).content.decode()
    assert "<th>Outcome</th>" in html and '<option value="none">No outcome</option>' in html
    assert f'<option value="{labels["Interested"].pk}">Interested</option>' in html
    assert f'data-call-id="{later.call_id}"' in html and "<td>Call back later</td>" in html

    def shown(**query) -> set[str]:
        html = supervisor_client.get(URL, {**today, **query}).content.decode()
        return {r.call_id for r in CallRecord.objects.all() if f'data-call-id="{r.call_id}"' in html}

    assert shown(outcome=labels["Interested"].pk) == {r.call_id for r in interested}
    assert shown(outcome="none") == {unnoted.call_id}
    # a filter that no longer exists (a deleted disposition) is an error, and ignored
    html = supervisor_client.get(URL, {**today, "outcome": "999999"}).content.decode()
    assert "Outcome: Select a valid choice." in html and "1–4 of 4 calls" in html

    charts = supervisor_client.get("/calls/records/charts/", today).json()
    assert charts["outcomes"] == {
        "labels": ["Interested", "Call back later", "No outcome"],
        "keys": [labels["Interested"].pk, labels["Call back later"].pk, "none"],
        "values": [2, 1, 1],
    }
    filtered = supervisor_client.get("/calls/records/charts/", {**today, "outcome": "none"}).json()
    assert filtered["total"] == 1 and filtered["outcomes"]["keys"] == ["none"]


def test_the_outcomes_per_agent_chart_splits_each_agents_calls_by_outcome(asha, vikram, supervisor_client, labels):
    day = timezone.now() - timedelta(hours=2)
    interested, later = labels["Interested"], labels["Call back later"]
    for agent, outcome, count in ((asha, interested, 2), (asha, None, 1), (vikram, later, 3), (vikram, interested, 1)):
        for _ in range(count):
            make_record(agent=agent, started_at=day, disposition=outcome)
    make_record(agent=None, started_at=day)  # a call no agent of ours had
    charts = supervisor_client.get("/calls/records/charts/", {"from": "", "to": ""}).json()
    assert charts["agent_outcomes"] == {
        "labels": ["Vikram Singh", "Asha Rao", "No agent"],  # as the per-agent chart: most calls first
        "keys": [vikram.pk, asha.pk, "none"],
        "series": [
            {"key": interested.pk, "label": "Interested", "values": [1, 2, 0]},
            {"key": later.pk, "label": "Call back later", "values": [3, 0, 0]},
            {"key": "none", "label": "No outcome", "values": [0, 1, 1]},
        ],
    }
    assert charts["agents"]["keys"] == charts["agent_outcomes"]["keys"]
    # every series sums to its bar of the outcomes chart
    assert [sum(s["values"]) for s in charts["agent_outcomes"]["series"]] == charts["outcomes"]["values"]
    only_asha = supervisor_client.get("/calls/records/charts/", {"from": "", "to": "", "agent": asha.pk}).json()
    assert only_asha["agent_outcomes"]["keys"] == [asha.pk]
    assert [s["values"] for s in only_asha["agent_outcomes"]["series"]] == [[2], [1]]


def test_the_charts_follow_a_wrap_up_at_once(asha, supervisor_client, make_user, labels):
    ours = OutboundCall.objects.create(
        requested_by=make_user("placer", role="agent"), agent=asha, destination="+919812345678",
        status=CallStatus.COMPLETED,
    )  # fmt: skip
    make_record(agent=asha, started_at=timezone.now() - timedelta(hours=1), outbound_call=ours)
    everything = {"from": "", "to": ""}
    assert supervisor_client.get("/calls/records/charts/", everything).json()["outcomes"]["labels"] == ["No outcome"]
    call_wrap_up(call=ours, note="", disposition=labels["Interested"])
    assert supervisor_client.get("/calls/records/charts/", everything).json()["outcomes"]["labels"] == ["Interested"]


def test_an_agent_filters_their_own_records_by_outcome(asha, vikram, labels):
    day = timezone.now() - timedelta(hours=2)
    mine = make_record(agent=asha, started_at=day, disposition=labels["Interested"])
    make_record(agent=vikram, started_at=day, disposition=labels["Interested"])
    html = login(asha.user).get(URL, {"from": "", "to": "", "outcome": labels["Interested"].pk}).content.decode()
    assert "1–1 of 1 call" in html and f'data-call-id="{mine.call_id}"' in html


def test_the_migration_copies_the_outcomes_already_noted(asha, vikram, make_user, labels):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("calls.migrations.0010_callrecord_disposition")
    ours = OutboundCall.objects.create(
        requested_by=make_user("placer", role="agent"), agent=asha, destination="+919812345678",
        status=CallStatus.COMPLETED, disposition=labels["Resolved"],
    )  # fmt: skip
    answered_alert(asha, "1717000000.000071", minutes_ago=9, transferred_to=vikram, disposition=labels["Escalated"])
    answered_alert(vikram, "1717000000.000071", minutes_ago=5, disposition=labels["Interested"])
    answered_alert(asha, "1717000000.000072", minutes_ago=9, transferred_to=vikram, disposition=labels["Escalated"])
    answered_alert(vikram, "1717000000.000072", minutes_ago=5)
    day = timezone.now() - timedelta(hours=1)
    placed = make_record(agent=asha, started_at=day, outbound_call=ours)
    make_record(agent=vikram, started_at=day, call_id="1717000000.000071", direction="inbound")
    make_record(agent=vikram, started_at=day, call_id="1717000000.000072", direction="inbound")
    untouched = make_record(agent=asha, started_at=day)
    CallRecord.objects.update(disposition=None)  # as the column comes: empty

    migration.copy_outcomes(apps, None)

    assert outcome_of(placed.call_id) == "Resolved"
    assert outcome_of("1717000000.000071") == "Interested"
    assert outcome_of("1717000000.000072") == "Escalated"
    assert outcome_of(untouched.call_id) is None


def test_a_disposition_corrected_in_the_admin_shows_on_the_records(admin_client, asha, make_user, labels):
    ours = OutboundCall.objects.create(
        requested_by=make_user("placer", role="agent"), agent=asha, destination="+919812345678",
        status=CallStatus.COMPLETED, disposition=labels["Interested"],
    )  # fmt: skip
    placed = make_record(agent=asha, started_at=timezone.now() - timedelta(hours=1), outbound_call=ours)
    inbound = answered_alert(asha, "1717000000.000081", minutes_ago=30)
    received = make_record(agent=asha, started_at=timezone.now() - timedelta(hours=1), call_id="1717000000.000081")

    for url, call, label in (
        (f"/admin/calls/outboundcall/{ours.pk}/change/", placed, "Wrong number"),
        (f"/admin/calls/ringingalert/{inbound.pk}/change/", received, "Resolved"),
    ):
        management = {"provider_requests-TOTAL_FORMS": "0", "provider_requests-INITIAL_FORMS": "0"}  # the inline
        response = admin_client.post(url, {"note": "corrected", "disposition": labels[label].pk, **management})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert outcome_of(call.call_id) == label


def test_the_admin_call_page_offers_no_provider_request_to_add(admin_client, asha, make_user):
    call = OutboundCall.objects.create(
        requested_by=make_user("placer", role="agent"), agent=asha, destination="+919812345678"
    )
    page = admin_client.get(f"/admin/calls/outboundcall/{call.pk}/change/").content.decode()
    assert 'name="note"' in page
    assert 'name="provider_requests-MAX_NUM_FORMS" value="0"' in page  # the admin's script offers no "Add another"
