"""`tsur bench nlp` prints both throughputs and the ratio (figures, never timed asserts)."""

import json

import pytest

from monitor.cli import cli
from nlp.bench import bench

LONG = ("Добрый день! Обращаюсь по поводу двора дома 12 по улице Гагарина: второй месяц не горят"
        " фонари у детской площадки, вечером дети играют в темноте, УК на звонки не отвечает.")


def test_bench_reports_short_posts_and_long_appeals_apart(pipeline):
    figures = bench(pipeline, ["в Дзержинске нет воды", "яма на Ленина 5", "спасибо!", LONG], baseline_sample=2)
    short, long = figures["groups"]["short"], figures["groups"]["long"]
    assert (figures["messages"], short["messages"], long["messages"]) == (4, 3, 1)
    assert short["baseline_messages"] == 2 and long["median_words"] == len(LONG.split())
    for group in (short, long):
        assert group["pipeline_msg_per_s"] > 0 and group["natasha_msg_per_s"] > 0
        assert group["pipeline_unseen_msg_per_s"] > 0 and group["pipeline_cold_msg_per_s"] > 0
        ratio = group["pipeline_msg_per_s"] / group["natasha_msg_per_s"]
        assert group["ratio"] == pytest.approx(ratio, rel=0.05)


def test_bench_nlp_command_prints_both_and_writes_json(tmp_path, runner, monkeypatch):
    monkeypatch.setattr("nlp.bench.pin_to_one_core", lambda: "not pinned in tests")
    data = tmp_path / "texts.jsonl"
    data.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False)
                              for t in ["в Бору нет света", "когда уберут снег?", LONG]) + "\n{bad",
                    encoding="utf-8")
    out = tmp_path / "bench.json"
    result = runner.invoke(cli, ["--config", "data/demo/tsur.toml", "bench", "nlp", "--data", str(data),
                                 "--baseline-sample", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "short posts (2 messages" in result.output and "long appeals (1 messages" in result.output
    assert "messages/s" in result.output and "ratio" in result.output and "unseen" in result.output
    assert json.loads(out.read_text())["messages"] == 3
