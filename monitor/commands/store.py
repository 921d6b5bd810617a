"""`tsur db …`: the schema migrations of the SQLite database."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.store import applied_migrations, migrations, open_db, pending_migrations


@click.group()
def db():
    """The SQLite database: schema migrations."""


@db.command("upgrade")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def db_upgrade(obj, db_path):
    """Apply pending migrations to an existing database, keeping its data.

    Example: tsur db upgrade --db tsur.db
    """
    path = Path(db_path) if db_path else obj.settings.database
    database = open_db(path, upgrade=False)
    pending = pending_migrations(database)
    if not pending:
        click.echo(f"{path}: up to date")
        return
    migrations.apply(database)
    for name in pending:
        click.echo(f"applied {name}")


@db.command("status")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def db_status(obj, db_path):
    """List applied and pending migrations.

    Example: tsur db status --db tsur.db
    """
    path = Path(db_path) if db_path else obj.settings.database
    database = open_db(path, upgrade=False)
    for name in applied_migrations(database):
        click.echo(f"applied  {name}")
    for name in pending_migrations(database):
        click.echo(f"pending  {name}")


COMMANDS: list = [db]
