"""`tsur directline start|list|report`: the governor's direct line (monitor.directline)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from monitor.directline import DirectLineError, events, start
from monitor.directline.events import STATE_TITLES
from monitor.directline.report import tables
from monitor.reports.exports import municipality_names

from .common import open_context
from .reports import write_tables

LOCAL = "%Y-%m-%d %H:%M"


def _local(value: str, zone: ZoneInfo, name: str) -> datetime:
    try:
        return datetime.strptime(value, LOCAL).replace(tzinfo=zone)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a local time like 2026-12-10 12:00",
                                 param_hint=name) from None


@click.group("directline")
def directline():
    """The governor's direct line: a source's questions in their own queue for a time window."""


@directline.command("start")
@click.argument("name")
@click.option("--source", "source_key", required=True,
              help="The source that brings the questions: a page (with --post), a bot "
                   "(telegram:bot, max:bot) or a chat.")
@click.option("--post", "post_external_id",
              help="The broadcast post whose comments are the questions (e.g. -100001_500).")
@click.option("--from", "starts", required=True, help="Local start, YYYY-MM-DD HH:MM.")
@click.option("--until", "ends", required=True, help="Local end, YYYY-MM-DD HH:MM.")
@click.option("--answer-hours", default=72.0, show_default=True, type=float,
              help="Every question answered within this many hours of the end.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def start_command(obj, name, source_key, post_external_id, starts, ends, answer_hours, db_path):
    """Attach a source to a direct line for a time window (region's local time): its
    questions open no incidents and wait, grouped, on the page /directline.

    Example: tsur directline start "Прямая линия губернатора" --source vk:-100001 --post -100001_500 --from "2026-12-10 12:00" --until "2026-12-10 15:00"
    """
    zone = ZoneInfo(obj.settings.timezone)
    ctx = open_context(obj.settings, db_path)
    try:
        event = start(ctx, name, source_key, _local(starts, zone, "--from"),
                      _local(ends, zone, "--until"), post_external_id=post_external_id,
                      answer_hours=answer_hours, actor="cli")
    except DirectLineError as error:
        raise click.ClickException(str(error)) from None
    finally:
        ctx.db.close()
    click.echo(f"direct line {event.id} «{event.name}»: {event.source_key}"
               f"{' post ' + event.post_external_id if event.post_external_id else ''}, "
               f"{event.starts_at.astimezone(zone):{LOCAL}} – {event.ends_at.astimezone(zone):{LOCAL}},"
               f" answers due {event.due_at.astimezone(zone):{LOCAL}}")


@directline.command("list")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def list_command(obj, db_path):
    """Every direct line, the newest first, with its window and state.

    Example: tsur directline list
    """
    zone = ZoneInfo(obj.settings.timezone)
    ctx = open_context(obj.settings, db_path)
    try:
        found, now = events(ctx.db), ctx.clock.now()
    finally:
        ctx.db.close()
    for e in found:
        click.echo(f"{e.id}  {e.name}  {e.source_key}  {e.starts_at.astimezone(zone):{LOCAL}} – "
                   f"{e.ends_at.astimezone(zone):{LOCAL}}  {STATE_TITLES[e.state(now)]}")


@directline.command("report")
@click.argument("event_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]),
              help="Write the tables in this format to --output (printed without).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File for --format.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def report_command(obj, event_id, fmt, output, db_path):
    """After the event: questions by topic and by municipality — answered on air, answered
    later within the deadline, overdue, waiting — and the groups with their summaries.

    Example: tsur directline report 1 --format xlsx -o direct-line.xlsx
    """
    ctx = open_context(obj.settings, db_path)
    try:
        found = tables(ctx.db, event_id, ctx.clock.now())
    except DirectLineError as error:
        raise click.ClickException(str(error)) from None
    finally:
        ctx.db.close()
    if fmt == "csv":
        found = found[:1]  # CSV holds one table: questions by topic
    write_tables(found, fmt, output, municipality_names(obj.settings), event_id=event_id)


COMMANDS = (directline,)
