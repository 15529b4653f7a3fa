"""Recording playback through our proxy: signed in, allow-listed hosts only, Range passed through."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import urlsplit

import httpx
import pytest

from calls.services.recordings import recording_host_allowed
from tests.records.conftest import login, make_record

pytestmark = pytest.mark.django_db


def proxy_url(record) -> str:
    return f"/calls/records/{record.call_id}/recording"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def recorded(records_settings, sandbox, asha):
    """A record of Asha's whose recording the sandbox serves."""
    (call_id,) = sandbox.insert_records([{"agent_id": 100001}])
    return make_record(call_id=call_id, agent=asha, recording_url=f"{sandbox.url}/recordings/{call_id}.mp3")


@pytest.fixture
def redirector(records_settings):
    """A local server whose every answer is a redirect to the `?to=` URL."""

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", self.path.split("?to=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_port}"
    records_settings.RECORDING_ALLOWED_HOSTS = [*records_settings.RECORDING_ALLOWED_HOSTS, host]
    yield f"http://{host}/r?to="
    server.shutdown()


def test_the_whole_recording_streams_through(recorded, supervisor_client, sandbox):
    response = supervisor_client.get(proxy_url(recorded))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == f'inline; filename="recording-{recorded.call_id}.mp3"'
    assert body(response) == httpx.get(recorded.recording_url).content


def test_a_range_request_is_answered_206_with_its_content_range(recorded, supervisor_client):
    whole = httpx.get(recorded.recording_url).content
    response = supervisor_client.get(proxy_url(recorded), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response["Content-Length"] == "100"
    assert body(response) == whole[100:200]

    assert supervisor_client.get(proxy_url(recorded), HTTP_RANGE="bytes=99999999-").status_code == 416


def test_the_agent_of_the_call_may_listen_and_a_colleague_may_not(recorded, asha, vikram):
    assert login(asha.user).get(proxy_url(recorded)).status_code == 200
    assert login(vikram.user).get(proxy_url(recorded)).status_code == 404


def test_an_api_client_opens_the_recording_link_the_api_gave_it_with_its_token(recorded, asha, vikram, supervisor):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    def token(user) -> dict:
        return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}

    api = Client()
    (listed,) = api.get("/api/v1/call-records/", **token(supervisor)).json()["results"]
    link = listed["recording"].removeprefix("http://testserver")
    response = api.get(link, **token(supervisor))
    assert response.status_code == 200 and body(response) == httpx.get(recorded.recording_url).content
    assert api.get(link, **token(asha.user)).status_code == 200  # the call's agent
    tabbed = {"HTTP_AUTHORIZATION": token(supervisor)["HTTP_AUTHORIZATION"].replace(" ", "\t")}
    assert api.get(link, **tabbed).status_code == 200  # any whitespace after the keyword, as DRF reads it
    shouted = {"HTTP_AUTHORIZATION": token(supervisor)["HTTP_AUTHORIZATION"].replace("Token", "TOKEN")}
    assert api.get(link, **shouted).status_code == 200  # the keyword in any case, as DRF reads it
    hidden = api.get(link, **token(vikram.user))  # a colleague: as for the page, in the API's shape
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    refused = api.get(link, HTTP_AUTHORIZATION="Token not-a-key")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"
    signed_out = api.get(link)  # no token, no session: the sign-in page, as before
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/")


def test_a_host_off_the_list_is_refused_without_fetching(records_settings, supervisor_client, asha):
    record = make_record(agent=asha, recording_url="http://169.254.169.254/latest/meta-data")
    response = supervisor_client.get(proxy_url(record))
    assert response.status_code == 403
    assert b"not allowed" in response.content
    from rest_framework.authtoken.models import Token

    key = Token.objects.get_or_create(user=asha.user)[0].key  # with the API's token: its JSON shape
    api = supervisor_client.__class__().get(proxy_url(record), HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 403 and api.json()["message"] and api.json()["code"]


def test_a_redirect_off_the_list_is_not_followed(redirector, supervisor_client, asha):
    record = make_record(agent=asha, recording_url=redirector + "http://169.254.169.254/latest/meta-data")
    assert supervisor_client.get(proxy_url(record)).status_code == 403


def test_a_redirect_to_an_allowed_host_is_followed(redirector, recorded, supervisor_client):
    hop = make_record(agent=recorded.agent, recording_url=redirector + recorded.recording_url)
    response = supervisor_client.get(proxy_url(hop), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and len(body(response)) == 10


def test_missing_recordings_and_dead_hosts(records_settings, recorded, supervisor_client, asha, sandbox):
    without = make_record(agent=asha, recording_url="")
    assert supervisor_client.get(proxy_url(without)).status_code == 404
    gone = make_record(agent=asha, recording_url=f"{sandbox.url}/recordings/1111111111.000000.mp3")
    assert supervisor_client.get(proxy_url(gone)).status_code == 404  # the host answered 404
    records_settings.RECORDING_ALLOWED_HOSTS = ["127.0.0.1:9"]
    dead = make_record(agent=asha, recording_url="http://127.0.0.1:9/r.mp3")
    assert supervisor_client.get(proxy_url(dead)).status_code == 502
    assert supervisor_client.get("/calls/records/no-such-call/recording").status_code == 404


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cloudphone.tatateleservices.com/file/recording?callId=1", True),
        ("http://cloudphone.tatateleservices.com/file", True),
        ("https://CLOUDPHONE.tatateleservices.com./file", True),
        ("https://evil.com/cloudphone.tatateleservices.com", False),
        ("https://cloudphone.tatateleservices.com.evil.com/x", False),
        ("https://user:pw@cloudphone.tatateleservices.com/x", False),
        ("ftp://cloudphone.tatateleservices.com/x", False),
        ("http://127.0.0.1:8900/recordings/1.mp3", True),
        ("http://127.0.0.1:8901/recordings/1.mp3", False),
        ("http://127.0.0.1/recordings/1.mp3", False),
        ("https://rec.example.com/a", True),
        ("https://example.com/a", False),
        ("not a url", False),
        ("http://[::1", False),
    ],
)
def test_the_allow_list(url, allowed):
    hosts = ["cloudphone.tatateleservices.com", "127.0.0.1:8900", "*.example.com"]
    assert recording_host_allowed(url, hosts) is allowed


def test_the_default_allow_list_has_the_sandbox_and_smartflo(settings):
    from contactcenter import settings as project_settings

    assert "cloudphone.tatateleservices.com" in project_settings.RECORDING_ALLOWED_HOSTS
    sandbox_host = urlsplit(project_settings.SMARTFLO_BASE_URL).netloc
    assert sandbox_host in project_settings.RECORDING_ALLOWED_HOSTS
