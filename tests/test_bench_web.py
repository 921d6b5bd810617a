"""`tsur bench web` on a tiny size: it fills, measures and prints; no timed assertions."""

import re

from monitor.cli import cli
from monitor.store import open_db


def test_bench_web_fills_a_database_and_prints_p50_p95_per_page_and_role(runner, tmp_path):
    path = tmp_path / "bench.db"
    result = runner.invoke(cli, ["bench", "web", "--db", str(path), "--incidents", "2000",
                                 "--municipalities", "7", "--requests", "3"])
    assert result.exit_code == 0, result.output
    assert "2,000 / 2,000 incidents" in result.output
    rows = re.findall(r"^(queue|queue \(filtered\)|incident)\s+(moderator|official)\s+"
                      r"([\d.]+)\s+([\d.]+)\s+([\d.]+)$", result.output, re.M)
    assert {(page, role) for page, role, *_ in rows} == {
        (page, role) for page in ("queue", "queue (filtered)", "incident")
        for role in ("moderator", "official")}
    for *_, p50, p95, worst in rows:
        assert float(p50) <= float(p95) <= float(worst)
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM incidents").fetchone()[0] == 2000
    assert db.execute("SELECT count(DISTINCT municipality) FROM incidents").fetchone()[0] == 7
    # the indexes dropped for the bulk load are all back
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"idx_incidents_q_status", "idx_incidents_post_id", "idx_posts_created_at"} <= names
    db.close()


def test_bench_web_refuses_a_filled_database_unless_told(runner, tmp_path):
    path = tmp_path / "bench.db"
    args = ["bench", "web", "--db", str(path), "--incidents", "300", "--municipalities", "3",
            "--requests", "1"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "already holds 300 incidents" in again.output
    assert "--fresh" in again.output
    assert runner.invoke(cli, [*args, "--reuse"]).exit_code == 0
    assert runner.invoke(cli, [*args, "--fresh"]).exit_code == 0


def test_status_counters_stay_exact_through_inserts_and_moves(tmp_path):
    from conftest import MONDAY_MORNING

    from monitor.clock import FrozenClock
    from monitor.context import Context
    from monitor.incidents.synthetic import populate
    from monitor.settings import load_settings

    settings = load_settings(None, environ={"TSUR_DB": str(tmp_path / "c.db")})
    ctx = Context(open_db(settings.database), settings, FrozenClock(MONDAY_MORNING))
    populate(ctx, 500, 4)
    db = ctx.db
    with db.atomic():
        db.execute("UPDATE incidents SET status = 'confirmed' WHERE status = 'new'")
        db.execute("UPDATE incidents SET organisation_id = NULL WHERE id % 7 = 0")
        db.execute("UPDATE incidents SET organisation_id = 2 WHERE id % 11 = 0")
    kept = {(o, s): n for o, s, n in db.execute("SELECT * FROM incident_counts WHERE n > 0")}
    real = {(o, s): n for o, s, n in db.execute(
        "SELECT coalesce(organisation_id, 0), status, count(*) FROM incidents GROUP BY 1, 2")}
    assert kept == real
    db.close()


def test_queue_query_walks_incidents_first_whatever_the_statistics(tmp_path):
    """An index added after ANALYZE (no statistics) once made SQLite start from sources
    and sort a million rows; the queue must always drive from incidents."""
    from conftest import MONDAY_MORNING

    from monitor.clock import FrozenClock
    from monitor.context import Context
    from monitor.incidents.queries import list_incidents
    from monitor.incidents.synthetic import populate
    from monitor.settings import load_settings

    settings = load_settings(None, environ={"TSUR_DB": str(tmp_path / "q.db")})
    ctx = Context(open_db(settings.database), settings, FrozenClock(MONDAY_MORNING))
    populate(ctx, 400, 5)
    db = ctx.db
    db.execute("CREATE INDEX bait ON posts (source_id, author_id)")  # no statistics
    viewer = {"role": "moderator", "organisation_id": None}
    for filters in ({}, {"status": "new", "municipality": "Дзержинск"}, {"topic": "health"}):
        statements: list[str] = []
        db.conn.set_trace_callback(statements.append)
        list_incidents(db, viewer, filters)
        db.conn.set_trace_callback(None)
        sql = next(s for s in statements if "ORDER BY i.id DESC" in s)
        plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert plan[0].split()[:2] in (["SCAN", "i"], ["SEARCH", "i"]), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
    db.close()
