"""What every command needs: the lazily loaded settings and the opened context."""

from __future__ import annotations

import csv

import click

from monitor.context import Context
from monitor.settings import ConfigError, load_settings
from nlp import ModelError

BATCH = 256


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
