"""Every Redis key warroom uses, under one prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Keys:
    prefix: str = "warroom"

    def incident(self, incident_id: str) -> str:
        return f"{self.prefix}:incident:{incident_id}"

    def timeline(self, incident_id: str) -> str:
        return f"{self.prefix}:timeline:{incident_id}"

    def day_counter(self, day: date) -> str:
        return f"{self.prefix}:seq:{day:%Y%m%d}"

    def open_index(self) -> str:
        return f"{self.prefix}:open"

    def all_index(self) -> str:
        return f"{self.prefix}:all"

    def channel(self, channel_id: str) -> str:
        return f"{self.prefix}:channel:{channel_id}"

    def report(self, incident_id: str) -> str:
        return f"{self.prefix}:report:{incident_id}"

    def once(self, key: str) -> str:
        return f"{self.prefix}:once:{key}"

    def timers(self) -> str:
        """The one sorted set of timer jobs, scored by due time (ms since the epoch)."""
        return f"{self.prefix}:timers"

    def timer_failures(self) -> str:
        """Hash member -> failed attempts, only for jobs whose handler has raised."""
        return f"{self.prefix}:timers:failures"
