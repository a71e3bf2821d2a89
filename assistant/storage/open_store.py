"""Pick the state store backend from the storage settings: Redis when REDIS_URL is set."""

from __future__ import annotations

from assistant.settings import StorageSettings
from assistant.storage.state_store import StateStore

DATABASE_FILE = "assistant.sqlite3"


def build_state_store(storage: StorageSettings) -> StateStore:
    """An unopened store; call `await store.open()` before use and `close()` after."""
    if storage.redis_url:
        from assistant.storage.redis_state_store import RedisStateStore

        return RedisStateStore(storage.redis_url, key_prefix=storage.redis_key_prefix)
    from assistant.storage.sqlite_state_store import SqliteStateStore

    return SqliteStateStore(storage.data_dir / DATABASE_FILE)
