"""Command modules per feature; each exposes COMMANDS (click commands or groups)."""

from . import (
    autopilot,
    bench,
    catalog,
    channels,
    check,
    collectors,
    directline,
    incidents,
    nlp,
    replies,
    reports,
    retraining,
    store,
    web,
)

COMMAND_MODULES = (web, collectors, nlp, store, catalog, incidents, reports, channels, bench,
                   retraining, replies, check, autopilot, directline)
