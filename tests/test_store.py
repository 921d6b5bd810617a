import re
import sqlite3
from pathlib import Path

import pytest

from monitor.clock import parse_time
from monitor.store import applied_migrations, migrations, open_db, pending_migrations
from monitor.store.schema import MIGRATIONS, RENAMED, m001_initial

# A database made by tsur before the migrations were listed explicitly (and before the
# second `w002_*` was renamed): its schema and its record of applied migrations.
BEFORE_THE_LIST = Path(__file__).parent / "data" / "schema-before-migration-list.sql"


def test_fresh_database_has_every_table_in_wal_mode(tmp_path):
    db = open_db(tmp_path / "t.db")
    for table in ("sources", "posts", "labels", "incidents", "incident_events", "organisations",
                  "users", "post_versions"):
        assert db[table].exists(), table
    assert db.journal_mode == "wal"
    assert pending_migrations(db) == []


def _upgraded(runner, path, migration: str):
    """`tsur db upgrade` on the file: it applies `migration`, and nothing is left pending."""
    from monitor.cli import cli

    result = runner.invoke(cli, ["db", "upgrade", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert f"applied {migration}" in result.output
    db = open_db(path, upgrade=False)
    assert pending_migrations(db) == []
    return db


def test_upgrade_applies_pending_migrations_and_keeps_data(tmp_path, runner):
    from monitor.cli import cli

    path = tmp_path / "old.db"
    db = open_db(path, upgrade=False)
    # An old database: only the first migration applied, with a post in it.
    migrations.apply(db, stop_before="m002_post_versions")
    assert applied_migrations(db) == [m001_initial.__name__]
    db["sources"].insert({"key": "vk:-1", "platform": "vk", "name": "x", "role": "watched",
                          "created_at": "2026-11-16T07:00:00+00:00"})
    db["posts"].insert({"source_id": 1, "external_id": "-1_1", "channel": "vk_post", "text": "яма",
                        "created_at": "2026-11-16T07:00:00+00:00",
                        "collected_at": "2026-11-16T07:00:00+00:00"})
    db.close()

    db = _upgraded(runner, path, "m002_post_versions")
    assert [r["text"] for r in db["posts"].rows] == ["яма"]
    again = runner.invoke(cli, ["db", "upgrade", "--db", str(path)])
    assert "up to date" in again.output


def test_same_external_id_twice_in_a_source_is_refused_by_the_schema(tmp_path):
    import sqlite3

    import pytest

    db = open_db(tmp_path / "t.db")
    db["sources"].insert({"key": "vk:-1", "platform": "vk", "name": "x", "role": "watched",
                          "created_at": "2026-11-16T07:00:00+00:00"})
    row = {"source_id": 1, "external_id": "-1_1", "channel": "vk_post", "text": "a",
           "created_at": "2026-11-16T07:00:00+00:00", "collected_at": "2026-11-16T07:00:00+00:00"}
    db["posts"].insert(row)
    with pytest.raises(sqlite3.IntegrityError):
        db["posts"].insert(row)


def test_incident_history_is_append_only(ctx):
    import sqlite3

    import pytest

    from monitor.ingest import ingest
    from monitor.ingest.post import Post

    ingest(ctx, [Post("vk:-100003", "-100003_1_2", "vk_comment", "Третий день нет воды на Гайдара, УК молчит",
                      ctx.clock.now())])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ctx.db.execute("UPDATE incident_events SET actor = 'someone'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ctx.db.execute("DELETE FROM incident_events")


def test_an_admins_linked_account_survives_a_restart_with_the_config(ctx):
    from monitor.catalog.organisations import sync_from_settings

    ctx.db.execute("UPDATE organisations SET vk_group_id = 555 WHERE key = 'adm-dzr'")
    ctx.db.execute("UPDATE organisations SET vk_group_id = NULL WHERE key = 'adm-nn'")
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    ids = dict(ctx.db.execute("SELECT key, vk_group_id FROM organisations").fetchall())
    assert ids["adm-dzr"] == 555  # the admin's edit stays
    assert ids["adm-nn"] == 100001  # the config fills what is empty


def _schema(db) -> set:
    return {r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != '_sqlite_migrations'")}


def test_a_database_made_before_the_migration_list_upgrades_without_rerunning(tmp_path, runner):
    from monitor.cli import cli

    path = tmp_path / "before.db"
    con = sqlite3.connect(path)
    con.executescript(BEFORE_THE_LIST.read_text(encoding="utf-8"))
    con.close()

    result = runner.invoke(cli, ["db", "upgrade", "--db", str(path)])
    assert result.exit_code == 0, result.output
    recorded = set(re.findall(r"VALUES\(\d+,'tsur','(\w+)'", BEFORE_THE_LIST.read_text(encoding="utf-8")))
    renamed = {RENAMED.get(name, name) for name in recorded}
    applied = re.findall(r"^applied (\w+)$", result.output, re.M)
    assert applied == [m.__name__ for m in MIGRATIONS if m.__name__ not in renamed], \
        "only the migrations written after the snapshot run, none of those it records"
    db = open_db(path, upgrade=False)
    assert set(applied_migrations(db)) == {m.__name__ for m in MIGRATIONS}
    assert _schema(db) == _schema(open_db(tmp_path / "fresh.db"))


def test_migration_names_are_unique_and_numbered_once_per_feature():
    names = [m.__name__ for m in MIGRATIONS]
    assert len(set(names)) == len(names)
    prefixes = [n.split("_", 1)[0] if not n.startswith(("collectors", "retraining", "web"))
                else "_".join(n.split("_", 2)[:2]) for n in names]
    assert len(set(prefixes)) == len(prefixes), "two migrations share a number"


def test_the_two_outboxes_become_one_and_every_row_keeps_its_state(tmp_path, runner):
    from monitor.incidents import outbox

    path = tmp_path / "two-outboxes.db"
    db = open_db(path, upgrade=False)
    migrations.apply(db, stop_before="w013_one_outbox")
    at = "2026-11-16T07:00:00+00:00"
    db["sources"].insert({"key": "vk:-1", "platform": "vk", "name": "x", "role": "watched",
                          "created_at": at})
    db["posts"].insert_all([{"source_id": 1, "external_id": f"-1_{n}", "channel": "vk_post",
                             "text": "яма", "created_at": at, "collected_at": at}
                            for n in (1, 2)])
    db["incidents"].insert({"post_id": 1, "status": "in_progress", "kind": "complaint",
                            "topic": "roads", "urgency": "normal", "opened_at": at,
                            "updated_at": at})
    db["drafts"].insert({"incident_id": 1, "text": "Ответ", "author": "official",
                         "status": "approved", "created_at": at})
    reply = {"incident_id": 1, "purpose": "answer", "mode": "reply", "post_id": 1,
             "text": "Ответ", "created_at": at}
    replies = [
        {**reply, "id": 7, "status": "published", "draft_id": 1, "published_at": at,
         "claimed_at": at, "external_id": "-1_1_9", "guid": "g7", "attempts": 1,
         "platform": "vk", "account": "vk:club1", "url": "https://vk.com/wall-1_1?reply=9"},
        {**reply, "id": 8, "status": "unknown", "guid": "g8", "attempts": 1, "claimed_at": at,
         "failure": "unknown", "error": "no answer from VK after sending"},
        {**reply, "id": 9, "status": "pending", "post_id": 2, "linked": 1, "draft_id": 1,
         "not_before": "2026-11-16T08:00:00+00:00"},
        {**reply, "id": 12, "status": "failed", "purpose": "acknowledgement", "mode": "dm",
         "failure": "access", "error": "VK error 15", "attempts": 2},
        {**reply, "id": 13, "status": "withdrawn", "post_id": 2, "linked": 1,
         "error": "исключено модератором m"},
    ]
    for row in replies:  # one by one: each with only its own columns, defaults for the rest
        db["reply_outbox"].insert(row)
    note = {"chat_id": -100, "created_at": at, "attempts": 0}
    notes = [
        {**note, "id": 1, "status": "sent", "once_key": "warn:1", "incident_id": 1,
         "text": "Скоро срок", "sent_at": at, "claimed_at": at, "attempts": 1},
        {**note, "id": 2, "status": "pending", "once_key": "spike:1", "text": "Всплеск",
         "not_before": "2026-11-16T07:30:00+00:00", "error": "Too Many Requests", "attempts": 1},
        {**note, "id": 3, "status": "failed", "text": "Бот удалён", "error": "kicked",
         "attempts": 1},
        {**note, "id": 4, "status": "pending", "chat_id": -200, "text": "Ещё одно",
         "attempts": None},
    ]
    for row in notes:
        db["notifications"].insert(row)
    db.close()

    db = _upgraded(runner, path, "w013_one_outbox")
    assert not db["reply_outbox"].exists() and not db["notifications"].exists()
    moved = {r["id"]: r for r in db["outbox"].rows_where("audience = 'resident'")}
    assert sorted(moved) == [7, 8, 9, 12, 13], "a reply keeps its id (pages link to it)"
    for old in replies:
        expected = {"linked": 0, "attempts": 0, **old}
        assert {k: moved[old["id"]][k] for k in expected} == expected
    staff = list(db["outbox"].rows_where("audience = 'staff'", order_by="id"))
    assert [r["id"] for r in staff] == [14, 15, 16, 17], "after the replies, in their order"
    for old, row in zip(notes, staff, strict=True):
        expected = {**old, "id": row["id"], "attempts": old["attempts"] or 0, "linked": 0,
                    "purpose": None}
        assert {k: row[k] for k in expected} == expected
    # Each sender finds what it found before, and a message queued once stays once.
    now = parse_time("2026-11-16T07:45:00+00:00")
    assert outbox.next_due(db, outbox.STAFF, now) == 15
    assert outbox.next_due(db, outbox.RESIDENT, now) is None
    assert outbox.next_due(db, outbox.RESIDENT, parse_time("2026-11-16T08:00:00+00:00")) == 9
    assert outbox.queue_notification(db, -100, "Всплеск", now, once_key="spike:1") is None
    assert outbox.queue_reply(db, {"id": 1, "post_id": 1}, "interim", "Скоро", now) == 18
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # a notification needs a chat
        db["outbox"].insert({"audience": "staff", "text": "x", "status": "pending",
                             "created_at": at})
