"""Danger signals that raise urgency to critical whatever the model says.

Rules are named and ordered so an explanation can name the one that fired. They
only ever raise urgency, and only for complaints: a news repost about a fire is
`other` and stays `low`. Patterns run over lower-cased text with ё→е.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    example: str

    def search(self, text: str):
        return self.pattern.search(text)


def _rule(name: str, pattern: str, example: str) -> Rule:
    return Rule(name, re.compile(pattern), example)


CRITICAL_RULES = (
    _rule("запах газа", r"(запах\w*|пахнет|пахло|воняет|утечк\w*)\W+(\w+\W+)?газ(а|ом)?\b|газ(ом)?\W+(пахнет|воняет)", "в подъезде сильно пахнет газом"),
    _rule("пожар", r"\bпожар\w*|(?<!не )\bгорит\b|(?<!не )\bгорят\b|\bзагорел\w*|\bполыха\w*|задымлен\w*|\bдым\w*\W+(из|в)\W+(подъезд|квартир|окн|подвал)", "горит сарай, дым валит"),
    _rule("провод", r"(оборван\w*|оборвал\w*|лежит|искрит\w*|искр\w*)\W+(\w+\W+)?провод|провод\w*\W+(\w+\W+)?(оборван|на земле|искрит|лежит)", "оборванный провод на земле"),
    _rule("обрушение", r"обрушил\w*|обрушени\w*|рухнул\w*|обвалил\w*|обвал\w*\W+(потол|стен|балкон|крыш)", "рухнул балкон"),
    _rule("кипяток", r"(затопил\w*|залил\w*|заливает|хлещ\w*|льет\w*|прорвал\w*|бьет)\W+(\w+\W+){0,3}кипят|кипят\w*\W+(\w+\W+){0,3}(затопил|залил|заливает|хлещ|льет|бьет)", "затопило кипятком"),
    _rule("собаки нападают", r"(собак\w*|стая\w*|псы)\W+(\w+\W+){0,3}(напал\w*|нападают|покусал\w*|кусают|загрызл\w*)|(напал\w*|покусал\w*)\W+(\w+\W+){0,2}собак", "стая собак напала на ребёнка"),
    _rule("угроза жизни", r"угроз\w*\W+(\w+\W+)?жизн|без сознания|не дыш\w*|задыха\w*|истекает кровью", "человек без сознания, скорая не едет"),
    _rule("открытый люк", r"(открыт\w*|без крышки)\W+(\w+\W+)?люк|люк\w*\W+(\w+\W+)?(открыт|без крышки)|провалил\w*\W+(\w+\W+)?(в люк|под лед)", "ребёнок провалился в открытый люк"),
)


def danger_signal(text: str) -> Rule | None:
    """The first critical rule whose pattern occurs in the text, if any."""
    lowered = text.lower().replace("ё", "е")
    return next((rule for rule in CRITICAL_RULES if rule.search(lowered)), None)
