"""`tsur bench nlp`, and the demo stream as a labelled evaluation set."""

from __future__ import annotations

import json
from pathlib import Path

import click

from monitor.commands.common import Obj


def demo_records() -> list[dict]:
    """The bundled demo stream joined with its expected labels, as labelled records.

    The page municipality of each post comes from the demo configuration's sources,
    as it would in production.
    """
    from monitor.demo import DEMO_CONFIG, DEMO_DIR, DEMO_STREAM
    from monitor.settings import load_settings
    from monitor.threads import thread_root

    pages = {s.key: s.municipality for s in load_settings(DEMO_CONFIG).sources}
    with open(DEMO_DIR / "expected.jsonl", encoding="utf-8") as f:
        expected = {(r["source"], r["external_id"]): r for r in map(json.loads, filter(str.strip, f))}
    with open(DEMO_STREAM, encoding="utf-8") as f:
        posts = [json.loads(line) for line in filter(str.strip, f)]
    by_id = {(p["source"], p["external_id"]): (p["text"], p.get("parent_id")) for p in posts}
    records = []
    for post in posts:
        labels = expected.get((post["source"], post["external_id"]))
        if labels is None:
            continue
        records.append({
            "id": post["external_id"], "text": post["text"],
            "source_municipality": pages.get(post["source"]),
            "context": thread_root(post.get("parent_id"), lambda parent, s=post["source"]: by_id.get((s, parent))),
            **{k: labels[k] for k in ("kind", "topic", "municipality", "urgency")},
        })
    return records


def _texts(settings, data_path: str | None) -> list[str]:
    from nlp.data import labelled_files

    paths = [Path(data_path)] if data_path else labelled_files(settings.data_dir)
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("text"), str):
                    texts.append(record["text"])
    return texts


@click.command("nlp")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="JSONL with a text field (default: every file of data/labelled).")
@click.option("--baseline-sample", default=300, show_default=True, type=int,
              help="Messages for the natasha baseline (it is slow).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the figures as JSON.")
@click.pass_obj
def bench_nlp(obj: Obj, data_path, baseline_sample, json_path):
    """Messages/s of the full pipeline and of natasha's full Doc pipeline, on one core.

    Both run in this process, pinned to one CPU core, timed in CPU seconds: the pipeline
    twice over every message in batches as `tsur classify` sends them (first pass with
    cold caches, then warm as in a running service), natasha (segment, morph, NER) over
    an evenly spaced sample. Prints both and the ratio (warm pipeline / natasha).

    Example: tsur bench nlp --json bench.json
    """
    from nlp import ModelError, Pipeline
    from nlp.bench import bench as run
    from nlp.bench import pin_to_one_core

    settings = obj.settings
    texts = _texts(settings, data_path)
    if not texts:
        raise click.ClickException("no messages to measure on: give --data a JSONL file with a text field")
    click.echo(pin_to_one_core())
    try:
        pipeline = Pipeline.load(settings.models_dir, region=settings.region,
                                 regions_dir=settings.data_dir / "regions")
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"measuring {len(texts)} messages; natasha baseline on {min(baseline_sample, len(texts))}…")
    figures = run(pipeline, texts, baseline_sample=baseline_sample)
    click.echo(f"pipeline (tsur), first pass: {figures['pipeline_cold_msg_per_s']:>8.1f} messages/s (cold caches)")
    click.echo(f"pipeline (tsur):            {figures['pipeline_msg_per_s']:>9.1f} messages/s (warm caches)")
    click.echo(f"natasha Doc (segment, morph, NER): {figures['natasha_msg_per_s']:>6.1f} messages/s")
    click.echo(f"ratio:                      {figures['ratio']:>9.1f}×")
    targets = (("≥ 1000 messages/s", figures["pipeline_msg_per_s"] >= 1000),
               ("≥ 10× natasha", figures["ratio"] >= 10))
    for name, met in targets:
        click.echo(f"   {'ok ' if met else 'MISS'} {name}")
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_path}")


try:  # `tsur bench` is one group shared by the features that measure something
    from monitor.commands.webadmin import bench
except ImportError:  # pragma: no cover - the web feature is absent
    @click.group()
    def bench():
        """Measure throughput (figures printed, never asserted by tests)."""

bench.add_command(bench_nlp)

COMMANDS: list = [bench]
