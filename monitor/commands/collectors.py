"""`tsur sources …`, `tsur collect` and `tsur replay`: what is read, and reading it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.catalog.organisations import sync_from_settings
from monitor.catalog.sources import (
    SourceProblem,
    add_source,
    health,
    remove_source,
    set_paused,
    vk_screen_name,
)
from monitor.collectors.runner import Runner
from monitor.collectors.vk.client import VkClient
from monitor.collectors.vk.names import NameProblem, resolve_screen_name
from monitor.commands.common import LOG_FORMAT, open_context, say
from monitor.demo import replay
from monitor.store.backup import stale_warning

PLATFORM_CHOICE = click.Choice(["vk", "telegram", "tgweb", "max", "ok"])


@click.group()
def sources():
    """Where messages come from: VK walls and searches, Telegram chats, public channels,
    MAX chats and Одноклассники groups."""


@sources.command("add")
@click.argument("platform", type=PLATFORM_CHOICE)
@click.argument("ident")
@click.option("--name", help="Shown in lists (default: the key).")
@click.option("--role", type=click.Choice(["official", "watched"]), default="watched",
              show_default=True, help="official: the page of an organisation.")
@click.option("--municipality", help="Default municipality (a key of the region's list).")
@click.option("--organisation", help="Organisation key from tsur.toml (required for official).")
@click.option("--search", is_flag=True, help="IDENT is keywords for VK newsfeed.search.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def sources_add(obj, platform, ident, name, role, municipality, organisation, search, db_path):
    """Add a source: a VK community (-id, club<id> or screen name), a VK keyword search,
    a Telegram chat id the bot is in, a public Telegram channel (tgweb), a MAX chat id the
    bot administers (max) or an Одноклассники group id or ok.ru/group/<id> link (ok).

    Example: tsur sources add vk club100002 --name "Подслушано Нижний Новгород" --municipality "Нижний Новгород"
    """

    ctx = open_context(obj.settings, db_path)
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    if platform == "vk" and not search and vk_screen_name(ident):
        ident = _resolve_vk(ctx.settings, vk_screen_name(ident))
    try:
        row = add_source(ctx.db, ctx.settings, ctx.clock.now(), platform, ident, name=name,
                         role=role, municipality=municipality, organisation=organisation,
                         search=search)
    except SourceProblem as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"added {row['key']} ({row['name']}, {row['role']})")


def _resolve_vk(settings, screen_name: str) -> str:
    """A VK screen name → -<community id> (or the user id) through utils.resolveScreenName."""

    token = settings.secret("TSUR_VK_TOKEN")
    if not token:
        raise click.ClickException(
            f"{screen_name!r} is a screen name; set TSUR_VK_TOKEN to resolve it, or give the "
            "community id (-123 or club123, shown in the community's links)")
    client = VkClient(token, "user", settings.secret("TSUR_VK_API_URL"))
    try:
        return resolve_screen_name(client, screen_name)
    except NameProblem as error:
        raise click.ClickException(str(error)) from None
    finally:
        client.close()


@sources.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Also show removed sources.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def sources_list(obj, include_removed, as_json, db_path):
    """Every source with its health: status, last success, last error, lag, messages today.

    Lag is the time from publication to collection of the newest post; times are local.

    Example: tsur sources list
    """


    ctx = open_context(obj.settings, db_path)
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    zone = ZoneInfo(ctx.settings.timezone)
    rows = health(ctx.db, ctx.clock.now(), ctx.settings.timezone, include_removed=include_removed)
    warning = stale_warning(ctx.settings.backup_dir, ctx.clock.now())
    if warning and not as_json:  # machines read tsur_backup_age_seconds instead
        click.echo(warning, err=True)

    def local(moment):
        return moment.astimezone(zone).strftime("%d.%m %H:%M") if moment else "—"

    if as_json:
        for row in rows:
            data = {**row.__dict__, "lag_seconds": row.lag.total_seconds() if row.lag else None}
            data.pop("lag")
            click.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    header = ("key", "role", "municipality", "status", "last success", "lag", "today", "last error")
    table = [header]
    for row in rows:
        error = f"{local(row.last_error_at)} {row.last_error}" if row.last_error else "—"
        if row.retry_at and row.status != "ok":
            error += f" (next try {local(row.retry_at)})"
        table.append((row.key, row.role, row.municipality or "—", row.status,
                      local(row.last_success_at), _duration(row.lag), str(row.today),
                      _clip(error, 70)))
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for line in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=False)) + "  " + line[-1])


def _duration(delta) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _change(obj, db_path, key, action):

    ctx = open_context(obj.settings, db_path)
    try:
        return action(ctx, key)
    except SourceProblem as error:
        raise click.ClickException(str(error)) from None


@sources.command("pause")
@click.argument("key")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def sources_pause(obj, key, db_path):
    """Stop reading a source (its cursor is kept; `tsur sources resume` goes on from it).

    Example: tsur sources pause vk:-100002
    """

    _change(obj, db_path, key, lambda ctx, k: set_paused(ctx.db, k, True))
    click.echo(f"paused {key}")


@sources.command("resume")
@click.argument("key")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def sources_resume(obj, key, db_path):
    """Read a paused source again, from where it stopped.

    Example: tsur sources resume vk:-100002
    """

    _change(obj, db_path, key, lambda ctx, k: set_paused(ctx.db, k, False))
    click.echo(f"resumed {key}")


@sources.command("remove")
@click.argument("key")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def sources_remove(obj, key, db_path):
    """Stop reading a source for good; posts and incidents collected from it stay.

    A source declared in tsur.toml comes back at the next start: remove it there too.

    Example: tsur sources remove vk:-100010
    """

    deleted = _change(obj, db_path, key, lambda ctx, k: remove_source(ctx.db, k, ctx.clock.now()))
    click.echo(f"removed {key}" + ("" if deleted else " (its posts stay)"))


@click.command("collect")
@click.option("--once", is_flag=True, help="Read every source until it has nothing more, then exit (cron).")
@LOG_FORMAT
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def collect(obj, once, db_path):
    """Read every active source until stopped (SIGTERM/Ctrl-C stop it cleanly).

    Each source keeps its cursor with its posts: stop it at any moment, start it
    again, and nothing is lost or stored twice. A failing source is marked (see
    `tsur sources list`) and retried; it never stops the others. Exit code 1 with
    --once when a source failed.

    Example: TSUR_VK_TOKEN=… TSUR_TELEGRAM_BOT_TOKEN=… tsur --config tsur.toml collect
    """


    ctx = open_context(obj.settings, db_path, pipeline=True, create=True)

    async def main():
        runner = Runner(ctx, once=once)
        runner.install_signal_handlers()
        return await runner.run()

    report = asyncio.run(main())
    say(f"{report.steps} steps: {report.ingested}", None)  # the runner logged "stopped"
    for key, why in sorted(report.skipped.items()):
        say(f"  not read {key}: {why}", "not_read", err=True, source=key, reason=why)
    if report.rejected:  # each one was logged with its place and reason as it came
        say(f"  {len(report.rejected)} malformed record(s) left out (see the log)", "left_out",
            err=True, count=len(report.rejected))
    if once and report.failures:
        for key, error in sorted(report.failures.items()):
            say(f"  failed {key}: {error}", "failed", err=True, source=key, error=str(error))
        sys.exit(1)


@click.command("replay")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.option("--rebase/--no-rebase", default=False, show_default=True,
              help="Move timestamps by whole days, so the last message is the latest moment "
                   "at its time of day that has already passed.")
@click.pass_obj
def replay_command(obj, path, db_path, rebase):
    """Ingest a JSONL file of posts as a collector would (idempotent).

    Example: tsur replay data/demo/stream.jsonl --db tsur.db
    """
    ctx = open_context(obj.settings, db_path, pipeline=True, create=True)
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    report, bad = replay(ctx, Path(path), rebase=rebase,
                         on_bad_line=lambda b: click.echo(f"{path}: {b}", err=True))
    click.echo(str(report))
    if bad:
        click.echo(f"{len(bad)} bad line(s) skipped", err=True)
        sys.exit(1)


COMMANDS: list = [sources, collect, replay_command]
