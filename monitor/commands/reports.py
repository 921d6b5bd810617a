"""`tsur report`: response times of the incident queue, printed and saved as CSV/JSON."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click

from monitor.catalog.organisations import list_organisations, organisation_id
from monitor.context import Context
from monitor.reports import display, exports, ratings
from monitor.reports.metrics import MEASURES, aggregate
from monitor.titles import MEASURE_TITLES

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
              type=click.Choice(["first_reply", "executor", "resolve", "linked_reply"]),
              help="Which times (default: the first three; linked_reply: each post linked to "
                   "an incident, answered under itself).")
@click.option("--since", help="First local day included, YYYY-MM-DD.")
@click.option("--until", help="Last local day included, YYYY-MM-DD.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Also write CSV here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write JSON here.")
@click.option("--report", "report_name", default="times", show_default=True,
              type=click.Choice(["times", "volume", "recurring", "heatmap", "open", "incidents",
                                 "satisfaction", "rating", "all"]),
              help="Which report: response times (grouped --by), incoming volume per day, top "
                   "recurring problems, municipality × topic, open incidents per municipality, "
                   "every incident, residents' satisfaction (grouped --by organisation, "
                   "municipality or topic), the monthly rating of organisations and "
                   "municipalities (--month), or all of them (xlsx/json).")
@click.option("--month", help="The rating's local month, YYYY-MM (default: the current one).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]),
              help="Write the report in this format to --output (csv and json: stdout without).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False),
              help="File for --format (required for xlsx).")
@click.option("--organisation", "organisation",
              help="Only this organisation's incidents (its key), as its officials see them.")
@click.option("--centre", "centre",
              help="Only a municipal ЦУР's incidents (its key in [[tiers.centres]]), as its "
                   "moderators see them.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Default: the configured database.")
@click.pass_obj
def report(obj, by, measures, since, until, csv_path, json_path, report_name, month, fmt, output,
           organisation, centre, db_path):
    """Response times: average, median, p90, share overdue and 0–1 h … 24 h+ buckets.

    Times are clock hours from the opening of an incident to its first public reply,
    to reaching the organisation, and to resolution; rejected incidents are left out.
    `--report` picks another report of the dashboard; `--format csv|json|xlsx` writes
    it (with `--output`), the same figures the dashboard downloads.

    Example: tsur report --by municipality --since 2026-11-01 --csv times.csv

    Example: tsur report --report all --format xlsx -o report.xlsx

    Example: tsur report --report rating --month 2026-11 --format xlsx -o rating.xlsx
    """

    settings = obj.settings
    start = _day(since, settings, "--since")
    end = _day(until, settings, "--until")
    end = end + timedelta(days=1) if end else None
    if start and end and end <= start:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    ctx = open_context(settings, db_path)
    viewer = _viewer(ctx, organisation) or _centre(settings, centre)
    if report_name != "times" or fmt:
        if report_name == "rating":  # CSV holds one: the rating --by organisation or municipality
            tables = _rating(ctx, viewer, month)
            tables = [t for t in tables if t.name == f"rating-{by}"] or tables if fmt == "csv" else tables
        else:
            tables = _tables(ctx, viewer, report_name, by, measures, start, end)
        _export(tables, fmt, output, start, end, exports.municipality_names(settings))
        return
    rows = []
    for measure in measures or ("first_reply", "executor", "resolve"):
        rows += [a.as_row() for a in aggregate(ctx.db, viewer, measure, by, now=ctx.clock.now(),
                                               timezone=settings.timezone, since=start,
                                               until=end)]
    if not rows:
        click.echo("нет инцидентов за период")
    _print(rows, by, exports.municipality_names(settings))
    if csv_path:  # for a Russian Excel, as the dashboard's download
        scope = exports.Scope(viewer, ctx.clock.now(), settings.timezone, since=start, until=end)
        table = exports.times(ctx.db, scope, by, measures or tuple(MEASURES))
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            f.write(exports.to_csv(table, exports.municipality_names(settings)))
        click.echo(f"written {csv_path}")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"by": by, "since": since, "until": until, "rows": rows}, f,
                      ensure_ascii=False, indent=2)
        click.echo(f"written {json_path}")


def _viewer(ctx: Context, organisation: str | None) -> dict | None:
    if not organisation:
        return None
    org_id = organisation_id(ctx.db, organisation)
    if org_id is None:
        keys = ", ".join(sorted(o["key"] for o in list_organisations(ctx.db)))
        raise click.BadParameter(f"no organisation {organisation!r}; known: {keys}",
                                 param_hint="--organisation")
    return {"role": "official", "organisation_id": org_id}


def _centre(settings, key: str | None) -> dict | None:
    """The viewer of a municipal ЦУР's moderators."""
    if not key:
        return None
    centre = next((c for c in settings.tiers.centres if c.key == key), None)
    if centre is None:
        known = ", ".join(c.key for c in settings.tiers.centres) or "—"
        raise click.BadParameter(f"no municipal centre {key!r}; known: {known}", param_hint="--centre")
    return {"role": "moderator", "municipalities": list(centre.municipalities)}


def _rating(ctx: Context, viewer, month: str | None) -> list:
    """Both ratings of a local month (default: the current one)."""
    now = ctx.clock.now()
    month = month or now.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%Y-%m")
    try:
        return ratings.ratings(ctx.db, ratings.Month(viewer, month, now, ctx.settings))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None


def _tables(ctx: Context, viewer, name, by, measures, start, end) -> list:
    scope = exports.Scope(viewer, ctx.clock.now(), ctx.settings.timezone, since=start, until=end)
    if name == "all":
        return [exports.build(n, ctx.db, scope, ctx.settings) for n in exports.REPORTS]
    if name == "times":
        return [exports.times(ctx.db, scope, by, measures or ("first_reply", "executor",
                                                               "resolve"))]
    if name == "satisfaction":
        if by not in ("organisation", "municipality", "topic", "all"):
            raise click.BadParameter("satisfaction is grouped by organisation, municipality, "
                                     "topic or all", param_hint="--by")
        return [exports.satisfaction(ctx.db, scope, by)]
    return [exports.build(name, ctx.db, scope, ctx.settings)]


def _export(tables, fmt, output, start, end, names: dict[str, str]) -> None:
    """Any report: printed as a table, or written as CSV, JSON or XLSX."""
    write_tables(tables, fmt, output, names, since=start.date().isoformat() if start else None,
                 until=(end - timedelta(days=1)).date().isoformat() if end else None)


def write_tables(tables: list, fmt: str | None, output: str | None, names: dict[str, str],
                 **meta) -> None:
    """Report tables printed (no format), or written as CSV, JSON or XLSX to `output`
    (CSV and JSON: stdout without one); `names`: municipality keys → names shown;
    `meta` goes into the JSON."""
    if fmt == "csv" and len(tables) > 1:
        raise click.UsageError("CSV holds one report: pick one with --report, or use "
                               "--format xlsx / json for all of them")
    if fmt == "xlsx" and not output:
        raise click.UsageError("XLSX is a binary file: give it a name with --output report.xlsx")
    if fmt is None:
        for table in tables:
            _print_table(table, names)
        return
    if fmt == "xlsx":
        data = exports.to_xlsx(tables, names)
    else:
        text = exports.to_csv(tables[0], names) if fmt == "csv" else exports.to_json(tables, **meta)
        data = text.encode("utf-8")
    if output:
        with open(output, "wb") as f:
            f.write(data)
        rows = sum(len(t.rows) for t in tables)
        click.echo(f"written {output} ({len(tables)} report(s), {rows} rows)", err=True)
    else:
        click.echo(data.decode("utf-8"), nl=False)


def _print_table(table, names: dict[str, str]) -> None:
    click.echo(f"\n{table.title}")
    if not table.rows:
        click.echo("  нет данных за период")
        return
    cells = [[("—" if v is None else str(v))[:60] for v in row]
             for row in exports.people_rows(table, names)]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(table.columns)]
    click.echo("  " + "  ".join(h.ljust(w) for (_, h), w in zip(table.columns, widths, strict=True)))
    for row in cells:
        click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _print(rows: list[dict], by: str, names: dict[str, str]) -> None:
    def fmt(v):
        if v is None:
            return "—"
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    measure = None
    for row in rows:
        if row["measure"] != measure:
            measure = row["measure"]
            click.echo(f"\n{MEASURE_TITLES.get(measure, measure)}: инцидентов / измерено / "
                       "среднее, ч / медиана, ч / p90, ч / просрочено / 0–1 1–3 3–8 8–24 24+ ч")
        group = str(display.value(by if by in display.KINDS else None, row["group"], names))
        buckets = " ".join(str(row[k]) for k in ("0–1 ч", "1–3 ч", "3–8 ч", "8–24 ч", "24 ч+"))
        share = "—" if row["overdue_share"] is None else f"{row['overdue_share']:.0%}"
        click.echo(f"  {group[:40]:<40} {row['incidents']:>5} {row['measured']:>5} "
                   f"{fmt(row['average_h']):>7} {fmt(row['median_h']):>7} {fmt(row['p90_h']):>7} "
                   f"{share:>5}  {buckets}")


COMMANDS: list = [report]
