"""Hostile JSON Lines through `tsur replay` and `tsur classify`: no crash, no valid line lost.

A seeded generator mixes 1,200 hostile lines (invalid UTF-8, JSON a thousand deep, lone
surrogates, lists and objects where text belongs, ids of 10**30, dates of year 1 and
9999, a 1 MB text) with valid ones; every valid line must come out, every bad one be
reported with its number.
"""

import json
import random

import pytest

from monitor.cli import cli
from monitor.store import open_db

SOURCE = "vk:-100003"


def post(n: int, **fields) -> dict:
    return {"source": SOURCE, "external_id": f"-100003_{n}", "channel": "vk_comment",
            "created_at": "2026-11-17T09:00:00+03:00", "text": f"Яма у дома {n} на Гагарина", **fields}


def hostile_lines(count: int, seed: int = 7) -> tuple[list[bytes], set[str], int, int]:
    """(lines, the external ids replay must store, how many lines replay and classify refuse)."""
    rng = random.Random(seed)
    lines, stored, bad, unlabelled = [], set(), 0, 0
    for n in range(count):
        kind = rng.randrange(10)
        if kind == 0:
            lines.append(b'{"source": "vk:-1", "text": "\xff\xfe\xfd"}')
            bad += 1
            unlabelled += 1
        elif kind == 1:
            lines.append(("[" * 1000 + "]" * 1000).encode() if n % 2 else ('{"a":' * 1000 + "1" + "}" * 1000).encode())
            bad += 1
            unlabelled += 1
        elif kind == 2:  # a lone surrogate in the text and the author: stored, with U+FFFD
            lines.append(json.dumps(post(n, text="нет воды \ud800 совсем", author_name="\udfff")).encode())
            stored.add(f"-100003_{n}")
        elif kind == 3:  # a number where text belongs: read as text
            lines.append(json.dumps(post(n, author_id=5, external_id=10**30 + n)).encode())
            stored.add(str(10**30 + n))
        elif kind == 4:
            lines.append(json.dumps(post(n, parent_id=["a", "list"])).encode())
            bad += 1
        elif kind == 5:
            lines.append(json.dumps(post(n, created_at=rng.choice(["0001-01-01T00:00:00+00:00",
                                                                   "9999-12-31T23:59:59+00:00"]))).encode())
            bad += 1
        elif kind == 6:
            lines.append(json.dumps(post(n, text={"not": "text"})).encode())
            bad += 1
            unlabelled += 1
        elif kind == 7 and n % 50 == 7:  # now and then a 1 MB message
            lines.append(json.dumps(post(n, text="Яма. " * 200_000), ensure_ascii=False).encode())
            stored.add(f"-100003_{n}")
        else:
            lines.append(json.dumps(post(n), ensure_ascii=False).encode())
            stored.add(f"-100003_{n}")
    return lines, stored, bad, unlabelled


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    lines, stored, bad, unlabelled = hostile_lines(1200)
    path = tmp_path_factory.mktemp("hostile") / "stream.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, stored, bad, unlabelled, len(lines)


def test_replay_keeps_every_valid_line_and_names_every_bad_one(runner, tmp_path, stream):
    path, stored, bad, _, _ = stream
    db = tmp_path / "t.db"
    result = runner.invoke(cli, ["replay", str(path), "--db", str(db)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.count("line ") >= bad
    rows = {r["external_id"]: r for r in open_db(db)["posts"].rows}
    assert set(rows) == stored
    replaced = [r for r in rows.values() if "\ufffd" in r["text"]]
    assert replaced and all(r["text"] == "нет воды \ufffd совсем" for r in replaced)


def test_classify_labels_every_valid_line_and_names_every_bad_one(runner, stream):
    path, _, _, unlabelled, total = stream
    result = runner.invoke(cli, ["classify", "--input", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == total - unlabelled  # dates and parents are not classify's business
    assert all(r["kind"] in ("complaint", "question", "suggestion", "gratitude", "other") for r in out)
    assert f"{unlabelled} bad line(s) skipped" in result.stderr
