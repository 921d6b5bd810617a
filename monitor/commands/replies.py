"""`tsur replies`: publish approved replies (VK, Telegram, MAX, OK), list and retry failures."""

from __future__ import annotations

import click
import httpx

from monitor.commands.loop import run_loop
from monitor.incidents.outbox import incident_of_reply, recent_replies
from monitor.replies import TIMEOUT, ReplyError, Tally, retry, run_once

from .common import LOG_FORMAT, open_context, say

DB_OPTION = click.option("--db", "db_path", type=click.Path(dir_okay=False),
                         help="Default: the configured database.")


@click.group("replies")
def replies():
    """Replies to residents: publish them from the organisations' accounts, see failures."""


@replies.command("send")
@click.option("--once", is_flag=True, help="Send everything due, then exit (cron).")
@click.option("--interval", default=10.0, show_default=True, type=float,
              help="Seconds between passes when looping.")
@DB_OPTION
@LOG_FORMAT
@click.pass_obj
def send(obj, once, interval, db_path):
    """Publish approved replies from the organisation's linked VK or Telegram account.

    A VK reply is a comment from the community (`wall.createComment`, `from_group`)
    under the resident's comment or post; a Telegram reply is `sendMessage` replying to
    the resident's message. Tokens come from the variables named in the organisations
    (`vk_token_env`) and TSUR_TELEGRAM_BOT_TOKEN. A reply is never sent twice; one whose
    answer was lost is marked unknown for a moderator to check. `tsur worker` also
    sends replies; use this command to run the publisher on its own.

    Example: TSUR_VK_TOKEN_ADM_DZR=… tsur --config tsur.toml replies send --once
    """

    ctx = open_context(obj.settings, db_path)

    def report(tally):
        if once or tally.handled:
            say(f"replies: {tally}", "replies_pass", **vars(tally))

    tally = Tally()
    with httpx.Client(timeout=TIMEOUT) as client:
        run_loop(lambda should_stop: run_once(ctx, client, tally, should_stop), tally,
                 once=once, interval=interval, report=report)
    if not once:
        say(f"stopped: {tally}", "stopped", **vars(tally))


@replies.command("list")
@click.option("--status", type=click.Choice(["failed", "unknown", "pending", "published", "all"]),
              default="failed", show_default=True)
@click.option("--limit", default=50, show_default=True, type=int)
@DB_OPTION
@click.pass_obj
def list_replies(obj, status, limit, db_path):
    """List replies by status with the platform's reason (failed ones by default).

    Example: tsur --config tsur.toml replies list --status unknown
    """
    ctx = open_context(obj.settings, db_path)
    rows = recent_replies(ctx.db, None if status == "all" else status, limit)
    if not rows:
        click.echo(f"no {status} replies" if status != "all" else "no replies")
    for r in rows:
        tail = r.get("error") if r["status"] != "published" else r.get("url") or r["external_id"]
        click.echo(f"#{r['id']}\tincident {r['incident_id']}\t{r['purpose']}\t{r['status']}"
                   f"\t{r.get('failure') or ''}\t{tail or ''}")


@replies.command("retry")
@click.argument("reply_id", type=int)
@DB_OPTION
@click.pass_obj
def retry_reply(obj, reply_id, db_path):
    """Queue a failed or unknown reply again (its idempotency key is kept).

    Example: tsur --config tsur.toml replies retry 42
    """

    ctx = open_context(obj.settings, db_path)
    incident_id = incident_of_reply(ctx.db, reply_id)
    if incident_id is None:
        raise click.ClickException(f"reply {reply_id} does not exist; see `tsur replies list`")
    try:
        retry(ctx, incident_id, reply_id, "cli")
    except ReplyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"reply {reply_id} queued; `tsur replies send --once` or the worker sends it")


COMMANDS: list = [replies]
