"""`warroom sandbox`: try the whole bot in a browser, with no Slack workspace."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
import webbrowser
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot import messages


def _speed_text(speed: float) -> str:
    return f"{speed:g}"


def sandbox(
    port: Annotated[int, typer.Option(help="port of the web page on 127.0.0.1 (0: any free port)")] = 8080,
    speed: Annotated[float, typer.Option(help="run the bot's clock N times faster (60: an hour a minute)")] = 1.0,
    open_browser: Annotated[bool, typer.Option("--open", help="open the page in your browser")] = False,
    config: Annotated[Optional[Path], typer.Option(
        "--config", help="your own warroom.yml instead of the demo (probes your services; Slack stays local)")] = None,
) -> None:
    """Run warroom against a local Slack in your browser: no Slack app, no tokens, one process."""
    from bot import logs
    from bot.core import errors
    from bot.settings import Settings, load_config

    if not speed > 0:
        typer.echo(messages.SANDBOX_BAD_SPEED, err=True)
        raise typer.Exit(2)
    if not 0 <= port < 65536:
        typer.echo(messages.SANDBOX_BAD_PORT, err=True)
        raise typer.Exit(2)
    from bot.store.embedded import find_redis_server

    if find_redis_server() is None:
        typer.echo(messages.SANDBOX_NO_REDIS, err=True)
        raise typer.Exit(2)
    settings = Settings()
    # The terminal stays quiet unless WARROOM_LOG_LEVEL asks for more.
    chosen = "warroom_log_level" in settings.model_fields_set
    logs.configure(settings.warroom_log_level if chosen else "warning")
    if not chosen:  # Bolt warns that the token is unused when `authorize` is given: expected
        logging.getLogger("slack_bolt.AsyncApp").addFilter(lambda r: r.levelno >= logging.ERROR)
    if config is not None:
        try:
            load_config(config)
        except errors.ConfigError as exc:
            for line in exc.errors:
                typer.echo(line, err=True)
            raise typer.Exit(1)
    try:
        code = asyncio.run(_run(port=port, speed=speed, config=config, open_browser=open_browser,
                                data_dir=settings.warroom_data_dir))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


async def _run(*, port: int, speed: float, config: Path | None, open_browser: bool,
               data_dir: Path) -> int:
    from bot.core import errors
    from bot.sandbox.server import Sandbox

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    box = Sandbox(port=port, speed=speed, config_path=config, data_dir=data_dir)
    try:
        await box.start()
    except OSError as exc:
        typer.echo(messages.SANDBOX_PORT_BUSY.format(port=port) if exc.errno == errno.EADDRINUSE
                   else str(exc), err=True)
        return 2
    except (errors.WarroomError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        return 2
    try:
        what = (messages.SANDBOX_WHAT_CONFIG.format(path=config) if config
                else messages.SANDBOX_WHAT_DEMO)
        typer.echo(messages.SANDBOX_READY.format(url=box.url, what=what, speed=_speed_text(speed),
                                                 data_dir=box.redis_data_dir))
        sys.stdout.flush()
        if open_browser:
            await asyncio.to_thread(webbrowser.open, box.url)
        await stop.wait()
        return 0
    finally:
        await box.stop()
        typer.echo(messages.SANDBOX_STOPPED, err=True)
