"""Words outside the shipped lemma table are parsed once, then kept across restarts."""

from __future__ import annotations

from monitor.context import Context
from monitor.ingest import ingest, lemmas
from monitor.ingest.post import Post
from nlp.text import Morph

WORD = "шмурдяковщиной"  # in no dictionary: pymorphy3 has to guess its lemma


def test_a_word_parsed_at_ingest_is_not_parsed_again_after_a_restart(ctx):
    assert WORD not in ctx.pipeline.morph.table
    ingest(ctx, [Post("vk:-100003", "-100003_1_1", "vk_comment",
                      f"Во дворе опять пахнет {WORD}, мусор не вывозят", ctx.clock.now(), author_id="1")])
    stored = dict(ctx.db.execute("SELECT word, lemma FROM lemma_cache"))
    assert WORD in stored

    restarted = Morph()  # a new process: the shipped table only
    assert lemmas.restore(ctx.db, restarted) >= 1
    assert restarted.lemma(WORD) == stored[WORD]
    assert restarted.learned() == {}  # given back, not parsed


def test_lemmas_of_another_morphology_version_are_not_read(ctx):
    with ctx.db.atomic():
        ctx.db.execute("INSERT INTO lemma_cache (word, lemma, morph) VALUES (?, ?, ?)",
                       [WORD, "неверно", "pymorphy3 0.0, dictionary 0"])
    morph = Morph()
    assert lemmas.restore(ctx.db, morph) == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM lemma_cache").fetchone()[0] == 0  # deleted
    assert morph.lemma(WORD) != "неверно"
    assert WORD in morph.learned()
    assert lemmas.keep(ctx.db, morph) == 0  # handed out once: nothing new since


def test_each_parsed_word_is_stored_once(ctx):
    morph = Morph()
    morph.lemma(WORD)
    assert lemmas.keep(ctx.db, morph) == 1
    assert lemmas.keep(ctx.db, morph) == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM lemma_cache WHERE morph = ?", [morph.version]).fetchone()[0] == 1


def test_the_service_pipeline_starts_with_the_kept_lemmas(settings):
    service = Context.open(settings)
    morph = Morph()
    morph.lemma(WORD)
    lemmas.keep(service.db, morph)
    service.load_pipeline()  # as `tsur collect` and `tsur web` start
    assert service.pipeline.morph.remembered[WORD] == morph.lemma(WORD)
    service.db.close()


def test_only_the_newest_words_are_kept(ctx, monkeypatch):
    monkeypatch.setattr(lemmas, "KEPT", 2)
    morph = Morph()
    for word in ("шмурдяковщина", "бздыхалка", "квакозябра"):
        morph.lemma(word)
        lemmas.keep(ctx.db, morph)
    kept = {r[0] for r in ctx.db.execute("SELECT word FROM lemma_cache")}
    assert kept == {"бздыхалка", "квакозябра"}
    restarted = Morph()
    assert lemmas.restore(ctx.db, restarted) == 2
