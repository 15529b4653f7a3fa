"""`python -m sandbox` as `make dev` runs it: records made at start point at the bound server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

from tests.waiting import wait_until
from tests.workers import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_records_generated_at_start_have_recordings_the_server_serves():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--records", "20"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def count() -> int:
            try:
                with urllib.request.urlopen(f"{base}/_control/records/count", timeout=1) as response:
                    return json.load(response)["count"]
            except OSError:
                return 0

        assert wait_until(count, 15, what="the sandbox with its records") == 20
        request = urllib.request.Request(
            f"{base}/v1/call/records?from_date=2000-01-01%2000:00:00&to_date=2099-12-31%2023:59:59&limit=20",
            headers={"Authorization": "Bearer sandbox-token"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            urls = [r["recording_url"] for r in json.load(response)["results"] if r["recording_url"]]
        assert urls and all(url.startswith(f"{base}/recordings/") for url in urls)
        with urllib.request.urlopen(urls[0], timeout=5) as audio:
            assert audio.status == 200 and audio.read(4) == b"RIFF"
    finally:
        process.terminate()
        process.wait(timeout=10)
