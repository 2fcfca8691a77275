"""`warroom probe` output: a Rich table with a progress indicator, or one JSON object."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from bot import messages as m
from bot.core.probe import CheckResult
from bot.core.triage import ProbeReport
from bot.probes.prober import Prober

STYLE = {"ok": "green", "degraded": "yellow", "down": "bold red", "error": "magenta",
         "timeout": "red"}


async def run_with_progress(prober: Prober, names: list[str] | None, *,
                            quiet: bool) -> ProbeReport:
    chosen = names or prober.probed_services()
    total = sum(len(prober.checks.get(n, [])) for n in chosen)
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return await prober.run(chosen)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} checks"), console=console,
                  transient=True) as progress:
        task = progress.add_task("probing", total=total)

        def done(service: str, result: CheckResult) -> None:
            progress.update(task, advance=1, description=f"{service} {result.kind}")

        return await prober.run(chosen, on_result=done)


def to_dict(report: ProbeReport) -> dict[str, Any]:
    t = report.triage
    return {
        "services": [{
            "name": s.name, "status": s.status.value, "tier": s.tier,
            "checks": [{"kind": c.kind, "target": c.target, "status": c.status.value,
                        "summary": c.summary, "evidence": c.evidence,
                        "elapsed_ms": round(c.elapsed_ms, 1),
                        "observed_at": c.observed_at.isoformat(),
                        "failed_since": c.failed_since.isoformat() if c.failed_since else None,
                        "facts": c.facts} for c in s.checks],
        } for s in report.services],
        "triage": {
            "pattern": t.pattern.value,
            "reasons": [m.reason_text(r.code, service=r.service, detail=r.detail)
                        for r in t.reasons],
            "first_failure": t.first_failure,
            "first_failure_at": t.first_failure_at.isoformat() if t.first_failure_at else None,
            "shared_dependency": t.shared_dependency,
            "blast_radius": t.blast_radius.model_dump(),
            "runbook": {"service": t.runbook_service, "check": list(t.runbook.check),
                        "fix": list(t.runbook.fix), "link": t.runbook.link},
            "recovery_order": t.recovery_order,
        },
        "elapsed_ms": round((report.finished_at - report.started_at).total_seconds() * 1000, 1),
    }


def to_json(report: ProbeReport) -> str:
    return json.dumps(to_dict(report), indent=2)


def print_table(report: ProbeReport, *, console: Console | None = None) -> None:
    console = console or Console(file=sys.stdout, soft_wrap=False)
    table = Table(title=m.TRIAGE_HEADER, show_lines=False)
    for column in ("service", "status", "check", "result", "ms"):
        table.add_column(column, justify="right" if column == "ms" else "left")
    for svc in report.services:
        for i, check in enumerate(svc.checks):
            style = STYLE.get(check.status.value, "")
            table.add_row(svc.name if i == 0 else "",
                          f"[{STYLE.get(svc.status.value, '')}]{svc.status.value}[/]" if i == 0 else "",
                          check.kind, f"[{style}]{check.summary}[/]", f"{check.elapsed_ms:.0f}")
    console.print(table)
    t = report.triage
    console.print(f"[bold]Pattern:[/] {m.PATTERN_TITLES[t.pattern.value]}")
    for r in t.reasons:
        console.print(f"  - {m.reason_text(r.code, service=r.service, detail=r.detail)}")
    if t.first_failure:
        console.print("[bold]First failure:[/] " + m.first_failure_text(
            service=t.first_failure, at=t.first_failure_at, basis=t.first_failure_basis))
    radius = t.blast_radius
    if radius.failing:
        console.print(f"[bold]Blast radius:[/] failing {', '.join(radius.failing)}; "
                      f"downstream {', '.join(radius.downstream) or '-'}; "
                      f"depends on {', '.join(radius.upstream) or '-'}")
    if t.recovery_order:
        console.print(f"[bold]Recovery order:[/] {' -> '.join(t.recovery_order)}")
    for svc in report.failing:
        for check in svc.checks:
            for line in check.evidence[:5]:
                console.print(f"  [dim]{svc.name} {check.kind}:[/] {line}", highlight=False,
                              markup=False)
    if t.runbook.check or t.runbook.fix:
        console.print(f"[bold]Runbook ({t.runbook_service or '-'}):[/]")
        for i, step in enumerate(t.runbook.check, 1):
            console.print(f"  {i}. {step}", markup=False)
        for step in t.runbook.fix:
            console.print(f"  fix: {step}", markup=False)
