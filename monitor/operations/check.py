"""`tsur check`: everything a service needs, checked before it starts.

Each check returns the problems it found, each with what is wrong and how to fix it,
in Russian for the operator. Nothing is changed: the check only reads the
configuration, the environment, the region and model files and the database.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from monitor.catalog.organisations import list_organisations
from monitor.catalog.regions import RegionError, read_region
from monitor.catalog.sources import active_sources
from monitor.collectors.ok.client import ENV as OK_ENV
from monitor.incidents.calendar import CHECKED_YEARS
from monitor.settings import ConfigError, Settings
from monitor.store import open_db, pending_migrations
from nlp.registry import MODEL_FILE, ModelError, production_versions, read_manifest, sha256

GIB = 1 << 30
MIN_FREE_BYTES = GIB  # beyond twice the database: a backup's uncompressed copy and growth
ENV_FILE = "/etc/tsur/tsur.env"
TELEGRAM_TOKEN = re.compile(r"^\d{5,}:[\w-]{30,}$")


@dataclass(frozen=True)
class Problem:
    area: str  # what was checked: «токены», «регион», «модели», «база», «диск»…
    what: str
    fix: str


def run_checks(settings: Settings, *, today: date, min_free: int = MIN_FREE_BYTES
               ) -> list[tuple[str, list[Problem]]]:
    """(area, problems) for every check, in the order they are printed."""
    database = _database(settings)
    # Sources and organisations added in the web UI are read only from a current schema.
    current = database if database is not None and not pending_migrations(database) else None
    checks: list[tuple[str, Callable[[], Iterator[Problem]]]] = [
        ("токены и секреты", lambda: _tokens(settings, current)),
        ("файлы региона", lambda: _region(settings)),
        ("производственный календарь", lambda: _calendar(today)),
        ("модели", lambda: _models(settings)),
        ("база данных", lambda: _migrations(settings, database)),
        ("свободное место", lambda: _disk(settings, min_free)),
    ]
    try:
        return [(area, list(check())) for area, check in checks]
    finally:
        if database is not None:
            database.close()


def _database(settings: Settings):
    """The database if it exists (None: it will be created at first start)."""
    return open_db(settings.database, upgrade=False) if settings.database.exists() else None


def _tokens(settings: Settings, db) -> Iterator[Problem]:
    where = f"впишите значение в {ENV_FILE} (ИМЯ=значение) и перезапустите службы"
    if not settings.secret("TSUR_SECRET_KEY"):
        yield Problem("секреты", "TSUR_SECRET_KEY не задана: после каждого перезапуска все "
                      "пользователи будут входить заново",
                      f"создайте ключ (python -c 'import secrets; print(secrets.token_urlsafe(48))'), {where}")
    sources = [(s.key, s.platform) for s in settings.sources]
    named = [(o.key, o.vk_token_env) for o in settings.organisations if o.vk_token_env]
    if db is not None:
        sources += [(s["key"], s["platform"]) for s in active_sources(db) if not s["paused"]]
        for org in list_organisations(db):
            named += [(org["key"], org.get(column)) for column in ("vk_token_env", "telegram_token_env")
                      if org.get(column)]
    vk = sorted({key for key, platform in sources if platform == "vk"})
    if vk and not settings.secret("TSUR_VK_TOKEN"):
        yield Problem("токены", f"TSUR_VK_TOKEN не задана, а источники VK есть ({_some(vk)})",
                      f"получите сервисный или пользовательский токен VK, {where}")
    telegram = sorted({key for key, platform in sources if platform == "telegram"})
    bot = settings.secret("TSUR_TELEGRAM_BOT_TOKEN")
    needs_bot = telegram or settings.workflow.moderators_chat_id
    if needs_bot and not bot:
        reason = f"источники Telegram ({_some(telegram)})" if telegram else "чат модераторов"
        yield Problem("токены", f"TSUR_TELEGRAM_BOT_TOKEN не задана, а нужна: {reason}",
                      f"возьмите токен бота у @BotFather, {where}")
    elif bot and not TELEGRAM_TOKEN.match(bot):
        yield Problem("токены", "TSUR_TELEGRAM_BOT_TOKEN не похожа на токен бота "
                      "(ожидается «123456789:AA…»)", f"скопируйте токен из @BotFather целиком, {where}")
    for org, variable in sorted(set(named)):
        if not settings.secret(variable):
            yield Problem("токены", f"организация {org} называет переменную {variable}, "
                          "но она не задана: ответы от имени организации не уйдут",
                          f"{where}; или уберите имя переменной на странице /admin/organisations")
    webhook = settings.secret("TSUR_TELEGRAM_WEBHOOK_URL")
    if webhook and not webhook.startswith("https://"):
        yield Problem("токены", f"TSUR_TELEGRAM_WEBHOOK_URL = {webhook}: Telegram принимает "
                      "только https", "укажите https://<ваш домен>/telegram/webhook")
    if webhook and not settings.secret("TSUR_TELEGRAM_WEBHOOK_SECRET"):
        yield Problem("токены", "TSUR_TELEGRAM_WEBHOOK_URL задана без "
                      "TSUR_TELEGRAM_WEBHOOK_SECRET: вебхук не будет работать",
                      f"придумайте длинную случайную строку, {where}")
    yield from _max_and_ok(settings, sources, where)
    if bool(settings.secret("TSUR_VK_CALLBACK_SECRET")) != bool(
            settings.secret("TSUR_VK_CALLBACK_CONFIRMATION")):
        yield Problem("токены", "для Callback API VK задана только одна из переменных "
                      "TSUR_VK_CALLBACK_SECRET и TSUR_VK_CALLBACK_CONFIRMATION",
                      f"возьмите обе строки в настройках Callback API сообщества, {where}")


def _max_and_ok(settings: Settings, sources: list[tuple[str, str]], where: str
                ) -> Iterator[Problem]:
    """The MAX bot and the OK application, session and group webhook."""
    chats = sorted({key for key, platform in sources if platform == "max"})
    if chats and not settings.secret("TSUR_MAX_BOT_TOKEN"):
        yield Problem("токены", f"TSUR_MAX_BOT_TOKEN не задана, а источники MAX есть "
                      f"({_some(chats)})", f"возьмите токен бота на business.max.ru "
                      f"(Чат-боты → Настройки), {where}")
    webhook = settings.secret("TSUR_MAX_WEBHOOK_URL")
    if webhook and (not webhook.startswith("https://")
                    or not settings.secret("TSUR_MAX_WEBHOOK_SECRET")):
        yield Problem("токены", "вебхук MAX нужен по https и с TSUR_MAX_WEBHOOK_SECRET",
                      f"укажите https://<ваш домен>/max/webhook и секрет из 5–256 латинских "
                      f"букв, цифр, «_» и «-», {where}")
    groups = sorted({key for key, platform in sources
                     if platform == "ok" and key.split(":", 1)[1].isdigit()})
    missing = [name for name in OK_ENV if not settings.secret(name)]
    if groups and missing:
        yield Problem("токены", f"{', '.join(missing)} не заданы, а группы Одноклассников есть "
                      f"({_some(groups)})", f"ключи приложения придут письмом от OK, сессию "
                      f"даст вход администратора группы через OAuth; {where}")
    if settings.secret("TSUR_OK_GROUP_TOKEN") and not settings.secret("TSUR_OK_WEBHOOK_SECRET"):
        yield Problem("токены", "TSUR_OK_GROUP_TOKEN задана без TSUR_OK_WEBHOOK_SECRET: "
                      "сообщения группе не будут приниматься",
                      f"придумайте длинную случайную строку для адреса /ok/webhook/<секрет>, {where}")


def _some(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" и ещё {len(keys) - 3}" if len(keys) > 3 else "")


def _region(settings: Settings) -> Iterator[Problem]:
    try:
        municipalities = settings.region_csv
    except ConfigError as error:
        yield Problem("регион", str(error), f"добавьте регион: tsur region add {settings.region} "
                      "ФАЙЛ.csv, или исправьте [region] code и [paths] data в tsur.toml")
        return
    stem = municipalities.with_suffix("")
    extra = {name: Path(f"{stem}.{name}.csv") for name in ("settlements", "coords")}
    try:
        read_region(settings.region, municipalities,
                    *(path if path.exists() else None for path in extra.values()),
                    timezone=settings.timezone)
    except RegionError as error:
        yield Problem("регион", str(error), "исправьте указанные строки файлов в "
                      f"{municipalities.parent} (или загрузите их заново: tsur region add)")
    if not extra["settlements"].exists():
        yield Problem("регион", f"нет списка населённых пунктов {extra['settlements'].name}: "
                      "сёла и посёлки не будут узнаваться",
                      "добавьте его: tsur region add … --settlements ФАЙЛ.csv")


def _calendar(today: date) -> Iterator[Problem]:
    years = [today.year] + ([today.year + 1] if today.month == 12 else [])
    for year in years:
        if year not in CHECKED_YEARS:
            yield Problem("календарь", f"производственный календарь на {year} год не сверен "
                          f"(сверены {', '.join(map(str, CHECKED_YEARS))}): сроки могут "
                          "попасть на праздники и перенесённые дни",
                          "обновите tsur и пакет holidays (pip install -U tsur holidays)")


def _models(settings: Settings) -> Iterator[Problem]:
    fix = "восстановите папку models/ из резервной копии или переобучите: tsur train --promote"
    try:
        versions = production_versions(settings.models_dir)
    except ModelError as error:
        yield Problem("модели", str(error), fix)
        return
    if not versions:
        yield Problem("модели", f"в {settings.models_dir}/registry.json нет рабочих версий", fix)
    for task, version in sorted(versions.items()):
        try:
            manifest = read_manifest(settings.models_dir, task, version)
        except ModelError as error:
            yield Problem("модели", str(error), fix)
            continue
        path = Path(settings.models_dir) / task / version / MODEL_FILE
        if not path.exists() or sha256(path) != manifest.get("sha256"):
            yield Problem("модели", f"модель {task} {version}: файл {path} отсутствует или "
                          "его контрольная сумма не совпадает с manifest.json", fix)


def _migrations(settings: Settings, db) -> Iterator[Problem]:
    if db is None:
        folder = _existing_parent(settings.database)
        if not _writable(folder):
            yield Problem("база", f"базы {settings.database} нет, и создать её в {folder} нельзя",
                          f"создайте папку {settings.database.parent} и отдайте её пользователю "
                          "службы (chown tsur:tsur)")
        return
    pending = pending_migrations(db)
    if pending:
        yield Problem("база", f"схема базы устарела: не применены {', '.join(pending)}",
                      "остановите службы и выполните tsur db upgrade (сначала будет сделана "
                      "резервная копия)")
    if not _writable(settings.backup_dir if settings.backup_dir.exists()
                     else _existing_parent(settings.backup_dir)):
        yield Problem("база", f"в папку резервных копий {settings.backup_dir} нельзя писать",
                      "создайте её и отдайте пользователю службы, или укажите [backup] dir")


def _disk(settings: Settings, min_free: int) -> Iterator[Problem]:
    size = sum(Path(f"{settings.database}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{settings.database}{s}").exists())
    for label, folder in (("базы", settings.database.parent), ("резервных копий", settings.backup_dir)):
        free = shutil.disk_usage(_existing_parent(folder)).free
        need = 2 * size + min_free
        if free < need:
            yield Problem("диск", f"на диске {label} ({folder}) свободно {free / GIB:.1f} ГиБ, "
                          f"а нужно не меньше {need / GIB:.1f} ГиБ (дважды база и запас)",
                          "освободите место или перенесите папку на больший диск; старые копии "
                          "удаляются по [backup] keep и max_age_days")


def _existing_parent(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists():
        path = path.parent
    return path


def _writable(folder: Path) -> bool:
    probe = Path(folder) / ".tsur-check"
    try:
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False
