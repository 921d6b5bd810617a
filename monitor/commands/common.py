"""What every command needs: the lazily loaded settings and the opened context."""

from __future__ import annotations

import csv
import logging

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



def open_context(settings, db_path=None, pipeline=False):

    ctx = Context.open(settings, db_path=db_path)
    if pipeline:
        try:
            ctx.load_pipeline()
        except (ModelError, FileNotFoundError) as error:
            raise click.ClickException(str(error)) from None
    return ctx


def municipalities(settings) -> set[str]:
    with open(settings.region_csv, encoding="utf-8") as f:
        return {row["key"] for row in csv.DictReader(f)}
