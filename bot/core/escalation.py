"""The escalation ladder and status-update cadence as pure functions of (incident, now).

State lives on the incident (`EscalationState`). Every timer job carries a token
made from that state; a job whose token no longer matches is stale and does
nothing (acknowledged, resolved, severity changed, superseded by Escalate).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.core.policy import EscalationLevel

DEFAULT_STEP = timedelta(minutes=15)  # a level without `after` (seed 002: 15 minutes)

KIND_ESCALATE = "escalate"
KIND_REMIND = "remind"
KIND_BREACH = "ack_breach"


class EscalationState(BaseModel):
    epoch: int = 0            # bumped by ack, severity change, escalate-now, resolve
    level: int = 0            # 1-based index of the last level notified; 0 = none yet
    notified_at: datetime | None = None
    repeats: int = 0          # times the last level was repeated
    breached_at: datetime | None = None  # ack_within passed without acknowledgement
    reminder_epoch: int = 0   # bumped by every posted update and every reminder sent


class Step(BaseModel):
    """One notification of a level."""

    level: int                # 1-based
    name: str
    members: list[str]
    repeat: bool = False
    webhook: str | None = None
    pagerduty_key: str | None = None


def members_of(levels: tuple[EscalationLevel, ...], level: int, *,
               by_type: tuple[str, ...] = ()) -> list[str]:
    people = list(levels[level - 1].notify)
    if level == 1:
        people += [p for p in by_type if p not in people]
    return people


def step_for(levels: tuple[EscalationLevel, ...], level: int, *, by_type: tuple[str, ...] = (),
             repeat: bool = False) -> Step:
    spec = levels[level - 1]
    return Step(level=level, name=spec.name, members=members_of(levels, level, by_type=by_type),
                repeat=repeat, webhook=spec.webhook, pagerduty_key=spec.pagerduty_key)


def interval_after(levels: tuple[EscalationLevel, ...], level: int) -> timedelta:
    """How long after notifying `level` the next notification is due."""
    if level < len(levels):
        return levels[level].after or DEFAULT_STEP
    return levels[-1].after or DEFAULT_STEP  # past the last level: repeat at its interval


def escalate_token(state: EscalationState) -> str:
    """The state the next step starts from: any notification (next level, repeat, manual)
    changes it, so a re-delivered or duplicated job cannot act twice."""
    return f"{state.epoch}.{state.level}.{state.repeats}"


def remind_token(state: EscalationState) -> str:
    return str(state.reminder_epoch)
