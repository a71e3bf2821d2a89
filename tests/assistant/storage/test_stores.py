import pytest

from assistant.storage.feedback_store import FeedbackStore, FeedbackVote
from assistant.storage.sqlite_database import SqliteDatabase
from assistant.storage.thread_context_store import SqliteThreadContextStore


@pytest.fixture
async def database(tmp_path):
    db = SqliteDatabase(tmp_path / "nested" / "assistant.sqlite3")
    await db.open()
    yield db
    await db.close()


async def test_a_repeated_vote_updates_instead_of_duplicating(database):
    store = FeedbackStore(database)
    await store.create_tables()
    vote = FeedbackVote("T1", "D1", "1.0", "2.0", "U1", True, "openai/gpt-4")
    await store.record(vote)
    await store.record(FeedbackVote("T1", "D1", "1.0", "2.0", "U1", False, "openai/gpt-4"))
    await store.record(FeedbackVote("T1", "D1", "1.0", "2.0", "U2", True, "openai/gpt-4"))
    votes = await store.votes_for_message(channel_id="D1", message_ts="2.0")
    assert [(v.user_id, v.positive) for v in votes] == [("U1", False), ("U2", True)]
    assert all(v.voted_at > 0 and v.thread_ts == "1.0" and v.team_id == "T1" for v in votes)


async def test_thread_context_survives_a_restart(tmp_path):
    path = tmp_path / "assistant.sqlite3"
    first = SqliteDatabase(path)
    await first.open()
    store = SqliteThreadContextStore(first)
    await store.create_tables()
    await store.save(channel_id="D1", thread_ts="1.0", context={"channel_id": "C1", "team_id": "T1"})
    await store.save(channel_id="D1", thread_ts="1.0", context={"channel_id": "C2", "team_id": "T1"})
    await first.close()

    second = SqliteDatabase(path)
    await second.open()
    reopened = SqliteThreadContextStore(second)
    found = await reopened.find(channel_id="D1", thread_ts="1.0")
    assert found is not None and found.channel_id == "C2" and found.team_id == "T1"
    assert await reopened.find(channel_id="D1", thread_ts="9.9") is None
    await reopened.save(channel_id="D1", thread_ts="2.0", context={})
    assert await reopened.find(channel_id="D1", thread_ts="2.0") is None
    await second.close()
