"""Hashed features: the numpy MurmurHash3 is scikit-learn's, and a batch's counts do not
depend on how texts are batched or on what the caches already hold."""

import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import murmurhash3_32

from nlp import hashing
from nlp.data import labelled_files, text_records
from nlp.features import CHAR_FEATURES, CHAR_NGRAMS, LEMMA_FEATURES, Featurizer, char_columns
from nlp.text import Morph, clean
from nlp.vectors import WordVectors

ROOT = Path(__file__).resolve().parents[1]

# Written for these tests: what residents type, and what hostile input brings.
PIECES = ["", " ", "a", "ab", "abc", "abcd", "abcde", "ёлка", "Ёжик", "ё", "подъезд", "5-а", "2024",
          "😡", "👍🏻", "🏚️ нет света", "Ханты-Мансийск", "ул. Гайдара, д. 5", "\u0301", "\x00", "\uffff",
          "\U0010ffff", "𝐀𝐁", "ß", "İ"]


def hash_strings(texts: list[str], seed: int) -> list[int]:
    """The numpy hash of each text, all in one call."""
    data, at = hashing.utf8("".join(texts))
    ends = np.cumsum([0, *map(len, texts)])
    return hashing.murmurhash3_32(data, at[ends[:-1]], at[ends[1:]], seed).tolist()


def strings(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abzAZ0189 -_.,!?ёЁжщъыэюяАБЯ€ß\t😀🎉👍🏻\u0301\uffff\U0010ffff"
    made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]
    return PIECES + made


@pytest.mark.parametrize("seed", [0, 1, 2**31 + 5])
def test_the_numpy_hash_is_scikit_learns(seed):
    texts = strings(5000)
    assert hash_strings(texts, seed) == [murmurhash3_32(t, seed=seed) for t in texts]


def test_a_lone_surrogate_raises_as_scikit_learn_does():
    for text in ["\ud800", "а\udfffб"]:
        with pytest.raises(UnicodeEncodeError):
            murmurhash3_32(text, seed=0)
        with pytest.raises(UnicodeEncodeError):
            hash_strings(["ok", text], 0)


def test_the_column_of_the_smallest_hash_is_taken_as_python_takes_it():
    hashes = np.array([-(2**31), -1, 0, 2**31 - 1], dtype=np.int32)
    assert hashing.columns(hashes, CHAR_FEATURES).tolist() == [abs(int(h)) % CHAR_FEATURES for h in hashes]


def test_character_columns_are_the_hashes_of_each_tokens_grams():
    tokens = [t for t in strings(2000, seed=11) if t]
    lead = np.arange(len(tokens), dtype=np.int32)
    low, high = CHAR_NGRAMS
    for number, (token, got) in enumerate(zip(tokens, char_columns(tokens, lead=lead), strict=True)):
        padded = f" {token} "
        grams = [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]
        expected = [LEMMA_FEATURES + abs(murmurhash3_32(g, seed=0)) % CHAR_FEATURES for g in grams]
        assert got.tolist() == [number, *expected]


def featurize(featurizer: Featurizer, texts: list[str], size: int):
    batches = [featurizer.transform(texts[i : i + size]) for i in range(0, len(texts), size)]
    rows = [b.counts.getrow(r) for b in batches for r in range(b.counts.shape[0])]
    terms = [(b.term_rows[i] + start, b.term_columns[i], b.term_names[i])
             for start, b in zip(range(0, len(texts), size), batches, strict=True) for i in range(len(b.term_names))]
    return ([(r.indices.tolist(), r.data.tolist()) for r in rows], terms,
            np.concatenate([b.vectors for b in batches]))


def test_counts_do_not_depend_on_batch_size_or_cache_state(pipeline):
    records = [r["text"] for _, r in text_records(labelled_files(ROOT / "data"))]
    texts = [clean(t) for t in records[::25]] + [clean(t) for t in PIECES] + ["Вода? Вода! 😡😡 вода-вода ВОДА"]

    def fresh() -> Featurizer:
        morph = Morph(analyzer=pipeline.morph.analyzer)
        return Featurizer(morph, WordVectors(morph, pipeline.vectors.embedding))

    whole = featurize(fresh(), texts, len(texts))
    for size in (1, 7, 256):
        featurizer = fresh()
        cold = featurize(featurizer, texts, size)
        warm = featurize(featurizer, texts, size)
        for got in (cold, warm):
            assert got[0] == whole[0] and got[1] == whole[1]
            np.testing.assert_array_equal(got[2], whole[2])


def test_a_text_with_a_lone_surrogate_fails_as_before_and_leaves_the_featuriser_usable():
    # The collectors replace lone surrogates before labelling; the featuriser itself
    # refuses them, as scikit-learn's hash always did.
    featurizer = Featurizer(Morph())
    with pytest.raises(UnicodeEncodeError):
        featurizer.transform([clean("всё хорошо"), clean("вода \ud800 нет")])
    assert featurizer.transform([clean("всё хорошо")]).counts.nnz > 0
