"""Did it get solved? Ask the resident after resolution and read their answer.

The question goes out as a reply under their post (or a private message) through the
reply outbox. An answer «да» / «нет» and a 1–5 rating are parsed from free text; «нет»
reopens the incident (the resident says it is not solved), «да» closes a resolved one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import iso

from . import outbox

QUESTION = ("Здравствуйте! По вашему обращению сообщили, что проблема решена. "
            "Это так? Ответьте, пожалуйста, «да» или «нет» и оцените работу от 1 до 5.")

# Ordered rules: the first that matches decides; negative ones come first, because
# «не решили» contains «решили» and «да ничего не сделали» starts with «да».
NOT_SOLVED = [
    re.compile(r"\bне\s+(?:\w+\s+){0,2}?(?:решен|решил|сделал|устранил|починил|убрал|почистил"
               r"|отремонтир|исправил|приезжал|помогл)"),
    re.compile(r"\b(?:ничего|никто|никого)\s+(?:не\s+)?(?:\w+\s+)?(?:сделал|решил|приехал|пришел|пришёл|измен|не\s)"),
    re.compile(r"\b(?:до\s+сих\s+пор|по-прежнему|по\s*прежнему|всё\s+так\s+же|все\s+так\s+же"
               r"|опять|снова|как\s+было|обман|отписк)"),
    re.compile(r"^\W*нет\b"),
    re.compile(r"\bнет\W*$"),
]
SOLVED = [
    re.compile(r"^\W*(?:да|ага|угу|yes)\b"),
    re.compile(r"\b(?:решен[аоы]?|решили|сделали|устранили|починили|убрали|отремонтировали"
               r"|всё\s+хорошо|все\s+хорошо|всё\s+отлично|все\s+отлично|спасибо|благодар)"),
]
_RATING_PATTERNS = [
    re.compile(r"\b([1-5])\s*(?:/|из)\s*5\b"),
    re.compile(r"(?:оценк\w*|ставлю|балл\w*|на)\s*[:\-–]?\s*([1-5])\b"),
    re.compile(r"\b([1-5])\s*(?:балл|звезд|звёзд|\*|⭐)"),
    re.compile(r"^\W*([1-5])\W*$"),
]
_TRAILING_RATING = re.compile(r"(?:^|[\s,.;!])([1-5])\W*$")  # «Да, спасибо! 5», short texts only
_WORD_RATINGS = {"отлично": 5, "хорошо": 4, "удовлетворительно": 3, "плохо": 2, "ужасно": 1}


@dataclass(frozen=True)
class Feedback:
    solved: bool | None
    rating: int | None

    @property
    def empty(self) -> bool:
        return self.solved is None and self.rating is None


def parse_feedback(text: str) -> Feedback:
    """«Да, спасибо, 5» -> (True, 5); «нет, до сих пор течёт» -> (False, None)."""
    t = (text or "").lower().replace("ё", "е").strip()
    t = re.sub(r"\s+", " ", t)[:2000]
    solved = None
    if any(p.search(t) for p in NOT_SOLVED):
        solved = False
    elif any(p.search(t) for p in SOLVED):
        solved = True
    rating = None
    stars = t.count("⭐")
    if 1 <= stars <= 5:
        rating = stars
    for pattern in _RATING_PATTERNS:
        if rating is None and (m := pattern.search(t)):
            rating = int(m.group(1))
    if rating is None and len(t) <= 40 and (m := _TRAILING_RATING.search(t)):
        rating = int(m.group(1))
    if rating is None:
        for word, value in _WORD_RATINGS.items():
            if re.search(rf"^\W*{word}\W*$", t):
                rating = value
    return Feedback(solved, rating)


def ask_for_feedback(ctx, incident: dict, now: datetime) -> int:
    """Queue the question to the resident; the caller holds the transaction."""
    mode = ctx.settings.workflow.feedback_mode
    reply_id = outbox.queue_reply(ctx.db, incident, "feedback_question", QUESTION, now, mode=mode)
    ctx.db["incidents"].update(incident["id"], {"feedback_asked_at": iso(now)})
    return reply_id


def record_feedback(ctx, incident_id: int, text: str, actor: str, post_id: int | None = None
                    ) -> Feedback:
    """Store the resident's answer; «нет» reopens, «да» closes a resolved incident."""
    from .deadlines import recompute
    from .lifecycle import ANSWERED, CLOSED, RESOLVED, Event, act, get_row, record_event

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


def resident_reply(ctx, post, post_id: int, source_id: int) -> bool:
    """Handle the author's reply in an incident's thread: the detail we asked for
    (`needs_info` resumes) or an answer to the feedback question. True if consumed."""
    from .lifecycle import NEEDS_INFO, act

    if not post.parent_id or not post.author_id:
        return False
    db = ctx.db
    rows = db.execute(
        """SELECT i.id, i.status, i.feedback_asked_at, i.feedback_at FROM incidents i
        JOIN posts p ON p.id = i.post_id
        WHERE p.source_id = ? AND p.author_id = ? AND p.id != ?
          AND (i.status = ? OR (i.feedback_asked_at IS NOT NULL AND i.feedback_at IS NULL))
          AND (p.external_id = ? OR p.parent_external_id = ? OR EXISTS (
               SELECT 1 FROM reply_outbox r WHERE r.incident_id = i.id AND r.external_id = ?))
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
