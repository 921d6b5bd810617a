"""Backups of the one SQLite file that holds a region's whole history.

A backup is an online copy made with SQLite's backup API while the services keep
writing, checked with `PRAGMA integrity_check`, gzip-compressed and renamed into place
only when complete; old copies are rotated by count and age. A restore checks the
copy before it replaces anything and keeps the replaced file aside.

What happened is recorded in `backups.json` beside the copies, not in the database: a
restore puts back an older database, which would forget the later backups (and the
one it came from); the record belongs with the files it describes, and writing it
never touches the database being copied.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.clock import iso, parse_time

RECORD = "backups.json"
STALE_AFTER = timedelta(days=1)
SUFFIX = ".db.gz"
STAMP = "%Y%m%dT%H%M%SZ"  # UTC, in every copy's name


class BackupError(Exception):
    """The backup or restore was not made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # compressed bytes
    removed: tuple[Path, ...]  # rotated away


def backup(database: Path, directory: Path, now: datetime, *, keep: int = 14,
           max_age_days: float = 30) -> BackupResult:
    """Copy `database` into `directory` as `<name>-<UTC time>.db.gz`, then rotate.

    The copy is one step of the backup API: under WAL it reads one snapshot while
    writers go on (a copy in several steps restarts whenever another connection
    writes, and may never finish on a busy database).
    """
    database, directory = Path(database), Path(directory)
    try:
        result = _backup(database, directory, now, keep, max_age_days)
    except (OSError, sqlite3.Error, BackupError) as error:
        with contextlib.suppress(OSError):  # the folder itself may be what failed
            _record(directory, {"last_failure_at": iso(now), "last_error": str(error)})
        if isinstance(error, BackupError):
            raise
        raise BackupError(f"резервная копия не сделана: {error}") from error
    _record(directory, {"last_success_at": iso(now), "last_file": result.path.name,
                        "last_size": result.size, "last_error": None})
    return result


def _backup(database: Path, directory: Path, now: datetime, keep: int, max_age_days: float
            ) -> BackupResult:
    if not database.exists():
        raise BackupError(f"базы данных {database} нет: проверьте [database] path или TSUR_DB")
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{database.stem}-{now.astimezone(UTC).strftime(STAMP)}{SUFFIX}"
    final = directory / name
    plain = directory / f".{name}.copy"
    packed = directory / f".{name}.part"
    try:
        source = sqlite3.connect(database)
        target = sqlite3.connect(plain)
        try:
            source.backup(target)
            _verify(target, plain)
        finally:
            target.close()
            source.close()
        with open(plain, "rb") as raw, gzip.open(packed, "wb", compresslevel=6) as out:
            shutil.copyfileobj(raw, out, 1 << 20)
        _fsync(packed)
        os.replace(packed, final)
        _fsync(directory)
    finally:
        plain.unlink(missing_ok=True)
        packed.unlink(missing_ok=True)
    removed = rotate(directory, database.stem, now, keep=keep, max_age_days=max_age_days)
    return BackupResult(final, final.stat().st_size, tuple(removed))


def _verify(connection: sqlite3.Connection, where: Path) -> None:
    try:
        rows = [r[0] for r in connection.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as error:
        rows = [str(error)]
    if rows != ["ok"]:
        raise BackupError(f"копия {where} повреждена (integrity_check: {'; '.join(rows[:5])})")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copies(directory: Path, stem: str) -> list[tuple[datetime, Path]]:
    """The backups of database `stem` in `directory` with the moment each was taken
    (read from its name), newest first."""
    found = []
    for path in Path(directory).glob(f"{stem}-*{SUFFIX}"):
        try:
            taken = datetime.strptime(path.name[len(stem) + 1:-len(SUFFIX)], STAMP)
        except ValueError:
            continue  # another database's copy (tsur-demo-… beside tsur-…)
        found.append((taken.replace(tzinfo=UTC), path))
    return sorted(found, reverse=True)


def rotate(directory: Path, stem: str, now: datetime, *, keep: int, max_age_days: float
           ) -> list[Path]:
    """Delete copies beyond the newest `keep` and those older than `max_age_days`;
    the newest copy always stays."""
    removed = []
    for index, (taken, path) in enumerate(copies(directory, stem)):
        if index and (index >= keep or now - taken > timedelta(days=max_age_days)):
            path.unlink()
            removed.append(path)
    return removed


# --- restore -------------------------------------------------------------------------


def in_use(database: Path) -> bool:
    """Whether another connection has the database open (a service running).

    Under WAL every open connection holds a shared lock, so an exclusive lock taken at
    once, without waiting, means nobody else has the file open.
    """
    if not Path(database).exists():
        return False
    probe = sqlite3.connect(database, timeout=0)
    try:
        probe.execute("PRAGMA locking_mode = EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def restore(archive: Path, database: Path, now: datetime, *, force: bool = False) -> Path | None:
    """Replace `database` with the copy in `archive` (gzip or plain SQLite).

    The copy is unpacked beside the database and checked first; the replaced file is
    renamed to `<name>.replaced-<UTC time>` and its path returned (None: there was none).
    """
    archive, database = Path(archive), Path(database)
    if not archive.exists():
        raise BackupError(f"файла {archive} нет")
    if not force and in_use(database):
        raise BackupError(
            f"база {database} открыта другим процессом (работают службы tsur?). Остановите их "
            "(systemctl stop 'tsur-*') и повторите, или добавьте --force, если уверены")
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restore")
    try:
        _unpack(archive, incoming)
        check = sqlite3.connect(incoming)
        try:
            _verify(check, archive)
            tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master")}
        finally:
            check.close()
        if "_sqlite_migrations" not in tables:
            raise BackupError(f"{archive} — не база tsur (нет таблицы _sqlite_migrations)")
        aside = _set_aside(database, now)
        os.replace(incoming, database)
        _fsync(database.parent)
    finally:
        incoming.unlink(missing_ok=True)
    return aside


def _unpack(archive: Path, target: Path) -> None:
    with open(archive, "rb") as head:
        packed = head.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(archive, "rb") if packed else open(archive, "rb")) as raw, \
                open(target, "wb") as out:
            shutil.copyfileobj(raw, out, 1 << 20)
    except (OSError, EOFError) as error:
        raise BackupError(f"{archive} не читается: {error}") from None


def _set_aside(database: Path, now: datetime) -> Path | None:
    """Fold the WAL into the file, then rename it (its -wal and -shm go with it)."""
    if not database.exists():
        return None
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    aside = database.with_name(f"{database.name}.replaced-{now.astimezone(UTC).strftime(STAMP)}")
    os.replace(database, aside)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return aside


# --- the record ----------------------------------------------------------------------


def last_backup(directory: Path) -> dict:
    """What `backups.json` says: last_success_at, last_file, last_size, last_failure_at,
    last_error ({} when no backup was ever tried here)."""
    try:
        return json.loads((Path(directory) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record(directory: Path, changes: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    record = {**last_backup(directory), **changes}
    tmp = directory / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, directory / RECORD)


def backup_age(directory: Path, now: datetime) -> timedelta | None:
    """Time since the last successful backup (None: never)."""
    done = last_backup(directory).get("last_success_at")
    return now - parse_time(done) if done else None


def stale_warning(directory: Path, now: datetime) -> str | None:
    """The Russian warning for operators when no backup succeeded in the last day."""
    age = backup_age(directory, now)
    if age is not None and age <= STALE_AFTER:
        return None
    record = last_backup(directory)
    when = (f"последняя удачная — {int(age.total_seconds() // 3600)} ч назад"
            if age is not None else "ни одной удачной копии")
    error = f"; последняя ошибка: {record['last_error']}" if record.get("last_error") else ""
    return (f"Внимание: за последние сутки не было резервной копии базы ({when}{error}). "
            f"Запустите «tsur db backup» и включите таймер tsur-backup.timer.")
