"""Wall time of one probe run over N slow HTTP targets, some hanging, through the real Prober.

    python bench/probe_fanout.py [--targets 500] [--delay 1.0] [--hang-ratio 0.1]
                                 [--timeout 2.0] [--concurrency 64 512] [--sample 20]

One loopback aiohttp server (127.0.0.1, in its own process, as real targets are) serves /t/<i>/health: 200 after --delay seconds, or
never (hangs until the bench ends) for a --hang-ratio share of them. Each --concurrency value
(warroom's `probes.concurrency`) is measured; then a --sample of the targets is probed one after
another, like the seeds' `for port in ...; do curl ...; done`, and extrapolated to all of them.
"""
import argparse
import asyncio
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from datetime import timedelta

from aiohttp import web

from bot import logs
from bot.core.catalog import Catalog, Service
from bot.core.clock import SystemClock
from bot.core.probe import ProbeStatus
from bot.probes.checks import HttpCheck
from bot.probes.prober import Prober
from bot.probes.runner import DEFAULT_CONCURRENCY, GRACE

HOST = "127.0.0.1"
TARGET_S = 2.5  # the target for 500 targets of 1 s, 10% hanging, 2 s timeout


def pct(values: list[float], p: float) -> float:
    return sorted(values)[max(0, math.ceil(p / 100 * len(values)) - 1)]


def hanging(n: int, ratio: float) -> set[int]:
    """Evenly spread: with 0.1, targets 9, 19, 29, ... (int(n * ratio) of them)."""
    return {i for i in range(n) if int((i + 1) * ratio) > int(i * ratio)}


def _serve_targets(delay: float, hang: set[int], conn) -> None:  # noqa: ANN001
    """Child process: the targets live apart from warroom, as real services do."""
    async def main() -> None:
        async def health(request: web.Request) -> web.Response:
            if int(request.match_info["i"]) in hang:
                await asyncio.Event().wait()  # no answer, ever
            await asyncio.sleep(delay)
            return web.json_response({"status": "UP"})

        app = web.Application()
        app.router.add_get("/t/{i}/health", health)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0, backlog=4096).start()  # 500 connects at once
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def start_targets(delay: float, hang: set[int]) -> tuple[multiprocessing.Process, int]:
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve_targets, args=(delay, hang, child), daemon=True)
    proc.start()
    if not parent.poll(30):
        proc.kill()
        raise SystemExit("the target server did not start")
    return proc, parent.recv()


async def timed_run(prober: Prober, names: list[str], bound: float):
    started = time.perf_counter()
    async with asyncio.timeout(bound):  # a stuck run fails the bench instead of hanging it
        report = await prober.run(names)
    return report, time.perf_counter() - started


def wrong(report, hang_names: set[str]) -> list[str]:
    """Services whose result is not the one expected (timeout if hanging, else ok)."""
    return [f"{s.name}: {s.status.value} ({s.checks[0].summary})" for s in report.services
            if s.status != (ProbeStatus.timeout if s.name in hang_names else ProbeStatus.ok)]


async def bench(args: argparse.Namespace) -> int:
    n, hang = args.targets, hanging(args.targets, args.hang_ratio)
    targets, port = start_targets(args.delay, hang)
    names = [f"svc-{i:03d}" for i in range(n)]
    hang_names = {names[i] for i in hang}
    catalog = Catalog(services=tuple(Service(name=name) for name in names))
    checks = {name: [HttpCheck(url=f"http://{HOST}:{port}/t/{i}/health",
                               timeout=timedelta(seconds=args.timeout))]
              for i, name in enumerate(names)}
    per_check = args.timeout + GRACE.total_seconds()  # worst case a check can hold its slot
    failures: list[str] = []
    rows = []
    try:
        for concurrency in args.concurrency:
            prober = Prober(catalog=catalog, checks=checks, clock=SystemClock(),
                            concurrency=concurrency)
            report, wall = await timed_run(prober, names, per_check * math.ceil(n / concurrency) + 10)
            failures += [f"[concurrency {concurrency}] {line}" for line in wrong(report, hang_names)]
            elapsed = [c.elapsed_ms for s in report.services for c in s.checks]
            counts = Counter(c.status.value for s in report.services for c in s.checks)
            rows.append((concurrency, wall, counts, pct(elapsed, 50), pct(elapsed, 99)))
        sample = names[:min(args.sample, n)]
        one_by_one = Prober(catalog=catalog, checks=checks, clock=SystemClock(), concurrency=1)
        report, seq_sample = await timed_run(one_by_one, sample, per_check * len(sample) + 10)
        failures += [f"[sequential] {line}" for line in wrong(report, hang_names)]
    finally:
        targets.kill()  # by PID: the one process this bench started
        targets.join(5)

    seq_total = seq_sample / len(sample) * n
    print(f"\nwarroom probe fan-out - {n} HTTP targets on {HOST}:{port}, {args.delay:g} s each, "
          f"{len(hang)} hanging, check timeout {args.timeout:g} s")
    print(f"{'concurrency':>12}{'wall s':>9}{'p50 ms':>9}{'p99 ms':>9}{'speed-up':>10}  statuses")
    for concurrency, wall, counts, p50, p99 in rows:
        statuses = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        print(f"{concurrency:>12}{wall:9.2f}{p50:9.0f}{p99:9.0f}{seq_total / wall:9.1f}x  {statuses}")
    print(f"sequential: {len(sample)} targets ({sum(s in hang_names for s in sample)} hanging) "
          f"one after another in {seq_sample:.2f} s -> EXTRAPOLATED to {n}: {seq_total:.1f} s")
    for concurrency, wall, *_ in rows:
        label = " (warroom default)" if concurrency == DEFAULT_CONCURRENCY else ""
        print(f"target: total < {TARGET_S} s at probes.concurrency={concurrency}{label}: "
              f"{wall:.2f} s ({'met' if wall < TARGET_S else 'NOT met'})")
    for line in failures[:10]:
        print(f"WRONG {line}")
    if len(failures) > 10:
        print(f"WRONG ... and {len(failures) - 10} more")
    print(f"every result as expected (hanging -> timeout, others -> ok): "
          f"{'yes' if not failures else f'NO ({len(failures)} wrong)'}")
    return 0 if not failures else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=500)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before a 200")
    parser.add_argument("--hang-ratio", type=float, default=0.1, help="share that never answers")
    parser.add_argument("--timeout", type=float, default=2.0, help="each HttpCheck's timeout")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[DEFAULT_CONCURRENCY, 512],
                        help="probes.concurrency value(s) to measure")
    parser.add_argument("--sample", type=int, default=20, help="targets probed one by one")
    args = parser.parse_args()
    if args.targets < 1 or args.sample < 1 or min(args.concurrency) < 1 \
            or not 0 <= args.hang_ratio <= 1:
        parser.error("targets, sample and concurrency must be >= 1, hang-ratio in [0, 1]")
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = HOST  # httpx reads proxy variables: keep every request on loopback
    logs.configure("warning")
    try:
        return asyncio.run(bench(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
