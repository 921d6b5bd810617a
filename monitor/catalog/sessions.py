"""Web logins kept server-side, so a disabled user or a reset password ends them at once.

The cookie holds a random session id; the table holds only its SHA-256, the user, when
it began and from where, and when it was revoked. A session lasts SESSION_LIFETIME.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.clock import iso

# A login lasts a working day and a half; the cookie and the server-side row both end then.
SESSION_LIFETIME = timedelta(hours=12)


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(db: Database, sid: str, user_id: int, ip: str, now: datetime) -> None:
    """Record a new session; expired ones are deleted here (their cookies are refused
    anyway, so the table holds only sessions that could still be used)."""
    with db.atomic():
        db.execute("DELETE FROM web_sessions WHERE created_at < ?", [iso(now - SESSION_LIFETIME)])
        db["web_sessions"].insert({"id": _key(sid), "user_id": user_id, "created_at": iso(now),
                                   "ip": ip})


def revoke(db: Database, user_id: int, now: datetime, sid: str | None = None) -> int:
    """End one session (logout) or every session of a user (disabled, password reset)."""
    sql = "UPDATE web_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
    params = [iso(now), user_id]
    if sid is not None:
        sql += " AND id = ?"
        params.append(_key(sid))
    with db.atomic():
        return db.execute(sql, params).rowcount


def is_live(db: Database, sid: str, user_id: int, now: datetime) -> bool:
    return db.execute(
        "SELECT 1 FROM web_sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL"
        " AND created_at >= ?", [_key(sid), user_id, iso(now - SESSION_LIFETIME)]
    ).fetchone() is not None
