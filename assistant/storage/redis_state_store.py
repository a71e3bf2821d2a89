"""The state store on Redis, for when more than one copy of the bot answers the same workspace.

SQLite is one file on one machine; as soon as two instances run (a rolling deploy, or scaling
out), idempotency keys, rate-limit buckets, thread leases and the "newest message" marker must
be shared, or both copies answer the same message and each grants its own rate limit. Every
check-and-set here is one Redis command or one Lua script, so it is atomic across instances,
and time-based decisions use the Redis server's clock (`TIME`) rather than each host's.

Key layout (all under `key_prefix:`; keys carry only Slack ids/ts and caller-given key strings):
    claim:{key}                         idempotency key (value "1", PX ttl)
    bucket:{key}                        rate-limit bucket hash {tokens, updated_at}, PX 2 min
    lease:{key}                         per-thread lease (value owner, PX ttl)
    newest:{key}                        newest message ts in a thread, EX 1 day
    thread-context:{channel}:{thread}   JSON of the thread's context
    votes:{channel}:{message_ts}        hash user_id -> JSON vote
    votes-by-time                       zset "channel|message_ts|user" scored by voted_at
    usage                               zset "{seq:020d}|{JSON record}" scored by recorded_at
    usage-seq                           counter making identical usage records distinct
    session:{session_id}...             the Agents SDK's RedisSession keys
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, fields
from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis
from agents.extensions.memory.redis_session import RedisSession
from agents.memory import Session
from redis.exceptions import RedisError

from assistant.storage.state_store import FeedbackVote, TokenBucket, UsageRecord, wait_for_token

# A bucket is full again at most 60 s after its last take (tokens never go below 0), and a full
# bucket is the same as no bucket, so after this long an idle bucket can simply vanish.
BUCKET_TTL_MS = 120_000
# Long enough to outlive any answer in the thread; refreshed on every new message.
NEWEST_TTL_SECONDS = 24 * 60 * 60

# Redis's own clock for every instance. Lua's tostring() keeps only 14 significant digits,
# which would cut epoch seconds to 0.1 ms and drift the bucket, hence "%.17g" (exact round
# trip) for everything stored or returned. Returns (ok, tokens before the take...) as strings:
# Redis would truncate Lua numbers to integers. The waits are computed in Python with
# `wait_for_token`, so both backends share that formula verbatim; `refill` is mirrored here.
_TAKE_TOKENS = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local levels = {}
local ok = 1
for i, key in ipairs(KEYS) do
    local per_minute = tonumber(ARGV[i])
    local stored = redis.call('HMGET', key, 'tokens', 'updated_at')
    local tokens = per_minute
    if stored[1] and stored[2] then
        local elapsed = math.max(0, now - tonumber(stored[2]))
        tokens = math.min(per_minute, tonumber(stored[1]) + elapsed * per_minute / 60.0)
    end
    levels[i] = tokens
    if tokens < 1 then ok = 0 end
end
local reply = {tostring(ok)}
for i, key in ipairs(KEYS) do
    if ok == 1 then
        redis.call('HSET', key, 'tokens', string.format('%.17g', levels[i] - 1),
                   'updated_at', string.format('%.17g', now))
        redis.call('PEXPIRE', key, ARGV[#KEYS + 1])
    end
    reply[i + 1] = string.format('%.17g', levels[i])
end
return reply
"""

# Lease changes compare the holder and act in one script: a GET followed by a separate
# PEXPIRE/DEL could touch a lease that expired and was taken by another instance in between.
_ACQUIRE_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
"""

_RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('DEL', KEYS[1])
end
return 0
"""

# Slack ts compared as exact decimals (like `ts_order`), not as floats: a double holds only
# ~16 significant digits and "1712345678.000200" has 16. Integer parts compare by length then
# digits (leading zeros dropped), fractions by digits after right-padding to equal length.
# Anything that is not digits[.digits] counts as 0, as `ts_order` does.
_MARK_NEWEST = """
local function parts(ts)
    local whole, fraction = string.match(ts, '^(%d*)%.?(%d*)$')
    if whole == nil or (whole == '' and fraction == '') then return '', '' end
    whole = string.gsub(whole, '^0+', '')
    fraction = string.gsub(fraction, '0+$', '')
    return whole, fraction
end
local function newer(a, b)
    local aw, af = parts(a)
    local bw, bf = parts(b)
    if #aw ~= #bw then return #aw > #bw end
    if aw ~= bw then return aw > bw end
    local width = math.max(#af, #bf)
    af = af .. string.rep('0', width - #af)
    bf = bf .. string.rep('0', width - #bf)
    return af > bf
end
local current = redis.call('GET', KEYS[1])
local newest = ARGV[1]
if current and not newer(ARGV[1], current) then newest = current end
redis.call('SET', KEYS[1], newest, 'EX', ARGV[2])
return newest
"""

# The sequence number in front makes two identical records two members, and orders records
# with the same recorded_at by arrival, as a table's row order would.
_RECORD_USAGE = """
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], ARGV[1], string.format('%020d', seq) .. '|' .. ARGV[2])
return seq
"""

_USAGE_FIELDS = frozenset(field.name for field in fields(UsageRecord))
_VOTE_FIELDS = frozenset(field.name for field in fields(FeedbackVote))


class RedisUnavailableError(ConnectionError):
    """Redis could not be reached or refused us; an OSError, so start-up reports it like a disk error."""


class RedisStateStore:
    """`StateStore` on one shared `redis.asyncio` client (its connection pool serves every call)."""

    def __init__(self, url: str, *, key_prefix: str = "slack-assistant") -> None:
        self._url = url
        self._prefix = key_prefix
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        if self._client is not None:
            return
        # str replies everywhere: every value stored here is text, and RedisSession accepts both.
        client = aioredis.from_url(self._url, decode_responses=True)
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            raise RedisUnavailableError(f"Redis at {_printable(self._url)} is not usable: {exc}") from exc
        self._client = client
        self._scripts = {
            name: client.register_script(source)
            for name, source in {
                "take_tokens": _TAKE_TOKENS,
                "acquire_lease": _ACQUIRE_LEASE,
                "renew_lease": _RENEW_LEASE,
                "release_lease": _RELEASE_LEASE,
                "mark_newest": _MARK_NEWEST,
                "record_usage": _RECORD_USAGE,
            }.items()
        }

    async def close(self) -> None:
        client, self._client = self._client, None
        self._scripts = {}
        if client is not None:
            await client.aclose()

    @property
    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("RedisStateStore is not open; call `await store.open()` first")
        return self._client

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        if script not in self._scripts:
            raise RuntimeError("RedisStateStore is not open; call `await store.open()` first")
        return await self._scripts[script](keys=keys, args=args)

    # ------------------------------------------------------------------ conversation memory

    def session(self, session_id: str) -> Session:
        # The SDK session borrows our client; its close() leaves a client it does not own alone.
        return RedisSession(session_id, redis_client=self._redis, key_prefix=self._key("session"))

    # ------------------------------------------------------------------ thread context

    async def save_thread_context(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        await self._redis.set(self._key("thread-context", channel_id, thread_ts), json.dumps(context))

    async def find_thread_context(self, *, channel_id: str, thread_ts: str) -> dict[str, str] | None:
        raw = await self._redis.get(self._key("thread-context", channel_id, thread_ts))
        return None if raw is None else dict(json.loads(raw))

    # ------------------------------------------------------------------ feedback

    async def record_vote(self, vote: FeedbackVote) -> None:
        voted_at = vote.voted_at or time.time()
        payload = json.dumps({**asdict(vote), "voted_at": voted_at})
        # Hash and index change together, so an export never sees one without the other.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("votes", vote.channel_id, vote.message_ts), vote.user_id, payload)
            pipe.zadd(self._key("votes-by-time"), {_vote_member(vote.channel_id, vote.message_ts, vote.user_id): voted_at})
            await pipe.execute()

    async def votes_for_message(self, *, channel_id: str, message_ts: str) -> list[FeedbackVote]:
        stored = await self._redis.hvals(self._key("votes", channel_id, message_ts))
        votes = [_vote_from_json(raw) for raw in stored]
        return sorted(votes, key=lambda vote: (vote.voted_at, vote.user_id))

    async def votes_since(self, since: float) -> list[FeedbackVote]:
        members = await self._redis.zrangebyscore(self._key("votes-by-time"), since, "+inf")
        if not members:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for member in members:
                channel_id, message_ts, user_id = member.split("|", 2)
                pipe.hget(self._key("votes", channel_id, message_ts), user_id)
            stored = await pipe.execute()
        # Between the two reads a vote may have been replaced: re-filter and re-sort on the
        # values actually read.
        votes = [_vote_from_json(raw) for raw in stored if raw is not None]
        votes = [vote for vote in votes if vote.voted_at >= since]
        return sorted(votes, key=lambda vote: vote.voted_at)

    # ------------------------------------------------------------------ usage

    async def record_usage(self, record: UsageRecord) -> None:
        recorded_at = record.recorded_at or time.time()
        payload = json.dumps({**asdict(record), "recorded_at": recorded_at})
        await self._run("record_usage", [self._key("usage"), self._key("usage-seq")], [repr(recorded_at), payload])

    async def usage_since(self, since: float) -> list[UsageRecord]:
        members = await self._redis.zrangebyscore(self._key("usage"), since, "+inf")
        records = []
        for member in members:
            data = json.loads(member.split("|", 1)[1])
            records.append(UsageRecord(**{name: value for name, value in data.items() if name in _USAGE_FIELDS}))
        return records

    # ------------------------------------------------------------------ idempotency keys

    async def claim_key(self, key: str, ttl_seconds: float) -> bool:
        claimed = await self._redis.set(self._key("claim", key), "1", nx=True, px=_milliseconds(ttl_seconds))
        return bool(claimed)

    # ------------------------------------------------------------------ rate limits

    async def take_tokens(self, buckets: list[TokenBucket]) -> list[float]:
        if not buckets:
            return []
        keys = [self._key("bucket", bucket.key) for bucket in buckets]
        args: list[Any] = [bucket.per_minute for bucket in buckets] + [BUCKET_TTL_MS]
        reply = await self._run("take_tokens", keys, args)
        if reply[0] == "1":
            return [0.0] * len(buckets)
        return [wait_for_token(float(level), bucket.per_minute) for level, bucket in zip(reply[1:], buckets)]

    # ------------------------------------------------------------------ per-thread lease

    async def acquire_lease(self, key: str, owner: str, ttl_seconds: float) -> bool:
        return bool(await self._run("acquire_lease", [self._key("lease", key)], [owner, _milliseconds(ttl_seconds)]))

    async def renew_lease(self, key: str, owner: str, ttl_seconds: float) -> bool:
        return bool(await self._run("renew_lease", [self._key("lease", key)], [owner, _milliseconds(ttl_seconds)]))

    async def release_lease(self, key: str, owner: str) -> None:
        await self._run("release_lease", [self._key("lease", key)], [owner])

    # ------------------------------------------------------------------ newest message

    async def mark_newest(self, key: str, message_ts: str) -> str:
        return str(await self._run("mark_newest", [self._key("newest", key)], [message_ts, NEWEST_TTL_SECONDS]))

    async def newest(self, key: str) -> str | None:
        value = await self._redis.get(self._key("newest", key))
        return None if value is None else str(value)


def _milliseconds(seconds: float) -> int:
    # PX 0 is an error, and rounding a tiny TTL down to 0 would make it never expire.
    return max(1, math.ceil(seconds * 1000))


def _vote_member(channel_id: str, message_ts: str, user_id: str) -> str:
    # Slack ids and ts never contain "|".
    return f"{channel_id}|{message_ts}|{user_id}"


def _vote_from_json(raw: str) -> FeedbackVote:
    data = json.loads(raw)
    return FeedbackVote(**{name: value for name, value in data.items() if name in _VOTE_FIELDS})


def _printable(url: str) -> str:
    """The URL without its password, for error messages."""
    parsed = urlparse(url)
    try:
        port = f":{parsed.port}" if parsed.port else ""
    except ValueError:  # a malformed port must not hide the real error
        port = ""
    return f"{parsed.scheme}://{parsed.hostname or ''}{port}{parsed.path}"
