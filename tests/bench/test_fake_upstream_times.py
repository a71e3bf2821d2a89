"""The fake upstream stamps when a streamed answer's first and last tokens went out."""

import time

import aiohttp

from tests.support.fake_openai import FakeOpenAIServer, Reply


async def _stream(base_url: str, body: dict) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/chat/completions", json=body) as response:
            return await response.text()


async def test_first_and_last_chunk_times_are_recorded_for_streams():
    with FakeOpenAIServer() as fake:
        fake.enqueue(Reply(text="one two three", first_token_delay=0.05, token_delay=0.02))
        before = time.monotonic()
        await _stream(fake.base_url, {"model": "gpt-4", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        [request] = fake.requests
        assert request.time >= before
        assert request.first_chunk_at is not None and request.last_chunk_at is not None
        assert request.first_chunk_at - request.time >= 0.05
        # Three tokens: two gaps of 0.02 s between the first and the last.
        assert request.last_chunk_at - request.first_chunk_at >= 0.04


async def test_no_times_without_a_stream():
    with FakeOpenAIServer() as fake:
        fake.enqueue(Reply(text="whole"), Reply(status=500))
        for _ in range(2):
            await _stream(fake.base_url, {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
        assert [(r.first_chunk_at, r.last_chunk_at) for r in fake.requests] == [(None, None), (None, None)]


async def test_a_cut_stream_has_a_first_but_no_last_chunk_time():
    with FakeOpenAIServer() as fake:
        fake.enqueue(Reply(text="one two three four", cut_after_tokens=2))
        try:
            await _stream(fake.base_url, {"model": "gpt-4", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        except aiohttp.ClientError:
            pass  # the scripted cut drops the connection
        [request] = fake.requests
        assert request.first_chunk_at is not None and request.last_chunk_at is None
