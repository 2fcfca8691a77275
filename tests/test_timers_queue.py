"""Timer jobs on real Redis: due order, leases, completion, the loop, and real worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from bot.core import errors
from bot.core.clock import ManualClock
from bot.store.connection import connect
from bot.store.embedded import free_port
from bot.store.keys import Keys
from bot.store.timers import Claimed, Job, RedisTimerQueue, from_score, to_score
from bot.timers import MAX_ATTEMPTS, TimerLoop
from tests.conftest import T0, eventually

ROOT = Path(__file__).resolve().parent.parent
LEASE = timedelta(seconds=30)


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


@pytest.fixture
def queue(redis, keys) -> RedisTimerQueue:
    return RedisTimerQueue(redis, keys=keys)


def job(n: int | str, kind: str = "escalate", token: str = "v1") -> Job:
    return Job(kind=kind, incident_id=f"INC-2026-12-01-{n:03d}" if isinstance(n, int) else n,
               token=token)


# --- Job encoding -------------------------------------------------------------------------


def test_job_member_round_trips_through_parse():
    j = Job(kind="ack_breach", incident_id="INC-2026-12-01-042", token="7:abc")
    assert j.member() == "ack_breach|INC-2026-12-01-042|7:abc"
    assert Job.parse(j.member()) == j
    assert Job.parse(j.member().encode()) == j


@pytest.mark.parametrize("fields", [
    {"kind": "Escalate", "incident_id": "INC-1", "token": "t"},
    {"kind": "remind", "incident_id": "INC|1", "token": "t"},
    {"kind": "remind", "incident_id": "INC-1", "token": "a|b"},
    {"kind": "remind", "incident_id": "", "token": "t"},
])
def test_job_rejects_fields_that_would_break_the_encoding(fields):
    with pytest.raises(ValueError):
        Job(**fields)


def test_parse_rejects_a_member_that_is_not_a_job():
    with pytest.raises(ValueError):
        Job.parse("escalate|INC-1")


def test_scores_are_milliseconds_and_round_trip_to_the_microsecond():
    when = T0 + timedelta(microseconds=123457)
    assert to_score(T0) == T0.timestamp() * 1000
    assert from_score(to_score(when)) == when


# --- queue --------------------------------------------------------------------------------


async def test_claim_returns_due_jobs_in_due_order(queue):
    await queue.schedule(job(3), due=T0 + timedelta(seconds=3))
    await queue.schedule(job(1), due=T0 + timedelta(seconds=1))
    await queue.schedule(job(2), due=T0 + timedelta(seconds=2))
    claimed = await queue.claim(now=T0 + timedelta(seconds=5), lease=LEASE)
    assert [c.job for c in claimed] == [job(1), job(2), job(3)]
    assert [c.due for c in claimed] == [T0 + timedelta(seconds=s) for s in (1, 2, 3)]
    assert all(c.lease_until == T0 + timedelta(seconds=5) + LEASE for c in claimed)


async def test_nothing_is_claimed_before_it_is_due(queue):
    await queue.schedule(job(1), due=T0 + timedelta(seconds=10))
    assert await queue.claim(now=T0 + timedelta(seconds=9, microseconds=999999), lease=LEASE) == []
    assert [c.job for c in await queue.claim(now=T0 + timedelta(seconds=10), lease=LEASE)] == [job(1)]


async def test_claim_respects_the_limit_taking_the_earliest(queue):
    await queue.schedule_many([(job(i), T0 + timedelta(seconds=i)) for i in range(10)])
    first = await queue.claim(now=T0 + timedelta(minutes=1), lease=LEASE, limit=4)
    assert [c.job for c in first] == [job(i) for i in range(4)]
    rest = await queue.claim(now=T0 + timedelta(minutes=1), lease=LEASE, limit=100)
    assert [c.job for c in rest] == [job(i) for i in range(4, 10)]


async def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(queue):
    clock = ManualClock(T0)
    await queue.schedule(job(1), due=T0)
    assert len(await queue.claim(now=clock.now(), lease=LEASE)) == 1
    clock.advance(LEASE - timedelta(milliseconds=1))
    assert await queue.claim(now=clock.now(), lease=LEASE) == []
    # the claimer crashed without completing: the job is due again once the lease ran out
    clock.advance(timedelta(milliseconds=1))
    again = await queue.claim(now=clock.now(), lease=LEASE)
    assert [c.job for c in again] == [job(1)]
    assert again[0].due == T0 + LEASE  # it was due at the end of the first lease
    assert await queue.pending() == 1


async def test_complete_removes_the_claimed_jobs(queue):
    await queue.schedule_many([(job(1), T0), (job(2), T0), (job(3), T0 + timedelta(hours=1))])
    claimed = await queue.claim(now=T0, lease=LEASE)
    await queue.complete(claimed)
    assert await queue.pending() == 1
    assert await queue.due_at(job(1)) is None
    assert await queue.due_at(job(3)) == T0 + timedelta(hours=1)


async def test_complete_keeps_a_job_rescheduled_after_it_was_claimed(queue):
    await queue.schedule(job(1), due=T0)
    [claimed] = await queue.claim(now=T0, lease=LEASE)
    later = T0 + timedelta(minutes=10)
    await queue.schedule(job(1), due=later)  # e.g. the handler set the next reminder
    await queue.complete([claimed])
    assert await queue.due_at(job(1)) == later


async def test_a_late_complete_does_not_remove_a_job_another_worker_reclaimed(queue):
    await queue.schedule(job(1), due=T0)
    [slow] = await queue.claim(now=T0, lease=LEASE)
    [second] = await queue.claim(now=T0 + LEASE, lease=LEASE)  # the first lease ran out
    await queue.complete([slow])
    assert await queue.due_at(job(1)) == second.lease_until
    await queue.complete([second])
    assert await queue.pending() == 0


async def test_one_complete_call_handles_jobs_from_different_claims(queue):
    await queue.schedule_many([(job(1), T0), (job(2), T0 + timedelta(seconds=1))])
    first = await queue.claim(now=T0, lease=LEASE)
    second = await queue.claim(now=T0 + timedelta(seconds=1), lease=LEASE)
    assert first[0].lease_until != second[0].lease_until
    await queue.complete(first + second)
    assert await queue.pending() == 0


async def test_scheduling_the_same_job_again_moves_it(queue):
    await queue.schedule(job(1), due=T0 + timedelta(minutes=5))
    await queue.schedule(job(1), due=T0 + timedelta(minutes=1))
    assert await queue.pending() == 1
    assert await queue.due_at(job(1)) == T0 + timedelta(minutes=1)
    assert [c.job for c in await queue.claim(now=T0 + timedelta(minutes=1), lease=LEASE)] == [job(1)]


async def test_jobs_differing_only_in_token_are_separate_jobs(queue):
    await queue.schedule(job(1, token="v1"), due=T0)
    await queue.schedule(job(1, token="v2"), due=T0)
    assert await queue.pending() == 2


async def test_schedule_many_keeps_the_last_due_time_of_a_repeated_job(queue):
    await queue.schedule_many([(job(1), T0), (job(2), T0), (job(1), T0 + timedelta(hours=2))])
    assert await queue.pending() == 2
    assert await queue.due_at(job(1)) == T0 + timedelta(hours=2)


async def test_schedule_many_handles_more_than_one_chunk(queue):
    await queue.schedule_many([(job(i), T0 + timedelta(milliseconds=i)) for i in range(2500)])
    assert await queue.pending() == 2500
    assert await queue.due_at(job(2499)) == T0 + timedelta(milliseconds=2499)


async def test_cancel_removes_a_pending_job(queue):
    await queue.schedule_many([(job(1), T0), (job(2), T0)])
    await queue.cancel(job(1))
    await queue.cancel(job(9))  # not queued: no error
    assert await queue.due_at(job(1)) is None
    assert [c.job for c in await queue.claim(now=T0, lease=LEASE)] == [job(2)]


async def test_complete_of_a_large_batch_and_of_nothing(queue):
    await queue.schedule_many([(job(i), T0) for i in range(2500)])
    claimed: list[Claimed] = []
    while batch := await queue.claim(now=T0, lease=LEASE, limit=1000):
        claimed += batch
    assert len(claimed) == 2500
    await queue.complete([])
    await queue.complete(claimed)
    assert await queue.pending() == 0


async def test_a_member_that_is_not_a_job_is_dropped_not_claimed_forever(queue, redis, keys):
    await redis.zadd(keys.timers(), {"garbage": to_score(T0)})
    await queue.schedule(job(1), due=T0)
    assert [c.job for c in await queue.claim(now=T0, lease=LEASE)] == [job(1)]
    assert await redis.zscore(keys.timers(), "garbage") is None


async def test_bad_arguments_are_refused(queue):
    with pytest.raises(ValueError):
        await queue.claim(now=T0, lease=timedelta(0))
    with pytest.raises(ValueError):
        await queue.schedule(job(1), due=T0.replace(tzinfo=None))


async def test_concurrent_claimers_each_get_a_job_exactly_once(redis_server, redis, keys):
    queue = RedisTimerQueue(redis, keys=keys)
    jobs = [job(i) for i in range(1000)]
    await queue.schedule_many([(j, T0 + timedelta(milliseconds=i)) for i, j in enumerate(jobs)])
    clients = [connect(redis_server.url) for _ in range(10)]

    async def claimer(client) -> list[Job]:
        q, got = RedisTimerQueue(client, keys=keys), []
        while batch := await q.claim(now=T0 + timedelta(seconds=5), lease=LEASE, limit=37):
            got += [c.job for c in batch]
            await asyncio.sleep(0)
        return got

    try:
        results = await asyncio.gather(*(claimer(c) for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    every = [j for got in results for j in got]
    assert len(every) == 1000
    assert set(every) == set(jobs)
    assert sum(1 for got in results if got) > 1  # the claimers really interleaved


async def test_redis_errors_become_store_errors(keys):
    dead = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    queue = RedisTimerQueue(dead, keys=keys)
    try:
        for call in (queue.schedule(job(1), due=T0), queue.schedule_many([(job(1), T0)]),
                     queue.cancel(job(1)), queue.claim(now=T0, lease=LEASE), queue.pending(),
                     queue.due_at(job(1)), queue.record_failure(job(1)),
                     queue.complete([Claimed(job=job(1), due=T0, lease_until=T0 + LEASE)])):
            with pytest.raises(errors.StoreError):
                await call
    finally:
        await dead.aclose()


# --- TimerLoop.run_once with a ManualClock -------------------------------------------------


class Recorder:
    def __init__(self, *, fail: int = 0) -> None:
        self.jobs: list[Job] = []
        self.fail = fail  # raise on the first `fail` calls

    async def __call__(self, j: Job) -> None:
        self.jobs.append(j)
        if len(self.jobs) <= self.fail:
            raise RuntimeError("slack is down")


async def test_run_once_runs_the_handler_of_each_kind(queue):
    clock = ManualClock(T0)
    escalate, remind = Recorder(), Recorder()
    loop = TimerLoop(queue, clock=clock, handlers={"escalate": escalate, "remind": remind})
    await queue.schedule_many([(job(1), T0), (job(2, kind="remind"), T0),
                               (job(3), T0 + timedelta(minutes=1))])
    assert await loop.run_once() == 2
    assert escalate.jobs == [job(1)] and remind.jobs == [job(2, kind="remind")]
    assert await loop.run_once() == 0  # job 3 is not due yet
    clock.advance(timedelta(minutes=1))
    assert await loop.run_once() == 1
    assert escalate.jobs == [job(1), job(3)]
    assert await queue.pending() == 0


async def test_run_once_drains_more_than_one_batch(queue):
    seen = Recorder()
    loop = TimerLoop(queue, clock=ManualClock(T0), handlers={"escalate": seen}, batch=10,
                     concurrency=4)
    await queue.schedule_many([(job(i), T0) for i in range(35)])
    assert await loop.run_once() == 35
    assert sorted(j.incident_id for j in seen.jobs) == sorted(job(i).incident_id for i in range(35))
    assert await queue.pending() == 0


async def test_run_once_reports_the_firing_lag(queue):
    clock = ManualClock(T0)
    fired: list[tuple[Claimed, float]] = []
    loop = TimerLoop(queue, clock=clock, handlers={"escalate": Recorder()},
                     on_fired=lambda c, lag: fired.append((c, lag)))
    await queue.schedule(job(1), due=T0)
    clock.advance(timedelta(seconds=3, milliseconds=250))
    await loop.run_once()
    assert [(c.job, lag) for c, lag in fired] == [(job(1), 3.25)]


async def test_a_failing_handler_is_retried_after_the_lease(queue):
    clock = ManualClock(T0)
    flaky = Recorder(fail=1)
    loop = TimerLoop(queue, clock=clock, handlers={"escalate": flaky}, lease=timedelta(seconds=5))
    await queue.schedule(job(1), due=T0)
    with capture_logs() as logs:
        assert await loop.run_once() == 0
    failed = [e for e in logs if e["event"] == "timers.handler_failed"]
    assert failed and failed[0]["incident_id"] == job(1).incident_id and failed[0]["attempts"] == 1
    assert await queue.due_at(job(1)) == T0 + timedelta(seconds=5)  # still claimed
    clock.advance(timedelta(seconds=4))
    assert await loop.run_once() == 0 and len(flaky.jobs) == 1  # lease not over yet
    clock.advance(timedelta(seconds=1))
    assert await loop.run_once() == 1
    assert flaky.jobs == [job(1), job(1)]
    assert await queue.pending() == 0


async def test_a_handler_that_keeps_failing_is_given_up_after_max_attempts(queue, redis, keys):
    clock = ManualClock(T0)
    broken = Recorder(fail=10**6)
    loop = TimerLoop(queue, clock=clock, handlers={"escalate": broken}, lease=timedelta(seconds=5))
    await queue.schedule(job(1), due=T0)
    with capture_logs() as logs:
        for _ in range(MAX_ATTEMPTS - 1):
            assert await loop.run_once() == 0
            clock.advance(timedelta(seconds=5))
        assert await loop.run_once() == 1
    assert len(broken.jobs) == MAX_ATTEMPTS
    gave_up = [e for e in logs if e["event"] == "timers.gave_up"]
    assert gave_up[0]["log_level"] == "error" and gave_up[0]["incident_id"] == job(1).incident_id
    assert await queue.pending() == 0
    assert not await redis.exists(keys.timer_failures())  # the attempt count went with it


async def test_a_job_of_unknown_kind_is_logged_and_completed(queue):
    loop = TimerLoop(queue, clock=ManualClock(T0), handlers={"escalate": Recorder()})
    await queue.schedule(job(1, kind="retired_kind"), due=T0)
    with capture_logs() as logs:
        assert await loop.run_once() == 1
    assert any(e["event"] == "timers.unknown_kind" and e["incident_id"] == job(1).incident_id
               for e in logs)
    assert await queue.pending() == 0


async def test_a_handler_that_reschedules_its_job_keeps_it(queue):
    clock = ManualClock(T0)

    async def remind(j: Job) -> None:
        await queue.schedule(j, due=clock.now() + timedelta(minutes=10))

    loop = TimerLoop(queue, clock=clock, handlers={"remind": remind})
    await queue.schedule(job(1, kind="remind"), due=T0)
    assert await loop.run_once() == 1
    assert await queue.due_at(job(1, kind="remind")) == T0 + timedelta(minutes=10)


async def test_run_keeps_going_when_redis_is_unreachable(keys):
    dead = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    loop = TimerLoop(RedisTimerQueue(dead, keys=keys), clock=ManualClock(T0), handlers={},
                     poll=0.01)
    stop = asyncio.Event()
    try:
        with capture_logs() as logs:
            task = asyncio.create_task(loop.run(stop))
            await asyncio.sleep(0.5)
            assert not task.done()
            stop.set()
            await asyncio.wait_for(task, 5)
    finally:
        await dead.aclose()
    assert sum(1 for e in logs if e["event"] == "timers.loop_failed") >= 2


async def test_run_fires_jobs_as_they_come_due_and_finishes_running_ones_on_stop(queue):
    from bot.core.clock import SystemClock

    clock = SystemClock()
    started, release = asyncio.Event(), asyncio.Event()
    seen: list[Job] = []

    async def slow(j: Job) -> None:
        started.set()
        await release.wait()
        seen.append(j)

    loop = TimerLoop(queue, clock=clock, handlers={"escalate": Recorder(), "remind": slow})
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await queue.schedule_many([(job(i), clock.now() + timedelta(milliseconds=50)) for i in range(20)]
                              + [(job(99, kind="remind"), clock.now())])
    await eventually(lambda: started.is_set(), timeout=5)
    await eventually(_pending_is(queue, 1), timeout=5)  # the 20 fired, the slow one runs
    stop.set()
    await asyncio.sleep(0.05)
    release.set()  # the in-flight handler finishes during the stop grace period
    await asyncio.wait_for(task, 5)
    assert seen == [job(99, kind="remind")]
    assert await queue.pending() == 0


async def test_cancelling_run_cancels_running_handlers_and_leaves_their_jobs_claimed(queue):
    from bot.core.clock import SystemClock

    started, cancelled = asyncio.Event(), asyncio.Event()

    async def hangs(j: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = TimerLoop(queue, clock=SystemClock(), handlers={"escalate": hangs})
    task = asyncio.create_task(loop.run(asyncio.Event()))
    await queue.schedule(job(1), due=SystemClock().now())
    await asyncio.wait_for(started.wait(), 5)
    before = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set() and time.monotonic() - before < 1
    assert await queue.due_at(job(1)) > SystemClock().now()  # still leased: it retries later


def _pending_is(queue: RedisTimerQueue, n: int):
    async def check() -> bool:
        return await queue.pending() == n
    return check


# --- real worker processes ------------------------------------------------------------------

WORKER = r"""
import asyncio, os, signal, sys
from datetime import timedelta
from bot.core.clock import SystemClock
from bot.store.connection import connect
from bot.store.keys import Keys
from bot.store.timers import RedisTimerQueue
from bot.timers import TimerLoop

url, prefix, name, lease, mode = sys.argv[1:6]

async def main():
    r = connect(url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def fire(job):
        if mode == "block":
            await r.rpush(f"{prefix}:started", f"{job.incident_id}:{name}")
            await asyncio.sleep(3600)
        async with r.pipeline(transaction=True) as p:
            p.incr(f"{prefix}:n:{job.incident_id}")
            p.rpush(f"{prefix}:fired", f"{job.incident_id}:{name}")
            await p.execute()

    loop = TimerLoop(RedisTimerQueue(r, keys=Keys(prefix)), clock=SystemClock(),
                     handlers={"fire": fire}, lease=timedelta(seconds=float(lease)))
    await r.rpush(f"{prefix}:ready", name)
    await loop.run(stop)
    await r.aclose()

asyncio.run(main())
"""


def spawn(url: str, prefix: str, name: str, *, lease: float = 30, mode: str = "count"):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", WORKER, url, prefix, name, str(lease), mode],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def end(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


async def wait_for_list(redis, key: str, n: int, procs, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while await redis.llen(key) < n:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise AssertionError(f"worker exited: {dead[0].stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{key}: {await redis.llen(key)} of {n} within {timeout}s")
        await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_three_worker_processes_fire_each_of_1000_jobs_exactly_once(
        redis_server, redis, key_prefix):
    from bot.core.clock import SystemClock

    queue = RedisTimerQueue(redis, keys=Keys(key_prefix))
    procs = [spawn(redis_server.url, key_prefix, f"w{i}") for i in range(3)]
    try:
        await wait_for_list(redis, f"{key_prefix}:ready", 3, procs)
        now = SystemClock().now()
        jobs = [Job(kind="fire", incident_id=f"INC-2026-12-01-{i:04d}", token="1")
                for i in range(1000)]
        await queue.schedule_many([(j, now) for j in jobs])
        await wait_for_list(redis, f"{key_prefix}:fired", 1000, procs)
        await eventually(_pending_is(queue, 0), timeout=10)
        await asyncio.sleep(0.3)  # room for a duplicate to show up
    finally:
        end(procs)
    counts = await redis.mget([f"{key_prefix}:n:{j.incident_id}" for j in jobs])
    assert [int(c) for c in counts] == [1] * 1000
    fired = await redis.lrange(f"{key_prefix}:fired", 0, -1)
    assert len(fired) == 1000
    workers = {f.decode().rsplit(":", 1)[1] for f in fired}
    print(f"jobs fired per worker: { {w: sum(f.decode().endswith(w) for f in fired) for w in workers} }")
    assert all(p.returncode == 0 for p in procs)  # SIGTERM stopped each loop cleanly


@pytest.mark.slow
async def test_a_job_whose_worker_was_killed_fires_once_on_another_worker_after_the_lease(
        redis_server, redis, key_prefix):
    from bot.core.clock import SystemClock

    queue = RedisTimerQueue(redis, keys=Keys(key_prefix))
    j = Job(kind="fire", incident_id="INC-2026-12-01-001", token="1")
    lease = 1.0
    doomed = spawn(redis_server.url, key_prefix, "doomed", lease=lease, mode="block")
    procs = [doomed]
    try:
        await wait_for_list(redis, f"{key_prefix}:ready", 1, procs)
        await queue.schedule(j, due=SystemClock().now())
        await wait_for_list(redis, f"{key_prefix}:started", 1, procs)
        leased_until = await queue.due_at(j)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        procs.remove(doomed)
        assert await redis.llen(f"{key_prefix}:fired") == 0
        procs.append(spawn(redis_server.url, key_prefix, "rescuer", lease=lease))
        await wait_for_list(redis, f"{key_prefix}:fired", 1, procs)
        fired_at = SystemClock().now()
        await eventually(_pending_is(queue, 0), timeout=10)
        await asyncio.sleep(lease + 0.3)  # another lease: nothing fires twice
    finally:
        end(procs)
    assert fired_at >= leased_until  # only after the dead worker's lease ran out
    assert await redis.lrange(f"{key_prefix}:fired", 0, -1) == [f"{j.incident_id}:rescuer".encode()]
    assert await redis.get(f"{key_prefix}:n:{j.incident_id}") == b"1"
    assert await redis.lrange(f"{key_prefix}:started", 0, -1) == [f"{j.incident_id}:doomed".encode()]
