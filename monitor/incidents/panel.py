"""The regional part of an incident's page, read in one place: its tier and centre,
the tiers this viewer may hand it to, its chain of executors, its extensions and
which deadlines may still move, its approved answers with their quality marks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .access import MODERATION
from .chain import chain_of
from .deadlines import DUE_COLUMNS, met_at
from .extensions import DECIDE_ROLES, REQUEST_ROLES, extensions_of
from .handoffs import may_hand_off
from .quality import approved_answers
from .states import OPEN_STATUSES, get_row
from .tiers import REGIONAL, TIERS

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context


def regional_view(ctx: Context, viewer: dict, incident_id: int) -> dict:
    """For an incident the viewer already sees (the page checked it)."""
    db, settings = ctx.db, ctx.settings
    row = get_row(db, incident_id)
    tier = row["tier"] or REGIONAL
    is_open = row["status"] in OPEN_STATUSES
    centre = settings.tiers.centre_of(row["municipality"])
    running = [t for t in settings.extensions.targets
               if row.get(DUE_COLUMNS[t]) and met_at(row, t) is None]
    hand_to = [t for t in TIERS if is_open and t != tier and (t == REGIONAL or centre is not None)
               and may_hand_off(viewer, {**row, "tier": tier}, t) is None]
    return {
        "tier": tier, "centre": centre, "hand_to": hand_to, "chain": chain_of(db, settings, row),
        "extensions": extensions_of(db, incident_id), "running": running,
        "may_request": bool(is_open and running and viewer.get("role") in REQUEST_ROLES),
        "may_decide": viewer.get("role") in DECIDE_ROLES, "policy": settings.extensions,
        "answers": approved_answers(db, incident_id),
        "may_mark": viewer.get("role") in MODERATION,
    }
