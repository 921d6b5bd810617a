"""The lemmas pymorphy3 parsed at ingest, kept across restarts.

nlp ships a table of the lemmas of navec's 236,000 words (nlp.lemmas); a word outside
it (a typo, a rare name, slang) costs a pymorphy3 parse the first time a process meets
it. Residents repeat such words, so the ones parsed are stored after each batch and the
newest `KEPT` are given back to the pipeline when the service starts: a restart does not
parse the words of residents' messages again (the gazetteer's own words are parsed
while the pipeline loads, before). Rows are kept per pymorphy3 version and dictionary
(`Morph.version`); those of another version are deleted at start, and only the newest
`KEPT` stay, so a stream of made-up words cannot grow the table or the memory.
"""

from __future__ import annotations

from sqlite_utils import Database

from nlp.text import Morph

KEPT = 200_000  # about 30 MB of table and 40 MB in memory at most


def restore(db: Database, morph: Morph) -> int:
    """Give `morph` the newest lemmas stored for its version; how many."""
    with db.atomic():
        db.execute("DELETE FROM lemma_cache WHERE morph != ?", [morph.version])
    parsed = dict(db.execute("SELECT word, lemma FROM lemma_cache WHERE morph = ?"
                             " ORDER BY rowid DESC LIMIT ?", [morph.version, KEPT]))
    morph.remember(parsed)
    return len(parsed)


def keep(db: Database, morph: Morph) -> int:
    """Store the words `morph` parsed since the last call, in a transaction of their own
    (after the batch's: a batch rolled back keeps them), the newest `KEPT` only; how many."""
    learned = morph.learned()
    if not learned:
        return 0
    with db.atomic():
        db.conn.executemany("INSERT OR IGNORE INTO lemma_cache (word, lemma, morph) VALUES (?, ?, ?)",
                            [(word, lemma, morph.version) for word, lemma in learned.items()])
        db.execute("DELETE FROM lemma_cache WHERE rowid <= (SELECT MAX(rowid) FROM lemma_cache) - ?", [KEPT])
    return len(learned)
