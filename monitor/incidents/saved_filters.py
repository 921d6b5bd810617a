"""Named views of the queue: three everybody has («моя организация», «просрочено»,
«критично сегодня») and the ones a person saves for themselves (table saved_filters).

A view is the query string of the queue's filters, so a saved view is also a link.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlite_utils import Database

from monitor.clock import iso

from .queries import FILTERS, FLAGS

PRESETS = (
    ("mine", "моя организация", {"mine": "1"}),
    ("overdue", "просрочено", {"overdue": "1"}),
    ("critical_today", "критично сегодня", {"urgency": "critical", "today": "1"}),
)
MAX_NAME = 60
MAX_OWN = 20  # views a person may keep


class FilterError(Exception):
    """A view that cannot be saved; the message says why, in Russian."""


def clean_query(params: dict) -> str:
    """Only the queue's own filters, in a stable order (what a view stores)."""
    known = (*FILTERS, *FLAGS, "sort")
    return urlencode(sorted((k, v) for k, v in params.items() if k in known and v))


def views_of(db: Database, user: dict) -> list[dict]:
    """The presets, then the person's own views: {id, name, query, own}."""
    views = [{"id": None, "key": key, "name": name, "query": urlencode(sorted(query.items())),
              "own": False}
             for key, name, query in PRESETS]
    for row in db["saved_filters"].rows_where("user_id = ?", [user["id"]], order_by="name"):
        views.append({"id": row["id"], "key": None, "name": row["name"], "query": row["query"],
                      "own": True})
    return views


def save_view(db: Database, user: dict, name: str, params: dict, now: datetime) -> int:
    name = " ".join(name.split())[:MAX_NAME]
    query = clean_query(params)
    if not name:
        raise FilterError("Назовите подборку, чтобы сохранить её")
    if not query:
        raise FilterError("Выберите хотя бы один фильтр: пустую подборку сохранять незачем")
    if name in {title for _, title, _ in PRESETS}:
        raise FilterError(f"Подборка «{name}» уже есть у всех: выберите другое название")
    with db.atomic():
        if db.execute("SELECT count(*) FROM saved_filters WHERE user_id = ?",
                      [user["id"]]).fetchone()[0] >= MAX_OWN:
            raise FilterError(f"Сохранить можно не больше {MAX_OWN} подборок: удалите лишние")
        db.execute("DELETE FROM saved_filters WHERE user_id = ? AND name = ?", [user["id"], name])
        return db["saved_filters"].insert({"user_id": user["id"], "name": name, "query": query,
                                           "created_at": iso(now)}).last_pk


def delete_view(db: Database, user: dict, view_id: int) -> None:
    """Only the person's own view; another's is left alone."""
    with db.atomic():
        db.execute("DELETE FROM saved_filters WHERE id = ? AND user_id = ?", [view_id, user["id"]])


def params_of(query: str) -> dict:
    return dict(parse_qsl(query))
