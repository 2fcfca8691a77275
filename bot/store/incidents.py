"""Incident repository on Redis: record, timeline, indexes, idempotency.

Writes are optimistic: WATCH the record, apply a pure transition, then write
the record, its timeline events and its indexes in one MULTI/EXEC. A lost race
re-reads and re-applies, so concurrent edits never lose an update.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from bot.core import errors
from bot.core.incident import Change, Incident, TimelineEvent
from bot.store.keys import Keys

MAX_RACES = 100

# KEYS: once-key, day counter. ARGV: day (YYYYMMDD), ttl seconds.
_RESERVE = """
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, ':')
  return {string.sub(v, 1, sep - 1), string.sub(v, sep + 1), 0}
end
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 259200)
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. seq, 'EX', ARGV[2])
return {ARGV[1], tostring(seq), 1}
"""
ONCE_TTL = timedelta(days=2)


class RedisIncidentStore:
    def __init__(self, redis: aioredis.Redis, *, keys: Keys | None = None) -> None:
        self._r = redis
        self._k = keys or Keys()

    async def ping(self) -> bool:
        try:
            return bool(await self._r.ping())
        except RedisError:
            return False

    async def allocate_seq(self, day: date) -> int:
        key = self._k.day_counter(day)
        try:
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, int(timedelta(days=3).total_seconds()))
                seq, _ = await pipe.execute()
        except RedisError as exc:
            raise errors.StoreError("allocate_seq") from exc
        return int(seq)

    async def reserve(self, request_key: str, day: date) -> tuple[date, int, bool]:
        """The (day, seq) of the incident this request declares; fresh=False on a repeat."""
        try:
            raw = await self._r.eval(
                _RESERVE, 2, self._k.once(f"declare:{request_key}"), self._k.day_counter(day),
                f"{day:%Y%m%d}", int(ONCE_TTL.total_seconds()),
            )
        except RedisError as exc:
            raise errors.StoreError("reserve") from exc
        day_text, seq, fresh = (x.decode() if isinstance(x, bytes) else x for x in raw)
        return date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:])), int(seq), bool(int(fresh))

    async def claim_once(self, key: str, value: str) -> str | None:
        full = self._k.once(key)
        try:
            won = await self._r.set(full, value, nx=True, ex=int(ONCE_TTL.total_seconds()))
            if won:
                return None
            earlier = await self._r.get(full)
        except RedisError as exc:
            raise errors.StoreError("claim_once") from exc
        return earlier.decode() if isinstance(earlier, bytes) else earlier

    async def save_report(self, incident_id: str, markdown: str) -> None:
        try:
            await self._r.set(self._k.report(incident_id), markdown)
        except RedisError as exc:
            raise errors.StoreError("save_report") from exc

    async def report(self, incident_id: str) -> str | None:
        return await self._get_text(self._k.report(incident_id), op="report")

    async def _get_text(self, key: str, *, op: str) -> str | None:
        try:
            raw = await self._r.get(key)
        except RedisError as exc:
            raise errors.StoreError(op) from exc
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    async def lease(self, key: str, *, seconds: float) -> bool:
        try:
            return bool(await self._r.set(self._k.once(f"lease:{key}"), "1", nx=True,
                                          px=max(int(seconds * 1000), 1)))
        except RedisError as exc:
            raise errors.StoreError("lease") from exc

    async def create(self, change: Change) -> Incident | None:
        """Save a new incident; None when it already exists (a repeated request)."""
        incident = change.incident.model_copy(update={"version": 1})
        key = self._k.incident(incident.id)
        try:
            async with self._r.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                if await pipe.exists(key):
                    return None
                pipe.multi()
                pipe.set(key, incident.model_dump_json())
                self._write_events(pipe, incident.id, change.events)
                self._write_indexes(pipe, incident)
                await pipe.execute()
        except WatchError:
            return None
        except RedisError as exc:
            raise errors.StoreError("create") from exc
        return incident

    async def get(self, incident_id: str) -> Incident:
        try:
            raw = await self._r.get(self._k.incident(incident_id))
        except RedisError as exc:
            raise errors.StoreError("get") from exc
        if raw is None:
            raise errors.IncidentNotFound(incident_id)
        return Incident.model_validate_json(raw)

    async def mutate(self, incident_id: str, fn: Callable[[Incident], Change]) -> Change:
        key = self._k.incident(incident_id)
        try:
            for _ in range(MAX_RACES):
                async with self._r.pipeline(transaction=True) as pipe:
                    try:
                        await pipe.watch(key)
                        raw = await pipe.get(key)
                        if raw is None:
                            raise errors.IncidentNotFound(incident_id)
                        current = Incident.model_validate_json(raw)
                        change = fn(current)
                        new = change.incident.model_copy(update={"version": current.version + 1})
                        pipe.multi()
                        pipe.set(key, new.model_dump_json())
                        self._write_events(pipe, incident_id, change.events)
                        self._write_indexes(pipe, new)
                        await pipe.execute()
                        return Change(incident=new, events=change.events)
                    except WatchError:
                        continue
        except RedisError as exc:
            raise errors.StoreError("mutate") from exc
        raise errors.VersionConflict(incident_id)

    async def append(self, incident_id: str, event: TimelineEvent) -> None:
        try:
            await self._r.rpush(self._k.timeline(incident_id), event.model_dump_json())
        except RedisError as exc:
            raise errors.StoreError("append") from exc

    async def by_channel(self, channel_id: str) -> str | None:
        return await self._get_text(self._k.channel(channel_id), op="by_channel")

    async def list_open(self) -> list[Incident]:
        try:
            ids = await self._r.zrevrange(self._k.open_index(), 0, -1)
            if not ids:
                return []
            raws = await self._r.mget([self._k.incident(i.decode()) for i in ids])
        except RedisError as exc:
            raise errors.StoreError("list_open") from exc
        return [Incident.model_validate_json(r) for r in raws if r is not None]

    async def timeline(self, incident_id: str) -> list[TimelineEvent]:
        try:
            raws = await self._r.lrange(self._k.timeline(incident_id), 0, -1)
        except RedisError as exc:
            raise errors.StoreError("timeline") from exc
        return [TimelineEvent.model_validate_json(r) for r in raws]

    def _write_events(self, pipe: aioredis.client.Pipeline, incident_id: str,
                      events: list[TimelineEvent]) -> None:
        if events:
            pipe.rpush(self._k.timeline(incident_id), *(e.model_dump_json() for e in events))

    def _write_indexes(self, pipe: aioredis.client.Pipeline, incident: Incident) -> None:
        score = incident.declared_at.timestamp() + incident.seq / 1e6
        pipe.zadd(self._k.all_index(), {incident.id: score})
        if incident.is_open:
            pipe.zadd(self._k.open_index(), {incident.id: score})
        else:
            pipe.zrem(self._k.open_index(), incident.id)
        if incident.channel_id:
            pipe.set(self._k.channel(incident.channel_id), incident.id)
