"""Run `warroom serve` as a real child process (restart and crash tests)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.store.embedded import free_port


class ServeProcess:
    def __init__(self, *, env: dict[str, str], args: list[str] | None = None,
                 cwd: Path | None = None) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SLACK_", "REDIS_URL", "WARROOM_"))}
        self.env.update(env)
        self.args = ["--http"] if args is None else args
        self.cwd = cwd
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_path: Path | None = None

    def start(self, stderr_path: Path) -> "ServeProcess":
        self.stderr_path = stderr_path
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", *self.args, "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr_path.open("a"), text=True)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, *, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"warroom serve exited: {self.stderr()}")
                try:
                    response = await client.get(self.url + "/readyz", timeout=1)
                    if response.status_code == 200:
                        return response.json()
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"not ready in {timeout}s: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path else ""

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM without blocking the loop the local Slack runs in."""
        return await asyncio.to_thread(self.terminate)

    def terminate(self, *, timeout: float = 15) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "REDIS_URL", "WARROOM_"))}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=base, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
