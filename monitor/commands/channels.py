"""`tsur channels`: public Telegram channels read through their web preview (t.me/s/)."""

from __future__ import annotations

import asyncio
import dataclasses
from zoneinfo import ZoneInfo

import click

from monitor.collectors.base import SourceError
from monitor.collectors.tgweb import make_collector, source_key
from monitor.settings import ConfigError


@click.group("channels")
def channels():
    """Public Telegram channels read without the bot, through https://t.me/s/<name>."""


@channels.command("preview")
@click.argument("channel")
@click.option("--pages", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Pages to read, newest first (about 20 posts a page).")
@click.pass_obj
def preview(obj, channel, pages):
    """Print what tsur would collect from a public channel; nothing is stored.

    CHANNEL is @name, name, t.me/name, https://t.me/s/name or a post link. Pages after
    the first wait the politeness interval ([tgweb] interval_seconds) like the collector.

    Example: tsur channels preview https://t.me/s/gorodets_live --pages 2
    """


    settings = obj.settings
    try:
        key = source_key(channel)
        collector = make_collector({"key": key, "name": key, "cursor": None}, settings)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="CHANNEL") from None
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    collector.options = dataclasses.replace(collector.options, depth_pages=pages)
    if pages > 1 and collector.interval:
        click.echo(f"reading {pages} pages, {collector.interval:.0f} s apart (politeness)", err=True)

    async def read():
        posts, cursor = [], None
        while True:
            batch = await collector.step(cursor)
            posts += batch.posts
            cursor = batch.cursor
            if not batch.more:
                return posts

    try:
        posts = asyncio.run(read())
    except SourceError as error:
        raise click.ClickException(f"{error} [{error.kind}]") from None
    zone = ZoneInfo(settings.timezone)
    click.echo(f"{key}: {len(posts)} posts")
    for post in sorted(posts, key=lambda p: p.raw["id"]):
        raw = post.raw
        when = post.created_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
        views = f"{raw['views']} views" if raw.get("views") else "no views shown"
        click.echo(f"\n{raw['id']}  {when}  {views}  {post.url}")
        if raw.get("forwarded_from"):
            origin = raw["forwarded_from"]
            click.echo(f"  forwarded from {origin['name']}" + (f" ({origin['url']})"
                                                               if origin.get("url") else ""))
        if raw.get("media"):
            click.echo(f"  media: {', '.join(raw['media'])}")
        for line in (post.text or "(no text)").splitlines():
            click.echo(f"  | {line}")


COMMANDS: list = [channels]
