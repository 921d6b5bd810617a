"""Command modules per feature; each exposes COMMANDS (click commands or groups)."""

from . import channels, collectors, nlp, regions, replies, reports, retraining, webadmin, workflow

COMMAND_MODULES = (collectors, workflow, nlp, reports, channels, webadmin, retraining, regions,
                   replies)
