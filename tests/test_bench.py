"""`tsur bench nlp` prints both throughputs and the ratio (figures, never timed asserts)."""

import json

import pytest

from monitor.cli import cli
from nlp.bench import bench


def test_bench_reports_pipeline_baseline_and_ratio(pipeline):
    figures = bench(pipeline, ["в Дзержинске нет воды", "яма на Ленина 5", "спасибо!"], baseline_sample=2)
    assert figures["messages"] == 3 and figures["baseline_messages"] == 2
    assert figures["pipeline_msg_per_s"] > 0 and figures["natasha_msg_per_s"] > 0
    ratio = figures["pipeline_msg_per_s"] / figures["natasha_msg_per_s"]
    assert figures["ratio"] == pytest.approx(ratio, rel=0.05)


def test_bench_nlp_command_prints_both_and_writes_json(tmp_path, runner, monkeypatch):
    monkeypatch.setattr("nlp.bench.pin_to_one_core", lambda: "not pinned in tests")
    data = tmp_path / "texts.jsonl"
    data.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False)
                              for t in ["в Бору нет света", "когда уберут снег?", "не верный json"]) + "\n{bad",
                    encoding="utf-8")
    out = tmp_path / "bench.json"
    result = runner.invoke(cli, ["--config", "data/demo/tsur.toml", "bench", "nlp", "--data", str(data),
                                 "--baseline-sample", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "messages/s" in result.output and "ratio" in result.output
    assert json.loads(out.read_text())["messages"] == 3
