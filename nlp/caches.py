"""The pipeline's caches: plain dictionaries, emptied whole when they pass their limit.

`functools.lru_cache` with a `maxsize` reorders its list of entries on every hit; a
long appeal makes a few hundred hits (its words, word pairs, chunks for the danger
rules), and that bookkeeping cost more than a tenth of labelling. `bounded` gives the
unbounded kind (a dictionary look-up, nothing written on a hit) and `trim`, called
once per batch by `Pipeline.label`, empties a cache past its limit: residents' words
come back within minutes, so the price is a batch of cold look-ups now and then, and
memory stays within what the limits allow.

`Table` is the same kind of cache for values computed a batch at a time: the new keys
of a batch are gathered and computed in one call (hashing a batch's new words together
costs a fraction of hashing them one by one).
"""

from __future__ import annotations

import weakref
from functools import lru_cache
from itertools import chain

_CACHES: weakref.WeakSet = weakref.WeakSet()
_TABLES: weakref.WeakSet = weakref.WeakSet()


def bounded(limit: int):
    """A decorator: `fn` cached without a size bound, emptied by `trim` past `limit`."""

    def wrap(fn):
        cached = lru_cache(maxsize=None)(fn)
        cached.limit = limit
        _CACHES.add(cached)
        return cached

    return wrap


class Table:
    """A cache filled a batch at a time, emptied by `trim` past `limit`."""

    def __init__(self, limit: int):
        self.limit = limit
        self._values: dict = {}
        _TABLES.add(self)

    def __len__(self) -> int:
        return len(self._values)

    def lookup(self, groups, compute) -> dict:
        """The cache's dictionary, holding every key of `groups` (lists of keys): the
        new ones computed by one call, `compute(new keys in their first order)`. `trim`
        puts a new dictionary in place instead of emptying this one, so the caller may
        read it after another thread trimmed."""
        values = self._values
        new = set().union(*groups).difference(values)
        if new:
            new = [key for key in dict.fromkeys(chain.from_iterable(groups)) if key in new]
            values.update(zip(new, compute(new), strict=True))
        return values

    def clear(self) -> None:
        self._values = {}


def trim() -> None:
    """Empty every cache past its limit."""
    for cached in list(_CACHES):
        if cached.cache_info().currsize > cached.limit:
            cached.cache_clear()
    for table in list(_TABLES):
        if len(table) > table.limit:
            table.clear()
