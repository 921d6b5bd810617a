"""`tsur classify`, `tsur train`, `tsur evaluate`, and the demo stream as a labelled set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.clock import SystemClock
from monitor.commands.common import BATCH, municipalities
from monitor.demo import DEMO_CONFIG, DEMO_DIR, DEMO_STREAM
from monitor.ingest.lines import BadLine, records
from monitor.ingest.threads import thread_root
from monitor.retraining.corrections import export_reviews, reviews_since
from monitor.settings import load_settings
from monitor.store import open_db
from nlp import ModelError, Pipeline
from nlp.data import holdout_files, labelled_files, read_labelled, split, tuning_file
from nlp.evaluate import evaluate as run
from nlp.evaluate import format_report
from nlp.models import DEFAULT_FAMILY, FAMILIES, VECTOR_WEIGHT
from nlp.train import train as train_models


def demo_records() -> list[dict]:
    """The bundled demo stream joined with its expected labels, as labelled records.

    The page municipality of each post comes from the demo configuration's sources,
    as it would in production.
    """

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


def exchange_problem(record: dict) -> str | None:
    """Why a record of the exchange format cannot be labelled (None: it can)."""
    if not isinstance(record.get("text", ""), str):
        return "text must be a string"
    if not isinstance(record.get("source_municipality"), str | None):
        return "source_municipality must be a municipality key or null"
    return None


@click.command()
@click.option("--input", "source", type=click.File("rb"), default="-",
              help="JSONL in (default stdin).")
@click.option("--output", "target", type=click.File("w", encoding="utf-8"), default="-",
              help="JSONL out (default stdout).")
@click.option("--explain", is_flag=True, help="Add the explanation of each label.")
@click.pass_obj
def classify(obj, source, target, explain):
    """Label messages: JSON Lines in the exchange format of data/labels.md.

    Each input line is {"id", "text", "source", "source_municipality"} and, for a
    reply in a thread, optionally "context": the text of the post it answers; each
    output line adds kind, topic, municipality, urgency and scores. A bad line (not UTF-8,
    not a JSON object, a list where text belongs…) is reported on stderr with its number
    and skipped, the rest is labelled, and the exit code is then 1; a lone surrogate in a
    text becomes U+FFFD.

    Example: tsur classify < in.jsonl > out.jsonl
    """
    settings = obj.settings
    try:
        pipeline = Pipeline.load(settings.models_dir, region=settings.region,
                                 regions_dir=settings.data_dir / "regions")
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    bad = 0
    batch: list[dict] = []

    def flush():
        labels = pipeline.label([r.get("text") or "" for r in batch],
                                source_municipality=[r.get("source_municipality") for r in batch],
                                context=[r.get("context") if isinstance(r.get("context"), str) else None
                                         for r in batch],
                                explain=explain)
        for record, label in zip(batch, labels, strict=True):
            out = {**record, "kind": label.kind, "topic": label.topic,
                   "municipality": label.municipality, "urgency": label.urgency,
                   "scores": label.scores}
            if explain:
                out["explanations"] = label.explanations
            target.write(json.dumps(out, ensure_ascii=False) + "\n")
        target.flush()
        batch.clear()

    for number, record in records(source):
        problem = record.error if isinstance(record, BadLine) else exchange_problem(record)
        if problem:
            bad += 1
            click.echo(f"line {number}: {problem}; skipped", err=True)
            continue
        batch.append(record)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if bad:
        click.echo(f"{bad} bad line(s) skipped", err=True)
        sys.exit(1)


@click.command()
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--promote/--no-promote", default=None,
              help="Make the new versions production (default: only if none exists).")
@click.option("--family", type=click.Choice(FAMILIES), default=DEFAULT_FAMILY, show_default=True,
              help="Linear model: the calibrated SVM or logistic regression.")
@click.option("--vectors/--no-vectors", default=True, show_default=True,
              help="Add natasha's navec word vectors (averaged per message) to the features.")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="Training set written by `tsur labels export` (default: data/labelled plus the reviews).")
@click.option("--corrections/--no-corrections", default=True, show_default=True,
              help="Add the moderators' reviewed posts from the configured database (their train share).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Database with the reviews (default: the configured one).")
@click.pass_obj
def train(obj, seed, promote, family, vectors, data_path, corrections, db_path):
    """Train the kind, topic and urgency models on data/labelled and the moderators' reviews.

    Every message is put in the train or the test share by a hash of its id, so the
    fixed test split never changes, and a reviewed post is either trained on or, in
    the recent-corrections set, judged on — never both. The test split,
    data/holdout/*.jsonl and the demo stream are evaluated, never trained on; their
    figures go into each version's metrics.json and model card. The thresholds that
    make `other` a sure decision are chosen on the registers holdout
    (data/holdout/registers.jsonl) when it exists.

    Example: tsur train --seed 0 --promote
    """
    settings = obj.settings
    known = municipalities(settings)
    paths = [Path(data_path)] if data_path else labelled_files(settings.data_dir)
    records, problems = read_labelled(paths, known)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if not records:
        raise click.ClickException(f"no labelled messages in {', '.join(map(str, paths))}")
    others = {}
    for path in holdout_files(settings.data_dir):
        others[path.stem], holdout_problems = read_labelled([path], known)
        for problem in holdout_problems:
            click.echo(f"skipped {problem}", err=True)
    others["demo"] = demo_records() if settings.region == "52" else []
    reviews_until = None
    if corrections and not data_path:
        # a reviewed post whose text an evaluation set holds is left out: it would leak
        evaluated = [r for records_ in others.values() for r in records_]
        reviewed, reviews_until = reviewed_posts(settings, db_path, records + evaluated)
        records += reviewed
    train_records, test_records = split(records)
    tuning = others.get(tuning_file(settings.data_dir).stem)
    click.echo(f"{len(train_records)} training messages, {len(test_records)} held out for evaluation"
               f" (+ " + ", ".join(f"{len(v)} {k}" for k, v in others.items()) + ")")
    if not tuning:
        click.echo(f"no {tuning_file(settings.data_dir)}: `other` will be simply the likeliest class", err=True)
    steps = ["lemmatising", "training kind", "training topic", "training urgency", "choosing the critical threshold"]
    with click.progressbar(length=len(steps), label="training", show_pos=True) as bar:
        def progress(step):
            bar.label = step
            bar.update(1)
        created = train_models(train_records, test_records, settings.models_dir,
                               now=SystemClock().now(), seed=seed, promote=promote,
                               others=others, tuning=tuning, family=family, progress=progress,
                               vector_weight=VECTOR_WEIGHT if vectors else 0.0, reviews_until=reviews_until)
    for task, version in created.items():
        click.echo(f"{task}: {settings.models_dir / task / version}")


def reviewed_posts(settings, db_path, labelled: list[dict]) -> tuple[list[dict], str | None]:
    """The train share of the moderators' reviewed posts as labelled records (`tsur labels
    export`'s rules; a text `labelled` holds is left out) and the time of the latest review
    weighed; none without a database."""
    path = Path(db_path) if db_path else settings.database
    if not path.exists():
        click.echo(f"no database {path}: training on data/labelled alone")
        return [], None
    db = open_db(path, upgrade=False)
    export = export_reviews(db, labelled=labelled)
    corrected = sum(not r["provenance"]["confirmed"] for r in export.records)
    click.echo(f"{len(export.records)} reviewed posts from {path} ({corrected} corrected):"
               f" {len(export.train)} to train on, {len(export.recent)} kept for the recent-corrections set")
    # every review read was weighed (learnt, kept for evaluation, or left to the data files)
    latest = max((review["at"] for review in reviews_since(db)), default=None)
    return export.train, latest


@click.command()
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="Labelled JSONL to evaluate on (default: the fixed test split of data/labelled).")
@click.option("--demo", is_flag=True, help="Evaluate on the bundled demo stream and its expected labels.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the report as JSON.")
@click.pass_obj
def evaluate(obj, data_path, demo, json_path):
    """Print precision/recall/F1, confusion matrices and municipality accuracy.

    Example: tsur evaluate --data data/holdout/unseen.jsonl --json evaluation.json
    """
    settings = obj.settings
    problems = []
    if demo:
        records = demo_records()
    elif data_path:
        records, problems = read_labelled([data_path], municipalities(settings))
    else:
        records, problems = read_labelled(labelled_files(settings.data_dir), municipalities(settings))
        records = split(records)[1]
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if not records:
        raise click.ClickException("no labelled messages to evaluate on")
    try:
        pipeline = Pipeline.load(settings.models_dir, region=settings.region,
                                 regions_dir=settings.data_dir / "regions")
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    report = run(pipeline, records)
    click.echo(format_report(report))
    if json_path:
        Path(json_path).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"wrote {json_path}")


COMMANDS: list = [classify, train, evaluate]
