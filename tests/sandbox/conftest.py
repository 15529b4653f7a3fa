"""Fixtures for the sandbox's own tests: HTTP clients on the sandbox and a local receiver.

The `sandbox` / `sandbox_server` fixtures come from `sandbox.pytest_plugin`, which the root
conftest loads (or pass `-p sandbox.pytest_plugin`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.waiting import wait_until

T = TypeVar("T")
CUSTOMER = "9845012345"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny HTTP server that records what it receives and answers as configured."""

    status: int = 200
    body: bytes | str | Any = b'{"ok": true}'
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, data, time.time())
                    )
                if receiver.delay:
                    receiver._released.wait(receiver.delay)
                payload = receiver.payload()
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        return wait_until(lambda: len(self.received()) >= count and self.received(), timeout)

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An httpx client on the provider API, authenticated with the sandbox token."""
    # verify=False: plain HTTP on loopback, and it skips building a TLS context (~40 ms) per test.
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": sandbox.token}, timeout=5, verify=False
    ) as client:
        yield client


@pytest.fixture
def control(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An httpx client on the control API (no auth)."""
    with httpx.Client(base_url=sandbox.control_url, timeout=5, verify=False) as client:
        yield client


def place_call(api: httpx.Client, destination: str = CUSTOMER, agent: str = "1001", **extra: Any) -> str:
    """Click to call through the API; the call_id."""
    body = {"agent_number": agent, "destination_number": destination, "async": 1, "get_call_id": 1, **extra}
    response = api.post("/click_to_call", json=body)
    assert response.status_code == 200, response.text
    return response.json()["call_id"]
