"""natasha's NER as the fallback of the gazetteer for place names.

The gazetteer decides alone whenever it can: it is fast and knows the region. NER runs
only when the gazetteer found no place at all (a text naming only a destination or a
comparison leaves the decision to the page) and the text holds a capitalised word that
could be one of the region's names (a sentence-initial «Бор», a case form the
generator missed), and only on a few words around it. Its LOC spans are mapped back through the gazetteer, so NER never
invents a municipality: a LOC the gazetteer does not know (a street, a foreign town)
changes nothing.
"""

from __future__ import annotations

from natasha import NewsEmbedding, NewsNERTagger

from .places import Gazetteer, PlaceMatch
from .text import Token


class LocationTagger:
    """natasha's NewsNERTagger, built once; returns LOC spans as (start, stop)."""

    def __init__(self, tagger: NewsNERTagger | None = None):
        self.tagger = tagger or NewsNERTagger(NewsEmbedding())

    def locations(self, text: str) -> list[tuple[int, int]]:
        return self.locations_many([text])[0]

    def locations_many(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """LOC spans of many texts; slovnet tags a batch about twice as fast as one by one."""
        return [[(s.start, s.stop) for s in markup.spans if s.type == "LOC"]
                for markup in self.tagger.map(texts)]

    def resolve(self, text: str, tokens: list[Token], gazetteer: Gazetteer):
        """(municipality, match) from NER's LOC spans, or (None, None)."""
        return self.resolve_many([(text, tokens)], gazetteer)[0]

    def resolve_many(self, items: list[tuple[str, list[Token]]], gazetteer: Gazetteer):
        """`resolve` for many (text, tokens) pairs, tagged in one batch.

        Only texts with a capitalised candidate are tagged, and only on windows of
        WINDOW words around the runs the gazetteer could name (`named_spans`): NER's
        other spans could never map back to a place, and tagging a few sentences
        instead of a long appeal is what keeps the fallback cheap.
        """
        results = [(None, None)] * len(items)
        owners, pieces = [], []
        for i, (text, tokens) in enumerate(items):
            if not gazetteer.has_candidate(tokens) or gazetteer.find(text, tokens):
                continue  # nothing to look for, or the places named are all elsewhere («еду в Нижний»)
            for start, stop in _windows(tokens, gazetteer.named_spans(text, tokens)):
                owners.append((i, start))
                pieces.append(text[start:stop])
        found: dict[int, list[tuple[int, int]]] = {}
        for (i, offset), spans in zip(owners, self.locations_many(pieces) if pieces else [], strict=True):
            found.setdefault(i, []).extend((start + offset, stop + offset) for start, stop in spans)
        for i, spans in found.items():
            results[i] = _map_back(*items[i], spans, gazetteer)
        return results


WINDOW = 8  # words of context either side of a candidate name that NER sees
SENTENCE_END = frozenset(".!?…")


def _windows(tokens: list[Token], spans: list[tuple[Token, Token]]) -> list[tuple[int, int]]:
    """Character ranges around each span: WINDOW words either side within its sentence,
    overlapping ranges merged. NER reads a sentence-initial name as a place only when
    the sentence starts there."""
    position = {t.start: k for k, t in enumerate(tokens)}
    ranges: list[tuple[int, int]] = []
    for first, last in spans:
        k, words = position[first.start], 0
        while k > 0 and words < WINDOW and tokens[k - 1].text not in SENTENCE_END:
            k -= 1
            words += tokens[k].is_word
        start = tokens[k].start
        k, words = position[last.start], 0
        while k < len(tokens) - 1 and words < WINDOW and tokens[k].text not in SENTENCE_END:
            k += 1
            words += tokens[k].is_word
        stop = tokens[k].stop
        if ranges and start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(stop, ranges[-1][1]))
        else:
            ranges.append((start, stop))
    return ranges


def _map_back(text: str, tokens: list[Token], spans, gazetteer: Gazetteer):
    matches = []
    words = [t for t in tokens if t.is_word]
    for start, stop in spans:
        inside = [k for k, t in enumerate(words) if t.start >= start and t.stop <= stop]
        if inside and gazetteer.names_no_place(text, words, inside[0], len(inside)):
            continue  # «река Тёша», «на Кирова», «врач Павлова»: NER's LOC or PER, not a place to route to
        place = gazetteer.lookup([words[k].text for k in inside])
        if place is not None:
            matches.append(PlaceMatch(place, start, stop, text[start:stop], "ner"))
    if not matches:
        return None, None
    decisive = next((m for m in matches if m.place.municipality is not None), matches[0])
    return decisive.place.municipality, decisive
