"""The timer loop every bot process runs: claim due jobs, fire their handlers, complete them.

Delivery is at-least-once: a job is completed only after its handler returned, so a
crash (or a handler still running when its lease runs out) means the job fires
again. Handlers make the effect exactly-once by checking the job's token against
the incident (stale guard), so they must be idempotent in that sense.

Failures: a handler that raises leaves its job claimed, so it is retried when the
lease runs out (no faster retry). Attempts are counted in Redis
(`RedisTimerQueue.record_failure`, shared by every process); after `MAX_ATTEMPTS`
failed attempts the job is completed anyway and an error is logged. A job of an
unknown kind is logged and completed. A handler that reschedules its own job
(e.g. a repeating reminder) keeps it: completion only removes a job whose score
is still the lease score it was claimed with.

`run_once()` claims and fires everything due now and waits for it (tests drive it
with a ManualClock). `run(stop)` is the long-running form: it keeps up to
`concurrency` handlers in flight, claims only as many jobs as it has free slots
(so a claimed job never waits out its lease in a local queue), completes finished
jobs in batches, and sleeps `poll` seconds when nothing is due. Once `stop` is set
it lets running handlers finish for up to `grace` seconds; if the task running it
is cancelled instead, running handlers are cancelled at once. Either way a job
whose handler did not finish stays claimed and fires again after its lease.

Handlers should take well under the lease (30 s by default): the lease is not
extended while a handler runs, so a slower handler's job is fired a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from bot.core.clock import Clock
from bot.store.timers import Claimed, Job, RedisTimerQueue

log = structlog.get_logger(__name__)

Handler = Callable[[Job], Awaitable[None]]
OnFired = Callable[[Claimed, float], None]

MAX_ATTEMPTS = 5
BACKOFF_START = 0.1   # seconds after a failed loop iteration (Redis down ...)
BACKOFF_MAX = 5.0


class TimerLoop:
    def __init__(self, queue: RedisTimerQueue, *, clock: Clock, handlers: dict[str, Handler],
                 lease: timedelta = timedelta(seconds=30), batch: int = 100, poll: float = 0.02,
                 concurrency: int = 32, on_fired: OnFired | None = None,
                 max_attempts: int = MAX_ATTEMPTS, grace: float = 10.0) -> None:
        if batch < 1 or concurrency < 1:
            raise ValueError("batch and concurrency must be >= 1")
        self._queue = queue
        self._clock = clock
        self._handlers = dict(handlers)
        self._lease = lease
        self._batch = batch
        self._poll = poll
        self._concurrency = concurrency
        self._on_fired = on_fired
        self._max_attempts = max_attempts
        self._grace = grace  # seconds run() waits for in-flight handlers once stopped
        self._sem = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        """Fire every job due now (claiming again while a full batch came back).

        Returns the number of jobs completed (handler returned, unknown kind, or
        given up after max_attempts)."""
        completed = 0
        while True:
            claimed = await self._queue.claim(now=self._clock.now(), lease=self._lease,
                                              limit=self._batch)
            if claimed:
                done = await asyncio.gather(*(self._bounded(c) for c in claimed))
                finished = [c for c, ok in zip(claimed, done) if ok]
                await self._queue.complete(finished)
                completed += len(finished)
            if len(claimed) < self._batch:
                return completed

    async def run(self, stop: asyncio.Event) -> None:
        """Fire jobs until `stop` is set; survives any error (logs it and backs off)."""
        inflight: set[asyncio.Task[bool]] = set()
        finished: list[Claimed] = []  # handlers done, not yet completed in Redis
        backoff = BACKOFF_START

        def reap(task: asyncio.Task[bool], claimed: Claimed) -> None:
            inflight.discard(task)
            if not task.cancelled() and task.exception() is None and task.result():
                finished.append(claimed)

        try:
            while not stop.is_set():
                try:
                    if finished:
                        batch, finished[:] = finished[:], []
                        try:
                            await self._queue.complete(batch)
                        except BaseException:
                            finished.extend(batch)  # retry; a stale completion is a no-op
                            raise
                    free = self._concurrency - len(inflight)
                    claimed: list[Claimed] = []
                    if free > 0:
                        limit = min(self._batch, free)
                        claimed = await self._queue.claim(now=self._clock.now(), lease=self._lease,
                                                          limit=limit)
                        for c in claimed:
                            task = asyncio.create_task(self._fire(c))
                            inflight.add(task)
                            task.add_done_callback(lambda t, c=c: reap(t, c))
                    backoff = BACKOFF_START
                    if free > 0 and len(claimed) == min(self._batch, free):
                        await asyncio.sleep(0)  # more may be due: claim again at once
                        continue
                    await self._idle(stop, inflight)
                except Exception:
                    log.exception("timers.loop_failed", backoff=backoff)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
        except asyncio.CancelledError:
            for task in inflight:  # cancelled, not stopped: no grace; they retry after the lease
                task.cancel()
            raise
        finally:
            await self._drain(inflight, finished)

    async def _idle(self, stop: asyncio.Event, inflight: set[asyncio.Task[bool]]) -> None:
        """Sleep `poll` seconds, or less if stopped or (when full) a handler frees a slot."""
        waiters: set[asyncio.Future] = {asyncio.ensure_future(stop.wait())}
        if len(inflight) >= self._concurrency:
            waiters |= inflight
        try:
            await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                if w not in inflight:
                    w.cancel()

    async def _drain(self, inflight: set[asyncio.Task[bool]], finished: list[Claimed]) -> None:
        """On stop: let running handlers finish (up to `grace`), complete what finished.

        Handlers still running after the grace period are cancelled; their jobs stay
        claimed and fire again after the lease."""
        if inflight:
            _, late = await asyncio.wait(set(inflight), timeout=self._grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
                log.warning("timers.cancelled_on_stop", jobs=len(late))
        if finished:
            try:
                await self._queue.complete(finished)
            except Exception:
                log.exception("timers.complete_on_stop_failed", jobs=len(finished))

    async def _bounded(self, claimed: Claimed) -> bool:
        async with self._sem:
            return await self._fire(claimed)

    async def _fire(self, claimed: Claimed) -> bool:
        """Run the job's handler; True when the job should be completed."""
        job = claimed.job
        bound = log.bind(incident_id=job.incident_id, kind=job.kind)
        handler = self._handlers.get(job.kind)
        if handler is None:
            bound.warning("timers.unknown_kind", token=job.token)
            return True
        if self._on_fired is not None:
            try:
                self._on_fired(claimed, (self._clock.now() - claimed.due).total_seconds())
            except Exception:
                bound.exception("timers.on_fired_failed")
        try:
            await handler(job)
            return True
        except Exception:
            try:
                attempts = await self._queue.record_failure(job)
            except Exception:
                bound.exception("timers.handler_failed", attempts=None,
                                retry_after=self._lease.total_seconds())
                return False
            if attempts >= self._max_attempts:
                bound.exception("timers.gave_up", attempts=attempts)
                return True
            bound.warning("timers.handler_failed", attempts=attempts,
                          retry_after=self._lease.total_seconds(), exc_info=True)
            return False
