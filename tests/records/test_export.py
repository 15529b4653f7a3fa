"""CSV export of the filtered records: streamed, in the display time zone, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.records.conftest import login, make_record

pytestmark = pytest.mark.django_db

URL = "/calls/records/export.csv"
RANGE = {"from": "2026-03-01", "to": "2026-03-31"}
T0 = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # 09:00 in Asia/Kolkata


def read_csv(response) -> list[dict[str, str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def records(asha, vikram):
    return [
        make_record(agent=asha, started_at=T0, call_duration=61, recording_url="http://127.0.0.1:1/r.mp3"),
        make_record(agent=vikram, started_at=T0 + timedelta(hours=2), status="missed", answered_seconds=0),
    ]


def test_the_export_streams_every_filtered_record_with_local_times(records, supervisor_client):
    response = supervisor_client.get(URL, RANGE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="call-records-')
    rows = read_csv(response)
    assert [r["call_id"] for r in rows] == [records[1].call_id, records[0].call_id]  # newest first
    first = rows[1]
    assert first["started_at (Asia/Kolkata)"] == "2026-03-10 09:00:00"
    assert first["ended_at (Asia/Kolkata)"] == "2026-03-10 09:01:01"
    assert first["agent"] == "Asha Rao" and first["call_duration_seconds"] == "61"
    assert first["client_number"].startswith("+9198")  # E.164 numbers are left as they are
    assert first["has_recording"] == "yes" and rows[0]["has_recording"] == "no"
    assert "recording_url" not in first  # the provider's tokenised link stays on the server


def test_the_export_applies_the_dashboard_filters(records, supervisor_client):
    rows = read_csv(supervisor_client.get(URL, {**RANGE, "status": "missed"}))
    assert [r["call_id"] for r in rows] == [records[1].call_id]
    assert read_csv(supervisor_client.get(URL, {"from": "2026-04-01", "to": "2026-04-02"})) == []


def test_an_agent_exports_only_their_own_records(records, asha):
    rows = read_csv(login(asha.user).get(URL, RANGE))
    assert [r["call_id"] for r in rows] == [records[0].call_id]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(asha, supervisor_client):
    make_record(agent=asha, started_at=T0, agent_name='=HYPERLINK("http://evil.test")', hangup_cause="-2+3")
    (row,) = read_csv(supervisor_client.get(URL, RANGE))
    assert row["agent"] == '\'=HYPERLINK("http://evil.test")'
    assert row["hangup_cause"] == "'-2+3"


def test_the_export_query_count_does_not_grow_with_rows(asha, supervisor_client, django_assert_num_queries):
    for i in range(2500):  # more than one fetch chunk
        make_record(agent=asha, started_at=T0 + timedelta(seconds=i))
    # session, user, groups (scope), agents and outcomes for the filters, the rows (one cursor,
    # fetched in chunks), and per chunk of 2,000 rows one query for the agents' notes of inbound calls
    with django_assert_num_queries(8):
        rows = read_csv(supervisor_client.get(URL, RANGE))
    assert len(rows) == 2500


def test_the_export_carries_the_agents_disposition_and_note_both_ways(asha, vikram, supervisor_client):
    from calls.models import CallStatus, Disposition, OutboundCall, RingingAlert

    interested = Disposition.objects.get(label="Interested")
    ours = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED,
        note="=wants plan B", disposition=interested,
    )  # fmt: skip
    placed = make_record(agent=asha, started_at=T0, outbound_call=ours)
    inbound = make_record(agent=asha, started_at=T0 + timedelta(hours=1), direction="inbound")
    moved = make_record(agent=vikram, started_at=T0 + timedelta(hours=2), direction="inbound")
    silent = make_record(agent=asha, started_at=T0 + timedelta(hours=3), direction="inbound")
    now = T0 + timedelta(hours=1)
    RingingAlert.objects.create(agent=asha, call_id=inbound.call_id, answered_at=now, note="asked about KYC",
                                disposition=interested)  # fmt: skip
    RingingAlert.objects.create(agent=asha, call_id=moved.call_id, answered_at=now, note="passed to Vikram",
                                transferred_to=vikram, ended_at=now)  # fmt: skip
    RingingAlert.objects.create(agent=vikram, call_id=moved.call_id, answered_at=now + timedelta(minutes=1),
                                note="sold plan A", disposition=interested)  # fmt: skip
    RingingAlert.objects.create(agent=asha, call_id=silent.call_id)  # rang, never answered: no wrap-up
    rows = {r["call_id"]: r for r in read_csv(supervisor_client.get(URL, RANGE))}
    assert (rows[placed.call_id]["disposition"], rows[placed.call_id]["note"]) == ("Interested", "'=wants plan B")
    assert (rows[inbound.call_id]["disposition"], rows[inbound.call_id]["note"]) == ("Interested", "asked about KYC")
    assert rows[moved.call_id]["disposition"] == "Vikram Singh: Interested"
    assert rows[moved.call_id]["note"] == "Asha Rao: passed to Vikram; Vikram Singh: sold plan A"
    assert (rows[silent.call_id]["disposition"], rows[silent.call_id]["note"]) == ("", "")


def test_an_agents_export_carries_only_their_own_wrap_ups(asha, vikram, supervisor_client):
    from calls.models import CallStatus, OutboundCall, RingingAlert

    moved = make_record(agent=vikram, started_at=T0, direction="inbound")  # Asha passed it to Vikram
    RingingAlert.objects.create(agent=asha, call_id=moved.call_id, answered_at=T0, note="Asha's private note",
                                transferred_to=vikram, ended_at=T0)  # fmt: skip
    RingingAlert.objects.create(agent=vikram, call_id=moved.call_id, answered_at=T0, note="Vikram's note")
    theirs = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED,
        note="Asha's call note",
    )  # fmt: skip
    not_his = make_record(agent=vikram, started_at=T0 + timedelta(hours=1), outbound_call=theirs)
    rows = {r["call_id"]: r for r in read_csv(login(vikram.user).get(URL, RANGE))}
    assert rows[moved.call_id]["note"] == "Vikram's note"
    assert rows[not_his.call_id]["note"] == ""  # Asha's call, never passed to him
    everyone = {r["call_id"]: r for r in read_csv(supervisor_client.get(URL, RANGE))}
    assert everyone[moved.call_id]["note"] == "Asha Rao: Asha's private note; Vikram Singh: Vikram's note"
    assert everyone[not_his.call_id]["note"] == "Asha's call note"
