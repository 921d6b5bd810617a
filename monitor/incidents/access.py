"""What a viewer may see: one rule for every query over incidents.

Regional moderators, admins and data scientists see every incident; an official sees
only their own organisation's; a municipal moderator (a moderator scoped to one or
several municipalities: a municipal ЦУР) sees only the incidents of those
municipalities that are moderated at the municipal tier. Every list, count, report,
export, stream and banner takes its scope from `visible_to`, and a page showing one
incident already read asks `may_see`. Who may do which action lives beside the
transitions (monitor.incidents.lifecycle).
"""

from __future__ import annotations

import json

MODERATION = frozenset({"moderator", "admin"})  # the ЦУР's own people
MUNICIPAL = "municipal"  # the tier of incidents a municipal centre moderates


def scope_of(viewer: dict | None) -> tuple[str, ...]:
    """The municipalities a moderator is scoped to; () for the whole region."""
    if not viewer or viewer.get("role") != "moderator":
        return ()
    value = viewer.get("municipalities") or ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = ()
    return tuple(str(m) for m in value if m)


def sees_everything(viewer: dict | None) -> bool:
    """The regional ЦУР, admins and analysts (not an official, not a municipal centre)."""
    return not viewer or (viewer.get("role") != "official" and not scope_of(viewer))


def visible_to(viewer: dict | None, column: str = "i.organisation_id") -> tuple[str, list]:
    """A WHERE clause (and its parameters) keeping the incidents this viewer may see;
    `column` names the incident's organisation in the caller's query (its table prefix
    names the municipality and tier too). No viewer: all."""
    if viewer and viewer.get("role") == "official":
        return f"{column} = ?", [viewer.get("organisation_id") or -1]
    municipalities = scope_of(viewer)
    if municipalities:
        prefix = column.rsplit(".", 1)[0] + "." if "." in column else ""
        marks = ", ".join("?" * len(municipalities))
        return (f"({prefix}tier = '{MUNICIPAL}' AND {prefix}municipality IN ({marks}))",
                list(municipalities))
    return "1 = 1", []


def may_see(viewer: dict | None, organisation_id: int | None, municipality: str | None = None,
            tier: str | None = None) -> bool:
    """The same rule for one incident already read."""
    if viewer and viewer.get("role") == "official":
        return organisation_id is not None and organisation_id == viewer.get("organisation_id")
    municipalities = scope_of(viewer)
    if municipalities:
        return tier == MUNICIPAL and municipality in municipalities
    return True
