"""What a viewer may see: one rule for every query over incidents.

Moderators, admins and data scientists see every incident; an official sees only
their own organisation's. Every list, count, report, export and banner takes its
scope from `visible_to`, so a new scope (municipal moderators) is added here once.
Who may do which action lives beside the transitions (monitor.incidents.lifecycle).
"""

from __future__ import annotations

MODERATION = frozenset({"moderator", "admin"})  # the ЦУР's own people


def visible_to(viewer: dict | None, column: str = "i.organisation_id") -> tuple[str, list]:
    """A WHERE clause (and its parameters) keeping the incidents this viewer may see;
    `column` names the incident's organisation in the caller's query. No viewer: all."""
    if viewer and viewer.get("role") == "official":
        return f"{column} = ?", [viewer.get("organisation_id") or -1]
    return "1 = 1", []


def may_see(viewer: dict | None, organisation_id: int | None) -> bool:
    """The same rule for one incident already read."""
    if viewer and viewer.get("role") == "official":
        return organisation_id is not None and organisation_id == viewer.get("organisation_id")
    return True
