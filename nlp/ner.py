"""natasha's NER as the fallback of the gazetteer for place names.

The gazetteer decides alone whenever it can: it is fast and knows the region. NER runs
only when the gazetteer found no place and the text holds a capitalised word that
could be one of the region's names (a sentence-initial «Бор», a case form the
generator missed). Its LOC spans are mapped back through the gazetteer, so NER never
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
        """`resolve` for many (text, tokens) pairs, tagging only those with a candidate."""
        results = [(None, None)] * len(items)
        todo = [i for i, (_, tokens) in enumerate(items) if gazetteer.has_candidate(tokens)]
        spans = self.locations_many([items[i][0] for i in todo]) if todo else []
        for i, found in zip(todo, spans, strict=True):
            results[i] = _map_back(*items[i], found, gazetteer)
        return results


def _map_back(text: str, tokens: list[Token], spans, gazetteer: Gazetteer):
    matches = []
    for start, stop in spans:
        inside = [t for t in tokens if t.is_word and t.start >= start and t.stop <= stop]
        place = gazetteer.lookup([t.text for t in inside])
        if place is not None:
            matches.append(PlaceMatch(place, start, stop, text[start:stop], "ner"))
    if not matches:
        return None, None
    decisive = next((m for m in matches if m.place.municipality is not None), matches[0])
    return decisive.place.municipality, decisive
