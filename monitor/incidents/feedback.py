"""Did it get solved? Ask the resident after resolution and read their answer.

The question goes out as a reply under their post (or a private message) through the
outbox. An answer «да» / «нет» and a 1–5 rating are parsed from free text
(nlp.feedback); «нет»
reopens the incident (the resident says it is not solved), «да» closes a resolved one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.clock import iso
from nlp.feedback import Feedback, parse_feedback

from .deadlines import recompute
from .lifecycle import act
from .states import ANSWERED, CLOSED, NEEDS_INFO, RESOLVED, Event, get_row, record_event

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context


def record_feedback(ctx: Context, incident_id: int, text: str, actor: str, post_id: int | None = None
                    ) -> Feedback:
    """Store the resident's answer; «нет» reopens, «да» closes a resolved incident."""
    db, now = ctx.db, ctx.clock.now()
    feedback = parse_feedback(text)
    with db.atomic():
        incident = get_row(db, incident_id)
        changes = {"feedback_at": iso(now)}
        if feedback.solved is not None:
            changes["feedback_solved"] = int(feedback.solved)
        if feedback.rating is not None:
            changes["feedback_rating"] = feedback.rating
        db["incidents"].update(incident_id, changes)
        record_event(db, Event(incident_id, "feedback", actor, now, incident["status"],
                               incident["status"], {"solved": feedback.solved,
                                                    "rating": feedback.rating, "post_id": post_id,
                                                    "text": text[:500]}))
        if feedback.solved is False and incident["status"] in (ANSWERED, RESOLVED, CLOSED):
            act(ctx, incident_id, "reopen", actor, comment="житель: проблема не решена")
        elif feedback.solved is True and incident["status"] == RESOLVED:
            act(ctx, incident_id, "close", actor, comment="житель подтвердил решение")
        else:
            recompute(ctx, incident_id)
    return feedback


def resident_reply(ctx: Context, post, post_id: int, source_id: int) -> bool:
    """Handle the author's reply in an incident's thread: the detail we asked for
    (`needs_info` resumes) or an answer to the feedback question. True if consumed."""
    if not post.parent_id or not post.author_id:
        return False
    db = ctx.db
    rows = db.execute(
        """SELECT i.id, i.status, i.feedback_asked_at, i.feedback_at FROM incidents i
        JOIN posts p ON p.id = i.post_id
        WHERE p.source_id = ? AND p.author_id = ? AND p.id != ?
          AND (i.status = ? OR (i.feedback_asked_at IS NOT NULL AND i.feedback_at IS NULL))
          AND (p.external_id = ? OR p.parent_external_id = ? OR EXISTS (
               SELECT 1 FROM outbox r WHERE r.incident_id = i.id AND r.audience = 'resident'
                 AND r.external_id = ?))
        ORDER BY i.id DESC LIMIT 1""",
        [source_id, post.author_id, post_id, NEEDS_INFO, post.parent_id, post.parent_id,
         post.parent_id]).fetchone()
    if rows is None:
        return False
    incident_id, status, asked, answered = rows
    actor = f"resident:{post.author_id}"
    if status == NEEDS_INFO:
        act(ctx, incident_id, "info_received", actor, comment=post.text[:1000], post_id=post_id)
        return True
    if parse_feedback(post.text).empty:
        return False
    record_feedback(ctx, incident_id, post.text, actor, post_id=post_id)
    return True
