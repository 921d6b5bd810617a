"""`tsur bench ingest` grows a database once, reuses it, and prints figures per chunk
(figures, never timed asserts)."""

import re

from monitor.cli import cli
from monitor.demo import DEMO_STREAM
from monitor.ingest.bench import Stream
from monitor.store import open_db
from nlp.data import labelled_files

ROW = re.compile(r"^\s+([\d,]+)\s+[\d.]+\s+\d+%\s+\d+%\s+\d+%\s+\d+%\s+\d+\s+[\d.]+", re.M)


def test_the_stream_is_the_same_on_every_run_and_varies_pages_authors_and_threads(settings):
    one = Stream.read(DEMO_STREAM, labelled_files(settings.data_dir))
    two = Stream.read(DEMO_STREAM, labelled_files(settings.data_dir))
    posts = [one.post(n) for n in range(300)]
    assert posts == [two.post(n) for n in range(300)]
    assert len({p.source for p in posts}) > 3 and len({p.author_id for p in posts}) > 100
    assert any(p.parent_id for p in posts) and len({p.text for p in posts}) > 250
    assert all(a.created_at < b.created_at for a, b in zip(posts, posts[1:], strict=False))


def test_bench_ingest_grows_the_database_once_and_measures_the_next_chunk_on_a_copy(
        tmp_path, runner, monkeypatch):
    monkeypatch.setattr("monitor.commands.bench.pin_to_one_core", lambda: "not pinned in tests")
    path = tmp_path / "bench.db"
    args = ["--config", "data/demo/tsur.toml", "bench", "ingest", "--db", str(path),
            "--posts", "120", "--chunk", "60", "--single", "3", "--large", "20"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert ROW.findall(result.output) == ["0", "60", "120"]
    assert "next chunk, on a copy" in result.output
    assert re.search(r"until its incident can be read: median \d+ ms, p95 \d+ ms \(3 posts\)", result.output)
    assert re.search(r"after a 20-post batch of another: waited \d+ ms", result.output)
    db = open_db(path)
    assert db["posts"].count == 120 and db["labels"].count == 120
    db.close()
    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert ROW.findall(again.output) == ["120"]  # nothing to grow: only the measured chunk
