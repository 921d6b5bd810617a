"""What every command needs: the lazily loaded settings and the opened context."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import click

from monitor.context import Context
from monitor.operations import logs
from monitor.settings import ConfigError, load_settings
from nlp import ModelError

BATCH = 256

# Every service command takes it: logging is set up as soon as the option is read.
LOG_FORMAT = click.option(
    "--log-format", type=click.Choice(logs.FORMATS), default="text", show_default=True,
    expose_value=False, is_eager=True, callback=lambda _ctx, _param, value: logs.configure(value),
    help="json: one JSON object a line (journald, log shippers); secrets are masked either way.")


def say(text: str, event: str | None, *, err: bool = False, **fields) -> None:
    """A service's progress line: printed as it is (stderr with `err`: a problem), or one
    JSON log object with --log-format json (none for `event=None`: already logged)."""
    if logs.json_mode():
        if event:
            logs.event(event, logging.WARNING if err else logging.INFO, **fields)
    else:
        click.echo(text, err=err)


class Obj:
    def __init__(self, config):
        self.config_path = config
        self._settings = None

    @property
    def settings(self):
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as error:
                raise click.ClickException(str(error)) from None
        return self._settings


def open_context(settings, db_path=None, pipeline=False, create=False):
    """The context over the configured (or given) database. Only the commands that fill a
    database (`demo`, `replay`, `collect`, the benches) may `create` it: any other command
    on a missing file would leave an empty database behind and show nothing."""
    path = Path(db_path or settings.database)
    if not create and not path.exists():
        raise click.ClickException(missing_database(path, settings))
    ctx = Context.open(settings, db_path=path)
    if pipeline:
        try:
            ctx.load_pipeline()
        except (ModelError, FileNotFoundError) as error:
            raise click.ClickException(str(error)) from None
    return ctx


def missing_database(path: Path, settings) -> str:
    """What to do when the database file is not there (in Russian, for people)."""
    config = f"--config {settings.path} " if settings.path else ""
    return (f"База данных {path} не найдена. Создайте её: tsur {config}db upgrade; либо укажите "
            "нужный файл: --db, [database] path в tsur.toml (--config или TSUR_CONFIG) или "
            "TSUR_DB. Демонстрационную базу создаёт tsur demo: затем --db tsur-demo.db.")


def municipalities(settings) -> set[str]:
    with open(settings.region_csv, encoding="utf-8") as f:
        return {row["key"] for row in csv.DictReader(f)}
