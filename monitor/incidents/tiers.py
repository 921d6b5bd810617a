"""Tiers of moderation: the regional ЦУР and the municipal centres under it.

An incident is moderated at the municipal tier when its municipality has a municipal
centre (`[[tiers.centres]]` in tsur.toml) and neither its topic nor its organisation
stays regional (`tiers.regional_topics`, `tiers.regional_organisations`); otherwise at
the regional tier. The region sees both; a municipal moderator sees the municipal tier
of their municipalities (monitor.incidents.access). Hand-offs between the tiers are
events with a reason (monitor.incidents.handoffs).
"""

from __future__ import annotations

from monitor.settings import Settings

from .access import MUNICIPAL

REGIONAL = "regional"
TIERS = (REGIONAL, MUNICIPAL)


def initial_tier(settings: Settings, topic: str | None, municipality: str | None,
                 organisation_key: str | None) -> str:
    """The tier a new (or relabelled, not yet routed) incident is moderated at."""
    tiers = settings.tiers
    if tiers.centre_of(municipality) is None:
        return REGIONAL
    if topic in tiers.regional_topics or organisation_key in tiers.regional_organisations:
        return REGIONAL
    return MUNICIPAL


def organisation_key(db, organisation_id: int | None) -> str | None:
    if not organisation_id:
        return None
    row = db.execute("SELECT key FROM organisations WHERE id = ?", [organisation_id]).fetchone()
    return row[0] if row else None
