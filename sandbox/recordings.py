"""Call recordings: a short, playable WAV per call, served with Range support."""

from __future__ import annotations

import hashlib
import math
import re
import struct

from sandbox.httpio import Response, error_response

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_RATE = 8000  # samples per second, 8-bit mono PCM: telephone quality
_SECONDS = 2


def recording_bytes(call_id: str) -> bytes:
    """A short WAV that a browser really plays: a two-second tone, its pitch derived from the
    call id (so different calls sound different, and the same call always the same)."""
    pitch = 300 + hashlib.sha256(call_id.encode()).digest()[0] * 2  # 300-810 Hz
    samples = bytes(
        128 + int(60 * math.sin(2 * math.pi * pitch * n / _RATE) * min(1.0, (_RATE * _SECONDS - n) / 800))
        for n in range(_RATE * _SECONDS)
    )
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, _RATE, _RATE, 1, 8)
    return header + b"data" + struct.pack("<I", len(samples)) + samples


def serve(call_id: str, range_header: str | None) -> Response:
    """200 with the whole payload, 206 for a satisfiable `Range: bytes=...`, 416 otherwise."""
    data = recording_bytes(call_id)
    size = len(data)
    headers = {"Accept-Ranges": "bytes"}
    if not range_header:
        return Response(200, data, "audio/wav", headers)
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
    return Response(206, data[start : end + 1], "audio/wav", headers)


def _unsatisfiable(size: int) -> Response:
    response = error_response(416, "Requested range not satisfiable")
    response.headers["Content-Range"] = f"bytes */{size}"
    return response
