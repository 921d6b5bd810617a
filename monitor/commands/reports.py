"""`tsur report`: response times of the incident queue, printed and saved as CSV/JSON."""

from __future__ import annotations

import csv
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click

from .common import open_context


def _day(value: str | None, settings, name: str) -> datetime | None:
    """A local calendar date (YYYY-MM-DD) -> its midnight in the region's zone."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-16", param_hint=name) from None
    return datetime.combine(day, time(), tzinfo=ZoneInfo(settings.timezone))


@click.command("report")
@click.option("--by", "by", default="organisation", show_default=True,
              type=click.Choice(["organisation", "municipality", "topic", "channel", "day",
                                 "week", "month", "all"]), help="Group the figures by.")
@click.option("--measure", "measures", multiple=True,
              type=click.Choice(["first_reply", "executor", "resolve"]),
              help="Which times (default: all three).")
@click.option("--since", help="First local day included, YYYY-MM-DD.")
@click.option("--until", help="Last local day included, YYYY-MM-DD.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Also write CSV here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write JSON here.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def report(obj, by, measures, since, until, csv_path, json_path, db_path):
    """Response times: average, median, p90, share overdue and 0–1 h … 24 h+ buckets.

    Times are clock hours from the opening of an incident to its first public reply,
    to reaching the organisation, and to resolution; rejected incidents are left out.

    Example: tsur report --by municipality --since 2026-11-01 --csv times.csv
    """
    from monitor.incidents.metrics import aggregate

    settings = obj.settings
    start = _day(since, settings, "--since")
    end = _day(until, settings, "--until")
    end = end + timedelta(days=1) if end else None
    if start and end and end <= start:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    ctx = open_context(settings, db_path)
    rows = []
    for measure in measures or ("first_reply", "executor", "resolve"):
        rows += [a.as_row() for a in aggregate(ctx.db, None, measure, by, now=ctx.clock.now(),
                                               timezone=settings.timezone, since=start,
                                               until=end)]
    if not rows:
        click.echo("no incidents in this period")
    _print(rows)
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["measure"])
            writer.writeheader()
            writer.writerows(rows)
        click.echo(f"written {csv_path}")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"by": by, "since": since, "until": until, "rows": rows}, f,
                      ensure_ascii=False, indent=2)
        click.echo(f"written {json_path}")


def _print(rows: list[dict]) -> None:
    def fmt(v):
        if v is None:
            return "—"
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    measure = None
    for row in rows:
        if row["measure"] != measure:
            measure = row["measure"]
            click.echo(f"\n{measure}: incidents / measured / avg h / median h / p90 h / overdue"
                       " / 0–1 1–3 3–8 8–24 24+")
        buckets = " ".join(str(row[k]) for k in ("0–1 ч", "1–3 ч", "3–8 ч", "8–24 ч", "24 ч+"))
        share = "—" if row["overdue_share"] is None else f"{row['overdue_share']:.0%}"
        click.echo(f"  {row['group'][:40]:<40} {row['incidents']:>5} {row['measured']:>5} "
                   f"{fmt(row['average_h']):>7} {fmt(row['median_h']):>7} {fmt(row['p90_h']):>7} "
                   f"{share:>5}  {buckets}")


COMMANDS: list = [report]
