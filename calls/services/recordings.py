"""Call recordings through our own proxy: the browser never sees Smartflo's (tokenised) URL.

Only hosts in RECORDING_ALLOWED_HOSTS are fetched. Redirects are followed by hand, a few hops at
most, and only to allow-listed hosts. `Range` is passed through, so the audio element can seek
and the answer streams as 200, 206 or 416, exactly as the recording host gave it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from contactcenter.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024
_RANGE = re.compile(r"^bytes=\d*-\d*(,\s*\d*-\d*)*$")
PASSED_HEADERS = ("content-type", "content-length", "content-range", "accept-ranges", "last-modified", "etag")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RecordingUnavailable(ApplicationError):
    status_code = 502
    code = "recording_unavailable"


def recording_host_allowed(url: str, allowed: list[str] | None = None) -> bool:
    """Whether `url` is http(s) on an allow-listed host ("host", "host:port" or "*.domain")."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return False
    host = parts.hostname.lower().rstrip(".")
    port = port or _DEFAULT_PORTS[parts.scheme]
    for entry in settings.RECORDING_ALLOWED_HOSTS if allowed is None else allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        name, entry_port = entry, ""
        if ":" in entry and entry.rsplit(":", 1)[1].isdigit():
            name, entry_port = entry.rsplit(":", 1)
        if entry_port and int(entry_port) != port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) and host != name[2:]:
                return True
        elif host == name:
            return True
    return False


@dataclass
class RecordingStream:
    """An open upstream answer: status, the headers worth passing on, and the body in chunks."""

    status: int
    headers: dict[str, str]
    _response: httpx.Response = field(repr=False)
    _client: httpx.Client = field(repr=False)

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes(CHUNK_BYTES)
        except httpx.HTTPError as exc:  # the client already has the headers: just stop
            logger.warning("recording stream broke off: %s", exc.__class__.__name__)
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()
        self._client.close()


def recording_open(*, url: str, call_id: str, range_header: str | None = None) -> RecordingStream:
    """Open the recording at `url` (an allow-listed host) for streaming.

    Raises ApplicationError: 403 `recording_host_not_allowed` (the URL or a redirect leaves the
    allow-list), 404 `recording_not_found`, 502/504 `recording_unavailable`.
    """
    if not url:
        raise ApplicationError("This call has no recording.", code="recording_not_found", status_code=404)
    if not recording_host_allowed(url):
        logger.warning("recording of %s refused: host %s is not allow-listed", call_id, urlsplit(url).hostname)
        raise ApplicationError(
            "The recording is on a host that is not allowed.", code="recording_host_not_allowed", status_code=403
        )
    headers = {"Accept": "audio/*, */*"}
    if range_header and _RANGE.match(range_header.strip()):
        headers["Range"] = range_header.strip()
    timeout = httpx.Timeout(settings.RECORDING_PROXY_TIMEOUT, connect=min(3.0, settings.RECORDING_PROXY_TIMEOUT))
    client = httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        response = _fetch(client, url, headers, call_id)
    except BaseException:
        client.close()
        raise
    if response.status_code not in (200, 206, 416):
        status = response.status_code
        response.close()
        client.close()
        logger.warning("recording of %s: the recording host answered %s", call_id, status)
        if status in (404, 410):
            raise ApplicationError("The recording is no longer available.", code="recording_not_found", status_code=404)
        raise RecordingUnavailable(f"The recording host answered {status}.")
    passed = {name: response.headers[name] for name in PASSED_HEADERS if name in response.headers}
    return RecordingStream(status=response.status_code, headers=passed, _response=response, _client=client)


def _fetch(client: httpx.Client, url: str, headers: dict[str, str], call_id: str) -> httpx.Response:
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            response = client.send(client.build_request("GET", url, headers=headers), stream=True)
        except httpx.TimeoutException:
            raise RecordingUnavailable("The recording host did not answer in time.", status_code=504) from None
        except httpx.HTTPError as exc:
            raise RecordingUnavailable(f"Could not reach the recording host ({exc.__class__.__name__}).") from None
        if not response.is_redirect:
            return response
        location = response.headers.get("location", "")
        response.close()
        url = urljoin(url, location)
        if not recording_host_allowed(url):
            logger.warning(
                "recording of %s refused: redirect to %s is not allow-listed", call_id, urlsplit(url).hostname
            )
            raise ApplicationError(
                "The recording redirects to a host that is not allowed.",
                code="recording_host_not_allowed",
                status_code=403,
            )
    raise RecordingUnavailable("The recording host redirected too many times.")
