"""Two real app.py processes sharing one Redis state store, each on its own Socket Mode connection
and each with its own (unused) DATA_DIR: every message is answered once, by whichever instance
Slack delivered it to; a thread's memory, its newest-message mark and its lease are shared, so a
newer message stops an answer running on the other instance, and a killed instance blocks its
thread for at most one lease time."""

import asyncio
import os
import signal
import statistics
import time

import redis

from assistant.answer_pipeline import STOPPED_NOTICE
from assistant.conversation import NOTICE_EVENT
from assistant.session_history import STOPPED_MARK
from tests.support.fake_openai import Reply
from tests.support.slack_waits import answers_in, greeted_thread

THREADS = 10
ROUNDS = 5
ROUND_TIMEOUT_SECONDS = 20
KILL_LEASE_SECONDS = 3
# After a crash the next message waits for the dead instance's lease to run out (at most one lease
# time after its last renewal), then is answered normally; the margin covers the answer itself.
KILL_MARGIN_SECONDS = 10
STOP_TIMEOUT_SECONDS = 20


def _chat_requests(upstream):
    return [r.json for r in upstream.requests if r.path.endswith("/chat/completions")]


def _requests_for(upstream, marker):
    """The upstream requests whose last user message carries `marker`."""
    found = []
    for body in _chat_requests(upstream):
        users = [m for m in body["messages"] if m.get("role") == "user"]
        if users and marker in str(users[-1]["content"]):
            found.append(body)
    return found


async def _two_instances(run_bot, redis_url, tmp_path, **env):
    """Bot A, then bot B (each waits for its own new connection), sharing Redis."""
    data_dirs = (tmp_path / "data-a", tmp_path / "data-b")
    a = await run_bot(REDIS_URL=redis_url, DATA_DIR=str(data_dirs[0]), **env)
    b = await run_bot(REDIS_URL=redis_url, DATA_DIR=str(data_dirs[1]), **env)
    assert a.connection_id and b.connection_id and a.connection_id != b.connection_id
    for bot in (a, b):
        await bot.wait_for_log("State store: redis")
    return a, b, data_dirs


def _assert_no_local_state(data_dirs):
    for data_dir in data_dirs:
        assert not (data_dir / "assistant.sqlite3").exists(), f"{data_dir} was used although REDIS_URL is set"


async def _poll(predicate, description, timeout=10.0):
    """For what the bots write to their logs (not simulator state, which `wait_for` watches)."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {description}"
        await asyncio.sleep(0.05)
    return result


def _notices(slack_sim, thread):
    return [
        m
        for m in slack_sim.state.bot_replies(thread.channel_id, thread.thread_ts)
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def _stuck_round_report(slack_sim, threads, round_no, bots, redis_url):
    """Which threads lack their answer, who holds their leases now, and what the bots warned."""
    missing = [
        f"t{i} (thread {t.thread_ts}: {len(answers_in(slack_sim, t))} answers)"
        for i, t in enumerate(threads)
        if len(answers_in(slack_sim, t)) < round_no
    ]
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    try:
        leases = {key: (client.get(key), client.pttl(key)) for key in client.scan_iter("*:lease:*")}
    finally:
        client.close()
    warnings = [line for bot in bots for line in bot.log().splitlines() if " WARNING " in line or " ERROR " in line]
    return (
        f"round {round_no}: no answer in {ROUND_TIMEOUT_SECONDS}s for {missing}; "
        f"leases held now (owner = instance/message ts, ttl ms): {leases}; bot warnings: {warnings[-10:]}"
    )


def _question(thread_no, round_no):
    return f"[t{thread_no} q{round_no}] What comes next in thread {thread_no}?"


def _answer(thread_no, round_no):
    # ~16 tokens at 0.04 s: each answer streams for about 0.6 s.
    return f"answer t{thread_no} q{round_no}: " + " ".join(f"w{j}" for j in range(14))


async def test_fifty_messages_in_ten_threads_over_two_instances(slack_sim, upstream, run_bot, redis_url, tmp_path):
    users = [slack_sim.add_user(name=f"user{i}") for i in range(THREADS)]
    upstream.enqueue(
        *(
            Reply(text=_answer(i, k), token_delay=0.04, when_last_user_says=f"[t{i} q{k}]")
            for i in range(THREADS)
            for k in range(1, ROUNDS + 1)
        )
    )
    a, b, data_dirs = await _two_instances(run_bot, redis_url, tmp_path)
    threads = await asyncio.gather(*(greeted_thread(slack_sim, u.id) for u in users))

    started = time.monotonic()
    sent = {}  # (thread no, round no) -> SentMessage
    for k in range(1, ROUNDS + 1):
        messages = await asyncio.gather(*(slack_sim.user_says(t, _question(i, k)) for i, t in enumerate(threads)))
        sent.update({(i, k): m for i, m in enumerate(messages)})

        def round_done(k=k):
            done = all(
                len(records := answers_in(slack_sim, t)) >= k and all(r.state == "stopped" for r in records)
                for t in threads
            )
            return done or None

        try:
            await slack_sim.wait_for(round_done, timeout=ROUND_TIMEOUT_SECONDS, description=f"round {k}'s {THREADS} answers")
        except TimeoutError:
            raise AssertionError(_stuck_round_report(slack_sim, threads, k, (a, b), redis_url)) from None
    wall = time.monotonic() - started
    await asyncio.sleep(0.5)  # room for a wrongly doubled answer to show up

    # Every message answered exactly once, with its own text, and nothing else posted.
    assert len(slack_sim.state.stream_records()) == THREADS * ROUNDS
    latencies = []
    for i, thread in enumerate(threads):
        records = sorted(answers_in(slack_sim, thread), key=lambda r: r.started_at)
        assert [r.text for r in records] == [_answer(i, k) for k in range(1, ROUNDS + 1)]
        assert not _notices(slack_sim, thread), f"thread {i} got notices: {[m['text'] for m in _notices(slack_sim, thread)]}"
        for earlier, later in zip(records, records[1:]):
            assert earlier.stopped_at <= later.started_at
        for k, record in enumerate(records, start=1):
            latencies.append(record.stopped_at - slack_sim.state.envelope(sent[(i, k)].envelope_id).sent_at)

    # History continuity: round k's request holds the k-1 earlier turns of its own thread, in order.
    for i in range(THREADS):
        for k in range(1, ROUNDS + 1):
            [request] = _requests_for(upstream, f"[t{i} q{k}]")
            expected = []
            for j in range(1, k):
                expected += [{"role": "user", "content": _question(i, j)}, {"role": "assistant", "content": _answer(i, j)}]
            expected.append({"role": "user", "content": _question(i, k)})
            assert request["messages"][0]["role"] == "system"
            assert request["messages"][1:] == expected, f"thread {i} round {k}"
    assert len(_chat_requests(upstream)) == THREADS * ROUNDS, "one model call per message"

    # Both instances answered; each answered exactly the messages delivered to its connection.
    delivered = {a.connection_id: 0, b.connection_id: 0}
    for message in sent.values():
        delivered[slack_sim.state.envelope(message.envelope_id).connection_id] += 1
    def logged():
        counts = {bot.connection_id: bot.log().count("Answered thread=") for bot in (a, b)}
        return counts if sum(counts.values()) >= THREADS * ROUNDS else None

    answered = await _poll(logged, "every answer logged")
    assert answered == delivered, (answered, delivered)
    assert all(count > 0 for count in answered.values()), answered
    for bot in (a, b):
        log = bot.log()
        assert "Answer stopped thread=" not in log and "Answer failed" not in log and "Rebuilt the memory" not in log
    _assert_no_local_state(data_dirs)

    ordered = sorted(latencies)
    print(
        f"MULTI-INSTANCE: {len(latencies)} messages in {THREADS} threads x {ROUNDS} rounds over 2 instances "
        f"(shared Redis): wall {wall:.2f}s; answered A={answered[a.connection_id]} B={answered[b.connection_id]}; "
        f"answer stream stopped - message sent: p50 {statistics.median(ordered):.2f}s max {ordered[-1]:.2f}s "
        f"(each answer streams ~0.6s by script)"
    )


async def test_a_newer_message_on_one_instance_stops_the_answer_on_the_other(slack_sim, upstream, run_bot, redis_url, tmp_path):
    alice = slack_sim.add_user(name="alice")
    slow = " ".join(f"w{i}" for i in range(200))  # 10 s at 0.05 s a token: still running when stopped
    upstream.enqueue(
        Reply(text=slow, token_delay=0.05, when_last_user_says="first question"),
        Reply(text="Second answer, complete.", token_delay=0.02, when_last_user_says="second question"),
    )
    a, b, data_dirs = await _two_instances(run_bot, redis_url, tmp_path)
    thread = await greeted_thread(slack_sim, alice.id)

    first_sent = await slack_sim.user_says(thread, "first question", connection_id=a.connection_id)
    await slack_sim.wait_for(
        lambda: [r for r in answers_in(slack_sim, thread) if len(r.text) > 20] or None,
        description="the first answer streaming on A",
    )
    second_sent = await slack_sim.user_says(thread, "second question", connection_id=b.connection_id)

    def both_done():
        records = answers_in(slack_sim, thread)
        return sorted(records, key=lambda r: r.started_at) if len(records) == 2 and all(r.state == "stopped" for r in records) else None

    first, second = await slack_sim.wait_for(both_done, timeout=STOP_TIMEOUT_SECONDS, description="the stopped and the second answer")
    assert slack_sim.state.envelope(first_sent.envelope_id).connection_id == a.connection_id
    assert slack_sim.state.envelope(second_sent.envelope_id).connection_id == b.connection_id

    shown, _, notice = first.text.rpartition("\n\n")
    assert notice == STOPPED_NOTICE
    assert shown.startswith("w0 w1") and len(shown) < len(slow), "cut short"
    assert second.text == "Second answer, complete."
    assert first.stopped_at <= second.started_at, "the two answers interleaved"
    assert not _notices(slack_sim, thread)

    [request] = _requests_for(upstream, "second question")
    assert request["messages"][1:] == [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": f"{shown.rstrip()}\n\n{STOPPED_MARK}"},
        {"role": "user", "content": "second question"},
    ]
    # The log line follows the stream's end (and the memory write).
    await b.wait_for_log("Answered thread=")
    assert "Answer stopped thread=" in a.log() and "Answered thread=" not in a.log()
    assert "Answer stopped thread=" not in b.log()
    _assert_no_local_state(data_dirs)

    sent_at = slack_sim.state.envelope(second_sent.envelope_id).sent_at
    print(
        f"MULTI-INSTANCE STOP: newer message on B -> A's answer stopped in {first.stopped_at - sent_at:.2f}s, "
        f"B's answer started after {second.started_at - sent_at:.2f}s and finished after {second.stopped_at - sent_at:.2f}s "
        f"(A had shown {len(shown.split())} of 200 words)"
    )


async def test_after_one_instance_is_killed_the_other_answers_once_the_lease_runs_out(
    slack_sim, upstream, run_bot, redis_url, tmp_path
):
    alice = slack_sim.add_user(name="alice")
    upstream.enqueue(
        Reply(text=" ".join(f"w{i}" for i in range(400)), token_delay=0.05, when_last_user_says="first question"),
        Reply(text="Answered after the crash.", token_delay=0.02, when_last_user_says="second question"),
    )
    a, b, data_dirs = await _two_instances(run_bot, redis_url, tmp_path, THREAD_LEASE_SECONDS=str(KILL_LEASE_SECONDS))
    thread = await greeted_thread(slack_sim, alice.id)

    await slack_sim.user_says(thread, "first question", connection_id=a.connection_id)
    # Past the first word: at least one batched appendStream has reached Slack.
    [killed_stream] = await slack_sim.wait_for(
        lambda: [r for r in answers_in(slack_sim, thread) if len(r.text) > 20] or None,
        description="the answer streaming on A",
    )
    os.kill(a.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while a.process.poll() is None:  # reap it without blocking the loop
        assert time.monotonic() < deadline, "the killed bot did not go away"
        await asyncio.sleep(0.05)
    assert a.process.returncode == -signal.SIGKILL
    await slack_sim.wait_for(
        lambda: not any(c.connection_id == a.connection_id for c in slack_sim.state.open_connections()),
        description="A's connection to close",
    )

    sent = await slack_sim.user_says(thread, "second question")
    assert slack_sim.state.envelope(sent.envelope_id).connection_id == b.connection_id

    def answered():
        return [r for r in answers_in(slack_sim, thread) if r.ts != killed_stream.ts and r.state == "stopped"] or None

    [answer] = await slack_sim.wait_for(
        answered, timeout=KILL_LEASE_SECONDS + KILL_MARGIN_SECONDS + 5, description="B's answer after the crash"
    )
    sent_at = slack_sim.state.envelope(sent.envelope_id).sent_at
    took = answer.stopped_at - sent_at
    assert answer.text == "Answered after the crash."
    assert took <= KILL_LEASE_SECONDS + KILL_MARGIN_SECONDS, f"took {took:.2f}s"
    await b.wait_for_log("Answered thread=")
    # Expected: the killed instance never finished its own stream; Slack would expire it (~5 min).
    assert slack_sim.state.stream(killed_stream.ts).state == "streaming"
    _assert_no_local_state(data_dirs)
    [request] = _requests_for(upstream, "second question")

    print(
        f"MULTI-INSTANCE KILL: A killed -9 mid-answer (lease {KILL_LEASE_SECONDS}s); next message answered by B: "
        f"stream started {answer.started_at - sent_at:.2f}s, finished {took:.2f}s after it was sent; "
        f"A's stream left unfinished ({len(slack_sim.state.stream(killed_stream.ts).text.split())} words shown); "
        f"B rebuilt memory from Slack: {'Rebuilt the memory' in b.log()}; "
        f"B's model input: {[(m['role'], str(m['content'])[:40]) for m in request['messages'][1:]]}"
    )
