"""Sources: the pages, communities, chats and searches tsur reads, and their health.

A source is a row of the `sources` table, whether declared in tsur.toml (synced by
monitor.catalog.organisations) or added with `tsur sources add`. Its key is
`<platform>:<id>`: `vk:-100001` (a community wall), `vk:search:<query>` (keyword
search across VK), `telegram:-1001…` (a channel or chat the bot is in),
`tgweb:<channel>` (a public channel read through t.me/s/), `max:<chat_id>` (a MAX chat the
bot administers), `ok:<group_id>` (an Одноклассники group page).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from monitor.catalog import channels
from monitor.catalog.organisations import PLATFORMS, ensure_source, organisation_id, source_by_key
from monitor.clock import iso, parse_time

ROLES = ("official", "watched")
STATUSES = ("ok", "failing", "no_access", "quota")
FAILING_AFTER = 5  # transient errors in a row before a source counts as failing

# Platforms whose chats a bot sees by number, and what to say when given something else.
BOT_CHATS = {
    "telegram": "Telegram chat id; the bot sees chats by number (-100…): add the bot, post a "
                "message, and the chat appears in `tsur sources list`. Public channels without "
                "the bot: use platform tgweb",
    "max": "MAX chat id; the bot sees chats by number: make the bot an administrator with the "
           "right to read all messages, post a message, and the chat appears in "
           "`tsur sources list`",
}

# What the runner does about each kind of collectors.base.SourceError.
STATUS_OF_KIND = {"auth": "failing", "layout": "failing", "access": "no_access", "quota": "quota"}


class SourceProblem(ValueError):
    """A source cannot be added or changed as asked; the message says what to do."""


@dataclass
class SourceHealth:
    key: str
    platform: str
    name: str
    role: str
    municipality: str | None
    organisation: str | None
    status: str  # ok | failing | no_access | quota | paused | removed
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    retry_at: datetime | None
    lag: timedelta | None  # publication → collection of the newest post
    today: int  # posts collected since local midnight


# --- keys -------------------------------------------------------------------------------


def source_key(platform: str, ident: str, *, search: bool = False) -> str:
    """Normalise what a person types into a source key.

    vk: `-100001`, `club100001`, `public100001`, `https://vk.com/club100001` → `vk:-100001`;
    a plain screen name needs resolving first (see `resolve_vk`). telegram: the chat id
    (`-1001234567890`). tgweb: `name`, `@name`, `https://t.me/s/name` → `tgweb:name`.
    """
    ident = ident.strip()
    if platform not in PLATFORMS:
        raise SourceProblem(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    if search:
        if platform != "vk":
            raise SourceProblem("keyword search exists only for VK (newsfeed.search)")
        if not ident:
            raise SourceProblem("a search source needs keywords")
        return f"vk:search:{' '.join(ident.split())}"
    if platform == "vk":
        ident = re.sub(r"^(https?://)?(m\.)?vk\.(com|ru)/", "", ident)
        if re.fullmatch(r"-\d+", ident):
            return f"vk:{ident}"
        match = re.fullmatch(r"(club|public|event)(\d+)", ident)
        if match:
            return f"vk:-{match.group(2)}"
        raise SourceProblem(
            f"{ident!r} is not a VK community id; give -<id> or club<id>, or a screen name "
            "with a TSUR_VK_TOKEN set so it can be resolved")
    if platform in BOT_CHATS:
        if not re.fullmatch(r"-?\d+", ident):
            raise SourceProblem(f"{ident!r} is not a {BOT_CHATS[platform]}")
        return f"{platform}:{ident}"
    if platform == "ok":
        match = re.fullmatch(r"(?:(?:https?://)?(?:m\.)?ok\.ru/group/)?(\d+)(?:/.*)?", ident)
        if not match:
            raise SourceProblem(
                f"{ident!r} is not an Одноклассники group id; give the number from the group's "
                "address (ok.ru/group/<id>), shown in the group's settings when it has a short name")
        return f"ok:{match.group(1)}"
    try:  # one parser of channel names and links, and one canonical (lower-case) key
        return channels.source_key(ident)
    except ValueError as error:
        raise SourceProblem(str(error)) from None


def vk_screen_name(ident: str) -> str | None:
    """The screen name in what was typed, if it is one (podslushano_nn, vk.com/podslushano_nn)."""
    ident = re.sub(r"^(https?://)?(m\.)?vk\.(com|ru)/", "", ident.strip())
    if re.fullmatch(r"-?\d+|(club|public|event)\d+", ident):
        return None
    return ident if re.fullmatch(r"[A-Za-z0-9_.]{2,64}", ident) else None


def municipalities(settings) -> set[str]:
    with open(settings.region_csv, encoding="utf-8") as f:
        return {row["key"] for row in csv.DictReader(f)}


# --- changes ----------------------------------------------------------------------------


def add_source(db: Database, settings, now: datetime, platform: str, ident: str, *,
               name: str | None = None, role: str = "watched", municipality: str | None = None,
               organisation: str | None = None, search: bool = False) -> dict:
    """Add a source (or bring back a removed one with the new details)."""
    key = source_key(platform, ident, search=search)
    if role not in ROLES:
        raise SourceProblem(f"role must be one of {', '.join(ROLES)}")
    if municipality and municipality not in municipalities(settings):
        known = sorted(municipalities(settings))
        close = [m for m in known if m.lower().startswith(municipality.lower()[:4])]
        hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
        raise SourceProblem(f"unknown municipality {municipality!r} for region "
                            f"{settings.region}{hint} (keys: {settings.region_csv.name})")
    org_id = None
    if organisation:
        org_id = organisation_id(db, organisation)
        if org_id is None:
            raise SourceProblem(f"unknown organisation {organisation!r}; organisations come "
                                "from tsur.toml [[organisations]]")
    if role == "official" and not organisation:
        raise SourceProblem("an official source is the page of an organisation: give --organisation")
    row = {"key": key, "platform": platform, "name": name or key, "role": role,
           "municipality": municipality, "organisation_id": org_id,
           "external_id": key.split(":", 1)[1], "removed_at": None, "paused": 0,
           "options": json.dumps({"query": key.split(":", 2)[2]} if search else {},
                                 ensure_ascii=False)}
    existing = source_by_key(db, key)
    with db.atomic():
        if existing and not existing.get("removed_at"):
            raise SourceProblem(f"source {key} already exists; `tsur sources remove {key}` first "
                                "to change it")
        if existing:
            db["sources"].update(existing["id"], row)
        else:
            db["sources"].insert({**row, "created_at": iso(now)})
    return source_by_key(db, key)


def get_source(db: Database, key: str) -> dict:
    row = source_by_key(db, key)
    if row is None or row.get("removed_at"):
        raise SourceProblem(f"no source {key}; see `tsur sources list`")
    return row


def set_paused(db: Database, key: str, paused: bool) -> dict:
    row = get_source(db, key)
    with db.atomic():
        db["sources"].update(row["id"], {"paused": int(paused)})
    return source_by_key(db, key)


def remove_source(db: Database, key: str, now: datetime) -> bool:
    """Forget a source: deleted if nothing was collected from it, else kept as removed
    (its posts and incidents stay). Returns True if the row was deleted."""
    row = get_source(db, key)
    with db.atomic():
        if db["posts"].count_where("source_id = ?", [row["id"]]) == 0 and not list(
                db["collector_alerts"].rows_where("source_id = ?", [row["id"]], limit=1)):
            db["sources"].delete(row["id"])
            return True
        db["sources"].update(row["id"], {"removed_at": iso(now), "paused": 1})
    return False


def listed_sources(db: Database) -> list[dict]:
    """Every source not removed, with its organisation's name, by platform and name."""
    return list(db.query(
        "SELECT s.*, o.name AS organisation_name FROM sources s"
        " LEFT JOIN organisations o ON o.id = s.organisation_id"
        " WHERE s.removed_at IS NULL ORDER BY s.platform, s.name"))


def active_sources(db: Database) -> list[dict]:
    return list(db["sources"].rows_where("removed_at IS NULL AND platform != 'replay'",
                                         order_by="id"))


# --- health (written by the runner) -----------------------------------------------------


def record_success(db: Database, key: str) -> None:
    """After a batch was ingested (ingest wrote the cursor and last_success_at)."""
    row = source_by_key(db, key)
    if row and (row["status"] != "ok" or row["error_count"] or row["retry_at"]):
        with db.atomic():
            db["sources"].update(row["id"], {"status": "ok", "error_count": 0, "retry_at": None})


def record_failure(db: Database, key: str, now: datetime, error, retry_at: datetime | None,
                   source_name: str | None = None) -> str:
    """Mark a source after a SourceError; a change to `failing` leaves an alert row.

    Returns the new status.
    """

    with db.atomic():
        row = ensure_source(db, key, now, name=source_name)
        count = (row["error_count"] or 0) + 1
        status = STATUS_OF_KIND.get(error.kind, "ok")
        if error.kind == "retry" and count >= FAILING_AFTER:
            status = "failing"
        db["sources"].update(row["id"], {
            "status": status, "error_count": count, "last_error": str(error)[:1000],
            "last_error_at": iso(now), "last_error_code": error.code,
            "retry_at": iso(retry_at)})
        if status == "failing" and row["status"] != "failing":
            db["collector_alerts"].insert({
                "source_id": row["id"], "occurred_at": iso(now), "kind": error.kind,
                "message": f"{row['name']} ({key}): {error}"[:2000]})
    return status


def health(db: Database, now: datetime, timezone: str, *, include_removed: bool = False
           ) -> list[SourceHealth]:
    """Every source with what an operator needs to see whether it is being read."""
    midnight = now.astimezone(ZoneInfo(timezone)).replace(hour=0, minute=0, second=0,
                                                          microsecond=0)
    where = "" if include_removed else "WHERE s.removed_at IS NULL"
    rows = db.execute(f"""
        SELECT s.*, o.key AS organisation_key,
          (SELECT COUNT(*) FROM posts p WHERE p.source_id = s.id AND p.collected_at >= ?)
            AS today,
          (SELECT p.collected_at || '|' || p.created_at FROM posts p WHERE p.source_id = s.id
            ORDER BY p.collected_at DESC, p.id DESC LIMIT 1) AS newest
        FROM sources s LEFT JOIN organisations o ON o.id = s.organisation_id
        {where} ORDER BY s.platform, s.key""", [iso(midnight)])
    names = [d[0] for d in rows.description]
    result = []
    for values in rows.fetchall():
        row = dict(zip(names, values, strict=True))
        lag = None
        if row["newest"]:
            collected, created = row["newest"].split("|")
            lag = max(parse_time(collected) - parse_time(created), timedelta(0))
        status = ("removed" if row["removed_at"] else "paused" if row["paused"]
                  else row["status"] or "ok")
        result.append(SourceHealth(
            key=row["key"], platform=row["platform"], name=row["name"], role=row["role"],
            municipality=row["municipality"], organisation=row["organisation_key"],
            status=status, last_success_at=_time(row["last_success_at"]),
            last_error=row["last_error"], last_error_at=_time(row["last_error_at"]),
            retry_at=_time(row["retry_at"]), lag=lag, today=row["today"]))
    return result


def _time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None
