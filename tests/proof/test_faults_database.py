"""Fault: the database restarts under load (PostgreSQL only).

The shared PostgreSQL server is not restarted: a TCP proxy in this test stands between a real
web server process (gunicorn, one sync worker, persistent connections as configured:
CONN_MAX_AGE and CONN_HEALTH_CHECKS) and PostgreSQL. While requests run in a loop (the masking
endpoint Smartflo calls, a signed-in page, the API, /healthz) the proxy cuts every connection
and refuses new ones for two seconds, as a restart looks to a client, then accepts again.
Requests during the outage fail fast and cleanly; every request after it succeeds, including
the first one on a connection that died while idle.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from masking.models import ResolutionLog
from masking.services import masking_number_create, masking_rule_create
from tests.needs import skip_or_fail
from tests.proof.faults_support import TcpProxy, web_server

pytestmark = pytest.mark.django_db(transaction=True)

MASKING, CUSTOMER, PARTNER, FALLBACK = "+918069000111", "+919845012345", "+919876500002", "+919000000009"
OUTAGE_SECONDS = 2.0
DIALPLAN = {"uuid": "1", "call_id": "1715235734.1", "call_to_number": "+91-8069000111",
            "caller_id_number": CUSTOMER, "start_stamp": "2024-05-09 11:52:14"}  # fmt: skip


@dataclass(frozen=True)
class Result:
    name: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    content_type: str
    body: str


def database_url_through(proxy: TcpProxy) -> str:
    """The test database, reached through the proxy."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@127.0.0.1:{proxy.port}/{quote(db['NAME'], safe='')}"


class Load:
    """Requests in a loop on one thread, each one timed and kept."""

    def __init__(self, base_url: str, *, session_cookie: str, api_token: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15)
        self.browser = httpx.Client(
            base_url=base_url, timeout=15, cookies={django_settings.SESSION_COOKIE_NAME: session_cookie}
        )
        self.requests = {
            "resolve": lambda: self.http.post(
                "/api/v1/masking/resolve/",
                json=DIALPLAN,
                headers={"Authorization": f"Bearer {django_settings.MASKING_API_TOKEN}"},
            ),
            "page": lambda: self.browser.get("/"),
            "api": lambda: self.http.get("/api/v1/call-records/", headers={"Authorization": f"Token {api_token}"}),
            "healthz": lambda: self.http.get("/healthz"),
        }
        self.results: list[Result] = []
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def once(self) -> list[Result]:
        batch = []
        for name, send in self.requests.items():
            started = time.monotonic()
            try:
                response = send()
                result = Result(name, started, time.monotonic(), response.status_code,
                                response.headers.get("content-type", ""), response.text[:2000])  # fmt: skip
            except httpx.HTTPError as exc:
                result = Result(name, started, time.monotonic(), None, "", repr(exc))
            batch.append(result)
        self.results.extend(batch)
        return batch

    def start(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while self._running.is_set():
            self.once()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "a request hung"


def assert_all_succeeded(results: list[Result], when: str) -> None:
    assert results, f"no requests {when}"
    failed = [r for r in results if r.status != 200]
    assert not failed, f"requests {when} failed: {failed[:4]}"
    for result in results:
        if result.name == "resolve":
            assert PARTNER[3:] in result.body, f"{when} the masking endpoint routes to the real party: {result}"


def test_database_restart_under_load_fails_cleanly_then_every_request_recovers(sandbox, make_user, tmp_path, settings):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/<database>")
    masking_number_create(number=MASKING, label="Deliveries")
    masking_rule_create(masking_number=MASKING, party_a=CUSTOMER, party_b=PARTNER)
    supervisor = make_user("sup", role="supervisor")
    browser = Client()
    browser.force_login(supervisor)
    session_cookie = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    api_token = Token.objects.create(user=supervisor).key

    db = connection.settings_dict
    with TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))) as proxy:
        env = {
            "DATABASE_URL": database_url_through(proxy),
            "SECRET_KEY": django_settings.SECRET_KEY,  # the session cookie was signed with it
            "SMARTFLO_BASE_URL": sandbox.base_url,
            "SMARTFLO_API_TOKEN": sandbox.token,
            "MASKING_FALLBACK_NUMBER": FALLBACK,
            "LOG_LEVEL": "WARNING",
            "MASKING_LOG_FLUSH_SECONDS": "0.2",  # production's batch writer, not the suite's 0
        }
        with web_server(env=env, log_file=tmp_path / "web.log") as base_url:
            load = Load(base_url, session_cookie=session_cookie, api_token=api_token)
            load.start()
            time.sleep(1.0)
            outage_started = time.monotonic()
            proxy.outage()
            time.sleep(OUTAGE_SECONDS)
            proxy.recover()
            recovered = time.monotonic()
            time.sleep(1.5)
            load.stop()

            # A restart while the server sat idle: its persistent connection is dead when the next
            # request comes. The health check (CONN_HEALTH_CHECKS) must notice and reconnect.
            connections_before = proxy.accepted
            proxy.outage()
            proxy.recover()
            after_idle_restart = load.once()
            assert proxy.accepted > connections_before, "the server reconnected"
        log = (tmp_path / "web.log").read_text()

    results = load.results
    # Every answer the masking endpoint gave has its log row: rows of the outage waited in the
    # batch writer and were written once the database came back (or when the server stopped).
    answered = [r for r in results if r.name == "resolve" and r.status == 200]
    assert ResolutionLog.objects.count() == len(answered)
    before = [r for r in results if r.ended < outage_started]
    during = [r for r in results if r.started >= outage_started and r.ended <= recovered]
    after = [r for r in results if r.started >= recovered]
    assert_all_succeeded(before, "before the outage")
    assert_all_succeeded(after, "after the database came back")
    assert_all_succeeded(after_idle_restart, "after a restart while idle")

    assert len(during) >= 8, f"the load kept running through the outage ({len(during)} requests)"
    assert all(r.status is not None for r in during), "every request got an answer"
    assert max(r.ended - r.started for r in results) < 5, "no request hung"
    by_name = {name: [r for r in during if r.name == name] for name in load.requests}
    # Smartflo's API Dialplan gets an answer it can use: the fallback number, not an error.
    assert all(r.status == 200 and FALLBACK[3:] in r.body for r in by_name["resolve"]), by_name["resolve"][:2]
    # The health check says the database is down.
    for result in by_name["healthz"]:
        assert result.status == 503 and '"database": {"ok": false' in result.body.replace('"ok":false', '"ok": false')
    # The API answers in its error shape with 503; pages answer 503 with a page that says why.
    for result in by_name["api"]:
        assert result.status == 503 and result.content_type.startswith("application/json"), result
        assert '"code":"database_unavailable"' in result.body.replace(" ", ""), result
    for result in by_name["page"]:
        assert result.status == 503 and result.content_type.startswith("text/html"), result
        assert "Temporarily unavailable" in result.body and "cannot reach its database" in result.body, result
    assert "Internal Server Error" not in log, "no request answered 500"
    assert "Service Unavailable" in log, "the outage is in the server's log"


@pytest.mark.django_db
def test_a_lost_database_connection_answers_503_with_a_clear_message_on_any_database(monkeypatch, make_user):
    """The same answers as under a real outage above, for a database error raised in a view (a
    page) and in DRF's authentication (the API), on SQLite as on PostgreSQL."""
    from django.db import OperationalError

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    supervisor = make_user("sup", role="supervisor")
    token = Token.objects.create(user=supervisor).key
    browser = Client(raise_request_exception=False)
    browser.force_login(supervisor)
    monkeypatch.setattr("contactcenter.core.views.render", lost)
    page = browser.get("/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "cannot reach its database" in page.content.decode()

    monkeypatch.setattr("rest_framework.authentication.TokenAuthentication.authenticate", lost)
    api = Client(raise_request_exception=False).get("/api/v1/call-records/", HTTP_AUTHORIZATION=f"Token {token}")
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api.json()["code"] == "database_unavailable"
