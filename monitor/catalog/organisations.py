"""Organisations and sources: declared in tsur.toml, kept as rows in the database."""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from monitor.clock import iso
from monitor.settings import Settings
from monitor.store import dicts


def sync_from_settings(db: Database, settings: Settings, now: datetime) -> None:
    """Upsert the configured organisations and sources (rows never disappear: posts
    and incidents point at them)."""
    with db.atomic():
        for org in settings.organisations:
            db["organisations"].upsert({
                "key": org.key, "name": org.name, "municipality": org.municipality,
                "kind": org.kind, "topics": json.dumps(list(org.topics), ensure_ascii=False),
            }, pk="key")
            # Linked accounts: the config only fills what nobody set yet, so an admin's
            # edit in the web UI survives a restart.
            for column, value in (("vk_group_id", org.vk_group_id),
                                  ("telegram_chat_id", org.telegram_chat_id)):
                if value is not None:
                    db.execute(f"UPDATE organisations SET {column} = ? WHERE key = ?"
                               f" AND {column} IS NULL", [value, org.key])
        for source in settings.sources:
            existing = source_by_key(db, source.key)
            row = {
                "key": source.key, "platform": source.platform, "name": source.name,
                "role": source.role, "municipality": source.municipality,
                "organisation_id": organisation_id(db, source.organisation),
                "external_id": external_id_of(source.key),
            }
            if existing:
                db["sources"].update(existing["id"], row)
            else:
                db["sources"].insert({**row, "created_at": iso(now)})


def organisation_id(db: Database, key: str | None) -> int | None:
    if not key:
        return None
    row = db.execute("SELECT id FROM organisations WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def source_by_key(db: Database, key: str) -> dict | None:
    rows = dicts(db, "SELECT * FROM sources WHERE key = ?", [key])
    return rows[0] if rows else None


def ensure_source(db: Database, key: str, now: datetime, name: str | None = None) -> dict:
    """The source row for a key, creating an unconfigured `watched` source if new
    (a Telegram chat the bot was added to, a post replayed from a file)."""
    row = source_by_key(db, key)
    if row:
        return row
    platform = key.split(":", 1)[0] if ":" in key else "replay"
    if platform not in PLATFORMS:
        platform = "replay"
    db["sources"].insert({"key": key, "platform": platform, "name": name or key, "role": "watched",
                          "external_id": external_id_of(key), "created_at": iso(now)})
    return source_by_key(db, key)


PLATFORMS = ("vk", "telegram", "tgweb", "max", "ok")


def external_id_of(key: str) -> str | None:
    """What follows the platform in a source key: `vk:-100001` → `-100001`."""
    return key.split(":", 1)[1] if ":" in key else None


def list_organisations(db: Database) -> list[dict]:
    """Every organisation, the ЦУР first, then by name."""
    return list(db.query("SELECT * FROM organisations ORDER BY kind = 'cur' DESC, name"))


def organisation_by_id(db: Database, org_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM organisations WHERE id = ?", [org_id]))
    return rows[0] if rows else None


def create_organisation(db: Database, row: dict) -> int:
    """A new organisation made in the web UI (`key`, `name`, `kind`, …)."""
    with db.atomic():
        return db["organisations"].insert(row).last_pk


def update_organisation(db: Database, org_id: int, changes: dict) -> None:
    with db.atomic():
        db["organisations"].update(org_id, changes)
