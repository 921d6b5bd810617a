"""The monthly ratings page: organisations and municipalities, with the weights and the
minimum volume in force shown beside them, and the same tables as CSV, XLSX or JSON
(the writers of monitor.reports.exports). Scoped like every report: an official sees
their organisation's row, a municipal centre its own incidents."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from monitor.context import Context
from monitor.reports import exports
from monitor.reports.ratings import GROUPS, Month, ratings

from .auth import CtxDep, UserDep, render
from .dashboard import MIME

router = APIRouter()
PART_TITLES = {"on_time": "доля в срок", "speed": "скорость ответа", "not_overdue": "без просрочек",
               "quality": "качество ответов", "satisfied": "доля «да» жителей",
               "score": "оценка жителей"}


def _month(ctx: Context, user: dict, value: str | None) -> Month:
    now = ctx.clock.now()
    if value:
        try:
            date.fromisoformat(f"{value}-01")
        except ValueError:
            raise HTTPException(400, f"«{value[:20]}» — не месяц вида 2026-11") from None
    else:
        value = now.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%Y-%m")
    return Month(user, value, now, ctx.settings)


@router.get("/ratings")
def ratings_page(request: Request, ctx: CtxDep, user: UserDep, month: str | None = None):
    chosen = _month(ctx, user, month)
    following = Month(user, _shift(chosen.month, 1), chosen.now, ctx.settings)
    return render(request, "regional/ratings.html", user=user, month=chosen.month,
                  previous=chosen.previous().month, following=following.month,
                  tables=ratings(ctx.db, chosen), policy=ctx.settings.ratings,
                  PART_TITLES=PART_TITLES)


def _shift(month: str, step: int) -> str:
    year, number = (int(p) for p in month.split("-"))
    index = year * 12 + number - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@router.get("/ratings/export/{filename}")
def ratings_export(ctx: CtxDep, user: UserDep, filename: str, month: str | None = None):
    """/ratings/export/rating-organisation.csv, rating-municipality.xlsx, all.xlsx, all.json."""
    name, _, fmt = filename.rpartition(".")
    chosen = _month(ctx, user, month)
    tables = ratings(ctx.db, chosen)
    if name != "all":
        tables = [t for t in tables if t.name == name]
    if not tables or fmt not in (*MIME, "json") or (fmt == "csv" and len(tables) > 1):
        raise HTTPException(404, f"Нет выгрузки «{filename[:40]}»; есть: "
                                 + ", ".join(f"rating-{by}.csv" for by in GROUPS) + ", all.xlsx, all.json")
    if fmt == "csv":
        body = exports.to_csv(tables[0]).encode("utf-8")  # with its BOM, «;» for a Russian Excel
    elif fmt == "xlsx":
        body = exports.to_xlsx(tables)
    else:
        body = exports.to_json(tables, month=chosen.month).encode("utf-8")
    media = MIME.get(fmt, "application/json; charset=utf-8")
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="tsur-{name}-{chosen.month}.{fmt}"'})
