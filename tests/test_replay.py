import json
from datetime import UTC, datetime, timedelta

from monitor.collectors.replay import BadLine, read_posts
from monitor.ingest.post import Post


def write(tmp_path, lines):
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"source": "vk:-100003", "external_id": "-100003_5", "channel": "vk_post",
                   "created_at": "2026-11-17T09:12:00+03:00", "text": "Яма на Ленина 5"},
                  ensure_ascii=False)


def test_posts_are_read_with_aware_utc_times(tmp_path):
    [post] = list(read_posts(write(tmp_path, [GOOD])))
    assert isinstance(post, Post)
    assert post.created_at == datetime(2026, 11, 17, 6, 12, tzinfo=UTC)
    assert post.raw["text"] == "Яма на Ленина 5"


def test_bad_lines_are_named_and_the_rest_is_read(tmp_path):
    lines = [GOOD, "{not json", json.dumps({"source": "vk:-1"}), '["a list"]',
             GOOD.replace("-100003_5", "-100003_6").replace("+03:00", ""),
             GOOD.replace("-100003_5", "-100003_7")]
    items = list(read_posts(write(tmp_path, lines)))
    bad = [i for i in items if isinstance(i, BadLine)]
    good = [i for i in items if isinstance(i, Post)]
    assert [b.line for b in bad] == [2, 3, 4, 5]
    assert "not valid JSON" in str(bad[0])
    assert "missing field" in str(bad[1])
    assert "time zone" in str(bad[3])
    assert [p.external_id for p in good] == ["-100003_5", "-100003_7"]


def test_shift_moves_every_timestamp(tmp_path):
    [post] = list(read_posts(write(tmp_path, [GOOD]), shift=timedelta(days=2)))
    assert post.created_at == datetime(2026, 11, 19, 6, 12, tzinfo=UTC)
