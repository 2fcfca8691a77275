"""`warroom serve | check-config` (Typer)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError

from bot import logs, messages
from bot.core import errors
from bot.settings import Settings, load_config

cli = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="warroom: incident response from Slack.")


def _fail(lines: list[str], *, code: int = 2) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        _fail([f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()])
        raise  # unreachable


@cli.command("check-config")
def check_config(path: Annotated[Optional[Path], typer.Argument(
        help="warroom.yml to check (default: $WARROOM_CONFIG)")] = None) -> None:
    """Validate warroom.yml: exit 0 with a summary, or 1 with each located error."""
    target = path or _settings().warroom_config
    try:
        config = load_config(target)
    except errors.ConfigError as exc:
        _fail(exc.errors, code=1)
        return
    from bot.render import Templates

    problems = Templates(Path(config.templates) if config.templates else None,
                         policy=config.to_policy()).check()
    if problems:
        _fail(problems, code=1)
    typer.echo(messages.config_summary(source=str(target or "built-in defaults"),
                                       policy=config.to_policy()))


EXIT_BY_STATUS = {"ok": 0, "degraded": 1}
EXIT_BAD_INPUT = 3


@cli.command("probe")
def probe_command(
    services: Annotated[Optional[list[str]], typer.Argument(
        help="services from warroom.yml (default: all with checks)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    config_path: Annotated[Optional[Path], typer.Option(
        "--config", help="warroom.yml (default: $WARROOM_CONFIG)")] = None,
) -> None:
    """Run the diagnostic probes and print a table (exit 0 ok, 1 degraded, 2 down/error/timeout)."""
    from bot.app import build_prober
    from bot.core.clock import SystemClock
    from bot.probes import report_view

    settings = _settings()
    try:
        config = load_config(config_path or settings.warroom_config)
    except errors.ConfigError as exc:
        _fail(exc.errors, code=EXIT_BAD_INPUT)
        return
    prober = build_prober(config, clock=SystemClock())
    if prober is None or not prober.probed_services():
        _fail([messages.NO_SERVICES], code=EXIT_BAD_INPUT)
        return
    names = list(services or [])
    unknown = prober.unknown(names)
    if unknown:
        _fail([messages.render_error(errors.UnknownService(
            unknown, known=prober.catalog.names(), usage="warroom probe [SERVICE ...]"))],
            code=EXIT_BAD_INPUT)
    report = asyncio.run(report_view.run_with_progress(prober, names or None,
                                                       quiet=as_json))
    if as_json:
        typer.echo(report_view.to_json(report))
    else:
        report_view.print_table(report)
    worst = max((s.status for s in report.services), key=lambda st: st.severity, default=None)
    raise typer.Exit(EXIT_BY_STATUS.get(worst.value if worst else "ok", 2))


@cli.command("report")
def report_command(incident_id: Annotated[str, typer.Argument(help="INC-YYYY-MM-DD-NNN")]) -> None:
    """Print an incident's post-incident report (Markdown) from Redis."""
    from bot.core.naming import is_incident_id

    if not is_incident_id(incident_id):
        _fail([messages.not_an_incident_id(incident_id)], code=EXIT_BAD_INPUT)
    settings = _settings()
    text = asyncio.run(_read_report(settings, incident_id.upper()))
    if text is None:
        _fail([messages.no_report(incident_id.upper())], code=1)
    typer.echo(text)


async def _read_report(settings: Settings, incident_id: str) -> str | None:
    from bot.store.connection import connect, reachable
    from bot.store.embedded import EmbeddedRedis
    from bot.store.incidents import RedisIncidentStore
    from bot.store.keys import Keys

    embedded = None
    if settings.redis_url is None:
        embedded = EmbeddedRedis(settings.warroom_data_dir).start()
        url = embedded.url
    else:
        url = settings.redis_url.get_secret_value()
    try:
        if not await reachable(url):
            _fail([messages.redis_unreachable(logs.scrub(url))], code=2)
        redis = connect(url)
        try:
            store = RedisIncidentStore(redis, keys=Keys(prefix=settings.warroom_redis_prefix))
            return await store.report(incident_id)
        finally:
            await redis.aclose()
    finally:
        if embedded is not None:
            embedded.stop()


@cli.command()
def serve(
    socket: Annotated[bool, typer.Option("--socket", help="Socket Mode (needs SLACK_APP_TOKEN)")] = False,
    http: Annotated[bool, typer.Option("--http", help="HTTP mode; wins over SLACK_APP_TOKEN")] = False,
    port: Annotated[Optional[int], typer.Option(help="port (default $PORT or 3000)")] = None,
    host: Annotated[str, typer.Option(help="address to bind")] = "0.0.0.0",
) -> None:
    """Run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on /slack/events)."""
    settings = _settings()
    logs.configure(settings.warroom_log_level)
    socket_mode = not http and (socket or settings.slack_app_token is not None)
    problems = settings.problems(socket_mode=socket_mode)
    if problems:
        _fail(problems)
    try:
        config = load_config(settings.warroom_config)
    except errors.ConfigError as exc:
        _fail(exc.errors)
        return
    try:
        code = asyncio.run(_serve(settings, config=config, socket_mode=socket_mode,
                                  host=host, port=port or settings.port))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


async def _serve(settings: Settings, *, config, socket_mode: bool, host: str, port: int) -> int:  # noqa: ANN001
    from bot.app import build_bot
    from bot.store.connection import connect, reachable
    from bot.store.embedded import EmbeddedRedis, find_redis_server

    embedded = None
    if settings.redis_url is None:
        if find_redis_server() is None:
            typer.echo(messages.REDIS_NOT_FOUND, err=True)
            return 2
        embedded = EmbeddedRedis(settings.warroom_data_dir).start()
        url = embedded.url
        typer.echo(messages.embedded_redis_started(url=url, data_dir=str(settings.warroom_data_dir)),
                   err=True)
    else:
        url = settings.redis_url.get_secret_value()
    shown_url = logs.scrub(url)
    if not await reachable(url):
        typer.echo(messages.redis_unreachable(shown_url), err=True)
        if embedded is not None:
            embedded.stop()
        return 2
    redis = connect(url)
    assert settings.slack_bot_token is not None
    secret = settings.slack_signing_secret.get_secret_value() if (
        settings.slack_signing_secret and not socket_mode) else None
    bot = build_bot(token=settings.slack_bot_token.get_secret_value(), signing_secret=secret,
                    api_url=settings.api_url, redis=redis, policy=config.to_policy(),
                    key_prefix=settings.warroom_redis_prefix, config=config)
    try:
        try:
            await bot.check_auth()
        except SlackApiError as exc:
            typer.echo(messages.slack_auth_failed(str(exc.response.get("error"))), err=True)
            return 2
        except Exception as exc:  # network: Slack's API is unreachable
            typer.echo(messages.slack_unreachable(url=settings.api_url,
                                                  error=type(exc).__name__), err=True)
            return 2
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        bound = await bot.start(host=host, port=port, socket_mode=socket_mode,
                                app_token=app_token, api_url=settings.api_url)
        typer.echo(messages.serving(mode="Socket Mode" if socket_mode else "HTTP", host=host,
                                    port=bound), err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        return 0
    finally:
        await bot.stop()
        if embedded is not None:
            embedded.stop()


from bot.sandbox.cli_command import sandbox  # noqa: E402

cli.command("sandbox")(sandbox)
from bot.stats_command import stats  # noqa: E402
cli.command("stats")(stats)


def main() -> None:
    cli()


if __name__ == "__main__":
    sys.exit(main())
