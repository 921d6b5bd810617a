"""`tsur worker`: deadlines, escalations and Telegram notifications of the incident queue."""

from __future__ import annotations

import click

from .common import open_context


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass over everything due, then exit (cron).")
@click.option("--interval", default=10.0, show_default=True, type=float,
              help="Seconds between passes when looping.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def worker(obj, once, interval, db_path):
    """Warn before deadlines, record breaches, escalate and notify the moderators' chat.

    Breaches are recorded once, at the moment they happened, however late the worker
    runs. Notifications go to [workflow] moderators_chat_id through the bot whose
    token is in TSUR_TELEGRAM_BOT_TOKEN. Stop the loop with Ctrl-C.

    Example: TSUR_TELEGRAM_BOT_TOKEN=… tsur --config tsur.toml worker --once
    """
    from monitor.incidents.worker import run

    ctx = open_context(obj.settings, db_path)
    if not obj.settings.workflow.moderators_chat_id:
        click.echo("note: [workflow] moderators_chat_id is not set; breaches are recorded "
                   "but nobody is notified", err=True)
    if not obj.settings.secret("TSUR_TELEGRAM_BOT_TOKEN"):
        click.echo("note: TSUR_TELEGRAM_BOT_TOKEN is not set; notifications stay queued", err=True)

    def report(tally):
        if once or tally.checked or tally.notifications or tally.replies:
            click.echo(f"worker: {tally}")

    tally = run(ctx, once=once, interval=interval, report=report)
    if not once:
        click.echo(f"stopped: {tally}")


COMMANDS: list = [worker]
