"""The Timers port on the Redis timer queue."""

from __future__ import annotations

from datetime import datetime

from bot.store.timers import Job, RedisTimerQueue


class QueueTimers:
    def __init__(self, queue: RedisTimerQueue) -> None:
        self.queue = queue

    async def schedule(self, kind: str, incident_id: str, token: str, *, due: datetime) -> None:
        await self.queue.schedule(Job(kind=kind, incident_id=incident_id, token=token), due=due)
