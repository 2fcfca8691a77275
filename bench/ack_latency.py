"""Time-to-ack and time-to-card of N concurrent `/incident declare`s, on real servers.

    python bench/ack_latency.py [--concurrency 20] [--rounds 5] [--subprocess | --in-process]

Real redis-server (AOF), loopback local Slack, and the bot (default: `warroom serve --http`).
"""
import argparse
import asyncio
import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import aiohttp

from bot import logs
from bot.app import build_bot
from bot.sandbox import LocalSlack
from bot.sandbox.scopes import scopes_from_manifest
from bot.store.connection import connect
from bot.settings import parse_config
from bot.store.embedded import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET = "bench-signing-secret-0123456789abcdef"
USERS = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAN"]  # the seeded workspace's people
CONFIG = """\
escalation:
  levels:
    - name: On-call engineer
      notify: [S0ONCALL]
channels:
  announce: C0INCIDENTS
"""
CARD_TIMEOUT = 30.0
BENCH_CHANNEL = re.compile(r"^inc-\d{8}-\d{3,}-bench-incident-(\d+)$")
FOLLOW_UP = re.compile(r"^(INC-[\d-]+) declared in <#C")  # the declarer's last message


async def start_bot_process(slack: LocalSlack, redis_url: str, tmp: Path,
                            procs: list[subprocess.Popen]) -> str:
    port, exe = free_port(HOST), shutil.which("warroom")
    cmd = [exe] if exe else [sys.executable, "-m", "bot.cli"]
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": slack.api_url, "REDIS_URL": redis_url,
           "WARROOM_CONFIG": str(tmp / "warroom.yml"), "WARROOM_LOG_LEVEL": "warning"}
    with open(tmp / "bot.log", "wb") as log:
        procs.append(proc := subprocess.Popen(
            [*cmd, "serve", "--http", "--host", HOST, "--port", str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log))
    base, deadline = f"http://{HOST}:{port}", time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/readyz") as resp:
                    if resp.status == 200:
                        return base
            await asyncio.sleep(0.05)
    raise RuntimeError(f"bot not ready (exit {proc.poll()}):\n{(tmp / 'bot.log').read_text()[-2000:]}")


async def start_bot_in_process(slack: LocalSlack, redis_url: str):
    logs.configure("warning")
    bot = build_bot(token=slack.bot_token, signing_secret=SECRET, api_url=slack.api_url,
                    redis=connect(redis_url), policy=parse_config(CONFIG).to_policy())
    await bot.check_auth()
    return bot, f"http://{HOST}:{await bot.start(host=HOST, port=0, socket_mode=False)}"


def pct(values: list[float], p: float) -> float:
    return sorted(values)[max(0, math.ceil(p / 100 * len(values)) - 1)]


async def bench(args: argparse.Namespace, redis_url: str, tmp: Path,
                procs: list[subprocess.Popen]) -> int:
    slack = await LocalSlack.start(scopes=scopes_from_manifest(ROOT / "manifest.yml"),
                                   signing_secret=SECRET)
    bot, ws, n = None, slack.workspace, args.concurrency
    pinned: dict[int, float] = {}  # request k -> when its card was pinned
    pin_seen: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
    followed: set[str] = set()  # incidents whose "declared in #channel" follow-up arrived
    acks: dict[int, float] = {}  # request k -> ms to ack
    cards: list[float] = []  # ms to card pinned

    def on_event(event) -> None:  # called synchronously inside the local Slack's handlers
        if event.kind == "ephemeral.posted" and (m := FOLLOW_UP.match(event.data["text"])):
            followed.add(m.group(1))
        channel = ws.channels.get(event.data.get("channel", "")) if event.kind == "pin.added" else None
        if channel and (m := BENCH_CHANNEL.match(channel.name)):
            pinned.setdefault(k := int(m.group(1)), time.perf_counter())
            pin_seen[k].set()

    async def declare(k: int) -> None:
        start = time.perf_counter()
        delivery = await slack.platform.slash_command(
            user=USERS[k % len(USERS)], channel="C0GENERAL", text=f"declare P1 bench incident {k}")
        if not delivery.ok or "INC-" not in str(delivery.ack):
            return print(f"declare {k}: no ack ({delivery.status} {delivery.error or delivery.body!r})")
        acks[k] = (time.perf_counter() - start) * 1000
        try:
            await asyncio.wait_for(pin_seen[k].wait(), CARD_TIMEOUT)
            cards.append((pinned[k] - start) * 1000)
        except TimeoutError:
            print(f"declare {k}: no card pinned within {CARD_TIMEOUT:.0f}s")

    try:
        ws.subscribe(on_event)
        if args.in_process:
            bot, base = await start_bot_in_process(slack, redis_url)
        else:
            base = await start_bot_process(slack, redis_url, tmp, procs)
        slack.set_request_url(base + "/slack/events")
        for r in range(args.rounds):
            await asyncio.gather(*(declare(r * n + i) for i in range(n)))
        deadline = time.monotonic() + CARD_TIMEOUT  # let the last follow-ups arrive
        while len(followed) < len(acks) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        redis = connect(redis_url)
        stored = await redis.zcard("warroom:all")  # every incident ever saved
        await redis.aclose()
    finally:
        if bot is not None:
            await bot.stop()
        await slack.stop()

    total = n * args.rounds
    channels = sum(1 for c in ws.channels.values() if BENCH_CHANNEL.match(c.name))
    complete = stored == channels == len(cards) == len(followed) == len(acks) == total
    mode = "bot in this process" if args.in_process else "bot as its own process (warroom serve)"
    print(f"\nwarroom /incident declare - {mode}, {n} concurrent x {args.rounds} rounds")
    print(f"{'':16}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for label, values in (("time-to-ack ms", list(acks.values())), ("time-to-card ms", cards)):
        cells = [pct(values, p) for p in (50, 95, 99)] + [max(values)] if values else []
        print(f"{label:16}" + "".join(f"{v:8.1f}" for v in cells))
    per_round = [max((acks.get(r * n + i, 0) for i in range(n))) for r in range(args.rounds)]
    print("max ack by round ms: " + " ".join(f"{v:.0f}" for v in per_round))
    print(f"requests {total}, acked {len(acks)}, cards pinned {len(cards)}, follow-ups "
          f"{len(followed)}, incidents in redis {stored}, channels created {channels}")
    print(f"every declare completed: {'yes' if complete else 'NO'}")
    met = bool(acks) and pct(list(acks.values()), 99) < 100
    print(f"target: p99 ack < 100 ms at 20 concurrent declares ({'met' if met else 'NOT met'})")
    if not complete and not args.in_process:
        print("bot log tail:\n" + (tmp / "bot.log").read_text()[-2000:])
    return 0 if complete else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help="bot in this event loop")
    parser.add_argument("--subprocess", dest="in_process", action="store_false",
                        help="bot as `warroom serve --http` (the default)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up like Ctrl-C
    procs: list[subprocess.Popen] = []  # what this script started; ended by PID below
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "warroom.yml").write_text(CONFIG)
        redis = EmbeddedRedis(tmp / "redis", host=HOST, appendonly=True).start()
        try:
            return asyncio.run(bench(args, redis.url, tmp, procs))
        except KeyboardInterrupt:
            return 130
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            redis.stop()


if __name__ == "__main__":
    sys.exit(main())
