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
        return [(s.start, s.stop) for s in self.tagger(text).spans if s.type == "LOC"]

    def resolve(self, text: str, tokens: list[Token], gazetteer: Gazetteer):
        """(municipality, match) from NER's LOC spans, or (None, None)."""
        if not gazetteer.has_candidate(tokens):
            return None, None
        matches = []
        for start, stop in self.locations(text):
            inside = [t for t in tokens if t.is_word and t.start >= start and t.stop <= stop]
            place = gazetteer.lookup([t.text for t in inside])
            if place is not None:
                matches.append(PlaceMatch(place, start, stop, text[start:stop], "ner"))
        if not matches:
            return None, None
        decisive = next((m for m in matches if m.place.municipality is not None), matches[0])
        return decisive.place.municipality, decisive
