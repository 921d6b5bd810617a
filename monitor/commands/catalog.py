"""`tsur region add` (a new region from CSV files, no code change) and `tsur users add`."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.catalog.organisations import sync_from_settings
from monitor.catalog.regions import RegionError, add_region, read_region
from monitor.catalog.users import UserError, create_user
from monitor.commands.common import Obj, open_context
from nlp.places import Gazetteer


@click.group()
def region():
    """Regions: municipality lists and settlements that place detection reads."""


@region.command("add")
@click.argument("code")
@click.argument("municipalities", type=click.Path(exists=True, dir_okay=False))
@click.option("--settlements", type=click.Path(exists=True, dir_okay=False),
              help="CSV name,municipality[,kind]: villages and towns of each municipality.")
@click.option("--coords", type=click.Path(exists=True, dir_okay=False),
              help="CSV key,lat,lon: a point per municipality for the dashboard map.")
@click.option("--timezone", help="IANA time zone of the region (default Europe/Moscow).")
@click.option("--name", help="The region's name, e.g. «Владимирская область».")
@click.option("--slug", help="Latin file name part (default: the CSV's name without the code).")
@click.option("--replace", is_flag=True, help="Overwrite a region with the same code.")
@click.pass_obj
def region_add(obj: Obj, code, municipalities, settlements, coords, timezone, name, slug, replace):
    """Add a region from a CSV of its municipalities (key,name,kind,center,note).

    The files are checked (every problem listed with its line), written to
    data/regions/<CODE>-<slug>.csv (+ .settlements.csv, .coords.csv, .region.json with
    the time zone), and the gazetteer is built from them once to prove it loads. Then
    set `[region] code = "CODE"` in tsur.toml: municipality detection, case forms
    included, works for the region with no code change. It says which names are shaped
    like adjectives (they need a place marker) and warns when the region's name is unknown
    or no settlements are given (villages then fall to the page's municipality).

    Example: tsur region add 33 vladimirskaya.csv --settlements vladimirskaya.settlements.csv --timezone Europe/Moscow
    """

    regions_dir = obj.settings.data_dir / "regions"
    try:
        parsed = read_region(code, Path(municipalities), Path(settlements) if settlements else None,
                             Path(coords) if coords else None, slug=slug, timezone=timezone, name=name)
        written = add_region(regions_dir, parsed, replace=replace)
    except RegionError as error:
        raise click.ClickException(str(error)) from None
    for path in written.files:
        click.echo(f"wrote {path}")
    click.echo("building the gazetteer (case forms of every name)…")
    try:
        gazetteer = Gazetteer.load(regions_dir, code)
    except (OSError, KeyError, ValueError) as error:
        raise click.ClickException(f"the gazetteer of region {code} does not load: {error}") from None
    inside = sum(1 for places in gazetteer.forms.values() if any(p.municipality for p in places))
    click.echo(f"region {code}: {len(parsed.municipalities)} municipalities, "
               f"{len(parsed.settlements)} settlements, {inside} name forms; time zone {parsed.timezone}")
    _report_names(gazetteer, bool(parsed.settlements))
    click.echo(f'use it: [region] code = "{code}" in tsur.toml')


def _report_names(gazetteer, has_settlements: bool) -> None:
    """What the moderators must know about the region's names, said loudly in Russian."""
    if gazetteer.own_region_names:
        click.echo(f"название региона: {', '.join(gazetteer.own_region_names)} — не считается местом "
                   "за пределами региона («…района Энской области»)")
    else:
        click.secho("ВНИМАНИЕ: название региона неизвестно — задайте --name «… область», иначе "
                    "«…района Энской области» будет принято за место за пределами региона.",
                    fg="red", bold=True)
    adjectives = gazetteer.adjective_names()
    if adjectives:
        click.echo(f"названия-прилагательные ({', '.join(adjectives)}) считаются местом только с "
                   "пометкой рядом («в …», «пос. …», «г. …», с заглавной буквы), а не в названиях "
                   "гостиниц, магазинов, фирм")
    if not has_settlements:
        click.secho("ВНИМАНИЕ: список населённых пунктов (--settlements) не задан. Сёла, деревни и "
                    "посёлки региона распознаваться не будут: сообщение о них получит муниципалитет "
                    "страницы, на которой опубликовано, даже если оно о другом округе. Добавьте CSV "
                    "name,municipality и повторите команду с --replace.", fg="red", bold=True)


@click.group()
def users():
    """People who log in to the web UI."""


@users.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(["admin", "moderator", "official", "data_scientist"]), required=True)
@click.option("--organisation", help="Organisation key (required for officials).")
@click.option("--name", help="Full name shown in the UI.")
@click.option("--municipality", "municipalities", multiple=True,
              help="Scope a moderator to this municipality (repeat for several): a municipal "
                   "ЦУР's moderator. Without it a moderator works for the whole region.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.password_option(envvar="TSUR_NEW_USER_PASSWORD")
@click.pass_obj
def users_add(obj, login, role, organisation, name, municipalities, db_path, password):
    """Create a user; the password is asked twice (or read from $TSUR_NEW_USER_PASSWORD).

    Example: tsur users add ivanova --role moderator --name "Ольга Иванова"

    Example: tsur users add dzr-cur --role moderator --municipality Дзержинск
    """
    ctx = open_context(obj.settings, db_path)
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    try:
        create_user(ctx.db, login, password, role, ctx.clock.now(), name=name, organisation=organisation,
                    municipalities=municipalities)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"user {login} ({role}) created")


COMMANDS: list = [region, users]
