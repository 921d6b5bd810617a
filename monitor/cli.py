"""The `tsur` command: the group, its --config, and the feature commands of monitor/commands."""

from __future__ import annotations

import click

from monitor.commands import COMMAND_MODULES
from monitor.commands.common import Obj


@click.group()
@click.version_option(package_name="tsur")
@click.option("--config", type=click.Path(dir_okay=False), envvar="TSUR_CONFIG",
              help="tsur.toml to use (default: $TSUR_CONFIG, else built-in defaults).")
@click.pass_context
def cli(click_ctx, config):
    """tsur: residents' messages from VK, Telegram, MAX and OK → labelled incidents for a ЦУР."""
    click_ctx.obj = Obj(config)


# Feature commands live in monitor/commands/<feature>.py, each listing its COMMANDS.
for _module in COMMAND_MODULES:
    for _command in _module.COMMANDS:
        cli.add_command(_command)
