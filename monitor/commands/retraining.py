"""`tsur` commands of one feature; monitor/cli.py adds every command in COMMANDS."""

COMMANDS: list = []
