"""Timer queue: claim throughput, firing lag and memory per pending job, on a real Redis.

    python bench/timers.py [--pending 100000] [--rate 1000] [--seconds 5]

Its own redis-server (EmbeddedRedis: AOF on, appendfsync everysec), then:
  1. claim throughput: --pending due jobs drained by one process (claims of 1000,
     each batch's completion pipelined with the next claim), jobs/s;
  2. firing lag: --rate due jobs/s for --seconds, fired by a running TimerLoop
     (SystemClock, default poll/batch/concurrency) while --pending jobs wait in the
     same set for tomorrow; lag = clock.now() at dispatch - due;
  3. Redis memory per pending job with --pending jobs (INFO used_memory delta and
     MEMORY USAGE of the sorted set; the larger one is judged).
"""
import argparse
import asyncio
import math
import signal
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.core.clock import SystemClock
from bot.store.connection import connect
from bot.store.embedded import EmbeddedRedis
from bot.store.keys import Keys
from bot.store.timers import Claimed, Job, RedisTimerQueue
from bot.timers import TimerLoop

HOST = "127.0.0.1"
KINDS = ("escalate", "remind", "ack_breach")
CLAIM_BATCH = 1000
TARGET_THROUGHPUT = 20_000  # jobs/s
TARGET_P99_MS = 100.0
TARGET_BYTES = 250


def realistic_jobs(n: int, *, tag: str = "") -> list[Job]:
    """Jobs shaped like the bot's: INC-YYYY-MM-DD-NNN ids, a short token, three kinds."""
    return [Job(kind=KINDS[i % 3], incident_id=f"INC-2026-{1 + i // 28000 % 12:02d}-"
                f"{1 + i // 1000 % 28:02d}-{i % 1000:03d}", token=f"{tag}{i:07x}")
            for i in range(n)]


def pct(values: list[float], p: float) -> float:
    return sorted(values)[max(0, math.ceil(p / 100 * len(values)) - 1)]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def claim_throughput(redis, n: int) -> tuple[float, int]:
    queue, clock = RedisTimerQueue(redis, keys=Keys("bench-claim")), SystemClock()
    now = clock.now()
    await queue.schedule_many([(j, now - timedelta(milliseconds=i))
                               for i, j in enumerate(realistic_jobs(n))])
    lease, done = timedelta(seconds=30), 0
    start = time.perf_counter()
    claimed = await queue.claim(now=clock.now(), lease=lease, limit=CLAIM_BATCH)
    while claimed:
        done += len(claimed)
        _, claimed = await asyncio.gather(  # complete this batch while claiming the next
            queue.complete(claimed), queue.claim(now=clock.now(), lease=lease, limit=CLAIM_BATCH))
    elapsed = time.perf_counter() - start
    left = await queue.pending()
    return done / elapsed, left


async def memory_per_job(redis, n: int) -> tuple[float, float, RedisTimerQueue]:
    keys = Keys("bench-lag")
    queue, tomorrow = RedisTimerQueue(redis, keys=keys), SystemClock().now() + timedelta(days=1)
    before = (await redis.info("memory"))["used_memory"]
    await queue.schedule_many([(j, tomorrow + timedelta(milliseconds=i))
                               for i, j in enumerate(realistic_jobs(n))])
    after = (await redis.info("memory"))["used_memory"]
    usage = await redis.memory_usage(keys.timers(), samples=0)
    assert await queue.pending() == n
    return (after - before) / n, usage / n, queue


async def firing_lag(redis, queue: RedisTimerQueue, rate: int, seconds: float,
                     background: int) -> tuple[list[float], int, int]:
    clock, lags = SystemClock(), []
    total = int(rate * seconds)
    counter = "bench-lag:fired"

    async def handler(job: Job) -> None:
        await redis.incr(counter)

    def on_fired(claimed: Claimed, lag: float) -> None:
        lags.append(lag * 1000)

    loop = TimerLoop(queue, clock=clock, handlers={k: handler for k in KINDS}, on_fired=on_fired)
    stop = asyncio.Event()
    runner = asyncio.create_task(loop.run(stop))
    start = clock.now() + timedelta(seconds=0.5)
    await queue.schedule_many([(j, start + timedelta(seconds=i / rate))
                               for i, j in enumerate(realistic_jobs(total, tag="l"))])
    deadline = time.monotonic() + 0.5 + seconds + 30
    while len(lags) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    stop.set()
    await runner
    fired = int(await redis.get(counter) or 0)
    left = await queue.pending() - background
    return lags, fired, left


async def bench(args: argparse.Namespace, url: str) -> int:
    redis = connect(url)
    try:
        throughput, claim_left = await claim_throughput(redis, args.pending)
        by_info, by_usage, queue = await memory_per_job(redis, args.pending)
        lags, fired, lag_left = await firing_lag(redis, queue, args.rate, args.seconds,
                                                 args.pending)
        aof = (await redis.info("persistence"))
    finally:
        await redis.aclose()

    total = int(args.rate * args.seconds)
    per_job = max(by_info, by_usage)
    p50, p99 = (pct(lags, 50), pct(lags, 99)) if lags else (math.inf, math.inf)
    ok_tp = throughput >= TARGET_THROUGHPUT and claim_left == 0
    ok_lag = p99 < TARGET_P99_MS and fired == total == len(lags) and lag_left == 0
    ok_mem = per_job <= TARGET_BYTES
    print(f"\nwarroom timers - redis-server with AOF (appendonly={aof['aof_enabled']}, "
          f"appendfsync everysec)")
    print(f"1. claim throughput: {args.pending} due jobs, one process, claims of {CLAIM_BATCH} "
          f"+ pipelined completions: {throughput:,.0f} jobs/s (left in queue: {claim_left})")
    print(f"   target >= {TARGET_THROUGHPUT:,} jobs/s ({verdict(ok_tp)})")
    print(f"2. firing lag: {args.rate} due jobs/s for {args.seconds:g} s, TimerLoop with "
          f"SystemClock, default poll, {args.pending} more pending")
    print(f"   p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {max(lags, default=math.inf):.1f} ms; "
          f"fired {fired} of {total} (dispatched {len(lags)}, left {lag_left})")
    print(f"   target p99 < {TARGET_P99_MS:.0f} ms, each job fired once ({verdict(ok_lag)})")
    print(f"3. memory per pending job with {args.pending} pending: {by_info:.0f} B "
          f"(INFO used_memory delta), {by_usage:.0f} B (MEMORY USAGE of the sorted set)")
    print(f"   target <= {TARGET_BYTES} B ({verdict(ok_mem)})")
    return 0 if ok_tp and ok_lag and ok_mem else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000, help="due jobs per second")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up like Ctrl-C
    with tempfile.TemporaryDirectory(prefix="warroom-bench-timers-") as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis", host=HOST, appendonly=True).start()
        try:  # EmbeddedRedis runs --appendonly yes --appendfsync everysec
            return asyncio.run(bench(args, redis.url))
        except KeyboardInterrupt:
            return 130
        finally:
            redis.stop()  # the one process this script started, by its PID


if __name__ == "__main__":
    sys.exit(main())
