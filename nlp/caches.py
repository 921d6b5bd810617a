"""The pipeline's caches: plain dictionaries, emptied whole when they pass their limit.

`functools.lru_cache` with a `maxsize` reorders its list of entries on every hit; a
long appeal makes a few hundred hits (its words, word pairs, chunks for the danger
rules), and that bookkeeping cost more than a tenth of labelling. `bounded` gives the
unbounded kind (a dictionary look-up, nothing written on a hit) and `trim`, called
once per batch by `Pipeline.label`, empties a cache past its limit: residents' words
come back within minutes, so the price is a batch of cold look-ups now and then, and
memory stays within what the limits allow.
"""

from __future__ import annotations

import weakref
from functools import lru_cache

_CACHES: weakref.WeakSet = weakref.WeakSet()


def bounded(limit: int):
    """A decorator: `fn` cached without a size bound, emptied by `trim` past `limit`."""

    def wrap(fn):
        cached = lru_cache(maxsize=None)(fn)
        cached.limit = limit
        _CACHES.add(cached)
        return cached

    return wrap


def trim() -> None:
    """Empty every cache past its limit."""
    for cached in list(_CACHES):
        if cached.cache_info().currsize > cached.limit:
            cached.cache_clear()
