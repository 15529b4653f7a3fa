"""The Redis cache when Redis cannot be reached: it answers without Redis, and after one
unreachable error it stops waiting for Redis for a while (contactcenter/core/cache.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.core.cache.backends.redis import RedisCacheClient

from contactcenter.core.cache import ResilientRedisCache, ReusingRedisCacheClient

PAUSE = 0.5
TIMEOUT = 0.2


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a Redis unreachable, not refusing."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


@pytest.fixture
def tries(monkeypatch) -> list[str]:
    """Every time the cache reaches for a Redis client; with a short pause, and no pause left
    over from another test."""
    monkeypatch.setattr(ResilientRedisCache, "UNREACHABLE_PAUSE_SECONDS", PAUSE, raising=False)
    monkeypatch.setattr(ResilientRedisCache, "_paused_until", {}, raising=False)
    seen: list[str] = []
    get_client = ReusingRedisCacheClient.get_client

    def counted(self, key=None, *, write=False):
        seen.append(key)
        return get_client(self, key, write=write)

    monkeypatch.setattr(ReusingRedisCacheClient, "get_client", counted)
    return seen


def silent_cache(url: str) -> ResilientRedisCache:
    return ResilientRedisCache(url, {"OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT}})


def test_after_an_unreachable_error_redis_is_left_alone_for_a_while_then_tried_again(silent_redis, tries):
    cache = silent_cache(silent_redis)

    started = time.monotonic()
    assert cache.get("board", "miss") == "miss"
    assert time.monotonic() - started >= TIMEOUT  # the one wait: a whole socket timeout
    assert len(tries) == 1

    # Within the pause: every operation answers at once, as if Redis were down, without trying.
    started = time.monotonic()
    assert cache.get("board", "miss") == "miss"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("board") is False
    assert cache.add("poll-lock", 1) is True  # nobody else is known to hold it
    assert cache.set("board", 1) is None
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("board") is False
    assert cache.delete("board") is False
    assert cache.delete_many(["a"]) is None
    assert cache.clear() is False
    assert cache.get_or_set("charts", "computed") == "computed"
    assert len(tries) == 1
    assert time.monotonic() - started < TIMEOUT

    # After it: Redis is tried again (and, still silent, paused again).
    time.sleep(PAUSE)
    assert cache.get("board", "miss") == "miss"
    assert len(tries) == 2
    assert cache.get("board", "miss") == "miss"
    assert len(tries) == 2


def test_the_pause_is_shared_by_every_instance_of_that_redis_only(silent_redis, tries, monkeypatch):
    """Django makes one cache instance per thread: one slow failure spares them all."""
    silent_cache(silent_redis).get("board")
    assert len(tries) == 1

    assert silent_cache(silent_redis).get("board", "miss") == "miss"
    assert len(tries) == 1

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        silent_cache(f"redis://127.0.0.1:{other.getsockname()[1]}/0").get("board")
    assert len(tries) == 2  # another Redis is not paused by this one's failure


def test_other_redis_errors_still_raise_and_pause_nothing(tries, monkeypatch):
    from redis.exceptions import ResponseError

    def bad_command(self, key, default):
        raise ResponseError("WRONGTYPE")

    monkeypatch.setattr(RedisCacheClient, "get", bad_command)
    cache = silent_cache("redis://127.0.0.1:1/0")
    for _ in range(2):
        with pytest.raises(ResponseError):
            cache.get("board")
    assert ResilientRedisCache._paused_until == {}


def test_one_redis_client_serves_every_call_of_a_cache_instance(redis_url):
    """Django's client makes a `redis.Redis` per call (about 0.2 ms of building its callback
    table each time); ours keeps one per connection pool, and it works as before."""
    cache = ResilientRedisCache(redis_url, {"KEY_PREFIX": "test-reuse"})
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    cache.set("answer", {"n": 42}, 30)
    assert cache.get("answer") == {"n": 42}
    assert cache.get_many(["answer", "missing"]) == {"answer": {"n": 42}}
    assert cache.delete("answer") is True
    assert cache.get("answer", "gone") == "gone"
    assert cache._cache.get_client() is client
