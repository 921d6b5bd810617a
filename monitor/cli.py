"""The `tsur` command: thin wrappers over the library, one function per command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.commands import COMMAND_MODULES
from monitor.commands.common import BATCH, Obj, municipalities, open_context
from monitor.settings import load_settings


@click.group()
@click.version_option(package_name="tsur")
@click.option("--config", type=click.Path(dir_okay=False), envvar="TSUR_CONFIG",
              help="tsur.toml to use (default: $TSUR_CONFIG, else built-in defaults).")
@click.pass_context
def cli(click_ctx, config):
    """tsur: residents' messages from VK and Telegram → labelled incidents for a ЦУР."""
    click_ctx.obj = Obj(config)


# --- demo and serve -------------------------------------------------------------


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="tsur-demo.db",
              show_default=True, help="SQLite file to create or reuse.")
@click.option("--fresh", is_flag=True, help="Delete the database file first.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Replay and exit without serving the web UI.")
@click.pass_obj
def demo(obj, db_path, fresh, host, port, no_serve):
    """Replay the bundled stream into a local database and serve the web UI.

    Example: tsur demo   (then open http://127.0.0.1:8000)
    """
    from monitor.demo import DEMO_CONFIG, DEMO_STREAM, prepare, replay

    settings = load_settings(obj.config_path or DEMO_CONFIG)
    db_file = Path(db_path)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    click.echo(f"database: {db_file.resolve()}")
    click.echo("loading models…")
    ctx = open_context(settings, db_file, pipeline=True)
    credentials = prepare(ctx)
    click.echo(f"replaying {DEMO_STREAM.name} ({ctx.pipeline.version})")

    shown = [0]

    def progress(n, report):
        if n - shown[0] >= 100:
            shown[0] = n
            click.echo(f"  {n} messages: {report}")

    report, bad = replay(ctx, DEMO_STREAM, progress=progress,
                         on_bad_line=lambda b: click.echo(f"  skipped {b}", err=True))
    click.echo(f"done: {report}")
    if no_serve:
        sys.exit(1 if bad else 0)
    _serve(ctx, host, port, credentials)


@cli.command()
@click.option("--host", default=None, help="Default: [web] host of tsur.toml.")
@click.option("--port", default=None, type=int, help="Default: [web] port of tsur.toml.")
@click.pass_obj
def serve(obj, host, port):
    """Serve the web UI over the configured database.

    Example: TSUR_SECRET_KEY=… tsur --config tsur.toml serve
    """
    settings = obj.settings
    ctx = open_context(settings)
    from monitor.store.catalog import sync_from_settings

    sync_from_settings(ctx.db, settings, ctx.clock.now())
    _serve(ctx, host or settings.host, port or settings.port, [])


def _serve(ctx, host, port, credentials):
    import uvicorn

    from monitor.web.app import create_app

    app = create_app(ctx)
    click.echo("")
    click.echo(f"tsur web UI: http://{host}:{port}")
    for c in credentials:
        org = f" ({c.organisation})" if c.organisation else ""
        click.echo(f"  {c.role:<15} login {c.login:<11} password {c.password}{org}")
    click.echo("Stop with Ctrl-C.")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    click.echo("stopped.")


# --- data in ----------------------------------------------------------------------


@cli.command("replay")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.option("--rebase/--no-rebase", default=False, show_default=True,
              help="Move timestamps so the last message arrives now.")
@click.pass_obj
def replay_command(obj, path, db_path, rebase):
    """Ingest a JSONL file of posts as a collector would (idempotent).

    Example: tsur replay data/demo/stream.jsonl --db tsur.db
    """
    from monitor.demo import replay
    from monitor.store.catalog import sync_from_settings

    ctx = open_context(obj.settings, db_path, pipeline=True)
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    report, bad = replay(ctx, Path(path), rebase=rebase,
                         on_bad_line=lambda b: click.echo(f"{path}: {b}", err=True))
    click.echo(str(report))
    if bad:
        click.echo(f"{len(bad)} bad line(s) skipped", err=True)
        sys.exit(1)


@cli.command()
@click.option("--input", "source", type=click.File("r", encoding="utf-8"), default="-",
              help="JSONL in (default stdin).")
@click.option("--output", "target", type=click.File("w", encoding="utf-8"), default="-",
              help="JSONL out (default stdout).")
@click.option("--explain", is_flag=True, help="Add the explanation of each label.")
@click.pass_obj
def classify(obj, source, target, explain):
    """Label messages: JSON Lines in the exchange format of data/labels.md.

    Each input line is {"id", "text", "source", "source_municipality"} and, for a
    reply in a thread, optionally "context": the text of the post it answers; each
    output line adds kind, topic, municipality, urgency and scores. A bad line is reported
    on stderr with its number and skipped; the exit code is then 1.

    Example: tsur classify < in.jsonl > out.jsonl
    """
    from nlp import ModelError, Pipeline

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

    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
            if not isinstance(record.get("text", ""), str):
                raise ValueError("text must be a string")
        except ValueError as error:
            bad += 1
            click.echo(f"line {number}: {error}; skipped", err=True)
            continue
        batch.append(record)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if bad:
        click.echo(f"{bad} bad line(s) skipped", err=True)
        sys.exit(1)


# --- database ---------------------------------------------------------------------


@cli.group()
def db():
    """The SQLite database: schema migrations."""


@db.command("upgrade")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def db_upgrade(obj, db_path):
    """Apply pending migrations to an existing database, keeping its data.

    Example: tsur db upgrade --db tsur.db
    """
    from monitor.store import migrations, open_db, pending_migrations

    path = Path(db_path) if db_path else obj.settings.database
    database = open_db(path, upgrade=False)
    pending = pending_migrations(database)
    if not pending:
        click.echo(f"{path}: up to date")
        return
    migrations.apply(database)
    for name in pending:
        click.echo(f"applied {name}")


@db.command("status")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.pass_obj
def db_status(obj, db_path):
    """List applied and pending migrations.

    Example: tsur db status --db tsur.db
    """
    from monitor.store import applied_migrations, open_db, pending_migrations

    path = Path(db_path) if db_path else obj.settings.database
    database = open_db(path, upgrade=False)
    for name in applied_migrations(database):
        click.echo(f"applied  {name}")
    for name in pending_migrations(database):
        click.echo(f"pending  {name}")


# --- users ------------------------------------------------------------------------


@cli.group()
def users():
    """People who log in to the web UI."""


@users.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(["admin", "moderator", "official", "data_scientist"]), required=True)
@click.option("--organisation", help="Organisation key (required for officials).")
@click.option("--name", help="Full name shown in the UI.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Default: the configured database.")
@click.password_option(envvar="TSUR_NEW_USER_PASSWORD")
@click.pass_obj
def users_add(obj, login, role, organisation, name, db_path, password):
    """Create a user; the password is asked twice (or read from $TSUR_NEW_USER_PASSWORD).

    Example: tsur users add ivanova --role moderator --name "Ольга Иванова"
    """
    from monitor.store.catalog import sync_from_settings
    from monitor.users import UserError, create_user

    ctx = open_context(obj.settings, db_path)
    sync_from_settings(ctx.db, ctx.settings, ctx.clock.now())
    try:
        create_user(ctx.db, login, password, role, ctx.clock.now(), name=name, organisation=organisation)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"user {login} ({role}) created")


# --- models -----------------------------------------------------------------------


@cli.command()
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--promote/--no-promote", default=None,
              help="Make the new versions production (default: only if none exists).")
@click.pass_obj
def train(obj, seed, promote):
    """Train the kind, topic and urgency models on data/labelled (train split).

    The fixed test split, data/holdout/*.jsonl and the demo stream are evaluated,
    never trained on; their figures go into each version's metrics.json and model card.

    Example: tsur train --seed 0 --promote
    """
    from monitor.clock import SystemClock
    from monitor.commands.nlp import demo_records
    from nlp.data import holdout_files, labelled_files, read_labelled, split
    from nlp.train import train as train_models

    settings = obj.settings
    known = municipalities(settings)
    records, problems = read_labelled(labelled_files(settings.data_dir), known)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if not records:
        raise click.ClickException(f"no labelled messages in {settings.data_dir / 'labelled'}")
    train_records, test_records = split(records)
    holdout, holdout_problems = read_labelled(holdout_files(settings.data_dir), known)
    for problem in holdout_problems:
        click.echo(f"skipped {problem}", err=True)
    others = {"holdout": holdout, "demo": demo_records() if settings.region == "52" else []}
    click.echo(f"{len(train_records)} training messages, {len(test_records)} held out for evaluation"
               f" (+ {len(holdout)} holdout, {len(others['demo'])} demo)")
    steps = ["lemmatising", "choosing the critical threshold", "training kind", "training topic", "training urgency"]
    with click.progressbar(length=len(steps), label="training", show_pos=True) as bar:
        def progress(step):
            bar.label = step
            bar.update(1)
        created = train_models(train_records, test_records, settings.models_dir,
                               now=SystemClock().now(), seed=seed, promote=promote,
                               others=others, progress=progress)
    for task, version in created.items():
        click.echo(f"{task}: {settings.models_dir / task / version}")


@cli.command()
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="Labelled JSONL to evaluate on (default: the fixed test split of data/labelled).")
@click.option("--demo", is_flag=True, help="Evaluate on the bundled demo stream and its expected labels.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the report as JSON.")
@click.pass_obj
def evaluate(obj, data_path, demo, json_path):
    """Print precision/recall/F1, confusion matrices and municipality accuracy.

    Example: tsur evaluate --data data/holdout/unseen.jsonl --json evaluation.json
    """
    from monitor.commands.nlp import demo_records
    from nlp import ModelError, Pipeline
    from nlp.data import labelled_files, read_labelled, split
    from nlp.evaluate import evaluate as run
    from nlp.evaluate import format_report

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


# Feature commands live in monitor/commands/<feature>.py, each listing its COMMANDS.
for _module in COMMAND_MODULES:
    for _command in _module.COMMANDS:
        cli.add_command(_command)
