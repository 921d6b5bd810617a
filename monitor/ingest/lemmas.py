"""The lemmas pymorphy3 parsed at ingest, kept across restarts.

nlp ships a table of the lemmas of navec's 236,000 words (nlp.lemmas); a word outside
it (a typo, a rare name, slang) costs a pymorphy3 parse the first time a process meets
it. Residents repeat such words, so the ones parsed are stored after each batch and
given back to the pipeline when it is loaded: a restarted service does not parse them
again. Rows are kept per pymorphy3 version and dictionary (`Morph.version`); those of
another version are not read.
"""

from __future__ import annotations

from sqlite_utils import Database

from nlp.text import Morph


def restore(db: Database, morph: Morph) -> int:
    """Give `morph` the lemmas stored for its version; how many."""
    parsed = dict(db.execute("SELECT word, lemma FROM lemma_cache WHERE morph = ?", [morph.version]))
    morph.remember(parsed)
    return len(parsed)


def keep(db: Database, morph: Morph) -> int:
    """Store the words `morph` parsed since the last call; how many."""
    learned = morph.learned()
    db.conn.executemany("INSERT OR IGNORE INTO lemma_cache (word, lemma, morph) VALUES (?, ?, ?)",
                        [(word, lemma, morph.version) for word, lemma in learned.items()])
    return len(learned)
