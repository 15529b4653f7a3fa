"""`SandboxServer`: the sandbox behind a real HTTP server on loopback.

    srv = SandboxServer(port=0).start()
    srv.base_url      # http://127.0.0.1:<port>/v1   -- configure the Smartflo client with this
    srv.control_url   # http://127.0.0.1:<port>/_control
    srv.stop()

Request handling order for `/v1/...`: pick a fault (if any) -> log the request (with the fault
it got) -> latency -> fault or (auth -> handler). Logging first means a request that then times
out or fails is still in the log.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox import clock, recordings
from sandbox.api import ProviderApi
from sandbox.config import DEFAULT_TOKEN
from sandbox.control import ControlApi
from sandbox.core import Sandbox
from sandbox.errors import SandboxError
from sandbox.faults import FaultDecision
from sandbox.httpio import Request, Response, Router, error_response, json_response

logger = logging.getLogger("sandbox.server")

REDACTED = "<redacted>"
MALFORMED_BODY = b'{"success": true, "message": "Originate successfully qu'
_RECORDING_PATH = re.compile(r"/recordings/(?P<call_id>[^/]+)\.mp3")
_UNAUTHORIZED = "Unauthorized: invalid or missing token"


class SandboxServer(Sandbox):
    """The sandbox served over HTTP from a background daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str = DEFAULT_TOKEN,
        webhook_url: str | None = None,
        webhook_token: str | None = None,
        dialplan_url: str | None = None,
        dialplan_token: str | None = None,
        c2c_api_key: str = "sandbox-c2c-key",
        otp_lead_id: str = "sandbox-lead",
        ring_seconds: float = 2.0,
        talk_seconds: float = 20.0,
        dialplan_timeout: float = 3.0,
        hang_seconds: float = 30.0,
        seed: int = 0,
        seed_agents: bool = True,
        time_scale: float | None = None,
    ) -> None:
        super().__init__(
            token=token,
            webhook_url=webhook_url,
            webhook_token=webhook_token,
            dialplan_url=dialplan_url,
            dialplan_token=dialplan_token,
            c2c_api_key=c2c_api_key,
            otp_lead_id=otp_lead_id,
            ring_seconds=ring_seconds,
            talk_seconds=talk_seconds,
            dialplan_timeout=dialplan_timeout,
            hang_seconds=hang_seconds,
            seed=seed,
            seed_agents=seed_agents,
            time_scale=time_scale,
        )
        self.host = host
        self.port = port
        self._provider = ProviderApi(self)
        self._control = ControlApi(self)
        self._stop_event = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a background daemon thread. Returns self."""
        if self._httpd is not None or self._stop_event.is_set():
            raise RuntimeError("a SandboxServer starts once: create a new one")
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        with self.state.lock:
            self.state.public_url = self.url
        self._start_workers()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, promptly: held (timeout-fault) requests are released and dropped."""
        self._stop_event.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._stop_workers()

    def __enter__(self) -> Self:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://<host>:<port>` (wildcard hosts are shown as 127.0.0.1)."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - comparing, not binding
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def control_url(self) -> str:
        return f"{self.url}/_control"

    # --- dispatch -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request (called on a handler thread)."""
        path = request.path
        if path == "/v1" or path.startswith("/v1/"):
            return self._handle_provider(request)
        if path == "/_control" or path.startswith("/_control/"):
            return self._route(self._control.router, request)
        match = _RECORDING_PATH.fullmatch(path)
        if match and request.method in ("GET", "HEAD"):
            call_id = unquote(match["call_id"])
            if self.record(call_id) is None:
                return error_response(404, f"No recording for call {call_id}")
            return recordings.serve(call_id, request.headers.get("range"))
        if path == "/" and request.method == "GET":
            return json_response(
                {"name": "Smartflo sandbox", "base_url": self.base_url, "control_url": self.control_url}
            )
        return error_response(404, "Not found")

    def _handle_provider(self, request: Request) -> Response:
        endpoint = self._provider.router.name_of(request.method, request.path)
        with self.state.lock:
            decision = self.state.faults.decide(endpoint) if endpoint else None
            entry = self.state.log_request(_log_entry(request, endpoint, decision))
        response = self._apply_faults(request, decision)
        with self.state.lock:
            entry["status"] = None if response.drop else response.status
        return response

    def _apply_faults(self, request: Request, decision: FaultDecision | None) -> Response:
        if decision is None:
            return self._authorized(request)
        if decision.latency:
            self._stop_event.wait(decision.latency)
        request.repeat_rows = decision.repeat_rows
        if decision.action is None:
            return self._authorized(request)
        if decision.process:  # the request takes effect, but its answer is lost or garbled
            self._authorized(request)
        if decision.action == "timeout":
            self._stop_event.wait(self.config.hang_seconds)
            return Response(drop=True)
        if decision.action == "malformed":
            return Response(200, MALFORMED_BODY)
        status = decision.status or 503
        headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after is not None else None
        return error_response(status, f"Injected fault: HTTP {status}", headers)

    def _authorized(self, request: Request) -> Response:
        route, _, _ = self._provider.router.resolve(request.method, request.path)
        if route is None or route.name != "login":
            token = self.config.token
            if request.headers.get("authorization", "").strip() not in (token, f"Bearer {token}"):
                return error_response(401, _UNAUTHORIZED)
        return self._route(self._provider.router, request)

    def _route(self, router: Router, request: Request) -> Response:
        route, params, other_method = router.resolve(request.method, request.path)
        if route is None:
            if other_method:
                return error_response(405, f"Method {request.method} not allowed on {request.path}")
            return error_response(404, f"Not found: {request.path}")
        request.params = params
        try:
            return route.handler(request)
        except SandboxError as exc:
            return error_response(exc.status, exc.message)
        except Exception:
            logger.exception("sandbox handler failed: %s %s", request.method, request.path)
            return error_response(500, "Internal sandbox error")


def _log_entry(request: Request, endpoint: str | None, decision: FaultDecision | None) -> dict[str, Any]:
    body_json, body_text = request.logged_body()
    now = clock.now()
    return {
        "time": clock.stamp(now),
        "ts": now,
        "method": request.method,
        "path": request.path,
        "query": {k: v[0] if len(v) == 1 else list(v) for k, v in request.query.items()},
        "headers": {k: REDACTED if k == "authorization" else v for k, v in request.headers.items()},
        "json": body_json,
        "body": body_text,
        "endpoint": endpoint,
        "fault": decision.describe() if decision else None,
        "status": None,
    }


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for held requests
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down kept-alive and held connections so no handler serves after stop()."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SmartfloSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stalls
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = self.server.app.handle(request)
        if response.drop:
            self.close_connection = True
            return
        self._write(response)

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None if it cannot be read."""
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""
        except (OSError, ValueError):
            return None

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except OSError:  # the client gave up (e.g. its own timeout)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)
