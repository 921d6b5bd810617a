"""Backups and restores of the SQLite file, made while the services keep writing."""

from __future__ import annotations

import gzip
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from monitor.catalog.organisations import sync_from_settings
from monitor.catalog.users import create_user
from monitor.cli import cli
from monitor.context import Context
from monitor.demo import DEMO_CONFIG
from monitor.ingest import ingest
from monitor.ingest.post import Post
from monitor.store import migrations, open_db
from monitor.store.backup import backup, copies, last_backup, stale_warning
from monitor.web import auth
from monitor.web.app import create_app

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def tsur(runner, db_path, *args):
    return runner.invoke(cli, ["--config", str(DEMO_CONFIG), *args],
                         env={"TSUR_DB": str(db_path)}, catch_exceptions=False)


class Writer(threading.Thread):
    """A service writing rows one transaction at a time until told to stop."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.written, self.stop = path, 0, threading.Event()
        self.db = open_db(path, upgrade=False, check_same_thread=False)
        self.db["ticks"].create({"n": int, "text": str}, pk="n")

    def run(self):
        while not self.stop.is_set():
            with self.db.atomic():
                self.db["ticks"].insert({"n": self.written + 1, "text": "х" * 200})
            self.written += 1

    def finish(self):
        self.stop.set()
        self.join()


def ticks(path) -> list[int]:
    connection = sqlite3.connect(path)
    try:
        return [n for (n,) in connection.execute("SELECT n FROM ticks ORDER BY n")]
    finally:
        connection.close()


def test_backup_while_writing_then_restore_keeps_every_committed_row(tmp_path, runner):
    path = tmp_path / "tsur.db"
    open_db(path).close()
    writer = Writer(path)
    writer.start()
    try:
        while writer.written < 200:
            threading.Event().wait(0.01)
        result = tsur(runner, path, "db", "backup")
        assert result.exit_code == 0, result.output
        refused = tsur(runner, path, "db", "restore", str(copies(tmp_path / "backups", "tsur")[0][1]))
        assert refused.exit_code == 1 and "открыта другим процессом" in refused.output
    finally:
        writer.finish()
        writer.db.close()
    total = writer.written
    [(_, archive)] = copies(tmp_path / "backups", "tsur")
    assert "backup " in result.output and archive.name.endswith(".db.gz")

    restored = tsur(runner, path, "db", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    kept = ticks(path)
    assert 200 <= len(kept) <= total and kept == list(range(1, len(kept) + 1))
    aside = next(tmp_path.glob("tsur.db.replaced-*"))
    assert ticks(aside) == list(range(1, total + 1)), "the replaced file keeps every row"
    assert "kept as" in restored.output
    db = open_db(path, upgrade=False)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not [m.name for m in migrations.pending(db)]


def test_a_damaged_copy_is_refused_and_the_database_left_alone(tmp_path, runner):
    path = tmp_path / "tsur.db"
    open_db(path).close()
    broken = tmp_path / "broken.db.gz"
    broken.write_bytes(gzip.compress(b"SQLite format 3\x00" + b"\x00" * 200))
    result = tsur(runner, path, "db", "restore", str(broken))
    assert result.exit_code == 1
    other = tmp_path / "other.db"
    Database(other)["t"].insert({"x": 1})
    result = tsur(runner, path, "db", "restore", str(other))
    assert result.exit_code == 1 and "не база tsur" in result.output
    assert not list(tmp_path.glob("tsur.db.replaced-*"))
    assert open_db(path, upgrade=False)["sources"].exists()


def test_copies_are_rotated_by_count_and_age_and_the_newest_stays(tmp_path):
    path = tmp_path / "tsur.db"
    open_db(path).close()
    folder = tmp_path / "copies"
    for day in range(5):
        backup(path, folder, NOW + timedelta(days=day), keep=3, max_age_days=30)
    assert [t.day for t, _ in copies(folder, "tsur")] == [11, 10, 9]
    result = backup(path, folder, NOW + timedelta(days=60), keep=3, max_age_days=30)
    assert [t.day for t, _ in copies(folder, "tsur")] == [5]  # NOW + 60 days: 5 February
    assert len(result.removed) == 3
    result = backup(path, folder, NOW + timedelta(days=200), keep=3, max_age_days=30)
    assert len(copies(folder, "tsur")) == 1 and result.removed
    assert last_backup(folder)["last_file"] == result.path.name
    assert not list(folder.glob(".*")), "no temporary file is left behind"


def test_a_failed_backup_is_recorded_and_warned_about(tmp_path):
    folder = tmp_path / "copies"
    assert "ни одной удачной копии" in stale_warning(folder, NOW)
    with pytest.raises(Exception, match="нет"):
        backup(tmp_path / "missing.db", folder, NOW)
    assert "missing.db" in last_backup(folder)["last_error"]
    path = tmp_path / "tsur.db"
    open_db(path).close()
    backup(path, folder, NOW)
    assert stale_warning(folder, NOW + timedelta(hours=23)) is None
    assert "25 ч назад" in stale_warning(folder, NOW + timedelta(hours=25))


def test_sources_list_warns_when_no_backup_succeeded_in_the_last_day(tmp_path, runner):
    path = tmp_path / "tsur.db"
    assert tsur(runner, path, "db", "upgrade").exit_code == 0  # a new database, never backed up
    result = runner.invoke(cli, ["--config", str(DEMO_CONFIG), "sources", "list"],
                           env={"TSUR_DB": str(path)})
    assert "резервной копии базы" in result.output
    assert tsur(runner, path, "db", "backup").exit_code == 0
    result = tsur(runner, path, "sources", "list")
    assert "резервной копии" not in result.output


def test_upgrade_backs_up_first_and_keeps_the_data_of_the_first_schema(tmp_path, runner):
    path = tmp_path / "tsur.db"
    first = Migrations("tsur")
    first()(migrations._migrations[0].fn)
    old = Database(path)
    first.apply(old)
    old["sources"].insert({"key": "vk:-1", "platform": "vk", "name": "Бор", "role": "watched",
                           "created_at": "2026-11-01T00:00:00+00:00"}, alter=False)
    old.close()

    result = tsur(runner, path, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.output.index("backup ") < result.output.index("applied ")
    [(_, archive)] = copies(tmp_path / "backups", "tsur")
    saved = tmp_path / "saved.db"
    saved.write_bytes(gzip.decompress(archive.read_bytes()))
    assert len(list(Database(saved)["_sqlite_migrations"].rows)) == 1
    upgraded = open_db(path, upgrade=False)
    assert not [m.name for m in migrations.pending(upgraded)]
    assert [r["name"] for r in upgraded["sources"].rows] == ["Бор"]


def test_a_backup_folder_that_cannot_be_made_is_a_clear_error(tmp_path, runner):
    path = tmp_path / "tsur.db"
    open_db(path).close()
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    result = tsur(runner, path, "db", "backup", "--dir", str(tmp_path / "file" / "copies"))
    assert result.exit_code == 1 and "резервная копия не сделана" in result.output


def test_backup_while_ingest_and_the_web_write_restores_a_consistent_database(
        tmp_path, runner, settings, pipeline, clock):
    path = settings.database
    setup = open_db(path)
    sync_from_settings(setup, settings, clock.now())
    create_user(setup, "admin", "admin-password-1", "admin", clock.now())
    setup.close()
    stop, logins = threading.Event(), []

    def collect():  # what tsur collect does: batches of new posts, labelled, incidents opened
        ctx = Context(open_db(path, upgrade=False), settings, clock, pipeline)
        n = 0
        while not stop.is_set():
            n += 1
            ingest(ctx, [Post("vk:-100001", f"-100001_{n}", "vk_comment",
                              f"На улице Ленина {n} третий день нет горячей воды",
                              clock.now() - timedelta(minutes=5))])
            stop.wait(0.02)  # the platform's answer takes a while
        ctx.db.close()

    def browse():  # what the web does: logins write sessions and the audit log
        base = Context(open_db(path, upgrade=False, check_same_thread=False), settings, clock)
        app = create_app(base, secret_key="k")
        try:
            while not stop.is_set():
                auth.limiter.failures.clear()
                client = TestClient(app)
                token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
                try:  # BEGIN IMMEDIATE: a login waits for the collector, never «locked»
                    answer = client.post("/login", data={
                        "login": "admin", "password": "admin-password-1", "csrf_token": token.group(1)})
                    logins.append(answer.status_code)
                except sqlite3.OperationalError as error:
                    logins.append(str(error))
        finally:
            base.db.close()

    threads = [threading.Thread(target=collect), threading.Thread(target=browse)]
    for thread in threads:
        thread.start()
    try:
        threading.Event().wait(3)
        for _ in range(2):
            result = tsur(runner, path, "db", "backup", "--dir", str(tmp_path / "copies"))
            assert result.exit_code == 0, result.output
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    archive = copies(tmp_path / "copies", "tsur")[0][1]
    restored = tsur(runner, path, "db", "restore", str(archive))
    assert restored.exit_code == 0, restored.output

    db = open_db(path, upgrade=False)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert logins and set(logins) == {200}
    posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert posts > 0 and db.execute("SELECT count(*) FROM audit").fetchone()[0] > 0
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == posts, \
        "every post restored with its label: a batch is in the copy whole or not at all"
    orphans = db.execute("SELECT count(*) FROM incidents i LEFT JOIN posts p ON p.id = i.post_id"
                         " WHERE p.id IS NULL").fetchone()[0]
    assert orphans == 0
