"""TCP probe: can a connection be opened, and how long does it take.

ok: connected (latency_ms = connect time); down: refused, no such host, unreachable;
timeout: no answer within the check's timeout; error: anything else. Never raises.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time

from bot.core import probe as p
from bot.core.probe import CheckResult, ProbeStatus
from bot.core.redact import redact
from bot.messages import probes as w
from bot.probes.checks import TcpCheck
from bot.probes.context import ProbeContext

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


async def probe(check: TcpCheck, *, ctx: ProbeContext) -> CheckResult:
    host = f"[{check.host}]" if ":" in check.host else check.host
    target = redact(f"{host}:{check.port}")
    observed_at = ctx.clock.now()
    started = time.perf_counter()

    def result(status: ProbeStatus, summary: str, evidence: list[str] | None = None,
               **facts: p.Fact) -> CheckResult:
        return CheckResult(kind="tcp", target=target, status=status, summary=summary,
                           evidence=[redact(line) for line in evidence or []], facts=facts,
                           elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=observed_at)

    writer = None
    try:
        async with asyncio.timeout(check.timeout.total_seconds()):
            _, writer = await asyncio.open_connection(check.host, check.port)
            connect_ms = (time.perf_counter() - started) * 1000
    except TimeoutError:
        return result(ProbeStatus.timeout, w.timed_out(check.timeout))
    except ConnectionRefusedError as exc:
        return result(ProbeStatus.down, w.REFUSED, [w.tcp_refused(target), w.error_line(exc)],
                      **{p.FACT_CONNECTION_REFUSED: True})
    except socket.gaierror as exc:
        return result(ProbeStatus.down, w.HOST_NOT_FOUND, [w.error_line(exc)],
                      **{p.FACT_CONNECTION_REFUSED: True})
    except OSError as exc:
        if exc.errno in _UNREACHABLE:
            return result(ProbeStatus.down, w.UNREACHABLE, [w.error_line(exc)],
                          **{p.FACT_CONNECTION_REFUSED: False})
        # Several addresses all failed: asyncio joins the errors into one OSError.
        if "refused" in str(exc).lower():
            return result(ProbeStatus.down, w.REFUSED, [w.tcp_refused(target), w.error_line(exc)],
                          **{p.FACT_CONNECTION_REFUSED: True})
        return result(ProbeStatus.down, w.UNREACHABLE, [w.error_line(exc)])
    except Exception as exc:
        return result(ProbeStatus.error, w.probe_failed(exc), [w.error_line(exc)])
    finally:
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(0.5):
                    await writer.wait_closed()
            except Exception:
                pass
    return result(ProbeStatus.ok, w.tcp_connected(connect_ms), [],
                  **{p.FACT_LATENCY_MS: round(connect_ms, 2)})
