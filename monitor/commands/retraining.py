"""`tsur labels export` and `tsur models list|compare|promote|rollback`: the retraining loop."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from monitor.clock import SystemClock
from monitor.commands.common import Obj, municipalities
from monitor.retraining.corrections import CorrectionError, export_reviews
from monitor.retraining.models import (
    check_version,
    compare,
    format_comparison,
    record_comparison,
)
from monitor.store import open_db
from nlp import Pipeline
from nlp.data import holdout_files, labelled_files, read_labelled, split
from nlp.labels import TASKS
from nlp.registry import (
    ModelError,
    promote,
    read_manifest,
    read_metrics,
    read_registry,
    rollback,
    versions,
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _existing_db(settings, db_path):
    """The configured database if it exists (these commands never create one)."""

    path = Path(db_path) if db_path else settings.database
    if not path.exists():
        return None
    return open_db(path)


def _labelled(settings) -> list[dict]:

    records, problems = read_labelled(labelled_files(settings.data_dir), municipalities(settings))
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    return records


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


# --- tsur labels -------------------------------------------------------------------


@click.group()
def labels():
    """Moderators' label corrections and confirmations: the training evidence."""


@labels.command("export")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.option("--output", type=click.Path(dir_okay=False), default="training.jsonl", show_default=True,
              help="Training set: data/labelled merged with the reviewed posts of the train share.")
@click.option("--recent", type=click.Path(dir_okay=False),
              help="Recent-corrections evaluation set (default: OUTPUT with .recent.jsonl).")
@click.option("--since", help="Only reviews at or after this UTC date or time (ISO), e.g. 2026-11-01.")
@click.option("--on-conflict", type=click.Choice(["latest", "skip"]), default="latest", show_default=True,
              help="When reviews of a post disagree: the latest review wins, or leave the post out.")
@click.option("--corrections-only", is_flag=True, help="Write only the reviewed posts, not data/labelled.")
@click.pass_obj
def labels_export(obj: Obj, db_path, output, recent, since, on_conflict, corrections_only):
    """Export reviewed posts (with who, when and which model) as a training set.

    Each reviewed post becomes one record in the data/labelled format with a stable id
    `mod-<hash>`. The id's hash decides its share exactly as the fixed split of
    nlp/data.py does: train-share records join the training set (OUTPUT), test-share
    records go to the recent-corrections evaluation set (--recent), which `tsur models
    compare` uses; so a corrected message is never both trained on and judged on, and
    the fixed test split of data/labelled stays as it is. Conflicting reviews are listed.

    Example: tsur labels export --db tsur.db --output training.jsonl
    """

    settings = obj.settings
    db = _existing_db(settings, db_path)
    if db is None:
        raise click.ClickException(f"database {db_path or settings.database} does not exist")
    labelled = _labelled(settings)
    # a text an evaluation set holds never becomes training data
    evaluated = read_labelled(holdout_files(settings.data_dir), municipalities(settings))[0]
    try:
        out = export_reviews(db, labelled=labelled + evaluated, since=since, on_conflict=on_conflict)
    except CorrectionError as error:
        raise click.ClickException(str(error)) from None
    reviewed = len(out.records) + out.same_text + out.in_data + len(out.invalid)
    click.echo(f"{reviewed} reviewed posts ({out.folded_reviews} further reviews folded into them)")
    confirmed = sum(r["provenance"]["confirmed"] for r in out.records)
    click.echo(f"  {len(out.records) - confirmed} corrected, {confirmed} confirmed as labelled")
    if out.same_text:
        click.echo(f"  {out.same_text} with the text of another reviewed post: kept the latest decision")
    if out.in_data:
        click.echo(f"  {out.in_data} whose text data/labelled or a holdout already holds: left out")
    for problem in out.invalid:
        click.echo(f"  skipped {problem}", err=True)
    rule = "the latest review wins" if on_conflict == "latest" else "post left out"
    for c in out.conflicts:
        said = "; ".join(f"{d['author']} {d['at'][:16]} → {d['value']}" for d in c["decisions"])
        click.echo(f"conflict: post {c['post_id']} {c['label']}: {said} ({rule}: {c['resolved']})")
    output = Path(output)
    recent_path = Path(recent) if recent else output.with_name(output.stem + ".recent.jsonl")
    records = out.train if corrections_only else labelled + out.train
    _write_jsonl(output, records)
    _write_jsonl(recent_path, out.recent)
    merged = "" if corrections_only else f"{len(labelled)} from data/labelled + "
    click.echo(f"wrote {output}: {merged}{len(out.train)} reviewed posts (train share)")
    click.echo(f"wrote {recent_path}: {len(out.recent)} reviewed posts (recent-corrections evaluation set)")


# --- tsur models -------------------------------------------------------------------


@click.group()
def models():
    """Model versions: list them, compare a candidate with production, promote, roll back."""


@models.command("list")
@click.pass_obj
def models_list(obj: Obj):
    """List the versions of each task with their test figures; * production, c candidate.

    Example: tsur models list
    """

    settings = obj.settings
    try:
        registry = read_registry(settings.models_dir)
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    for task in TASKS:
        click.echo(f"{task}:")
        for version in versions(settings.models_dir, task):
            manifest = read_manifest(settings.models_dir, task, version)
            test = read_metrics(settings.models_dir, task, version).get("test", {})
            marks = ("*" if registry.get("production", {}).get(task) == version else " ") + \
                    ("c" if registry.get("candidates", {}).get(task) == version else " ")
            click.echo(f"  {marks} {version:<12} trained {manifest.get('created_at', '?')[:16]}"
                       f"  {manifest.get('train_messages', '?')} messages"
                       f"  test macro-F1 {test.get('macro_f1', '—')}")


def _pairs(values: tuple[str, ...]) -> dict[str, str]:

    chosen = {}
    for value in values:
        task, _, version = value.partition("=")
        if task not in TASKS or not version:
            raise click.BadParameter(f"{value!r}: expected TASK=VERSION with TASK one of {', '.join(TASKS)}")
        chosen[task] = version
    return chosen


@models.command("compare")
@click.argument("candidate", nargs=-1)
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Database with the moderators' reviews (default: the configured one).")
@click.option("--recent", "recent_path", type=click.Path(exists=True, dir_okay=False),
              help="Recent-corrections set from `tsur labels export` (default: read from the database).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the report as JSON.")
@click.pass_obj
def models_compare(obj: Obj, candidate, db_path, recent_path, json_path):
    """Evaluate the candidate and the production versions side by side, per label.

    Both run on the same fixed test split of data/labelled, the holdouts
    (data/holdout/*.jsonl: registers, where the model family and thresholds are chosen,
    and unseen, the independent one) and the recently corrected messages (the test
    share of the moderators' reviews, never trained on).
    CANDIDATE: TASK=VERSION pairs; default: the candidates of models/registry.json.
    The report is kept in the database for the data scientists' page.

    Example: tsur models compare --db tsur.db
    """

    settings = obj.settings
    try:
        registry = read_registry(settings.models_dir)
        production = dict(registry.get("production", {}))
        chosen = {**production, **registry.get("candidates", {}), **_pairs(candidate)}
        labelled = _labelled(settings)
        sets = {"test": split(labelled)[1]}
        for path in holdout_files(settings.data_dir):  # registers: where family and thresholds are chosen
            sets[path.stem] = read_labelled([path], municipalities(settings))[0]
        db = _existing_db(settings, db_path)
        if recent_path:
            sets["recent"] = read_labelled([recent_path], municipalities(settings))[0]
        elif db is not None:
            sets["recent"] = export_reviews(db, labelled=labelled).recent
        if not sets.get("recent"):
            click.echo("no recently corrected messages yet: comparing on the test split only")
        click.echo("loading models…")
        base = Pipeline.load(settings.models_dir, region=settings.region,
                             regions_dir=settings.data_dir / "regions")
        report = compare(base, settings.models_dir, chosen, production, sets)
    except (ModelError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(format_comparison(report))
    if db is not None:
        record_comparison(db, report, chosen, production, _actor(), SystemClock().now())
    if json_path:
        Path(json_path).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"wrote {json_path}")


@models.command("promote")
@click.argument("chosen", nargs=-1)
@click.pass_obj
def models_promote(obj: Obj, chosen):
    """Make versions production (default: the candidates); the old pointer goes to history.

    Each version is loaded and its checksum checked first. A running `tsur collect`
    or `tsur serve` picks the new versions up before its next batch, without a restart.

    Example: tsur models promote kind=20261123.3
    """

    settings = obj.settings
    try:
        registry = read_registry(settings.models_dir)
        wanted = _pairs(chosen) or dict(registry.get("candidates", {}))
        if not wanted:
            raise click.ClickException("no candidates in models/registry.json: train with `tsur train`"
                                       " or name versions as TASK=VERSION")
        for task, version in wanted.items():
            check_version(settings.models_dir, task, version)
        old = dict(registry.get("production", {}))
        new = promote(settings.models_dir, wanted, SystemClock().now(), by=_actor())
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    if new == old:
        click.echo("already production: nothing changed")
    for task in new:
        if new[task] != old.get(task):
            click.echo(f"{task}: {old.get(task, '—')} → {new[task]}")


@models.command("rollback")
@click.pass_obj
def models_rollback(obj: Obj):
    """Put back the production versions the latest promotion replaced.

    Example: tsur models rollback
    """

    settings = obj.settings
    try:
        old = dict(read_registry(settings.models_dir).get("production", {}))
        new = rollback(settings.models_dir, SystemClock().now(), by=_actor())
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    for task in sorted(set(old) | set(new)):
        if new.get(task) != old.get(task):
            click.echo(f"{task}: {old.get(task, '—')} → {new.get(task, '—')}")


COMMANDS: list = [labels, models]
