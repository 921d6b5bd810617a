"""A moderator's mark of an approved answer's quality: «по существу», «формальная
отписка» or «нет ответа по существу», given when approving or afterwards. Each mark
has a score (1, 0.5, 0) that the ratings average (monitor.reports.ratings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.clock import iso

from .access import MODERATION, may_see
from .states import Event, get_row, record_event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

MARKS = {"good": 1.0, "formal": 0.5, "empty": 0.0}  # mark -> its score in the ratings


class QualityError(Exception):
    """A mark that cannot be given (unknown mark, no such approved answer)."""


def mark_answer(ctx: Context, incident_id: int, draft_id: int, mark: str, viewer: dict) -> None:
    """Mark (or re-mark) one approved answer of an incident; the event keeps each mark."""
    if mark not in MARKS:
        raise QualityError(f"unknown mark {mark!r}; expected one of {', '.join(MARKS)}")
    db, now = ctx.db, ctx.clock.now()
    with db.atomic():
        incident = get_row(db, incident_id)
        if not may_see(viewer, incident["organisation_id"], incident["municipality"],
                       incident["tier"]):
            raise PermissionError("Инцидент не найден")
        if viewer.get("role") not in MODERATION:
            raise PermissionError("Качество ответа оценивают модераторы ЦУР")
        row = db.execute("SELECT quality FROM drafts WHERE id = ? AND incident_id = ?"
                         " AND status = 'approved'", [draft_id, incident_id]).fetchone()
        if row is None:
            raise QualityError("Оценить можно только утверждённый ответ этого обращения")
        db["drafts"].update(draft_id, {"quality": mark, "quality_by": viewer["login"],
                                       "quality_at": iso(now)})
        record_event(db, Event(incident_id, "quality_marked", viewer["login"], now,
                               incident["status"], incident["status"],
                               {"draft_id": draft_id, "mark": mark, "previous": row[0]}))


def approved_answers(db, incident_id: int) -> list[dict]:
    """The incident's approved answers with their marks, oldest first."""
    return list(db.query("SELECT id, kind, text, moderator, decided_at, quality, quality_by,"
                         " quality_at FROM drafts WHERE incident_id = ? AND status = 'approved'"
                         " ORDER BY id", [incident_id]))
