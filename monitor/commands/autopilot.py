"""`tsur autopilot thresholds`: choose the autopilot's thresholds from the moderators' history."""

from __future__ import annotations

import click

from monitor.retraining.autopilot import choose_and_store
from monitor.titles import TOPIC_TITLES

from .common import open_context


@click.group("autopilot")
def autopilot():
    """Delivery to the executor without a moderator where the model is sure ([autopilot])."""


@autopilot.command("thresholds")
@click.option("--target", type=float, help="Precision to reach (default: [autopilot] "
                                           "target_precision, 0.97).")
@click.option("--min-reviews", type=int, help="Decided incidents a threshold must rest on "
                                              "(default: [autopilot] min_reviews, 30).")
@click.option("--by-municipality", is_flag=True,
              help="Also choose per topic and municipality where the history is large enough.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def thresholds(obj, target, min_reviews, by_municipality, db_path):
    """Choose per topic the least probabilities of kind, topic, municipality and urgency
    at which the moderators' own confirmations and corrections show the labels right at
    the target precision, store them (shown on /models) and print them. The autopilot
    uses them only with [autopilot] enabled = true in tsur.toml.

    Example: tsur --config tsur.toml autopilot thresholds --target 0.97
    """
    if target is not None and not 0.5 <= target <= 1:
        raise click.ClickException("--target must be between 0.5 and 1")
    ctx = open_context(obj.settings, db_path)
    try:
        chosen = choose_and_store(ctx, "cli", target, min_reviews, by_municipality)
    finally:
        ctx.db.close()
    if not chosen:
        click.echo("no decided incidents yet: every incident waits for a moderator")
    for t in chosen:
        where = TOPIC_TITLES.get(t.topic, t.topic) + (f", {t.municipality}" if t.municipality else "")
        if t.kind_min is None:
            click.echo(f"{where}: not enough evidence for the target ({t.evidence} decided); "
                       "waits for a moderator")
        else:
            click.echo(f"{where}: kind ≥ {t.kind_min:.2f}, topic ≥ {t.topic_min:.2f}, "
                       f"municipality ≥ {t.municipality_min:.2f}, urgency ≥ {t.urgency_min:.2f}"
                       f" — precision {t.precision:.3f} on {t.support} of {t.evidence} decided")
    if not obj.settings.autopilot.enabled:
        click.echo("note: [autopilot] enabled is false in the configuration: nothing is sent "
                   "without a moderator yet")


COMMANDS = (autopilot,)
