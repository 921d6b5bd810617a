"""Danger signals that raise urgency to critical whatever the model says.

Rules are named and ordered so an explanation can name the one that fired. They
only ever raise urgency, and only for complaints: a news repost about a fire is
`other` and stays `low`; thanks for a danger already dealt with raise nothing. Patterns run over lower-cased text with ё→е. A rule may
carry an `unless` pattern, looked for in a window around the match: «горит фонарь»
is light, not fire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, reduce
from operator import or_

from .caches import bounded

WINDOW = 30  # characters either side of a match in which `unless` is looked for


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    example: str
    unless: re.Pattern | None = None
    # Strings one of which every match contains (`required_strings`): a text with none
    # of them is passed over without running the regular expression.
    clues: tuple[str, ...] | None = None
    # Looked for in the whole sentence of a match: «фонарь у третьего подъезда наконец горит».
    unless_in_sentence: re.Pattern | None = None
    # The pattern's top-level alternatives (source), each with its own clues: a text is
    # run only through those whose clues it holds, joined in order (`ClueIndex`).
    branches: tuple[tuple[str, tuple[str, ...] | None], ...] = ()

    def search(self, text: str):
        if self.clues is not None and not any(clue in text for clue in self.clues):
            return None
        return self.search_with(text, self.pattern)

    def search_with(self, text: str, pattern: re.Pattern) -> re.Match | None:
        """The first match of `pattern` (the rule's own, or its alternatives that can match
        this text, `ClueIndex`) that no `unless` vetoes."""
        for match in pattern.finditer(text):
            window = text[max(0, match.start() - WINDOW): match.end() + WINDOW]
            if self.unless is not None and self.unless.search(window):
                continue
            if self.unless_in_sentence is not None and self.unless_in_sentence.search(_sentence(text, match)):
                continue
            return match
        return None


# The end of a sentence, but not the dot of an address («ул. Гайдара», «д. 5», «г. Бор»).
_SENTENCE_END = re.compile(r"[!?\n]|(?<!\bул)(?<!\bд)(?<!\bг)(?<!\bпр)(?<!\bим)(?<!\bкв)(?<!\bст)(?<!\bпер)(?<!\bмкр)\.")


def _sentence(text: str, match: re.Match) -> str:
    start = max((end.end() for end in _SENTENCE_END.finditer(text, 0, match.start())), default=0)
    stop = next((end.start() for end in _SENTENCE_END.finditer(text, match.end())), len(text))
    return text[start:stop]


def _rule(name: str, pattern: str, example: str, unless: str | None = None,
          unless_in_sentence: str | None = None) -> Rule:
    compiled = re.compile(pattern)
    branches = tuple((part, required_strings(re.compile(part))) for part in alternatives(pattern))
    return Rule(name, compiled, example, re.compile(unless) if unless else None, required_strings(compiled),
                re.compile(unless_in_sentence) if unless_in_sentence else None, branches)


# What makes a part of a pattern mean something else alone: global flags (verbose mode
# included), references to groups, conditionals on groups.
_WHOLE_ONLY = re.compile(r"^\(\?[aiLmsux]+\)|\\[1-9]|\(\?P=|\(\?\(")


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern's source: split at each «|» outside
    groups and character classes (the whole pattern when a part alone would mean
    something else: `_WHOLE_ONLY`)."""
    if _WHOLE_ONLY.search(pattern):
        return [pattern]
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1
            if pattern[i: i + 1] == "^":
                i += 1
            if pattern[i: i + 1] == "]":  # «[]…]», «[^]…]» hold a literal «]»
                i += 1
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return [*parts, pattern[start:]]


def required_strings(pattern: re.Pattern) -> tuple[str, ...] | None:
    """Strings one of which occurs in every match of `pattern`, or None if unknown.

    Read off the parsed pattern: a run of literal characters that every match must
    pass through, or for an alternation one such string per branch. A substring test
    per string is far cheaper than the regular expression, and most messages hold
    none of them. Exact by construction: only parts every match must contain count.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        from re import _parser  # the standard library's own parser of patterns

        found = _required(_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # noqa: BLE001 (a parser of another Python: run the pattern unfiltered)
        return None
    return tuple(sorted(found)) if found else None


def _required(items) -> set[str] | None:
    from re import _constants as c

    best: set[str] | None = None
    run: list[str] = []

    def consider(candidate: set[str] | None) -> None:
        nonlocal best
        if candidate and (best is None or min(map(len, candidate)) > min(map(len, best))):
            best = candidate

    for op, argument in items:
        if op is c.LITERAL:
            run.append(chr(argument))
            continue
        consider({"".join(run)} if run else None)
        run = []
        if op is c.SUBPATTERN:
            if argument[1] & re.IGNORECASE:  # «(?i:газ)»: its literals are no clue
                continue
            consider(_required(argument[-1]))
        elif op is c.IN and all(kind is c.LITERAL for kind, _ in argument):
            consider({chr(code) for _, code in argument})  # «(а|е)» is parsed as a class
        elif op is c.ATOMIC_GROUP:
            consider(_required(argument))
        elif op is c.BRANCH:
            branches = [_required(branch) for branch in argument[1]]
            if all(branches):
                consider(set().union(*branches))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and argument[0] >= 1:
            consider(_required(argument[2]))
    consider({"".join(run)} if run else None)
    return best


_W = r"\W+(?:\w+\W+){0,%d}"  # up to N words in between
_NOT_A_FIRE = (r"не гор|фонар|свет(?!ом)|ламп|газ\w* еле|конфорк|техник|светофор|горит зелен|горит красн|сроки|"
               r"глаза горят|душа|пожарн\w* (част|безопасн|выход|лестниц|гидрант|инспекц|проверк|сигнализац)|"
               r"горящ\w* (путевк|тур)|план горит|\bогонь\w* (салют|праздн)|вечный огонь|пожарск|"
               r"был пожар|после пожара|год\w* назад|месяц\w* назад|неделю назад|"
               # a fire that may happen, or one long over: «в случае пожара», «пожарище»
               r"(в случае|на случай|при|от|для|тушени\w*|во время|если (случится|будет|начнется)) пожар|пожарищ")

CRITICAL_RULES = (
    _rule("запах газа",
          r"(запах\w*|пахнет|пахло|воняет|утечк\w*)" + _W % 2 + r"газ(а|ом)?\b|газ(ом)?\W+(пахнет|воняет|шипит)"
          r"|датчик\w* газа|\bугар\b|угарн\w*|отравил\w*" + _W % 1 + r"газом"
          r"|\bгаз+\W+(\w+\W+)?(в|на)\W+(подъезд|лестниц|площадк|квартир|подвал|кухн|этаж)"
          r"|(конфорк\w*|\bплит[аыуе]\b)\W+(\w+\W+){0,3}(открыл\w*|не зажг\w*|не выключ\w*)|zapah\w* gaza|pahnet gazom",
          "в подъезде сильно пахнет газом",
          unless=r"не пахнет|проверк|был запах|провел|подвел|подключ|счетчик|тариф|\bоплат|\bплат[аеиуы]\b|газифик"),
    _rule("пожар",
          r"\bгорит\b|\bгорят\b|\bзагорел\w*|\bполыха\w*",
          "горит сарай, дым валит",
          unless=_NOT_A_FIRE,
          # A lamp, a traffic light or a deadline «горит» anywhere in its sentence.
          unless_in_sentence=r"фонар|ламп|светофор|табло|индикатор|гирлянд|вывеск|подсветк|прожектор|\bфар[аыу]?\b"
                             r"|экран|огон[её]?к|огнями|иллюминац|(зелен|красн|желт)\w* (уже )?горит|горит (уже )?(зелен|красн|желт)"
                             r"|окна горят|горят окна|глаза горят|горят глаза|\bсрок|дедлайн|\bплан\b|путевк|\bтур\b|отпуск"
                             r"|\bдуша\b|сердце|щеки|уши горят|сигнал|освещени|вся линия|горит днем|днем горит"),
    _rule("пожар",
          r"\bпожар(а|е|ом|ы|ов|ище)?\b|задымл\w*"
          r"|\bогонь\b|\bпламя\b|\bдым\w*\W+(\w+\W+)?(из|в|во|на|по)\W+(подъезд|квартир|окн|подвал|двор|этаж|мусоропровод)"
          r"|(весь|все|полный)\W+(подъезд|этаж|дом)\W+в\W+дыму|гарью",
          "пожар в подъезде, всё в дыму",
          # «концерт — огонь!», «площадка просто огонь 🔥»: praise, not fire.
          unless=_NOT_A_FIRE + r"|(просто|вообще|прям\w*|ваще|реально|[—-])\s*огонь|огонь\s*[!)🔥👍❤]"),
    _rule("провод",
          r"(оборван\w*|оборвал\w*|лежит|лежат|висит|висят|искрит\w*|искр\w*|болта\w*|голы\w*)\W+(\w+\W+)?провод"
          r"|провод\w*\W+(\w+\W+)?(оборван|на земле|по земле|искрит|лежит|лежат|висит|висят|до земли|под напряжением)"
          r"|искрит\w*\W+(\w+\W+)?(щит|щиток|розетк|столб|трансформатор)|(щит\w*|щиток|столб|трансформатор)\W+(\w+\W+)?искрит"
          r"|удар\w* током|бьет током|под напряжением"
          r"|(течет|льет|капает|вода)\W+(\w+\W+){0,3}(в щит|на щит|в проводк|на проводк|в розетк|в электрощит)",
          "оборванный провод на земле"),
    _rule("обрушение",
          r"обрушил\w*|обрушени\w*|рухнул\w*|обвалил\w*|обвал\w*\W+(потол|стен|балкон|крыш|кровл|перекрыт|насып)"
          r"|(потолок|стена|балкон|крыша|плита)\W+(\w+\W+)?(падает|упал\w*|трещит|ползет|отваливается)"
          r"|упал\w*\W+(\w+\W+){0,2}с\W+(\d+\W+)?(этаж|крыш|лес)|(сорвало|снесло)\W+(\w+\W+)?(крыш|кровл)"
          r"|(падают|летят)\W+(\w+\W+)?(кирпич|доск|плит|стекл|куски)|кирпичи\W+(\w+\W+)?(выпада|сыплют|падают)"
          r"|(дерев\w*|сосна|тополь|берез\w*|\bель\b|ствол)\W+(\w+\W+){0,6}(качается|падает|упадет|рухнет|наклонил\w*)"
          r"|сосул\w*|глыб\w* (льда|снега)|(снег|лед|наледь)\W+(\w+\W+){0,2}(с крыш\w*|свисает)"
          r"|заваливае\w*|заваливать\w*|(мост|пол|перекрыти\w*)\W+(\w+\W+)?просел\w*|просел\w*\W+(\w+\W+)?(мост|пол)\b",
          "рухнул балкон",
          unless=r"в прошлом|год\w* назад|месяц\w* назад|весной|летом|осенью|зимой|еще в|никто не пострадал"
                 r"|(?<!не )(сбили|убрали|очистили|почистили)|спасибо"),
    _rule("кипяток",
          r"(затопил\w*|залил\w*|заливает|хлещ\w*|льет\w*|прорвал\w*|бьет|течет|фонтан\w*)\W+(\w+\W+){0,3}(кипят|горяч\w* вод)"
          r"|кипят\w*\W+(\w+\W+){0,3}(затопил|залил|заливает|хлещ|льет|бьет|течет|фонтан)|кипят\w* (из|с потолк|по )",
          "затопило кипятком"),
    _rule("собаки нападают",
          r"(собак\w*|стая\w*|свора\w*|псы|псов)\W+(\w+\W+){0,6}(напал\w*|нападают|покусал\w*|кусают|загрызл\w*"
          r"|кида\w*|кинул\w*|бросил\w*|бросают\w*|окружил\w*|набросил\w*|набрасыва\w*|порвал\w*|рвут|загнал\w*)"
          r"|(напал\w*|покусал\w*|кинул\w*|окружил\w*|набросил\w*|порвал\w*)\W+(\w+\W+){0,2}(собак|стая|свора)",
          "стая собак напала на ребёнка", unless=r"кошк|собак\w* на поводке"),
    _rule("угроза жизни",
          r"угроз\w*\W+(\w+\W+)?жизн|без сознания|потерял\w* сознание|не дыш\w*|задыха\w*|истекает кровью"
          r"|кровотечени\w*|кровь не останавл\w*|инфаркт|судорог\w*|приступ\w* (длится|не проходит|уже)|приступ\w*\W+(\d+\W+)?(минут|час)|отек\w* горла"
          r"|не встает|умирает|\bтонет\b|барахта\w*|провалил\w*\W+(\w+\W+)?под лед|лед трещит"
          r"|массово\w* отравлени\w*|с отравлением|в реанимаци\w*"
          r"|(унесло|оторвало)\W+(\w+\W+){0,3}льдин\w*|горло отека\w*|немеет|немеют"
          r"|инсулин\w*\W+(\w+\W+)?(закончил\w*|кончил\w*|нет)"
          r"|кислородн\w* концентратор",
          "человек без сознания, скорая не едет",
          unless=r"год\w* назад|месяц\w* назад|статистик|умирает (от скуки|со смеху)|приступ\w* (смех|ярост)"
                 r"|(после|перенес\w*|перенесенн\w*) (инфаркт|инсульт)"),
    _rule("открытый люк",
          r"(открыт\w*|без крышки|нет крышки|крышк\w* (нет|утащил|украл|сперл))\W+(\w+\W+)?(люк|колод)"
          r"|(люк|колодец|колодц\w*)\W+(\w+\W+)?(открыт|без крышки)|провалил\w*\W+(\w+\W+)?(в люк|в колод|в яму)"
          r"|в шахту лифт|(чуть|чудом)\W+(\w+\W+)?(не )?(упал|шагнул|провалил)"
          r"|крышк\w* люка\W+(\w+\W+)?(съехал\w*|сдвинул\w*|слетел\w*|нет)",
          "ребёнок провалился в открытый люк"),
    _rule("ребёнок в опасности",
          r"(пропал\w*|потерял\w*|ищем|заперл\w*|закрыл\w*|бьет|избива\w*)\W+(\w+\W+){0,2}(ребен\w*|малыш\w*|сын\w*|дочь|дочк\w*|девоч\w*|мальчик\w*)"
          r"|(ребен\w*|малыш\w*|девоч\w*|мальчик\w*|дети)\W+(\w+\W+){0,3}(пропал\w*|застрял\w* (один|в лифте)|в синяках|на льдин\w*|без присмотра на дорог)"
          r"|(ребен\w*|дет\w*)\W+(\w+\W+){0,4}(в кладовк|в темн\w* (комнат|кладов)|выбежал\w* на улицу|дерется|избива)"
          r"|(ребен\w*|малыш\w*|девоч\w*|мальчик\w*)\W+(\w+\W+){0,3}ушел\w* (с прогулки|с территории|из сада|из садика|из школы)",
          "пропал ребёнок 9 лет, ушёл из школы",
          unless=r"год\w* назад|в прошлом|раньше|когда-то|в детств|очеред|поликлиник|отделени"),
    _rule("оружие",
          r"\bс (ножом|топором|пистолетом|ружьем|битой|арматурой)\b|стрельб\w*|стреляют|\bвзрыв\w*|заминир\w*"
          r"|ножом|\bружь[её]\w*|угрожа\w*\W+(\w+\W+){0,2}(поджечь|убить|зарезать|взорвать)",
          "мужик с ножом у Пятёрочки на Бекетова",
          unless=r"задержал|год\w* назад|вчера|фейерверк|салют|петард"),
    _rule("мороз без отопления",
          # Anywhere in the text: who suffers, and the frost; then the heating failure itself.
          r"^(?=.*(дет|ребен|малыш|младен|грудн|месяц|инвалид|лежач|пенсионер|инсульт|внук|многодетн|стари))"
          r"(?=.*(мороз|минус|[-−]\s?[1-4]\d|холодно|под (двадцать|тридцать|сорок)))"
          r".*?(нет отопления|отопления нет|отопление не работает|отопление (выключили|отключили)|отключили отопление"
          r"|батаре\w* (ледян|холодн)|котельн\w*\W+(\w+\W+){0,3}(встала|стоит|не работает|сломал\w*)|топить нечем"
          r"|котел\w* (у них )?электрическ|(дома|в доме|в квартире|в комнате)\W+(\w+\W+)?(\+\s?(1[0-6]|[5-9])\b|(1[0-6]|[5-9]) градус)"
          r"|\+\s?(1[0-6]|[5-9])\b\W+(\w+\W+)?(в квартир|в доме|дома|в комнате))",
          "нет отопления в мороз, дома двое маленьких детей"),
    _rule("опасный объект",
          r"(разли\w*|течет|текут|вытека\w*)\W+(\w+\W+){0,2}(топливо|бензин|кислот|хими|аммиак|ртут)"
          r"|(топливо|бензин|кислот\w*|аммиак|ртуть)\W+(\w+\W+){0,2}(разли\w*|течет|вытека\w*)"
          r"|(бочк\w*|канистр\w*)\W+(\w+\W+){0,3}(хими|бензин|топлив|жидкост)"
          r"|(заливает|затопило|подтопило)\W+(\w+\W+){0,2}(дома|дом|улиц\w*|поселок|деревн\w*)\b"
          r"|вода (уже )?(в домах|подошла к)|будет в домах|(вода|река)\W+(\w+\W+){0,3}подошла|\bртуть\b|\bртути\b|ртутью"
          r"|переезд\w*\W+(\w+\W+){0,3}(не работает|сломан|не опуска\w*)"
          r"|пьян\w*\W+(\w+\W+){0,3}за рулем|за рулем\W+(\w+\W+){0,2}пьян|(перегар\w*|запахом алкоголя)"
          r"|(кран|плита|леса|строительн\w* лес\w*)\W+(\w+\W+){0,3}(раскачива|над тротуар|над людьми)"
          r"|плотин\w*\W+(\w+\W+){0,6}(подмыт|прорв|размыт|размыва)|(затопил\w*|подтопил\w*|в воде)\W+(\w+\W+){0,3}(дом|двор)\w*"
          r"|дома\W+(\w+\W+){0,3}в воде|без кабины|кабины нет|с открыт\w* двер\w*|двер\w* открыт\w* на ходу"
          r"|(шкаф\w*|щит\w*|щиток|трансформатор\w*)\W+(\w+\W+){0,2}открыт\w*\W+(\w+\W+){0,2}провод",
          "на пароме разлилось топливо, люди курят"),
)


# Thanks for a danger already dealt with («потушили быстро, спасибо пожарным», «наконец-то
# убрали сосульки, молодцы») raise nothing; polite closings are no thanks, and sarcasm or a
# danger still going on («спасибо теплосетям, что батареи ледяные», «до сих пор пахнет»)
# still count: thanks count only beside a word of the danger being dealt with.
THANKS = re.compile(r"спасибо|благодар\w*|молодц\w*|наконец-то|\bнаконец\b|респект|низкий поклон")
POLITE = re.compile(r"заранее спасибо|спасибо заранее|спасибо за (ответ|внимание|понимание)|(буду|будем) благодар\w*"
                    r"|благодарю за внимание|с благодарностью")
RESOLVED = re.compile(r"потуш\w*|убрал\w*|убран\w*|\bсбил[иа]?\b|устран\w*|почин\w*|заменил\w*|отремонтир\w*"
                      r"|\bспасл[иа]?\b|отстоял\w*|ликвидир\w*|залатал\w*|\bзакрыл[иа]?\b|наконец|вовремя|оперативн\w*"
                      r"|быстро|\bуже (все|всё) (хорошо|нормально|в порядке)")
STILL = re.compile(r"спасибо(,)? за (очередн|наш|эт|так|нов)|спасибо(,)? что (опять|снова)|до сих пор|прямо сейчас"
                   r"|\bсейчас\b|срочно|помогите|\bопять\b|\bснова\b|никто не|(уже|второй|третий|который|весь|целый)"
                   r" (день|час|сутки|недел)|\w+ сутки|!!!")


class ClueIndex:
    """Which rules' alternatives a text may match, read word by word with a cache per word.

    Testing every clue of every rule against every text, then running a whole rule's
    pattern (dozens of alternatives tried at every character), was a tenth of labelling.
    A clue occurs in a text only if its longest space-free piece occurs inside one of
    the text's space-separated chunks, and residents repeat their chunks: each distinct
    short chunk is read once (the alternatives it may serve, as a bit mask), so a text
    costs a few look-ups. A rule then runs only the alternatives whose clues the text
    holds, joined in their order: the others cannot match anywhere in it, so the joined
    pattern finds exactly the matches of the whole one.
    """

    def __init__(self, rules: tuple[Rule, ...]):
        self.rules = rules
        self.branches: list[tuple[int, int]] = []  # (rule number, alternative number) per bit
        self.always = 0  # alternatives without clues: tried on every text
        keys: dict[str, int] = {}  # a clue's longest piece → bit mask of its alternatives
        for number, rule in enumerate(rules):
            for alternative, (_, clues) in enumerate(rule.branches or ((rule.pattern.pattern, rule.clues),)):
                bit = 1 << len(self.branches)
                self.branches.append((number, alternative))
                if clues is None or not all(clue.split() for clue in clues):
                    self.always |= bit
                    continue
                for clue in clues:
                    key = max(clue.split(), key=len)
                    keys[key] = keys.get(key, 0) | bit
        self.short = [(key, mask) for key, mask in keys.items() if len(key) < 2]
        self.by_start: dict[str, list[tuple[str, int]]] = {}
        for key, mask in keys.items():
            if len(key) >= 2:
                self.by_start.setdefault(key[:2], []).append((key, mask))
        self._cached_mask = bounded(200_000)(self._chunk_mask)
        self._joined = lru_cache(maxsize=4096)(self._join)

    def _chunk_mask(self, chunk: str) -> int:
        mask = 0
        for key, bits in self.short:
            if key in chunk:
                mask |= bits
        by_start = self.by_start
        for i in range(len(chunk) - 1):
            for key, bits in by_start.get(chunk[i : i + 2], ()):
                if chunk.startswith(key, i):
                    mask |= bits
        return mask

    def _join(self, number: int, chosen: tuple[int, ...]) -> re.Pattern:
        rule = self.rules[number]
        if len(chosen) == len(rule.branches) or not rule.branches:
            return rule.pattern
        return re.compile("|".join(rule.branches[k][0] for k in chosen))

    def first(self, text: str) -> Rule | None:
        """The first rule (in order) whose pattern matches the lower-cased text with no
        `unless` veto."""
        chunks = set(text.split())
        # Only short chunks are cached: a 4,000-character run of one hostile message
        # would hold its memory for nothing.
        short = [c for c in chunks if len(c) <= CACHED_CHUNK]
        mask = reduce(or_, map(self._cached_mask, short), self.always)
        if len(short) < len(chunks):
            mask = reduce(or_, map(self._chunk_mask, chunks.difference(short)), mask)
        if not mask:
            return None
        chosen: dict[int, list[int]] = {}
        for bit, (number, alternative) in enumerate(self.branches):
            if mask >> bit & 1:
                chosen.setdefault(number, []).append(alternative)
        for number, alternatives in chosen.items():
            if self.rules[number].search_with(text, self._joined(number, tuple(alternatives))):
                return self.rules[number]
        return None


CACHED_CHUNK = 40


def danger_signal(text: str) -> Rule | None:
    """The first critical rule whose pattern occurs in the text, if any (none in thanks)."""
    lowered = text.lower().replace("ё", "е")
    rule = _CLUES.first(lowered)
    if rule is None:  # most texts: the thanks check below is never needed
        return None
    if THANKS.search(POLITE.sub(" ", lowered)) and RESOLVED.search(lowered) and not STILL.search(lowered):
        return None
    return rule


_CLUES = ClueIndex(CRITICAL_RULES)
