"""The Redis cache backend, made to degrade instead of failing when Redis is unreachable.

Everything the app caches is a shortcut (one shared `/live_calls` poll for every open board,
the records charts): without Redis a page must still render, only with more work. So when Redis
cannot be reached (connection refused, timeout) reads miss, writes are dropped, and `add`
answers True: "nobody else is known to hold this key", so a caller that uses it as a short lock
(the live board's poll) goes ahead on its own instead of waiting for a holder that cannot exist.
Any other Redis error (a bad command) is a bug and still raises.

A Redis that does not answer at all (a dead host, a dropped network) costs a full socket timeout
per operation, many per page: so after one unreachable error the cache skips Redis altogether for
`UNREACHABLE_PAUSE_SECONDS` (per process and Redis location), answering as above without trying,
then tries again. A Redis that comes back is used again at most that long afterwards.

Django's Redis client also makes a new `redis.Redis` object for every operation, and each one
builds a table of about 170 response callbacks: about 0.2 ms a cache call, more than the round
trip to Redis. `ReusingRedisCacheClient` keeps one per connection pool (a `redis.Redis` is only
a handle on its pool, safe to share).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


def _warn(operation: str, exc: Exception) -> None:
    """One warning a minute per process: a page may touch the cache many times."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("cache unavailable (%s on %s): serving without it", exc.__class__.__name__, operation)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, with one `redis.Redis` per connection pool instead of one per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ResilientRedisCache(RedisCache):
    #: After an unreachable error, Redis is not tried again for this long (a circuit breaker).
    UNREACHABLE_PAUSE_SECONDS = 5.0
    #: Redis location -> time.monotonic() until which it is skipped; shared by the per-thread
    #: instances Django makes of one cache, so one slow failure spares every thread.
    _paused_until: ClassVar[dict[tuple[str, ...], float]] = {}

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _pause_key(self) -> tuple[str, ...]:
        return tuple(self._servers)

    def _guarded(self, operation: str, fallback: Any, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)`, or `fallback` while Redis is paused or when it turns out unreachable."""
        key = self._pause_key()
        if time.monotonic() < self._paused_until.get(key, 0.0):
            return fallback
        try:
            return call(*args)
        except UNREACHABLE as exc:
            self._paused_until[key] = time.monotonic() + self.UNREACHABLE_PAUSE_SECONDS
            _warn(operation, exc)
            return fallback

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._guarded("get", default, super().get, key, default, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._guarded("get_many", {}, super().get_many, keys, version)

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._guarded("has_key", False, super().has_key, key, version)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded("add", True, super().add, key, value, timeout, version)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guarded("set", None, super().set, key, value, timeout, version)

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[str]:
        return self._guarded("set_many", list(data), super().set_many, data, timeout, version)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded("touch", False, super().touch, key, timeout, version)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._guarded("delete", False, super().delete, key, version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._guarded("delete_many", None, super().delete_many, keys, version)

    def clear(self) -> bool:
        return self._guarded("clear", False, super().clear)
