"""`GET /call/records`: shape, filters, pagination, generation; records control; recordings."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.sandbox.conftest import place_call

MAY = {"from_date": "2024-05-01 00:00:00", "to_date": "2024-05-31 23:59:59"}
RECORD_KEYS = {
    "id",
    "call_id",
    "uuid",
    "date",
    "time",
    "end_stamp",
    "missed_agents",
    "status",
    "department",
    "destination",
    "direction",
    "call_duration",
    "answered_seconds",
    "minutes_consumed",
    "services",
    "broadcast_id",
    "dtmf_input",
    "client_number",
    "hangup_cause",
    "did_number",
    "notes",
    "contact_details",
    "recording_url",
    "agent_name",
    "agent_number",
    "agent_id",
    "custom_identifier",
}
IST = timezone(timedelta(hours=5, minutes=30))


def records(api, **params):
    response = api.get("/call/records", params={**MAY, **params})
    assert response.status_code == 200, response.text
    return response.json()


def all_ids(api, limit=100, **params):
    ids, page = [], 1
    while True:
        data = records(api, page=page, limit=limit, **params)
        ids += [r["call_id"] for r in data["results"]]
        if page * limit >= data["count"]:
            return ids
        page += 1


def test_a_page_has_the_documented_envelope_and_every_record_field(sandbox, api):
    sandbox.generate_records(count=50, start="2024-05-01 00:00:00", end="2024-05-31 23:59:59", seed=1)
    data = records(api, limit=10)
    assert data.keys() == {"count", "limit", "size", "page", "results"}
    assert (data["count"], data["limit"], data["size"], data["page"]) == (50, 10, 10, 1)
    for record in data["results"]:
        assert set(record) == RECORD_KEYS
        assert isinstance(record["id"], int) and isinstance(record["call_duration"], int)
        assert record["status"] in ("answered", "missed")
        assert record["direction"] in ("inbound", "outbound")
        assert record["client_number"].startswith("+91")
        assert datetime.strptime(record["end_stamp"], "%Y-%m-%d %H:%M:%S")
        assert isinstance(record["department"], list) and isinstance(record["missed_agents"], list)
        if record["status"] == "missed":
            assert record["recording_url"] is None and record["answered_seconds"] == 0


def test_generated_records_mix_the_documented_kinds(sandbox, api):
    sandbox.generate_records(count=500, start="2024-05-01 00:00:00", end="2024-05-31 23:59:59", seed=2)
    rows = records(api, limit=500)["results"]
    assert {r["direction"] for r in rows} == {"inbound", "outbound"}
    assert {r["status"] for r in rows} == {"answered", "missed"}
    assert {r["agent_name"] for r in rows} == {"Asha Rao", "Vikram Singh", "Meera Iyer"}
    assert {r["services"] for r in rows} >= {"Click to Call", "IVR", "Broadcast"}
    assert any(r["recording_url"] for r in rows) and any(r["department"] for r in rows)
    assert all(r["broadcast_id"] for r in rows if r["services"] == "Broadcast")


def test_the_limit_defaults_to_100_and_is_capped_at_1000(sandbox, api):
    sandbox.generate_records(count=1200, start="2024-05-01 00:00:00", end="2024-05-31 23:59:59", seed=3)
    assert (records(api)["limit"], records(api)["size"]) == (100, 100)
    capped = records(api, limit=5000)
    assert (capped["limit"], capped["size"], capped["count"]) == (1000, 1000, 1200)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from_date": None}, "from_date"),
        ({"to_date": None}, "to_date"),
        ({"from_date": "2024-05-01"}, "from_date"),
        ({"to_date": "01/05/2024 00:00:00"}, "to_date"),
        ({"from_date": "2024-06-01 00:00:00"}, "from_date"),  # after to_date
        ({"page": 0}, "page"),
        ({"limit": "ten"}, "limit"),
        ({"call_type": "x"}, "call_type"),
        ({"direction": "sideways"}, "direction"),
        ({"duration": "long"}, "duration"),
        ({"duration": 10, "operator": "~"}, "operator"),
    ],
)
def test_bad_parameters_are_400(api, params, message):
    query = {k: v for k, v in {**MAY, **params}.items() if v is not None}
    response = api.get("/call/records", params=query)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert message in response.json()["message"]


def test_pages_are_stable_complete_and_ordered_by_start_then_call_id(sandbox, api):
    sandbox.generate_records(count=237, start="2024-05-10 00:00:00", end="2024-05-10 00:05:00", seed=4)
    ids = all_ids(api, limit=50)
    assert len(ids) == len(set(ids)) == 237
    rows = records(api, limit=237)["results"]
    assert [r["call_id"] for r in rows] == ids
    assert [(r["date"], r["time"], r["call_id"]) for r in rows] == sorted(
        (r["date"], r["time"], r["call_id"]) for r in rows
    )
    assert records(api, page=99, limit=50) == {"count": 237, "limit": 50, "size": 0, "page": 99, "results": []}


def test_the_same_seed_gives_identical_records(sandbox, api):
    window = {"start": "2024-05-01 00:00:00", "end": "2024-05-31 23:59:59"}
    sandbox.generate_records(count=300, seed=11, **window)
    first = records(api, limit=300)["results"]
    sandbox.reset()
    sandbox.generate_records(count=300, seed=11, **window)
    assert records(api, limit=300)["results"] == first
    sandbox.generate_records(count=300, seed=11, **window)  # again: replaces, never duplicates
    assert records(api)["count"] == 300
    sandbox.reset()
    sandbox.generate_records(count=300, seed=12, **window)
    assert [r["call_id"] for r in records(api, limit=300)["results"]] != [r["call_id"] for r in first]


def test_ten_thousand_records_generate_and_page_fast(sandbox, api, control):
    started = time.monotonic()
    response = control.post(
        "/records/generate",
        json={"count": 10_000, "from": "2024-05-01 00:00:00", "to": "2024-05-31 23:59:59", "seed": 5},
    )
    assert response.json() == {"success": True, "generated": 10_000, "count": 10_000}
    assert time.monotonic() - started < 5
    started = time.monotonic()
    data = records(api, page=7, limit=1000)
    assert data["size"] == 1000
    assert time.monotonic() - started < 2


def test_date_range_is_inclusive_and_in_naive_ist(sandbox, api):
    sandbox.insert_records(
        [
            {"call_id": "1714501799.000001", "date": "2024-04-30", "time": "23:59:59"},
            {"call_id": "1714501800.000002", "date": "2024-05-01", "time": "00:00:00"},
            {"call_id": "1717179599.000003", "date": "2024-05-31", "time": "23:59:59"},
            {"call_id": "1717179600.000004", "date": "2024-06-01", "time": "00:00:00"},
        ]
    )
    assert [r["call_id"] for r in records(api)["results"]] == ["1714501800.000002", "1717179599.000003"]


def test_a_live_call_record_is_dated_in_ist_whatever_the_machine_tz(sandbox, api):
    call_id = place_call(api)
    record = sandbox.wait_for_record(call_id)
    started = datetime.fromtimestamp(int(call_id.split(".")[0]), IST)
    assert (record["date"], record["time"]) == (started.strftime("%Y-%m-%d"), started.strftime("%H:%M:%S"))


@pytest.fixture
def three_records(sandbox):
    """A: answered outbound c2c (Asha, 30 s); B: missed inbound Sales IVR (Vikram, 5 s);
    C: answered inbound Support (Meera, 120 s)."""
    base = {"date": "2024-05-09", "time": "10:00:00"}
    sandbox.insert_records(
        [
            {
                **base,
                "call_id": "1715229000.000001",
                "call_duration": 30,
                "client_number": "+919000000001",
                "destination": "+919000000001",
                "agent_id": 100001,
                "agent_name": "Asha Rao",
                "services": "Click to Call",
            },
            {
                **base,
                "call_id": "1715229000.000002",
                "status": "missed",
                "direction": "inbound",
                "call_duration": 5,
                "answered_seconds": 0,
                "client_number": "+919000000002",
                "destination": "Sales",
                "department": ["Sales"],
                "ivr": ["Main IVR"],
                "agent_id": 100002,
                "services": "IVR",
            },
            {
                **base,
                "call_id": "1715229000.000003",
                "direction": "inbound",
                "call_duration": 120,
                "client_number": "+919000000003",
                "destination": "Support",
                "department": ["Support"],
                "agent_id": 100003,
                "services": "IVR,Call Queue",
            },
        ]
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "ABC"),
        ({"call_id": "1715229000.000002"}, "B"),
        ({"agents": "100001"}, "A"),
        ({"agents": "100001,100003"}, "AC"),
        ({"department": "sales"}, "B"),
        ({"department[]": ["Sales", "Support"]}, "BC"),
        ({"ivr": "Main IVR"}, "B"),
        ({"call_type": "c"}, "AC"),
        ({"call_type": "m"}, "B"),
        ({"callerid": "09000000003"}, "C"),
        ({"destination": "support"}, "C"),
        ({"destination": "9000000001"}, "A"),
        ({"direction": "Inbound"}, "BC"),
        ({"direction": "OUTBOUND"}, "A"),
        ({"duration": 30}, "A"),
        ({"duration": 30, "operator": ">"}, "C"),
        ({"duration": 30, "operator": ">="}, "AC"),
        ({"duration": 30, "operator": "<"}, "B"),
        ({"duration": 30, "operator": "<="}, "AB"),
        ({"duration": 30, "operator": "!="}, "BC"),
        ({"services": "Click to Call"}, "A"),
        ({"services": "call queue,click to call"}, "AC"),
        ({"direction": "inbound", "call_type": "c"}, "C"),
    ],
)
def test_every_documented_filter(api, three_records, params, expected):
    names = {"1715229000.000001": "A", "1715229000.000002": "B", "1715229000.000003": "C"}
    data = records(api, **params)
    assert "".join(sorted(names[r["call_id"]] for r in data["results"])) == expected
    assert data["count"] == len(expected)


def test_records_can_be_inserted_patched_and_counted_over_the_control_api(sandbox, api, control):
    response = control.post("/records", json={"records": [{"start": "2024-05-09 10:00:00", "status": "missed"}]})
    assert response.status_code == 201
    (call_id,) = response.json()["call_ids"]
    assert control.get("/records/count").json() == {"count": 1}
    (record,) = records(api)["results"]
    assert record["call_id"] == call_id and record["status"] == "missed" and record["recording_url"] is None

    url = f"{sandbox.url}/recordings/{call_id}.mp3"
    patched = control.patch(f"/records/{call_id}", json={"recording_url": url})
    assert patched.status_code == 200 and patched.json()["recording_url"] == url
    assert records(api)["results"][0]["recording_url"] == url
    assert control.get(f"/records/{call_id}").json()["recording_url"] == url


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/records/1.000000", {"notes": "x"}, 404),
        ("/records/{call_id}", {"call_id": "other"}, 400),
        ("/records/{call_id}", {"colour": "red"}, 400),
    ],
)
def test_patching_refuses_unknown_records_and_fields(sandbox, control, path, body, status):
    (call_id,) = sandbox.insert_records([{"start": "2024-05-09 10:00:00"}])
    assert control.patch(path.format(call_id=call_id), json=body).status_code == status


def test_moving_a_record_in_time_keeps_the_order(sandbox, api):
    first, second = sandbox.insert_records([{"start": "2024-05-09 10:00:00"}, {"start": "2024-05-09 11:00:00"}])
    sandbox.patch_record(first, date="2024-05-09", time="12:00:00")
    assert [r["call_id"] for r in records(api)["results"]] == [second, first]


def test_inserting_a_record_with_unknown_fields_is_400(control):
    assert control.post("/records", json=[{"colour": "red"}]).status_code == 400
    assert control.post("/records", json=[{"date": "09-05-2024", "time": "10:00:00"}]).status_code == 400


def test_a_recording_is_served_as_audio_with_range_support(sandbox, api):
    call_id = place_call(api)
    url = sandbox.wait_for_record(call_id)["recording_url"]
    full = api.get(url, headers={"Authorization": ""})
    assert full.status_code == 200
    assert full.headers["content-type"] == "audio/wav"
    assert full.headers["accept-ranges"] == "bytes"
    assert full.content.startswith(b"RIFF") and full.content[8:12] == b"WAVE"
    size = len(full.content)

    head = api.get(url, headers={"Range": "bytes=0-9"})
    assert head.status_code == 206
    assert head.headers["content-range"] == f"bytes 0-9/{size}"
    assert head.content == full.content[:10]
    tail = api.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == full.content[-5:]
    rest = api.get(url, headers={"Range": f"bytes={size - 3}-"})
    assert rest.content == full.content[-3:]
    assert api.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    assert api.get(f"{sandbox.url}/recordings/1.000000.mp3").status_code == 404


def test_a_recording_answers_head_requests(sandbox, api):
    (call_id,) = sandbox.insert_records([{"start": "2024-05-09 10:00:00"}])
    response = api.head(f"{sandbox.url}/recordings/{call_id}.mp3")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0 and response.content == b""


def test_list_fields_given_as_single_values_are_stored_as_lists(sandbox, api):
    (call_id,) = sandbox.insert_records([{"start": "2024-05-09 10:00:00", "department": "Sales", "ivr": "Main IVR"}])
    assert sandbox.record(call_id)["department"] == ["Sales"]
    assert [r["call_id"] for r in records(api, ivr="main ivr")["results"]] == [call_id]
    sandbox.patch_record(call_id, ivr="Night IVR")
    assert records(api, ivr="main ivr")["count"] == 0
    assert records(api, ivr="night ivr")["count"] == 1


def test_the_python_query_api_ignores_unset_filters(sandbox):
    sandbox.insert_records([{"start": "2024-05-09 10:00:00"}])
    page = sandbox.call_records(MAY, direction=None, limit=5)
    assert (page["count"], page["limit"]) == (1, 5)
