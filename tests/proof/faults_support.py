"""Tools of the fault suite (tests/proof/test_faults_*.py): a private `redis-server` a test can
kill and start again, Celery workers a test can SIGKILL and restart on the same queue, a web
server process, and a TCP proxy that plays a database restart to the clients behind it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.needs import skip_or_fail
from tests.waiting import wait_until
from tests.workers import ROOT, Worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A `redis-server` of this test's own on a free port: killing it harms nobody else."""

    def __init__(self, directory: Path) -> None:
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self.binary, os.X_OK):
            skip_or_fail("needs the redis-server binary (apt-get install redis-server) to stop a Redis for real")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", str(self.directory), "--daemonize", "no"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(self.answering, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def answering(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, as when a Redis host dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.kill()


# --- Celery workers that can be killed -----------------------------------------------------


@contextmanager
def killable_worker(
    *, queue: str, redis_url: str, log_file: Path, env: dict[str, str], visibility_timeout: float
) -> Iterator[Worker]:
    """A solo worker on `queue` (a restarted worker takes the same one, so it gets the killed
    worker's unacknowledged message back), with Redis' visibility timeout shortened so that
    message comes back within the test (the default is an hour)."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.proof.fault_worker_settings",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "FAULT_VISIBILITY_TIMEOUT": str(visibility_timeout),
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "contactcenter", "worker", "--pool", "solo", "-Q", queue,
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
               "-f", str(log_file)]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield Worker(process=process, queue=queue, log_file=log_file)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def sigkill(worker: Worker) -> None:
    """Kill the worker process outright: no warm shutdown, no acknowledgement, no cleanup."""
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)


def wait_for_ready(worker: Worker, timeout: float = 60) -> None:
    worker.wait_for(lambda: "ready." in worker.log(), timeout)


# --- A web server process ------------------------------------------------------------------


@contextmanager
def web_server(*, env: dict[str, str], log_file: Path) -> Iterator[str]:
    """gunicorn with one sync worker (one thread, one persistent database connection, as in
    production); yields its base URL."""
    port = free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env}
    command = [sys.executable, "-m", "gunicorn", "contactcenter.wsgi:application", "--workers", "1",
               "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "2",
               "--no-control-socket", "--error-logfile", str(log_file), "--capture-output"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, log_file.read_text() if log_file.exists() else "gunicorn died"
        try:
            return httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=60, what="the web server", interval=0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- A TCP proxy that can play a server restart ---------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`. `outage()` drops every connection and refuses new
    ones (its listening socket is closed, so clients get "connection refused"), as a database
    server restart looks to its clients; `recover()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.accepted = 0

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: an outage or the end
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(pair)

    def _drop(self, pair: tuple[socket.socket, socket.socket]) -> None:
        with self._lock:
            self._pairs.discard(pair)
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def outage(self) -> None:
        """Stop listening, then cut every open connection."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            self._drop(pair)

    def recover(self) -> None:
        self.start()

    def stop(self) -> None:
        self.outage()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
