"""Kill `tsur collect` with SIGKILL at arbitrary moments while residents keep writing,
then let one `--once` run finish: what the platform holds must be in the database once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from monitor.cli import cli; cli()", "collect"]


def collect_with_kills(env: dict, db_path: Path, write: Callable[[int], None],
                       pauses: tuple[float, ...] = (0.4, 1.3)) -> list[int]:
    """Start, wait until it stores something, read for each pause (seconds), SIGKILL;
    then a final `--once` run.

    `write(n)` adds n residents' messages on the fake. Returns the posts stored after
    each kill, the last one positive (the killed runs did store something).
    """
    progress = []
    for pause in pauses:
        write(40)
        process = subprocess.Popen(COMMAND, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        for line in process.stderr:  # loading the models takes a while; wait for the start
            if " started " in line:
                break
        stored_before = count_posts(db_path)
        settle = time.monotonic() + 60  # on a loaded machine the first batch can take a while:
        while count_posts(db_path) <= stored_before and time.monotonic() < settle:  # kill after
            write(1)  # it stored something, so every run is killed in the middle of its work
            time.sleep(0.05)
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline:
            write(1)
            time.sleep(0.05)
        process.kill()
        process.wait()
        process.stderr.close()
        progress.append(count_posts(db_path))
    assert progress[-1] > 0, "the killed runs stored something before being killed"
    write(10)
    final = subprocess.run(COMMAND + ["--once"], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    return progress


def stored_ids(db_path: Path, where: str, args: list) -> tuple[list[str], set[str]]:
    """(every external id stored, those not marked deleted) for the sources `where` picks."""
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute(
            "SELECT p.external_id, p.deleted_at FROM posts p JOIN sources s ON s.id = p.source_id"
            f" WHERE {where}", args).fetchall()
    return [r[0] for r in rows], {r[0] for r in rows if not r[1]}


def count_posts(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def versions(db_path: Path) -> int:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("SELECT COUNT(*) FROM post_versions").fetchone()[0]
