import pytest

from assistant.storage.sqlite_state_store import SqliteStateStore


@pytest.fixture
async def sqlite_store(tmp_path):
    """The real embedded state store on a fresh file."""
    store = SqliteStateStore(tmp_path / "assistant.sqlite3")
    await store.open()
    yield store
    await store.close()
