"""`tsur db …`: the schema migrations of the SQLite database, its backups and restores."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.clock import SystemClock
from monitor.commands.common import LOG_FORMAT, missing_database, say
from monitor.store import applied_migrations, migrations, open_db, pending_migrations
from monitor.store.backup import BackupError, backup, restore

DB_OPTION = click.option("--db", "db_path", type=click.Path(dir_okay=False),
                         help="Default: the configured database.")


@click.group()
def db():
    """The SQLite database: schema migrations, backups, restores."""


@db.command("upgrade")
@DB_OPTION
@click.option("--no-backup", is_flag=True, help="Skip the backup made before migrating.")
@LOG_FORMAT
@click.pass_obj
def db_upgrade(obj, db_path, no_backup):
    """Apply pending migrations to an existing database, keeping its data; a backup
    (as `tsur db backup` makes) is taken first.

    Example: tsur db upgrade --db tsur.db
    """
    path = Path(db_path) if db_path else obj.settings.database
    existed = path.exists()
    database = open_db(path, upgrade=False)
    pending = pending_migrations(database)
    if not pending:
        click.echo(f"{path}: up to date")
        return
    if existed and not no_backup:
        _backup(obj.settings, path, None)
    migrations.apply(database)
    for name in pending:
        click.echo(f"applied {name}")


@db.command("status")
@DB_OPTION
@click.pass_obj
def db_status(obj, db_path):
    """List applied and pending migrations.

    Example: tsur db status --db tsur.db
    """
    path = Path(db_path) if db_path else obj.settings.database
    if not path.exists():  # status only looks: it never creates the file
        raise click.ClickException(missing_database(path, obj.settings))
    database = open_db(path, upgrade=False)
    for name in applied_migrations(database):
        click.echo(f"applied  {name}")
    for name in pending_migrations(database):
        click.echo(f"pending  {name}")


@db.command("backup")
@DB_OPTION
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Default: [backup] dir of tsur.toml, else backups/ beside the database.")
@LOG_FORMAT
@click.pass_obj
def db_backup(obj, db_path, directory):
    """Copy the database while the services run: SQLite's backup API, checked with
    integrity_check, gzip-compressed, written atomically; old copies are rotated by
    [backup] keep and max_age_days.

    Example: tsur --config tsur.toml db backup
    """
    path = Path(db_path) if db_path else obj.settings.database
    _backup(obj.settings, path, Path(directory) if directory else None)


def _backup(settings, path: Path, directory: Path | None) -> None:
    try:
        # A database named with --db keeps its copies beside it unless [backup] dir says.
        result = backup(path, directory or settings.backups.dir or path.parent / "backups",
                        SystemClock().now(),
                        keep=settings.backups.keep, max_age_days=settings.backups.max_age_days)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    say(f"backup {result.path} ({result.size} bytes)", "backup", path=str(result.path),
        size=result.size)
    for old in result.removed:
        say(f"removed {old}", "backup_removed", path=str(old))


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@DB_OPTION
@click.option("--force", is_flag=True, help="Replace the database even while it is open.")
@click.pass_obj
def db_restore(obj, file, db_path, force):
    """Put a backup back in place of the database: the copy is checked first and the
    replaced file is kept as <name>.replaced-<time>. Stop the services before.

    Example: tsur db restore backups/tsur-20261207T030000Z.db.gz
    """
    path = Path(db_path) if db_path else obj.settings.database
    try:
        aside = restore(Path(file), path, SystemClock().now(), force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {path} from {file}")
    if aside:
        click.echo(f"the replaced database is kept as {aside}")


COMMANDS: list = [db]
