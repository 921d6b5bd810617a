"""Every report as a table, and the table as CSV, JSON or XLSX.

The dashboard draws these tables, `tsur report` prints them and the downloads carry
them: one source, so a chart, a terminal and a spreadsheet never disagree. Every
query goes through the viewer (an official sees only their organisation's
incidents; the count of all collected messages is left out for them). Response
times come from monitor.reports.metrics; this module adds the incoming volume,
the top recurring problems, the municipality × topic heat map and the open
incidents per municipality for the map.

The tables keep stored values (keys, local times with their offset): JSON carries them
for machines. CSV and XLSX are for a Russian office (monitor.reports.display): Russian
headings and titles, local times as ДД.ММ.ГГГГ ЧЧ:ММ; CSV as Russian Excel opens it by a
double click (UTF-8 with a BOM, «;» between cells, a decimal comma), XLSX with one
heading row.

Post text is hostile: in CSV every cell is quoted and an apostrophe goes before = + - @
at the start of a cell or after any separator or line break in it (spreadsheets would
run it as a formula); in XLSX every text is stored as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.clock import iso, parse_time
from monitor.incidents.access import sees_everything, visible_to
from monitor.incidents.states import OPEN_STATUSES
from monitor.reports import display
from monitor.reports import satisfaction as feedback
from monitor.reports.metrics import BUCKETS, MEASURES, aggregate, per_incident
from monitor.titles import GROUP_TITLES, STATUS_TITLES, TOPIC_TITLES
from nlp.labels import TOPICS

TIME_GROUPS = ("day", "week", "month", "organisation", "municipality", "topic", "channel")


@dataclass(frozen=True)
class Scope:
    """Who asks and for which period: opened in [since, until), `now` for «overdue»."""

    viewer: dict | None
    now: datetime
    timezone: str
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Table:
    name: str  # file and sheet name: latin, no spaces
    title: str
    columns: list[tuple[str, str]]  # (key in the rows, heading for people)
    rows: list[dict] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # key -> what its values are (display)

    def fields(self) -> list[str]:
        return [key for key, _ in self.columns]


def _opened(scope: Scope, column: str = "i.opened_at") -> tuple[list[str], list]:
    where, params = visible_to(scope.viewer)
    clauses = [where]
    if scope.since:
        clauses.append(f"{column} >= ?")
        params.append(iso(scope.since))
    if scope.until:
        clauses.append(f"{column} < ?")
        params.append(iso(scope.until))
    return clauses, params


def _local_day(scope: Scope, column: str) -> str:
    """The region's calendar day of a stored UTC moment (no DST in Russia)."""
    offset = scope.now.astimezone(ZoneInfo(scope.timezone)).utcoffset()
    return f"strftime('%Y-%m-%d', {column}, '{int(offset.total_seconds() // 60):+d} minutes')"


def _official(scope: Scope) -> bool:
    """An official or a municipal centre: the region's collected messages are not theirs."""
    return not sees_everything(scope.viewer)


def volume(db, scope: Scope) -> Table:
    """Incoming per local day: messages collected (not for officials) and incidents opened."""
    clauses, params = _opened(scope)
    opened = dict(db.execute(
        f"SELECT {_local_day(scope, 'i.opened_at')} AS d, COUNT(*) FROM incidents i"
        f" WHERE {' AND '.join(clauses)} GROUP BY d", params).fetchall())
    columns = [("day", "день")]
    messages: dict[str, int] = {}
    if not _official(scope):
        where, values = ["1 = 1"], []
        if scope.since:
            where.append("p.collected_at >= ?")
            values.append(iso(scope.since))
        if scope.until:
            where.append("p.collected_at < ?")
            values.append(iso(scope.until))
        messages = dict(db.execute(
            f"SELECT {_local_day(scope, 'p.collected_at')} AS d, COUNT(*) FROM posts p"
            f" WHERE {' AND '.join(where)} GROUP BY d", values).fetchall())
        columns.append(("messages", "сообщений"))
    columns.append(("incidents", "инцидентов"))
    rows = []
    for day in sorted(set(opened) | set(messages)):
        row = {"day": day}
        if not _official(scope):
            row["messages"] = messages.get(day, 0)
        row["incidents"] = opened.get(day, 0)
        rows.append(row)
    return Table("volume", "Поступление по дням", columns, rows, {"day": "day"})


def times(db, scope: Scope, by: str, measures=tuple(MEASURES)) -> Table:
    """Response times grouped `by` (monitor.reports.metrics.aggregate, unchanged)."""
    rows = []
    for measure in measures:
        rows += [a.as_row() for a in aggregate(db, scope.viewer, measure, by, now=scope.now,
                                               timezone=scope.timezone, since=scope.since,
                                               until=scope.until)]
    columns = [("measure", "показатель"), ("group", GROUP_TITLES.get(by, by)),
               ("incidents", "инцидентов"), ("measured", "измерено"),
               ("average_h", "среднее, ч"), ("median_h", "медиана, ч"), ("p90_h", "p90, ч"),
               ("overdue_share", "доля просроченных")]
    columns += [(label, label) for _, _, label in BUCKETS]
    kinds = {"measure": "measure", **({"group": by} if by in display.KINDS else {})}
    return Table(f"times-{by}", f"Время реакции: по {_by_title(by)}", columns, rows, kinds)


def _by_title(by: str) -> str:
    return {"day": "дням", "week": "неделям", "month": "месяцам", "organisation": "организациям",
            "municipality": "муниципалитетам", "topic": "темам", "channel": "каналам",
            "all": "всем"}.get(by, by)


def recurring(db, scope: Scope, limit: int = 10) -> Table:
    """The incidents with the most repeats: the problems residents raise again and again."""
    clauses, params = _opened(scope)
    cursor = db.execute(
        f"SELECT i.id, i.repeats, i.municipality, i.topic, i.status, i.opened_at, p.text,"
        f" COALESCE(o.name, 'очередь ЦУР') AS organisation FROM incidents i"
        f" JOIN posts p ON p.id = i.post_id LEFT JOIN organisations o ON o.id = i.organisation_id"
        f" WHERE {' AND '.join(clauses)} AND i.repeats > 0"
        f" ORDER BY i.repeats DESC, i.id LIMIT ?", [*params, limit])
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        row["opened_at"] = _local(row["opened_at"], scope.timezone)
        row["status"] = STATUS_TITLES.get(row["status"], row["status"])
        rows.append(row)
    columns = [("id", "№"), ("repeats", "повторов"), ("municipality", "муниципалитет"),
               ("topic", "тема"), ("organisation", "организация"), ("status", "статус"),
               ("opened_at", "открыт"), ("text", "текст")]
    return Table("recurring", "Повторяющиеся проблемы", columns, rows,
                 {"municipality": "municipality", "topic": "topic", "opened_at": "moment"})


def heatmap(db, scope: Scope) -> Table:
    """Incidents opened (not rejected) per municipality and topic, a row per municipality."""
    clauses, params = _opened(scope)
    counts = db.execute(
        f"SELECT COALESCE(i.municipality, '—'), i.topic, COUNT(*) FROM incidents i"
        f" WHERE {' AND '.join(clauses)} AND i.status != 'rejected' GROUP BY 1, 2",
        params).fetchall()
    grid: dict[str, dict[str, int]] = {}
    for municipality, topic, n in counts:
        grid.setdefault(municipality, {})[topic] = n
    topics = [t for t in TOPICS if any(t in row for row in grid.values())]
    rows = []
    for municipality, row in grid.items():
        rows.append({"municipality": municipality, **{t: row.get(t, 0) for t in topics},
                     "total": sum(row.values())})
    rows.sort(key=lambda r: (-r["total"], r["municipality"]))
    columns = [("municipality", "муниципалитет"), *((t, TOPIC_TITLES.get(t, t)) for t in topics),
               ("total", "всего")]
    return Table("heatmap", "Муниципалитеты × темы", columns, rows, {"municipality": "municipality"})


def open_by_municipality(db, scope: Scope, coords: dict[str, tuple[float, float]]) -> Table:
    """Incidents open now, per municipality, with its coordinates for the map."""
    where, params = visible_to(scope.viewer)
    rows = db.execute(
        f"SELECT COALESCE(i.municipality, '—'), COUNT(*) FROM incidents i WHERE {where}"
        f" AND i.status IN ({', '.join('?' * len(OPEN_STATUSES))}) GROUP BY 1 ORDER BY 2 DESC, 1",
        [*params, *OPEN_STATUSES]).fetchall()
    table = [{"municipality": m, "open": n, "lat": coords.get(m, (None, None))[0],
              "lon": coords.get(m, (None, None))[1]} for m, n in rows]
    columns = [("municipality", "муниципалитет"), ("open", "открытых"), ("lat", "широта"),
               ("lon", "долгота")]
    return Table("open", "Открытые инциденты по муниципалитетам", columns, table,
                 {"municipality": "municipality"})


def incidents(db, scope: Scope) -> Table:
    """Every incident opened in the period with its three times (monitor.reports.metrics)."""
    rows = per_incident(db, scope.viewer, since=scope.since, until=scope.until)
    for row in rows:
        row["opened_at"] = _local(row["opened_at"], scope.timezone)
    columns = [("id", "№"), ("status", "статус"), ("topic", "тема"),
               ("municipality", "муниципалитет"), ("channel", "канал"),
               ("organisation", "организация"), ("opened_at", "открыт"), ("repeats", "повторов"),
               ("first_reply_h", "первый ответ, ч"), ("executor_h", "до исполнителя, ч"),
               ("resolve_h", "решение, ч")]
    return Table("incidents", "Инциденты", columns, rows,
                 {"status": "status", "topic": "topic", "municipality": "municipality",
                  "channel": "channel", "opened_at": "moment"})


def municipality_names(settings) -> dict[str, str]:
    """Municipality key -> its name in the region's list («Богородский» → «Богородский
    муниципальный округ»); none without a list (the keys are shown)."""
    try:
        path = settings.region_csv
    except Exception:  # no region list at all: exports still work with the keys
        return {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r["key"]: r.get("name") or r["key"] for r in csv.DictReader(f)}


def satisfaction(db, scope: Scope, by: str = "organisation") -> Table:
    """Residents' «да / нет» and 1–5 scores per group (monitor.reports.satisfaction)."""
    rows = feedback.by_group(db, scope.viewer, by, since=scope.since, until=scope.until)
    return Table(f"satisfaction-{by}", f"Удовлетворённость жителей: по {_by_title(by)}",
                 [("group", GROUP_TITLES.get(by, by)), *feedback.COLUMNS], rows,
                 {"group": by} if by in display.KINDS else {})


def region_coords(settings) -> dict[str, tuple[float, float]]:
    """Municipality centres from data/regions/<region>-*.coords.csv (none: an empty map)."""
    try:
        path = settings.region_csv.with_suffix(".coords.csv")
    except Exception:  # no region list at all: the dashboard still works without a map
        return {}
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        return {r["key"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)
                if r.get("lat") and r.get("lon")}


REPORTS = ("volume", *(f"times-{by}" for by in TIME_GROUPS), "recurring", "heatmap", "open",
           "incidents", *(f"satisfaction-{by}" for by in feedback.GROUPS))


def build(name: str, db, scope: Scope, settings) -> Table:
    """One report by its name in REPORTS."""
    if name.startswith("times-") and name[6:] in (*TIME_GROUPS, "all"):
        return times(db, scope, name[6:])
    if name.startswith("satisfaction-") and name[13:] in feedback.GROUPS:
        return satisfaction(db, scope, name[13:])
    builders = {"volume": lambda: volume(db, scope), "recurring": lambda: recurring(db, scope),
                "heatmap": lambda: heatmap(db, scope),
                "open": lambda: open_by_municipality(db, scope, region_coords(settings)),
                "incidents": lambda: incidents(db, scope)}
    if name not in builders:
        raise ValueError(f"unknown report {name!r}; expected one of {', '.join(REPORTS)}")
    return builders[name]()


def _local(value: str | None, timezone: str) -> str | None:
    return parse_time(value).astimezone(ZoneInfo(timezone)).isoformat() if value else None


# --- writers -----------------------------------------------------------------------------


# A formula may start a cell or follow any separator a reader might split on («;» in a
# Russian Excel, «,», a tab, a line break), spaces allowed in between.
_FORMULA = re.compile(r"(^|[,;\t\r\n])(\s*)(?=[=+\-@])")
BOM = "\ufeff"  # Excel takes a CSV for UTF-8 only with it
SEPARATOR = ";"  # what Russian Excel splits on (its list separator), not «,»


def people_rows(table: Table, municipalities: dict[str, str] | None) -> list[list]:
    """The rows as people read them (monitor.reports.display), in column order."""
    names = municipalities or {}
    return [[display.value(table.kinds.get(key), row.get(key), names) for key in table.fields()]
            for row in table.rows]


def _csv_cell(value):
    """A text that could start a formula anywhere gets an apostrophe before it; a number
    gets a decimal comma (a Russian Excel reads «1.5» as a date or a text)."""
    if isinstance(value, str):
        return _FORMULA.sub(r"\1\2'", value)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return value


def to_csv(table: Table, municipalities: dict[str, str] | None = None) -> str:
    """CSV for a Russian Excel: BOM, «;», Russian headings and values, every cell quoted
    (no separator inside a text splits it)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=SEPARATOR, quoting=csv.QUOTE_ALL)
    writer.writerow([_csv_cell(heading) for _, heading in table.columns])
    for row in people_rows(table, municipalities):
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue()


def read_csv(text: str) -> list[dict]:
    """A CSV of `to_csv` back as rows of {heading: text} (tests and scripts)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM)), delimiter=SEPARATOR))


def to_json(tables: list[Table], **meta) -> str:
    return json.dumps({**meta, "reports": [
        {"name": t.name, "title": t.title, "columns": dict(t.columns),
         "rows": [{k: r.get(k) for k in t.fields()} for r in t.rows]} for t in tables]},
        ensure_ascii=False, indent=2)


_XLSX_FORMATS = {"moment": "DD.MM.YYYY HH:MM", "day": "DD.MM.YYYY"}


def _xlsx_value(kind: str | None, raw, shown):
    """Times and days as real dates (Excel sorts and filters them), the rest as shown."""
    if raw is None or kind not in _XLSX_FORMATS:
        return shown
    if kind == "day":
        return datetime.fromisoformat(raw)
    return datetime.fromisoformat(raw).replace(tzinfo=None)  # local time, no seconds shown


def to_xlsx(tables: list[Table], municipalities: dict[str, str] | None = None) -> bytes:
    """One sheet per table: one row of Russian headings, then the rows as people read
    them; times are dates formatted ДД.ММ.ГГГГ ЧЧ:ММ."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append([heading for _, heading in table.columns])
        kinds = [table.kinds.get(key) for key in table.fields()]
        shown_rows = people_rows(table, municipalities)
        for r, (row, shown) in enumerate(zip(table.rows, shown_rows, strict=True), start=2):
            for c, (key, kind) in enumerate(zip(table.fields(), kinds, strict=True), start=1):
                cell = sheet.cell(row=r, column=c)
                cell.value = _xlsx_value(kind, row.get(key), shown[c - 1])
                if kind in _XLSX_FORMATS and cell.value is not None:
                    cell.number_format = _XLSX_FORMATS[kind]
                elif isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text says
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xlsx(data: bytes | Path) -> dict[str, list[dict]]:
    """Sheets back as rows of {heading: value} (tests and scripts that check an export)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data, read_only=True)
    out = {}
    for sheet in book.worksheets:
        values = list(sheet.iter_rows(values_only=True))
        headings = values[0] if values else ()
        out[sheet.title] = [dict(zip(headings, row, strict=True)) for row in values[1:]]
    return out
