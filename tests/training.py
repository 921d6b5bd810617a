"""A small training setup for tests that run `tsur train`: every 12th labelled message,
the region files, a models folder of its own, and a config pointing at them."""

import json
from pathlib import Path

from monitor.demo import DEMO_CONFIG
from monitor.settings import DEFAULT_DATA_DIR
from nlp.data import labelled_files, read_labelled


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def small_training(tmp_path: Path, holdout: list[dict] = ()) -> tuple[Path, list[dict]]:
    """(the config, the labelled sample); `holdout` goes to data/holdout/unseen.jsonl."""
    data = tmp_path / "data"
    (data / "labelled").mkdir(parents=True)
    (data / "regions").symlink_to(DEFAULT_DATA_DIR / "regions")
    sample = read_labelled(labelled_files(DEFAULT_DATA_DIR))[0][::12]
    write_jsonl(data / "labelled" / "sample.jsonl", sample)
    if holdout:
        write_jsonl(data / "holdout" / "unseen.jsonl", list(holdout))
    config = tmp_path / "train.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8")
                      + f'\n[paths]\nmodels = "{tmp_path / "models"}"\ndata = "{data}"\n', encoding="utf-8")
    return config, sample
