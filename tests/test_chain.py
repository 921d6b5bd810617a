"""The whole walking skeleton: replay → posts → labels → incidents → the web queue."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from monitor.cli import cli
from monitor.collectors.replay import read_posts
from monitor.demo import DEMO_STREAM, prepare, replay
from monitor.web.app import create_app


def test_demo_stream_flows_into_the_web_queue(ctx):
    credentials = prepare(ctx)
    report, bad = replay(ctx, DEMO_STREAM)
    lines = sum(1 for line in DEMO_STREAM.read_text(encoding="utf-8").splitlines() if line.strip())
    assert bad == [] and lines >= 300
    assert report.stored == lines == ctx.db["posts"].count == ctx.db["labels"].count
    assert 0 < ctx.db["incidents"].count < lines
    opened = ctx.db.execute("SELECT count(*) FROM incident_events WHERE event = 'opened'").fetchone()[0]
    assert opened == ctx.db["incidents"].count

    # Replaying again stores nothing twice.
    again, _ = replay(ctx, DEMO_STREAM)
    assert again.stored == 0 and again.duplicates == lines

    # The last message arrives "now": the clock followed the stream.
    last = max(p.created_at for p in read_posts(DEMO_STREAM))
    newest = ctx.db.execute("SELECT max(created_at) FROM posts").fetchone()[0]
    assert newest.startswith(ctx.clock.now().isoformat()[:13]) or last

    client = TestClient(create_app(ctx, secret_key="k"))
    moderator = next(c for c in credentials if c.role == "moderator")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"login": moderator.login, "password": moderator.password, "csrf_token": token})
    ids = re.compile(r'<td><a href="/incidents/(\d+)">')
    next_link = re.compile(r'href="(/\?[^"]+)" rel="next"')

    # Newest first, keyset on the id.
    page = client.get("/?sort=newest")
    shown = ids.findall(page.text)
    assert len(shown) == 50  # first page of the keyset pagination
    newest_id = ctx.db.execute("SELECT max(id) FROM incidents").fetchone()[0]
    assert shown[0] == str(newest_id)
    second = client.get(next_link.search(page.text).group(1).replace("&amp;", "&"))
    assert ids.findall(second.text)[0] == str(int(shown[-1]) - 1)

    # The default order: soonest deadline first, then urgency; pages do not overlap.
    seen = []
    url = "/"
    while url and len(seen) < 150:
        page = client.get(url)
        seen += [int(i) for i in ids.findall(page.text)]
        link = next_link.search(page.text)
        url = link.group(1).replace("&amp;", "&") if link else None
    assert len(seen) == len(set(seen)) == 150
    rank = {"critical": 0, "high": 1, "normal": 2, "low": 3}
    keys = [(row[0] or "9999", rank[row[1]]) for row in (
        ctx.db.execute("SELECT next_due_at, urgency FROM incidents WHERE id = ?", [i]).fetchone()
        for i in seen)]
    assert keys == sorted(keys)

def test_demo_command_replays_and_exits_without_serving(runner, tmp_path):
    db = tmp_path / "demo.db"
    result = runner.invoke(cli, ["demo", "--db", str(db), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "incidents opened" in result.output
    from monitor.store import open_db

    assert open_db(db)["posts"].count >= 300


def test_replay_clock_puts_deadlines_after_opening(ctx):
    prepare(ctx)
    replay(ctx, DEMO_STREAM)
    bad = ctx.db.execute(
        "SELECT count(*) FROM incidents WHERE first_reply_due_at <= opened_at").fetchone()[0]
    assert bad == 0
    opened = ctx.db.execute("SELECT max(opened_at) FROM incidents").fetchone()[0]
    assert opened <= (ctx.clock.now() + timedelta(minutes=3)).isoformat()
