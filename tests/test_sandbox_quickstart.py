"""The README quickstart as a new user runs it: `warroom sandbox` in a clean directory.

A real `python -m bot.cli sandbox` process with its own WARROOM_DATA_DIR: it answers on
its port, a declare through the page API reaches the page (the new channel, the pinned
war-room card), and SIGTERM leaves neither the process nor its redis-server running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

from bot.sandbox import server
from bot.sandbox.scopes import scopes_from_manifest
from bot.store.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0


def _children(pid: int) -> list[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class SandboxProcess:
    """`python -m bot.cli sandbox` in a temp directory, stopped by its own PID."""

    def __init__(self, tmp: Path, *, speed: float = 60.0, args: list[str] | None = None) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WARROOM_CONFIG")}
        env["WARROOM_DATA_DIR"] = str(tmp / "warroom-data")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.stdout = open(tmp / "sandbox.out", "w+")
        self.stderr = open(tmp / "sandbox.err", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(self.port),
             "--speed", str(speed), *(args or [])],
            cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=self.stderr)

    def output(self) -> str:
        for f in (self.stdout, self.stderr):
            if not f.closed:
                f.flush()
        return (self.tmp / "sandbox.out").read_text() + (self.tmp / "sandbox.err").read_text()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sandbox exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"sandbox did not answer on {self.url}:\n{self.output()}")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        self.stop()
        self.stdout.close()
        self.stderr.close()


def until(predicate: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.1)


needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def sandbox_process(tmp_path):
    box = SandboxProcess(tmp_path)
    yield box
    box.close()


@pytest.mark.slow
@needs_redis
def test_quickstart_answers_declares_through_the_page_api_and_stops_clean(sandbox_process):
    box = sandbox_process
    box.wait_ready()
    assert f"open http://127.0.0.1:{box.port}/" in box.output()
    page = urllib.request.urlopen(box.url + "/", timeout=5).read().decode()
    assert "warroom sandbox" in page and "/static/app.js" in page
    redis_pids = [p for p in _children(box.proc.pid)
                  if "redis-server" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]
    assert len(redis_pids) == 1, "the sandbox runs one redis-server child"

    state = box.get("/api/state?user=alice")
    assert state["sandbox"]["speed"] == 60
    assert {"C0GENERAL", "C0INCIDENTS"} <= {c["id"] for c in state["channels"]}

    answer = box.post("/api/command", {"user": "alice", "channel": "C0GENERAL",
                                       "text": "/incident declare P1 checkout is failing"})
    assert answer["ok"] and "Declaring a P1 incident" in answer["ack"]["text"]

    def war_room() -> Any:
        snap = box.get("/api/state?user=alice")
        channel = next((c for c in snap["channels"] if c["kind"] == "incident"
                        and c["name"].endswith("-checkout-is-failing")), None)
        card = channel and next((m for m in snap["messages"] if m["channel"] == channel["id"]
                                 and m.get("pinned")), None)
        return card and (snap, channel, card)

    snap, channel, card = until(war_room, what="the war room and its pinned card")
    assert "checkout is failing" in json.dumps(card["blocks"])
    assert "incident_ack" in json.dumps(card["blocks"])
    assert channel["is_member"] and "U0BOB" in channel["members"]  # @oncall invited
    mine = [m for m in snap["messages"] if m.get("ephemeral")]
    assert any("Declaring a P1 incident" in m["text"] for m in mine)
    # ephemerals are shown only to whoever caused them
    bob = box.get("/api/state?user=bob")
    assert not any("Declaring a P1 incident" in m["text"] for m in bob["messages"])

    code = box.stop()
    assert code == 0, box.output()
    assert "warroom sandbox stopped" in box.output()
    for pid in redis_pids:
        until(lambda: not _alive(pid), timeout=10, what=f"redis-server {pid} gone")
    assert not _alive(box.proc.pid)


@pytest.mark.slow
@needs_redis
def test_the_page_api_refuses_other_sites(sandbox_process):
    box = sandbox_process
    box.wait_ready()
    form = urllib.request.Request(box.url + "/api/command", data=b"user=alice&text=hi",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(form, timeout=5)
    assert refused.value.code == 415
    rebound = urllib.request.Request(box.url + "/api/state?user=alice",
                                     headers={"Host": "evil.example.com"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(rebound, timeout=5)
    assert refused.value.code == 403
    with urllib.request.urlopen(box.url + "/", timeout=5) as r:
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_the_embedded_scopes_are_the_manifests():
    assert server.MANIFEST_SCOPES == scopes_from_manifest(ROOT / "manifest.yml")


def test_without_the_repo_checkout_the_embedded_scopes_are_granted(monkeypatch):
    monkeypatch.setattr(server, "manifest_path", lambda: None)
    assert server.sandbox_scopes() == set(server.MANIFEST_SCOPES)


def test_the_demo_config_parses_with_its_ports_filled_in():
    from bot.settings import parse_config

    text = server.demo_config_text(estate_url="http://127.0.0.1:1234",
                                   redis_url="redis://127.0.0.1:5678/0", postgres_port=9)
    config = parse_config(text, source="demo.yml")
    names = [s.name for s in config.services]
    assert {"postgres", "auth", "checkout", "search", "recommendations", "redis"} <= set(names)
    levels = config.to_policy().escalation.levels
    assert [lv.notify for lv in levels] == [("S0ONCALL",), ("U0CAROL",), ("U0DAN",)]
    assert config.channels.announce == "C0INCIDENTS"
    assert not any(p in text for p in ("{estate}", "{redis_url}", "{postgres_port}"))
