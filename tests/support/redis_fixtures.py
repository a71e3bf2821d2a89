"""pytest plugin: one real redis-server for the session, emptied before each test that uses it.

The server starts lazily, only when a test asks for `redis_server` or `redis_url`; a missing
redis-server binary fails those tests with an install hint instead of skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL with every database empty, so no test sees another's keys."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5.0)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url
