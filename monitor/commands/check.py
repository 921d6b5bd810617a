"""`tsur check`: the configuration, environment, files and database a service needs."""

from __future__ import annotations

import sys

import click

from monitor.clock import SystemClock
from monitor.operations.check import GIB, run_checks
from monitor.settings import ConfigError, load_settings


@click.command()
@click.option("--min-free", default=1.0, show_default=True, type=float,
              help="GiB of free disk wanted beyond twice the database.")
@click.pass_obj
def check(obj, min_free):
    """Check what the services need before they start: token variables, region files,
    the holiday calendar's years, the models' checksums, the database's migrations, free
    disk. Prints what is wrong and how to fix it; exit code 1 on any problem.

    Example: tsur --config /etc/tsur/tsur.toml check
    """
    try:
        settings = load_settings(obj.config_path)
    except ConfigError as error:
        click.echo(f"✗ конфигурация: {error}")
        click.echo("  как исправить: поправьте tsur.toml (образец — data/demo/tsur.toml)")
        sys.exit(1)
    click.echo(f"конфигурация: {settings.path or 'встроенные значения'}; база: {settings.database}")
    results = run_checks(settings, today=SystemClock().now().date(), min_free=int(min_free * GIB))
    problems = 0
    for area, found in results:
        if not found:
            click.echo(f"✓ {area}")
        for problem in found:
            problems += 1
            click.echo(f"✗ {area}: {problem.what}")
            click.echo(f"  как исправить: {problem.fix}")
    if problems:
        click.echo(f"Найдено проблем: {problems}. Службы не запустятся, пока они есть.")
        sys.exit(1)
    click.echo("Всё в порядке.")


COMMANDS: list = [check]
