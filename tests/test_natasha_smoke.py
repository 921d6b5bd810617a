"""natasha pulls pymorphy2, which needs setuptools (pkg_resources) on Python ≥ 3.11."""

from natasha import MorphVocab, NewsEmbedding, NewsNERTagger


def test_natasha_morph_vocab_and_ner_tagger_build():
    vocab = MorphVocab()
    assert vocab.parse("Дзержинске")
    tagger = NewsNERTagger(NewsEmbedding())
    markup = tagger("В Дзержинске третий день нет воды")
    assert any(span.type == "LOC" for span in markup.spans)
