"""The dashboard for the ЦУР's heads: volume, response times, recurring problems, the
heat map and the map — and every figure as CSV or XLSX. Moderators, admins and data
scientists see everything; an official sees their organisation only (the scope is in
the queries of monitor.reports.exports, never in the template)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from monitor.context import Context
from monitor.incidents.spikes import banner
from monitor.reports import display, exports
from monitor.reports.metrics import ALL_MEASURES
from monitor.titles import CHANNEL_TITLES, GROUP_TITLES, MEASURE_TITLES, TOPIC_TITLES

from . import svg
from .auth import CtxDep, UserDep, reading, render

router = APIRouter()
DEFAULT_DAYS = 30
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # a sane period
PERIODS = ("day", "week", "month")
GROUPS = ("organisation", "municipality", "topic", "channel")
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _scope(request: Request, ctx: Context, user: dict) -> tuple[exports.Scope, dict]:
    """The viewer and the period of the query string (local days, `until` included)."""
    zone = ZoneInfo(ctx.settings.timezone)
    now = ctx.clock.now()
    today = now.astimezone(zone).date()
    params = request.query_params

    def day(name: str, default):
        value = params.get(name) or ""
        if not value:
            return default
        try:
            chosen = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise HTTPException(400, f"«{value}» — не дата вида 2026-11-16") from None
        if not FIRST_DAY <= chosen <= LAST_DAY:  # year 1 or 9999 would overflow the zones
            raise HTTPException(400, f"Дата {value} вне {FIRST_DAY.year}–{LAST_DAY.year} годов")
        return chosen

    first = day("since", today - timedelta(days=DEFAULT_DAYS - 1))
    last = day("until", today)
    if last < first:
        raise HTTPException(400, "Конец периода раньше его начала")
    scope = exports.Scope(user, now, ctx.settings.timezone,
                          since=datetime.combine(first, time(), tzinfo=zone),
                          until=datetime.combine(last + timedelta(days=1), time(), tzinfo=zone))
    measure = params.get("measure") or "first_reply"
    period = params.get("period") or "day"
    if measure not in ALL_MEASURES or period not in PERIODS:
        raise HTTPException(400, "Неизвестный показатель или период")
    return scope, {"since": first.isoformat(), "until": last.isoformat(), "measure": measure,
                   "period": period}


@router.get("/dashboard")
def dashboard(request: Request, ctx: CtxDep, user: UserDep):
    scope, query = _scope(request, ctx, user)
    db, settings = ctx.db, ctx.settings
    volume = exports.volume(db, scope)
    by_period = exports.times(db, scope, query["period"], (query["measure"],))
    groups = {by: exports.times(db, scope, by, (query["measure"],)) for by in GROUPS}
    recurring = exports.recurring(db, scope)
    heat = exports.heatmap(db, scope)
    coords = exports.region_coords(settings)
    open_now = exports.open_by_municipality(db, scope, coords)
    charts = _charts(volume, by_period, groups, heat, open_now, coords, query["period"])
    return render(
        request, "dashboard/index.html", user=user, query=query, volume=volume,
        by_period=by_period, groups=groups, recurring=recurring, heat=heat, open_now=open_now,
        charts=charts, measures=MEASURE_TITLES, periods=PERIODS,
        group_titles=exports.GROUP_TITLES, channel_titles=CHANNEL_TITLES, period_title=display.period,
        no_coords=[r for r in open_now.rows if r["lat"] is None],
        reports=exports.REPORTS, export_query=urlencode(query),
        satisfaction=exports.satisfaction(db, scope, "organisation"),
        spikes=banner(db, user, scope.now, settings.spikes.follow_hours))


def _charts(volume, by_period, groups, heat, open_now, coords, period: str) -> dict:
    days = [r["day"] for r in volume.rows]
    series = {"инцидентов": [r["incidents"] for r in volume.rows]}
    if any("messages" in r for r in volume.rows):
        series = {"сообщений": [r.get("messages", 0) for r in volume.rows], **series}
    charts = {"volume": svg.columns([display.short_day(d) for d in days], series,
                                    "Поступление по дням")}
    charts["period"] = svg.columns(
        [display.period(period, str(r["group"]), short=True) for r in by_period.rows],
        {"среднее, ч": [r["average_h"] for r in by_period.rows],
         "медиана, ч": [r["median_h"] for r in by_period.rows],
         "p90, ч": [r["p90_h"] for r in by_period.rows]}, "Время реакции по периодам")
    for by, table in groups.items():
        label = (lambda g: TOPIC_TITLES.get(g, g)) if by == "topic" else (
            (lambda g: CHANNEL_TITLES.get(g, g)) if by == "channel" else str)
        charts[by] = svg.bars([(label(r["group"]), r["median_h"]) for r in table.rows],
                              f"Медиана времени реакции: {GROUP_TITLES[by]}", " ч")
    topics = [key for key, _ in heat.columns if key not in ("municipality", "total")]
    charts["heat"] = svg.heatmap(
        [r["municipality"] for r in heat.rows], topics,
        {(r["municipality"], t): r[t] for r in heat.rows for t in topics}, TOPIC_TITLES,
        "Муниципалитеты × темы")
    charts["map"] = svg.region_map(
        [(r["municipality"], r["lat"], r["lon"], r["open"]) for r in open_now.rows
         if r["lat"] is not None], "Открытые инциденты на карте региона", coords)
    return charts


@router.get("/dashboard/export/{filename}")
def export(ctx: CtxDep, user: UserDep, filename: str, request: Request):
    """/dashboard/export/<report>.csv|xlsx, or all.xlsx: every report, a sheet each."""
    name, _, fmt = filename.rpartition(".")
    if fmt not in MIME or not name:
        raise HTTPException(404, "Формат: .csv или .xlsx")
    scope, query = _scope(request, ctx, user)
    if name == "all" and fmt == "xlsx":
        tables = [exports.build(n, ctx.db, scope, ctx.settings) for n in exports.REPORTS]
    elif name in exports.REPORTS:
        tables = [exports.build(name, ctx.db, scope, ctx.settings)]
    else:
        raise HTTPException(404, f"Нет отчёта «{name}»")
    names = exports.municipality_names(ctx.settings)
    if fmt == "csv":
        body = exports.to_csv(tables[0], names).encode("utf-8")  # with its BOM: Excel reads UTF-8
    else:
        body = exports.to_xlsx(tables, names)
    download = f"tsur-{name}-{query['since']}-{query['until']}.{fmt}"
    return Response(body, media_type=MIME[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{download}"'})


def spike_banner(request: Request, user: dict | None) -> list[dict]:
    """For base.html / queue.html: open spikes this viewer may see."""
    if not user:
        return []
    with reading(request) as ctx:
        return banner(ctx.db, user, ctx.clock.now(), ctx.settings.spikes.follow_hours)
