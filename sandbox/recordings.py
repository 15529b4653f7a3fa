"""Call recordings: a small, valid-looking MP3 payload per call, served with Range support."""

from __future__ import annotations

import hashlib
import re

from sandbox.httpio import Response, error_response

_FRAME_HEADER = bytes((0xFF, 0xFB, 0x90, 0x64))  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz
_FRAME_SIZE = 417
_FRAMES = 24
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def mp3_bytes(call_id: str) -> bytes:
    """An ID3v2 tag followed by MPEG frames whose payload is derived from the call_id."""
    title = f"Sandbox recording {call_id}".encode()
    frame = b"TIT2" + (len(title) + 1).to_bytes(4, "big") + b"\x00\x00\x00" + title
    tag = b"ID3\x03\x00\x00" + _syncsafe(len(frame)) + frame
    seed = hashlib.sha256(call_id.encode()).digest()
    filler = (seed * (_FRAME_SIZE // len(seed) + 1))[: _FRAME_SIZE - len(_FRAME_HEADER)]
    return tag + (_FRAME_HEADER + filler) * _FRAMES


def _syncsafe(size: int) -> bytes:
    return bytes(((size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F))


def serve(call_id: str, range_header: str | None) -> Response:
    """200 with the whole payload, 206 for a satisfiable `Range: bytes=...`, 416 otherwise."""
    data = mp3_bytes(call_id)
    size = len(data)
    headers = {"Accept-Ranges": "bytes"}
    if not range_header:
        return Response(200, data, "audio/mpeg", headers)
    match = _RANGE.fullmatch(range_header.strip())
    if match is None or match.groups() == ("", ""):
        return _unsatisfiable(size)
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return _unsatisfiable(size)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(206, data[start : end + 1], "audio/mpeg", headers)


def _unsatisfiable(size: int) -> Response:
    response = error_response(416, "Requested range not satisfiable")
    response.headers["Content-Range"] = f"bytes */{size}"
    return response
