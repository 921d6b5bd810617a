"""`tsur worker`: deadlines, escalations and Telegram notifications of the incident queue.

The worker is assembled here: the deadline steps of monitor.incidents.worker, the
notification sender (monitor.replies.notify) and the reply publisher (monitor.replies)
drained in turn by one loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import click
import httpx

from monitor.commands.loop import run_loop
from monitor.context import Context
from monitor.incidents.worker import handle_due
from monitor.replies import Tally as ReplyTally
from monitor.replies import notify
from monitor.replies import run_once as publish_replies

from .common import LOG_FORMAT, open_context, say

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass over everything due, then exit (cron).")
@click.option("--interval", default=10.0, show_default=True, type=float,
              help="Seconds between passes when looping.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@LOG_FORMAT
@click.pass_obj
def worker(obj, once, interval, db_path):
    """Warn before deadlines, record breaches, escalate and notify the moderators' chat.

    Breaches are recorded once, at the moment they happened, however late the worker
    runs. Notifications go to [workflow] moderators_chat_id through the bot whose
    token is in TSUR_TELEGRAM_BOT_TOKEN. Stop the loop with Ctrl-C.

    Example: TSUR_TELEGRAM_BOT_TOKEN=… tsur --config tsur.toml worker --once
    """

    ctx = open_context(obj.settings, db_path)
    if not obj.settings.workflow.moderators_chat_id:
        say("note: [workflow] moderators_chat_id is not set; breaches are recorded "
            "but nobody is notified", "no_moderators_chat", err=True)
    if not obj.settings.secret("TSUR_TELEGRAM_BOT_TOKEN"):
        say("note: TSUR_TELEGRAM_BOT_TOKEN is not set; notifications stay queued",
            "no_bot_token", err=True)

    def report(tally):
        if once or tally.checked or tally.notifications or tally.replies:
            say(f"worker: {tally}", "worker_pass", **vars(tally))

    tally = run(ctx, once=once, interval=interval, report=report)
    if not once:
        say(f"stopped: {tally}", "stopped", **vars(tally))




@dataclass
class Tally:
    checked: int = 0
    notifications: int = 0
    errors: int = 0
    replies: int = 0  # replies to residents handled by monitor.replies

    def __str__(self) -> str:
        return (f"{self.checked} incidents checked, {self.notifications} notifications handled, "
                f"{self.errors} errors, {self.replies} replies handled")


def run_once(ctx: Context, client: httpx.Client, tally: Tally | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> Tally:
    """Drain every due check, then every sendable notification."""
    tally = tally or Tally()
    while not should_stop() and handle_due(ctx):
        tally.checked += 1
    while not should_stop():
        try:
            if not notify.send_one(ctx, client):
                break
        except notify.NotifyError as error:
            log.warning("%s", error)
            tally.errors += 1
            break
        tally.notifications += 1
    replies = publish_replies(ctx, client, ReplyTally(), should_stop)
    tally.replies += replies.handled
    return tally


def run(ctx: Context, *, once: bool = False, interval: float = 10.0,
        report: Callable[[Tally], None] = lambda t: None) -> Tally:
    """The worker loop; SIGTERM / SIGINT finish the current step and stop."""
    tally = Tally()
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        return run_loop(lambda should_stop: run_once(ctx, client, tally, should_stop), tally,
                        once=once, interval=interval, report=report)


COMMANDS: list = [worker]
