"""Russian written in Latin letters, back in Cyrillic: «v Balakhne» → «в балахне».

Residents without a Russian keyboard write place names in translit («stoyu v
Dzerzhinske», «voda net v Boru»). The gazetteer reads such a word as its Cyrillic
spelling; the common spellings of each letter are folded into one (kh and h → х, ts and
c → ц, ya and ja → я). A word with letters Russian has no spelling for stays as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Longest spellings first: «shch» before «sh», «kh» before «h».
_LETTERS = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
    ("iy", "ий"), ("yy", "ый"), ("ya", "я"), ("ja", "я"), ("yu", "ю"), ("ju", "ю"), ("yo", "е"),
    ("ye", "е"), ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"), ("e", "е"),
    ("z", "з"), ("i", "и"), ("j", "й"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"),
    ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"),
    ("c", "ц"), ("x", "кс"), ("q", "к"), ("'", "ь"),
]
_SPELLING = re.compile("|".join(re.escape(latin) for latin, _ in _LETTERS))
_CYRILLIC = dict(_LETTERS)


@lru_cache(maxsize=50_000)
def cyrillic(word: str) -> str:
    """The lower-case Latin `word` in Cyrillic («dzerzhinske» → «дзержинске»)."""
    return _SPELLING.sub(lambda m: _CYRILLIC[m.group()], word)


def is_latin(word: str) -> bool:
    return word.isascii() and word.isalpha()
