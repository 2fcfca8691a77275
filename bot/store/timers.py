"""Timer jobs (escalations, reminders) in one Redis sorted set scored by due time.

Layout: `Keys.timers()` is a sorted set whose members are compact job encodings
("kind|incident_id|token") and whose scores are the due time in milliseconds since
the epoch. There is no per-job hash: a job carries only ids, so a pending job
costs one zset entry.

Claiming is one Lua script: take the due members (score <= now) in due order and
re-score each to `now + lease`. A claimed job therefore stays in the set; if its
worker crashes it simply becomes due again when the lease runs out (at-least-once
delivery; the handler's token check makes the effect exactly-once). `complete`
removes a job only while its score is still the lease score it was claimed with,
so a job the handler rescheduled meanwhile (or that another worker re-claimed
after the lease ran out) survives.

Failed handler attempts are counted in `Keys.timer_failures()` (a hash that only
ever holds jobs whose handler has raised and not yet completed); `complete` and
`cancel` clear a job's count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
import structlog
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from bot.core import errors
from bot.store.keys import Keys

log = structlog.get_logger(__name__)

SEP = "|"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
MAX_CLAIM = 1000       # members per claim script call (Lua unpack stays far below its limit)
COMPLETE_CHUNK = 1000  # members per complete script call
SCHEDULE_CHUNK = 1000  # members per ZADD in schedule_many

# KEYS: timers zset. ARGV: now (ms), lease score (ms), limit.
# Returns the claimed members and their old (due) scores: {m1, s1, m2, s2, ...}.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
if #due == 0 then return due end
local args = {}
for i = 1, #due, 2 do
  args[#args + 1] = ARGV[2]
  args[#args + 1] = due[i]
end
redis.call('ZADD', KEYS[1], 'XX', unpack(args))
return due
"""

# KEYS: timers zset, failures hash. ARGV: lease score, m1, m2, ...
# Removes each member whose score is still the lease score it was claimed with and
# clears its failure count. Returns how many members were removed.
_COMPLETE = """
local removed = 0
local lease = tonumber(ARGV[1])
local failures = redis.call('EXISTS', KEYS[2]) == 1
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == lease then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
  if failures then redis.call('HDEL', KEYS[2], ARGV[i]) end
end
return removed
"""


def to_score(when: datetime) -> float:
    """Milliseconds since the epoch, exact to the microsecond (round-trips via from_score)."""
    if when.tzinfo is None:
        raise ValueError("timer times must be timezone-aware")
    return ((when - EPOCH) // _US) / 1000


def from_score(score: float) -> datetime:
    return EPOCH + timedelta(microseconds=round(float(score) * 1000))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Job(BaseModel):
    """What a timer fires: only ids. `token` is opaque; the handler checks it (stale guard)."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(pattern=r"^[a-z_]+$")
    incident_id: str = Field(min_length=1, pattern=r"^[^|]+$")
    token: str = Field(pattern=r"^[^|]*$")

    def member(self) -> str:
        return f"{self.kind}{SEP}{self.incident_id}{SEP}{self.token}"

    @classmethod
    def parse(cls, member: str | bytes) -> "Job":
        parts = _text(member).split(SEP)
        if len(parts) != 3:
            raise ValueError(f"not a timer job: {member!r}")
        kind, incident_id, token = parts
        return cls(kind=kind, incident_id=incident_id, token=token)


class Claimed(BaseModel):
    """A job this worker holds until `lease_until`; `due` is when it was due."""

    model_config = ConfigDict(frozen=True)

    job: Job
    due: datetime
    lease_until: datetime


class RedisTimerQueue:
    def __init__(self, redis: aioredis.Redis, *, keys: Keys | None = None) -> None:
        self._r = redis
        self._k = keys or Keys()
        self._key = self._k.timers()
        self._failures_key = self._k.timer_failures()
        self._claim = redis.register_script(_CLAIM)
        self._complete = redis.register_script(_COMPLETE)

    async def schedule(self, job: Job, *, due: datetime) -> None:
        """Fire `job` at `due`; scheduling the same job again moves it."""
        try:
            await self._r.zadd(self._key, {job.member(): to_score(due)})
        except RedisError as exc:
            raise errors.StoreError("timers.schedule") from exc

    async def schedule_many(self, items: list[tuple[Job, datetime]]) -> None:
        if not items:
            return
        scores: dict[str, float] = {}
        for job, due in items:  # a job listed twice: the last due time wins
            scores[job.member()] = to_score(due)
        members = list(scores.items())
        try:
            async with self._r.pipeline(transaction=False) as pipe:
                for i in range(0, len(members), SCHEDULE_CHUNK):
                    pipe.zadd(self._key, dict(members[i:i + SCHEDULE_CHUNK]))
                await pipe.execute()
        except RedisError as exc:
            raise errors.StoreError("timers.schedule_many") from exc

    async def cancel(self, job: Job) -> None:
        try:
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.zrem(self._key, job.member())
                pipe.hdel(self._failures_key, job.member())
                await pipe.execute()
        except RedisError as exc:
            raise errors.StoreError("timers.cancel") from exc

    async def claim(self, *, now: datetime, lease: timedelta, limit: int = 100) -> list[Claimed]:
        """Take up to `limit` jobs due at `now`, earliest first, leased until now + lease."""
        if lease <= timedelta(0):
            raise ValueError("lease must be positive")
        if not 1 <= limit <= MAX_CLAIM:
            raise ValueError(f"limit must be within 1..{MAX_CLAIM}")
        lease_until = now + lease
        try:
            raw = await self._claim(keys=[self._key],
                                    args=[repr(to_score(now)), repr(to_score(lease_until)), limit])
        except RedisError as exc:
            raise errors.StoreError("timers.claim") from exc
        claimed: list[Claimed] = []
        bad: list[bytes | str] = []
        for i in range(0, len(raw), 2):
            try:
                job = Job.parse(raw[i])
            except ValueError:
                bad.append(raw[i])
                continue
            claimed.append(Claimed.model_construct(job=job, due=from_score(float(raw[i + 1])),
                                                   lease_until=lease_until))
        if bad:  # nothing but Job.member() writes here; drop anything else rather than loop on it
            log.error("timers.bad_member", members=[_text(m) for m in bad])
            try:
                await self._r.zrem(self._key, *bad)
            except RedisError as exc:
                raise errors.StoreError("timers.claim") from exc
        return claimed

    async def complete(self, claimed: Iterable[Claimed]) -> None:
        """Remove each claimed job unless it was rescheduled (or re-claimed) since its claim."""
        groups: dict[float, list[str]] = {}  # lease score -> members (one claim = one group)
        for c in claimed:
            groups.setdefault(to_score(c.lease_until), []).append(c.job.member())
        calls = [[repr(lease), *members[i:i + COMPLETE_CHUNK]]
                 for lease, members in groups.items()
                 for i in range(0, len(members), COMPLETE_CHUNK)]
        if not calls:
            return
        keys = [self._key, self._failures_key]
        try:
            if len(calls) == 1:
                await self._complete(keys=keys, args=calls[0])
                return
            async with self._r.pipeline(transaction=False) as pipe:
                for args in calls:
                    await self._complete(keys=keys, args=args, client=pipe)
                await pipe.execute()
        except RedisError as exc:
            raise errors.StoreError("timers.complete") from exc

    async def record_failure(self, job: Job) -> int:
        """Count one failed handler attempt for `job`; returns the attempts so far."""
        try:
            return int(await self._r.hincrby(self._failures_key, job.member(), 1))
        except RedisError as exc:
            raise errors.StoreError("timers.record_failure") from exc

    async def pending(self) -> int:
        """Jobs in the queue: scheduled or claimed and not yet completed."""
        try:
            return int(await self._r.zcard(self._key))
        except RedisError as exc:
            raise errors.StoreError("timers.pending") from exc

    async def due_at(self, job: Job) -> datetime | None:
        """When `job` is due (its lease end while it is claimed); None when not queued."""
        try:
            score = await self._r.zscore(self._key, job.member())
        except RedisError as exc:
            raise errors.StoreError("timers.due_at") from exc
        return None if score is None else from_score(score)
