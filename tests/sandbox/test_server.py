"""Server life: reset, stop while a request is held, the CLI, the control summary, routing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.sandbox.conftest import CUSTOMER, place_call
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_reset_returns_to_the_initial_state(sandbox, api, control):
    sandbox.configure(webhook_url="http://127.0.0.1:9/hook", ring_seconds=5)
    sandbox.add_agent(name="Extra", follow_me_number="9123456780")
    sandbox.set_scenario(CUSTOMER, hold=True)
    place_call(api)
    sandbox.broadcast_lead("sandbox-lead", {"field_0": CUSTOMER, "field_5": "1"})
    sandbox.support_call(customer_number=CUSTOMER, api_key="sandbox-c2c-key")
    sandbox.generate_records(count=10, seed=1)
    sandbox.add_fault(endpoint="agents", latency=0.01)
    sandbox.set_webhook_faults(duplicate_rate=1.0)

    assert control.post("/reset").json() == {"success": True}

    state = control.get("/state").json()
    assert (state["agents"], state["live_calls"], state["records"], state["leads"]) == (3, [], 0, 0)
    assert (state["announcements"], state["requests"], state["webhooks"], state["faults"]) == (0, 0, 0, [])
    assert state["scenarios"] == {} and state["webhook_faults"]["duplicate_rate"] == 0
    assert state["config"]["webhook_url"] is None and state["config"]["ring_seconds"] == 0.05
    assert [a["calls_answered"] for a in api.get("/agents").json()] == [0, 0, 0]


def test_stop_returns_promptly_while_a_request_is_held():
    server = SandboxServer(hang_seconds=30).start()
    server.add_fault(endpoint="agents", timeout_rate=1.0)
    errors: list[Exception] = []

    def held_request():
        try:
            httpx.get(f"{server.base_url}/agents", headers={"Authorization": server.token}, timeout=20)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=held_request)
    thread.start()
    wait_until(lambda: server.requests(path="/v1/agents"))
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    thread.join(timeout=3)
    assert not thread.is_alive() and errors  # the held connection was dropped, not answered
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/agents", timeout=1)
    server.stop()  # idempotent


def test_the_server_is_a_context_manager_with_stable_urls():
    with SandboxServer(port=0) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert server.control_url == f"http://127.0.0.1:{server.port}/_control"
        assert httpx.get(f"{server.url}/").json()["base_url"] == server.base_url


def _start_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    assert "/v1" in line, process.stderr.read()
    base_url = line.split()[3]
    return process, base_url


def test_the_cli_prints_its_url_applies_faults_and_stops_on_ctrl_c():
    process, base_url = _start_cli("--token", "cli-token", "--faults", '[{"endpoint": "agents", "status": 418}]')
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert httpx.get(f"{base_url}/agents", headers={"Authorization": "cli-token"}).status_code == 418
        assert httpx.get(f"{base_url}/live_calls", headers={"Authorization": "cli-token"}).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0


def test_the_cli_reads_its_options_from_the_environment():
    process, base_url = _start_cli(env={"SANDBOX_TOKEN": "env-token", "SANDBOX_RECORDS": "25"})
    try:
        assert httpx.get(f"{base_url}/agents", headers={"Authorization": "Bearer env-token"}).status_code == 200
        control = base_url.replace("/v1", "/_control")
        assert httpx.get(f"{control}/records/count").json() == {"count": 25}
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def test_the_cli_refuses_bad_faults():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--port", "0", "--faults", '[{"endpoint": "nowhere"}]'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2 and "endpoint" in result.stderr


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nothing", 404),
        ("DELETE", "/v1/agents", 405),
        ("GET", "/_control/nothing", 404),
        ("GET", "/elsewhere", 404),
    ],
)
def test_unknown_routes_answer_json_errors(sandbox, method, path, status):
    response = httpx.request(method, f"{sandbox.url}{path}", headers={"Authorization": sandbox.token})
    assert response.status_code == status
    assert response.json()["success"] is False


def test_config_changes_are_validated(control):
    assert control.post("/config", json={"ring_seconds": "fast"}).status_code == 400
    assert control.post("/config", json={"colour": "red"}).status_code == 400
    assert control.post("/config", json={"ring_seconds": 0.2}).json()["ring_seconds"] == 0.2
    assert control.get("/config").json()["ring_seconds"] == 0.2


def test_the_state_summary_shows_live_calls(sandbox, api, control):
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api)
    assert [c["call_id"] for c in control.get("/state").json()["live_calls"]] == [call_id]
    assert [c["call_id"] for c in control.get("/live_calls").json()] == [call_id]
