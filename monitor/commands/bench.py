"""`tsur bench nlp` and `tsur bench web`: speed figures of the pipeline and of the web UI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from monitor.collectors.waits import wait_behind
from monitor.commands.common import Obj, open_context
from monitor.demo import DEMO_STREAM
from monitor.incidents.queries import incident_count
from monitor.incidents.repeat_quality import PAIRS, evaluate, read_pairs
from monitor.incidents.repeats import Similarity
from monitor.incidents.synthetic import populate
from monitor.ingest.bench import Chunk, Stream, behind, grow, latency, next_chunk, on_copy
from nlp import ModelError, Pipeline
from nlp.bench import bench as run
from nlp.bench import pin_to_one_core
from nlp.data import labelled_files, text_records


@click.group()
def bench():
    """Speed figures measured by commands, never by timed tests."""


@bench.command("web")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="tsur-bench-web.db",
              show_default=True, help="SQLite file to create (must not hold incidents yet).")
@click.option("--incidents", default=1_000_000, show_default=True, type=click.IntRange(1),
              help="How many incidents to generate.")
@click.option("--municipalities", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--requests", default=200, show_default=True, type=click.IntRange(1),
              help="Timed requests per page and role.")
@click.option("--fresh", is_flag=True, help="Delete the database file first.")
@click.option("--reuse", is_flag=True, help="Measure an already filled bench database.")
@click.pass_obj
def bench_web(obj, db_path, incidents, municipalities, requests, fresh, reuse):
    """Fill a database with synthetic incidents and time the queue and incident pages.

    The pages are requested through the real app in-process as a logged-in moderator
    and as an official; p50/p95 are printed in milliseconds.

    Example: tsur bench web --fresh            (1,000,000 incidents, 50 municipalities)
    Example: tsur bench web --incidents 20000 --requests 50 --db /tmp/b.db --fresh
    """
    path = Path(db_path)
    if fresh and reuse:
        raise click.UsageError("--fresh and --reuse exclude each other")
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    # Lazy on purpose (declared in tests/test_architecture.py): the web stack is for the
    # commands that serve or time pages only.
    from monitor.web.bench import measure

    ctx = open_context(obj.settings, path, create=True)
    filled = incident_count(ctx.db)
    if filled and not reuse:
        raise click.ClickException(
            f"{path} already holds {filled} incidents; pass --fresh to start over "
            "or --reuse to measure it as it is")
    if not reuse:
        click.echo(f"filling {path.resolve()}: {incidents:,} incidents, "
                   f"{municipalities} municipalities")
        began, shown = time.perf_counter(), [0]

        def progress(p):
            if p.table == "indexes":
                if p.done:
                    click.echo(f"  index {p.done}/{p.total} built "
                               f"({time.perf_counter() - began:.0f} s)")
                return
            if p.done - shown[0] >= max(p.total // 20, 1) or p.done == p.total:
                shown[0] = p.done
                rate = p.done / max(time.perf_counter() - began, 1e-9)
                click.echo(f"  {p.done:>9,} / {p.total:,} {p.table}  ({rate:,.0f}/s)")

        try:
            populate(ctx, incidents, municipalities, progress=progress)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"filled in {time.perf_counter() - began:.1f} s")
    elif not filled:
        raise click.ClickException(f"{path} holds no incidents; run without --reuse first")
    click.echo(f"timing {requests} requests per page and role…")
    try:
        timings = measure(ctx, requests, progress=lambda s: click.echo(f"  {s}"))
    except (ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("")
    click.echo(f"{'page':<18} {'role':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for t in timings:
        click.echo(f"{t.page:<18} {t.role:<10} {t.p50_ms:>8.1f} {t.p95_ms:>8.1f} {t.max_ms:>8.1f}")
    ctx.db.close()


def _texts(settings, data_path: str | None) -> list[str]:

    paths = [Path(data_path)] if data_path else labelled_files(settings.data_dir)
    return [record["text"] for _, record in text_records(paths)]


# Messages per second on one core: with warm caches (the NLP issue's targets) and on
# texts never seen, caches warmed on others (the ingest issue's target for appeals).
SPEED_GOALS = {"short": 4000, "long": 2500}
UNSEEN_GOALS = {"long": 2000}


@bench.command("nlp")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="JSONL with a text field (default: every file of data/labelled).")
@click.option("--baseline-sample", default=300, show_default=True, type=int,
              help="Messages for the natasha baseline (it is slow).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the figures as JSON.")
@click.pass_obj
def bench_nlp(obj: Obj, data_path, baseline_sample, json_path):
    """Messages/s of the full pipeline and of natasha's full Doc pipeline, on one core.

    Short posts (under 20 words) and long appeals are measured apart. Both pipelines run
    in this process, pinned to one CPU core, timed in CPU seconds: ours in batches as
    `tsur classify` sends them (half of each group with cold caches, the other half as
    unseen texts with caches warmed on the first, then all of it warm as in a running
    service), natasha (segment, morph, NER) over an evenly spaced
    sample. Prints both and the ratio (warm pipeline / natasha) for each group.

    Example: tsur bench nlp --json bench.json
    """
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
    click.echo(f"measuring {len(texts)} messages; natasha baseline on up to {baseline_sample} of each group…")
    figures = run(pipeline, texts, baseline_sample=baseline_sample)
    for name, group in figures["groups"].items():
        title = {"short": "short posts", "long": "long appeals"}[name]
        click.echo(f"{title} ({group['messages']} messages, median {group['median_words']} words):")
        click.echo(f"   pipeline (tsur), first pass: {group['pipeline_cold_msg_per_s']:>8.1f} messages/s")
        click.echo(f"   pipeline (tsur), unseen:     {group['pipeline_unseen_msg_per_s']:>8.1f} messages/s")
        click.echo(f"   pipeline (tsur), warm:       {group['pipeline_msg_per_s']:>8.1f} messages/s")
        click.echo(f"   natasha Doc (segment, morph, NER): {group['natasha_msg_per_s']:>6.1f} messages/s")
        click.echo(f"   ratio:                       {group['ratio']:>8.1f}×")
        goal = SPEED_GOALS[name]
        targets = [(f"≥ {goal} messages/s warm", group["pipeline_msg_per_s"] >= goal),
                   ("≥ 10× natasha", group["ratio"] >= 10)]
        if name in UNSEEN_GOALS:
            targets.append((f"≥ {UNSEEN_GOALS[name]} messages/s unseen",
                            group["pipeline_unseen_msg_per_s"] >= UNSEEN_GOALS[name]))
        for target, met in targets:
            click.echo(f"   {'ok ' if met else 'MISS'} {target}")
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_path}")


@bench.command("repeats")
@click.option("--pairs", "pairs_path", type=click.Path(exists=True, dir_okay=False),
              default=str(PAIRS), show_default=True, help="JSONL of labelled pairs.")
@click.option("--mistakes", is_flag=True, help="Also print every wrong or missed link.")
def bench_repeats(pairs_path, mistakes):
    """Precision and recall of linking repeats on labelled pairs of complaints.

    Every first complaint of a topic is an open incident; each second one is linked (or
    not) as ingest would link it. Pairs are the same problem at the same place, or not
    (another problem at that place, the same problem elsewhere, no place).

    Example: tsur bench repeats --mistakes
    """
    quality = evaluate(Similarity(), read_pairs(Path(pairs_path)))
    click.echo(f"{quality.pairs} pairs: {quality.linked_right} linked right, "
               f"{quality.linked_wrong} linked wrong, {quality.missed} repeats missed")
    click.echo(f"precision {quality.precision:.3f}, recall {quality.recall:.3f} "
               f"({quality.seconds * 1000 / max(quality.pairs, 1):.1f} ms per look-up)")
    if mistakes:
        for line in quality.mistakes:
            click.echo(f"  {line}")


@bench.command("ingest")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="tsur-bench-ingest.db",
              show_default=True, help="SQLite file grown once and reused by later runs.")
@click.option("--posts", "--size", "posts", default=100_000, show_default=True,
              type=click.IntRange(1), help="Posts to grow the database to before the measured chunk.")
@click.option("--chunk", default=10_000, show_default=True, type=click.IntRange(1),
              help="Posts per printed chunk (and in the measured one).")
@click.option("--single", default=50, show_default=True, type=click.IntRange(1),
              help="Posts timed alone until their incident can be read.")
@click.option("--large", default=500, show_default=True, type=click.IntRange(1),
              help="Posts of the large batch a one-post source arrives behind.")
@click.option("--fresh", is_flag=True, help="Delete the database file first.")
@click.pass_obj
def bench_ingest(obj: Obj, db_path, posts, chunk, single, large, fresh):
    """Ingest posts/s as the store grows, beside labelling speed on the same texts.

    Grows a database with a generated stream (texts of the demo stream and data/labelled,
    varied pages, authors, replies, streets and times, 1,500 posts a day) up to --posts,
    printing each chunk, then ingests one more chunk into a copy (the grown file stays
    for the next run). Per chunk: posts/s, the share of time in labelling, repeats,
    spikes and storing, the pipeline's msg/s on the same texts and the ratio. One core.
    On the copy it then times single posts until their incident can be read (median,
    p95) and a one-post source read just after a 500-post batch of another source,
    through the collectors' runner.

    Example: tsur bench ingest --posts 20000 --chunk 5000
    """
    settings = obj.settings
    path = Path(db_path)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    click.echo(pin_to_one_core())
    try:
        stream = Stream.read(DEMO_STREAM, labelled_files(settings.data_dir))
    except (OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    ctx = open_context(settings, path, pipeline=True, create=True)
    click.echo(f"{'stored':>9} {'posts/s':>8} {'label':>6} {'repeats':>8} {'spikes':>7} {'store':>6}"
               f" {'labelling msg/s':>16} {'ratio':>6}")

    def show(c: Chunk, note: str = "") -> None:
        shares = c.shares()
        click.echo(f"{c.stored:>9,} {c.posts_per_s:>8.1f} {shares['label']:>6.0%} {shares['repeats']:>8.0%}"
                   f" {shares['spikes']:>7.0%} {shares['store']:>6.0%} {c.label_per_s:>16.0f}"
                   f" {c.ratio:>6.3f}{note}")

    began = time.perf_counter()
    grow(ctx, stream, posts, chunk, on_chunk=show)
    grown = time.perf_counter() - began

    def measure(copy):
        return (next_chunk(stream, chunk)(copy), latency(copy, stream, single),
                behind(copy, stream, wait_behind, large))

    measured, alone, wait = on_copy(ctx, path, measure)
    show(measured, "  (next chunk, on a copy)")
    click.echo(f"grown in {grown:,.0f} s (wall clock)")
    click.echo(f"a post alone until its incident can be read: median {alone.quantile(0.5) * 1000:.0f} ms,"
               f" p95 {alone.quantile(0.95) * 1000:.0f} ms ({len(alone.seconds)} posts)")
    click.echo(f"a one-post source read just after a {wait.large_posts}-post batch of another:"
               f" waited {wait.waited * 1000:.0f} ms (the whole batch took {wait.large:.1f} s)")
    ctx.db.close()


COMMANDS: list = [bench]
