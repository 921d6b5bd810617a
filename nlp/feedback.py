"""A resident's answer to «was it solved?»: «да» / «нет» and a 1–5 rating, from free text.

«Да, спасибо, 5» -> solved, 5; «нет, до сих пор течёт» -> not solved; «отлично» -> 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ordered rules: the first that matches decides; negative ones come first, because
# «не решили» contains «решили» and «да ничего не сделали» starts with «да».
NOT_SOLVED = [
    re.compile(r"\bне\s+(?:\w+\s+){0,2}?(?:решен|решил|сделал|устранил|починил|убрал|почистил"
               r"|отремонтир|исправил|приезжал|помогл)"),
    re.compile(r"\b(?:ничего|никто|никого)\s+(?:не\s+)?(?:\w+\s+)?(?:сделал|решил|приехал|пришел|пришёл|измен|не\s)"),
    re.compile(r"\b(?:до\s+сих\s+пор|по-прежнему|по\s*прежнему|всё\s+так\s+же|все\s+так\s+же"
               r"|опять|снова|как\s+было|обман|отписк)"),
    re.compile(r"^\W*нет\b"),
    re.compile(r"\bнет\W*$"),
]
SOLVED = [
    re.compile(r"^\W*(?:да|ага|угу|yes)\b"),
    re.compile(r"\b(?:решен[аоы]?|решили|сделали|устранили|починили|убрали|отремонтировали"
               r"|всё\s+хорошо|все\s+хорошо|всё\s+отлично|все\s+отлично|спасибо|благодар)"),
]
_RATING_PATTERNS = [
    re.compile(r"\b([1-5])\s*(?:/|из)\s*5\b"),
    re.compile(r"(?:оценк\w*|ставлю|балл\w*|на)\s*[:\-–]?\s*([1-5])\b"),
    re.compile(r"\b([1-5])\s*(?:балл|звезд|звёзд|\*|⭐)"),
    re.compile(r"^\W*([1-5])\W*$"),
]
_TRAILING_RATING = re.compile(r"(?:^|[\s,.;!])([1-5])\W*$")  # «Да, спасибо! 5», short texts only
_WORD_RATINGS = {"отлично": 5, "хорошо": 4, "удовлетворительно": 3, "плохо": 2, "ужасно": 1}


@dataclass(frozen=True)
class Feedback:
    solved: bool | None
    rating: int | None

    @property
    def empty(self) -> bool:
        return self.solved is None and self.rating is None


def parse_feedback(text: str) -> Feedback:
    """«Да, спасибо, 5» -> (True, 5); «нет, до сих пор течёт» -> (False, None)."""
    t = (text or "").lower().replace("ё", "е").strip()
    t = re.sub(r"\s+", " ", t)[:2000]
    solved = None
    if any(p.search(t) for p in NOT_SOLVED):
        solved = False
    elif any(p.search(t) for p in SOLVED):
        solved = True
    rating = None
    stars = t.count("⭐")
    if 1 <= stars <= 5:
        rating = stars
    for pattern in _RATING_PATTERNS:
        if rating is None and (m := pattern.search(t)):
            rating = int(m.group(1))
    if rating is None and len(t) <= 40 and (m := _TRAILING_RATING.search(t)):
        rating = int(m.group(1))
    if rating is None:
        for word, value in _WORD_RATINGS.items():
            if re.search(rf"^\W*{word}\W*$", t):
                rating = value
    return Feedback(solved, rating)
