"""`warroom stats [--since 30d] [--json]`: MTTA/MTTR by severity, SLA breaches, error budgets.

Reads every incident declared within `--since` (the `all` sorted set, scored by
declared time) and its timeline from Redis, computes `bot.core.metrics` for each,
and prints Rich tables (or one JSON object with `--json`; durations in seconds).

Redis is `REDIS_URL`; when unset, the embedded data under `WARROOM_DATA_DIR` is
read the way `warroom serve` keeps it, through `EmbeddedRedis`, but on a
temporary copy of the data directory: a running `warroom serve` owns those AOF
files, and a second redis-server must never append to them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from bot import logs, messages
from bot.core import errors
from bot.core.clock import SystemClock
from bot.core.durations import format_duration, parse_duration
from bot.core.incident import Incident, TimelineEvent
from bot.core.metrics import (IncidentMetrics, ServiceBudget, SeveritySummary, Sla, Slos,
                              budget_minutes, budget_use, compute, summarize)
from bot.settings import Settings, WarroomConfig, load_config

EXIT_TROUBLE = 2
READ_BATCH = 100


def parse_since(text: str, *, now: datetime) -> datetime:
    """`30d` -> now - 30 days; `2026-11-01` (or a full ISO time) -> that moment, UTC."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())  # a date alone means its midnight
    except ValueError:
        raise typer.BadParameter(messages.STATS_BAD_SINCE.format(value=text),
                                 param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ reading
Loaded = list[tuple[Incident, list[TimelineEvent]]]


async def read_incidents(url: str, *, prefix: str, since: datetime) -> tuple[Loaded, int]:
    """(incident, timeline) for every incident declared since `since`; and how many failed."""
    from pydantic import ValidationError

    from bot.store.connection import connect
    from bot.store.incidents import RedisIncidentStore
    from bot.store.keys import Keys

    keys = Keys(prefix=prefix)
    redis = connect(url)
    try:
        store = RedisIncidentStore(redis, keys=keys)
        raw_ids = await redis.zrangebyscore(keys.all_index(), since.timestamp(), "+inf")
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in raw_ids]

        async def one(incident_id: str) -> tuple[Incident, list[TimelineEvent]] | None:
            try:
                return await store.get(incident_id), await store.timeline(incident_id)
            except (errors.IncidentNotFound, ValidationError):
                return None

        loaded: Loaded = []
        skipped = 0
        for start in range(0, len(ids), READ_BATCH):
            for item in await asyncio.gather(*(one(i) for i in ids[start:start + READ_BATCH])):
                if item is None:
                    skipped += 1
                else:
                    loaded.append(item)
        return loaded, skipped
    finally:
        await redis.aclose()


async def _read(settings: Settings, *, since: datetime) -> tuple[Loaded, int]:
    from bot.store.connection import reachable

    url = settings.redis_url.get_secret_value() if settings.redis_url else None
    if url is None:
        return await _read_embedded(settings, since=since)
    if not await reachable(url):
        _fail([messages.redis_unreachable(logs.scrub(url))])
    try:
        return await read_incidents(url, prefix=settings.warroom_redis_prefix, since=since)
    except errors.StoreError:
        _fail([messages.redis_unreachable(logs.scrub(url))])
        raise  # unreachable


async def _read_embedded(settings: Settings, *, since: datetime) -> tuple[Loaded, int]:
    from bot.store.embedded import EmbeddedRedis, find_redis_server

    data_dir = Path(settings.warroom_data_dir)
    if not data_dir.is_dir() or not any(p.name != "redis.log" for p in data_dir.iterdir()):
        typer.echo(messages.STATS_NO_EMBEDDED_DATA.format(data_dir=data_dir), err=True)
        return [], 0
    if find_redis_server() is None:
        _fail([messages.REDIS_NOT_FOUND])
    typer.echo(messages.STATS_READING_COPY.format(data_dir=data_dir), err=True)
    with tempfile.TemporaryDirectory(prefix="warroom-stats-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("redis.log", "*.sock"))
        embedded = EmbeddedRedis(copy).start()
        try:
            return await read_incidents(embedded.url, prefix=settings.warroom_redis_prefix,
                                        since=since)
        finally:
            embedded.stop()


# ------------------------------------------------------------------ output
def _d(delta: timedelta | None) -> str:
    return "-" if delta is None else format_duration(delta)


def _pct(target: float) -> str:
    return f"{target * 100:g}%"


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def to_json(*, since: datetime, now: datetime, metrics: list[IncidentMetrics],
            summary: dict[str, SeveritySummary], budgets: dict[str, ServiceBudget],
            skipped: int) -> str:
    def sev(s: SeveritySummary) -> dict[str, Any]:
        return {"count": s.count, "open": s.open, "acknowledged": s.acknowledged,
                "resolved": s.resolved, "mtta_seconds": _seconds(s.mtta),
                "mttr_seconds": _seconds(s.mttr), "sla_met": s.sla_met,
                "sla_breaches": s.sla_breaches}

    def svc(b: ServiceBudget) -> dict[str, Any]:
        return {"target": b.target, "period_seconds": b.period.total_seconds(),
                "budget_minutes": b.budget_minutes, "used_minutes": b.used_minutes,
                "percent_used": b.percent, "incidents": b.incidents}

    return json.dumps({
        "since": since.isoformat(), "now": now.isoformat(), "skipped": skipped,
        "severities": {name: sev(s) for name, s in summary.items()},
        "services": {name: svc(b) for name, b in budgets.items()},
        "incidents": [json.loads(m.model_dump_json()) for m in metrics],
    }, indent=2)


def print_tables(*, since: datetime, window: str, metrics: list[IncidentMetrics],
                 summary: dict[str, SeveritySummary], budgets: dict[str, ServiceBudget],
                 slos: Slos) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not metrics:
        console.print(messages.STATS_NO_INCIDENTS.format(since=f"{since:%Y-%m-%d %H:%M} UTC"))
        return
    table = Table(title=messages.stats_title(since=since, window=window))
    for column in ("Severity", "Incidents", "Open", "MTTA", "MTTR", "SLA met", "SLA breached"):
        table.add_column(column, justify="left" if column == "Severity" else "right")
    for name, s in summary.items():
        table.add_row(name, str(s.count), str(s.open), _d(s.mtta), _d(s.mttr), str(s.sla_met),
                      str(s.sla_breaches))
    console.print(table)

    breached = [m for m in metrics if m.sla is Sla.breached]
    if breached:
        late = Table(title=messages.STATS_BREACHES_TITLE)
        for column in ("Incident", "Severity", "Target", "Acknowledged after", "Title"):
            late.add_column(column)
        for m in breached:
            late.add_row(m.incident_id, m.severity, _d(m.ack_within),
                         (_d(m.time_to_acknowledge) if m.time_to_acknowledge
                          else messages.STATS_NOT_YET),
                         m.title)
        console.print(late)

    if not slos:
        console.print(messages.STATS_NO_SLOS)
        return
    budget = Table(title=messages.STATS_BUDGET_TITLE)
    for column in ("Service", "SLO", "Budget", "Used", "% of budget", "Incidents"):
        budget.add_column(column, justify="left" if column in {"Service", "Incidents"}
                          else "right", overflow="fold")
    for name, (target, period) in sorted(slos.items()):
        b = budgets.get(name)
        per = f"{budget_minutes(target, period):g} min / {format_duration(period)}"
        budget.add_row(name, _pct(target), per,
                       f"{b.used_minutes:.1f} min" if b else "0 min",
                       f"{b.percent:.1f}%" if b else "0%",
                       ", ".join(b.incidents) if b else "")
    console.print(budget)


# ------------------------------------------------------------------ the command
def _fail(lines: list[str], *, code: int = EXIT_TROUBLE) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def _load_settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        _fail([f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()])
        raise  # unreachable


def stats(
    since: Annotated[str, typer.Option(
        "--since", help="how far back: a duration (30d, 12h) or a date (2026-11-01)")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    drills: Annotated[bool, typer.Option("--drills", help="count drills too")] = False,
    config_path: Annotated[Optional[Path], typer.Option(
        "--config", help="warroom.yml, for severities and SLOs (default: $WARROOM_CONFIG)")] = None,
) -> None:
    """MTTA/MTTR by severity, SLA breaches and error-budget use of recent incidents."""
    now = SystemClock().now()
    start = parse_since(since, now=now)
    settings = _load_settings()
    try:
        config: WarroomConfig = load_config(config_path or settings.warroom_config)
    except errors.ConfigError as exc:
        _fail(exc.errors)
        return
    slos = config.slos()
    loaded, skipped = asyncio.run(_read(settings, since=start))
    metrics = sorted((compute(incident, events, now=now, slos=slos) for incident, events in loaded),
                     key=lambda m: m.declared_at)
    order = config.to_policy().severity_names()
    summary = summarize(metrics, since=start, order=order, drills=drills)
    budgets = budget_use(metrics, since=start, drills=drills)
    metrics = [m for m in metrics if drills or not m.drill]
    if as_json:
        typer.echo(to_json(since=start, now=now, metrics=metrics, summary=summary,
                           budgets=budgets, skipped=skipped))
        return
    print_tables(since=start, window=since, metrics=metrics, summary=summary, budgets=budgets,
                 slos=slos)
    if skipped:
        typer.echo(messages.STATS_SKIPPED.format(n=skipped), err=True)
