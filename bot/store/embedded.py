"""A private `redis-server` child process (the default when REDIS_URL is unset).

Used by `warroom serve`, by the sandbox and by the test-suite, so all three run
the same real Redis. AOF persistence lives under the data directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.core import errors


def _die_with_parent():  # noqa: ANN202
    """On Linux, redis-server gets SIGTERM if warroom dies (even by kill -9), so a crash
    leaves no orphan. Only from the main thread: the signal follows the creating thread."""
    import threading

    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None

    def set_pdeathsig() -> None:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return set_pdeathsig


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def find_redis_server() -> str | None:
    """`redis-server` from PATH, else the binary a bundling package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:  # pragma: no cover - optional package
        import redis_server  # type: ignore[import-not-found]

        return str(redis_server.REDIS_SERVER_PATH)
    except Exception:
        return None


class EmbeddedRedis:
    def __init__(self, data_dir: Path, *, port: int | None = None, appendonly: bool = True,
                 host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port or free_port(host)
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> "EmbeddedRedis":
        binary = find_redis_server()
        if binary is None:
            raise errors.ConfigError(["redis-server"], source="REDIS_URL")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            binary, "--bind", self.host, "--port", str(self.port),
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec", "--save", "",
            "--protected-mode", "yes", "--daemonize", "no",
            "--logfile", str((self.data_dir / "redis.log").resolve()),
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        preexec_fn=_die_with_parent())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise errors.StoreError(f"redis-server exited: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise errors.StoreError("redis-server did not start")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """Hard stop (crash tests)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, 9)
            self.process.wait()
        self.process = None

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
