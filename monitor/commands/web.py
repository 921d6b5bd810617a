"""`tsur demo` and `tsur serve`: the web UI over a replayed or the configured database."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from pathlib import Path

import click
import httpx

from monitor.catalog.organisations import sync_from_settings
from monitor.commands.common import LOG_FORMAT, open_context, say
from monitor.commands.incidents import run_once
from monitor.context import Context
from monitor.demo import DEMO_CONFIG, DEMO_STREAM, prepare, replay, sandbox, scenes
from monitor.settings import load_settings

log = logging.getLogger(__name__)


@click.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="tsur-demo.db",
              show_default=True, help="SQLite file to create or reuse.")
@click.option("--fresh", is_flag=True, help="Delete the database file first.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Replay and exit without serving the web UI.")
@click.pass_obj
def demo(obj, db_path, fresh, host, port, no_serve):
    """Replay the bundled stream into a local database and serve the web UI.

    Example: tsur demo   (then open http://127.0.0.1:8000)
    """
    config = obj.config_path or DEMO_CONFIG
    settings = load_settings(config)
    if not no_serve:
        check_port(host, port)  # before the replay, not after it
    started = time.monotonic()
    platforms = sandbox.from_config(config)
    if platforms:
        platforms.start()
        settings = sandbox.configure(settings, platforms)
        click.echo(f"sandbox of VK, Telegram, MAX and OK: {platforms.address} (replies go there, "
                   "nothing leaves this machine)")
    db_file = Path(db_path)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    click.echo(f"database: {db_file.resolve()}")
    click.echo("loading models…")
    ctx = open_context(settings, db_file, pipeline=True, create=True)
    credentials = prepare(ctx)
    scenes.play(ctx, click.echo, scenes.BEFORE)
    click.echo(f"replaying {DEMO_STREAM.name} ({ctx.pipeline.version})")

    shown = [0]

    def progress(n, report):
        if n - shown[0] >= 100:
            shown[0] = n
            click.echo(f"  {n} messages: {report}")

    report, bad = replay(ctx, DEMO_STREAM, progress=progress,
                         on_bad_line=lambda b: click.echo(f"  skipped {b}", err=True))
    click.echo(f"done: {report}")
    scenes.play(ctx, click.echo)
    click.echo(f"ready in {time.monotonic() - started:.1f} s")
    if no_serve:
        if platforms:
            platforms.stop()
        sys.exit(1 if bad else 0)
    worker = _background_worker(ctx) if platforms else None
    try:
        _serve(ctx, host, port, credentials)
    finally:
        if worker:
            worker.set()
        if platforms:
            platforms.stop()


@click.command()
@click.option("--host", default=None, help="Default: [web] host of tsur.toml.")
@click.option("--port", default=None, type=int, help="Default: [web] port of tsur.toml.")
@LOG_FORMAT
@click.pass_obj
def serve(obj, host, port):
    """Serve the web UI over the configured database.

    Example: TSUR_SECRET_KEY=… tsur --config tsur.toml serve
    """
    settings = obj.settings
    ctx = open_context(settings)  # refuses a missing database: serve never creates one
    host, port = host or settings.host, port or settings.port
    check_port(host, port)
    sync_from_settings(ctx.db, settings, ctx.clock.now())
    _serve(ctx, host, port, [])


def _background_worker(ctx: Context, interval: float = 3.0) -> threading.Event:
    """The worker (deadlines, notifications, publishing replies) in a thread beside the
    demo's web UI, on its own connection; set the returned event to stop it."""
    stop = threading.Event()

    def loop():
        own = ctx.fork()
        with httpx.Client(timeout=httpx.Timeout(5.0)) as client:
            while not stop.is_set():
                try:
                    run_once(own, client, should_stop=stop.is_set)
                except Exception:  # a demo keeps serving; the log says what failed
                    log.exception("demo worker pass failed")
                stop.wait(interval)
        own.db.close()

    threading.Thread(target=loop, name="demo-worker", daemon=True).start()
    return stop


def check_port(host: str, port: int) -> None:
    """Refuse at once, in Russian, a port another program already listens on."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"Порт {port} на {host} занят ({error.strerror}): возможно, уже запущен другой "
                f"tsur demo или tsur serve. Остановите его или укажите другой порт: --port {port + 1}") from None


def _serve(ctx: Context, host, port, credentials):


    # Lazy on purpose (declared in tests/test_architecture.py): the web stack is for
    # `serve` and `demo` only, and every other command starts faster without it.
    import uvicorn

    from monitor.web.app import create_app

    app = create_app(ctx)
    logins = "".join(
        f"\n  {c.role:<15} login {c.login:<11} password {c.password}"
        + (f" ({c.organisation})" if c.organisation else "")
        + (f" (муниципальный ЦУР: {', '.join(c.municipalities)})" if c.municipalities else "")
        for c in credentials)
    say(f"\ntsur web UI: http://{host}:{port}{logins}\nStop with Ctrl-C.", "serving",
        host=host, port=port)
    # X-Forwarded-* are applied by the app itself, from [web] trusted_proxies only:
    # uvicorn's own default would believe any caller on 127.0.0.1.
    # Our logging setup (--log-format) and our request lines instead of uvicorn's.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False,
                log_config=None, access_log=False)
    say("stopped.", "stopped")


COMMANDS: list = [demo, serve]
