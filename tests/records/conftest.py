"""Call records: the sandbox plays Smartflo; helpers compare our table with the sandbox's records."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from calls.models import CallRecord, CallRecordSyncState
from contactcenter.smartflo import format_ist
from tests.conftest import login  # noqa: F401 (re-exported for the records tests)

PAGE = 50  # small pages: every test walks several of them

KEY_FIELDS = ("status", "direction", "call_duration", "answered_seconds", "hangup_cause", "recording_url")


@pytest.fixture
def records_settings(settings, smartflo):
    """The app pointed at the sandbox, with small pages and the sandbox's recordings allowed."""
    settings.CDR_SYNC_PAGE_SIZE = PAGE
    settings.CDR_SYNC_OVERLAP_SECONDS = 900
    settings.CDR_SYNC_WINDOW_SECONDS = 86400
    settings.CDR_SYNC_INITIAL_LOOKBACK_SECONDS = 86400
    settings.CDR_SYNC_LEASE_SECONDS = 120
    settings.RECORDING_ALLOWED_HOSTS = [urlsplit(smartflo.url).netloc]
    return settings


def sandbox_records(sandbox, start: datetime, end: datetime) -> dict[str, dict]:
    """Every record the sandbox holds in [start, end], read in-process (no faults)."""
    found: dict[str, dict] = {}
    page = 1
    while True:
        data = sandbox.call_records(
            {"from_date": format_ist(start), "to_date": format_ist(end), "page": page, "limit": 1000}
        )
        found.update({r["call_id"]: r for r in data["results"]})
        if page * 1000 >= data["count"]:
            return found
        page += 1


def assert_table_equals_sandbox(sandbox, start: datetime, end: datetime) -> None:
    """Nothing missing, nothing twice, nothing extra, and the key fields as Smartflo has them."""
    expected = sandbox_records(sandbox, start, end)
    stored = {r.call_id: r for r in CallRecord.objects.all()}
    assert len(stored) == CallRecord.objects.count()
    missing = expected.keys() - stored.keys()
    extra = stored.keys() - expected.keys()
    assert not missing, f"{len(missing)} records missing, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} records that Smartflo does not have, e.g. {sorted(extra)[:3]}"
    for call_id, raw in expected.items():
        record = stored[call_id]
        for name in KEY_FIELDS:
            assert getattr(record, name) == (raw[name] or type(getattr(record, name))()), (call_id, name)
        assert record.client_number == raw["client_number"]
        assert record.agent_smartflo_id == str(raw["agent_id"] or "")
        assert timezone.localtime(record.started_at).strftime("%Y-%m-%d %H:%M:%S") == f"{raw['date']} {raw['time']}"


def table_snapshot() -> dict[str, tuple]:
    """Everything stored except the sync bookkeeping times."""
    skip = {"id", "synced_at", "first_synced_at"}
    names = [f.attname for f in CallRecord._meta.concrete_fields if f.attname not in skip]
    return {row[0]: row for row in CallRecord.objects.order_by("call_id").values_list(*names)}


def watermark() -> datetime | None:
    state = CallRecordSyncState.objects.filter(name="default").first()
    return state.watermark if state else None


def hours_ago(hours: float) -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(hours=hours)


_sequence = iter(range(1, 10**9))


def make_record(**fields) -> CallRecord:
    """A stored record with plausible defaults (for tests of reads: no sync needed)."""
    n = next(_sequence)
    now = timezone.now()
    values = {
        "call_id": f"1716000000.{n:06d}",
        "direction": "outbound",
        "status": "answered",
        "started_at": now - timedelta(hours=1),
        "call_duration": 90,
        "answered_seconds": 75,
        "minutes_consumed": 2,
        "client_number": f"+9198{n:08d}",
        "did_number": "+918000000001",
        "hangup_cause": "NORMAL_CLEARING",
        "services": "Click to Call",
        "raw": {},
        "first_synced_at": now,
        "synced_at": now,
    }
    values.update(fields)
    if values.get("agent") is not None:
        values.setdefault("agent_name", values["agent"].name)
    values.setdefault("ended_at", values["started_at"] + timedelta(seconds=values["call_duration"]))
    return CallRecord.objects.create(**values)
