"""Configuration: one TOML file for what a ЦУР decides, the environment for secrets.

Secrets (tokens, the web secret key) are never read from the TOML file, so the file
can be committed and shared; `ENVIRONMENT` lists every variable tsur reads.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nlp.labels import TOPICS, URGENCIES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_MODELS_DIR = PROJECT_ROOT / "models"


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str | None
    help: str


ENVIRONMENT = (
    EnvVar("TSUR_CONFIG", None, "Path of the tsur.toml configuration file (same as --config)."),
    EnvVar("TSUR_DB", None, "Path of the SQLite database; overrides [database] path."),
    EnvVar("TSUR_VK_API_URL", "https://api.vk.ru/method", "Base URL of the VK API methods."),
    EnvVar(
        "TSUR_TELEGRAM_API_URL", "https://api.telegram.org", "Base URL of the Telegram Bot API."
    ),
    EnvVar(
        "TSUR_TELEGRAM_WEB_URL", "https://t.me",
        "Base URL of Telegram's public channel web preview (t.me/s/<channel>).",
    ),
    EnvVar("TSUR_MAX_API_URL", "https://platform-api2.max.ru", "Base URL of the MAX Bot API."),
    EnvVar("TSUR_OK_API_URL", "https://api.ok.ru", "Base URL of the Одноклассники REST API (fb.do)."),
    EnvVar("TSUR_VK_TOKEN", None, "VK user or service token for polling walls and search."),
    EnvVar("TSUR_TELEGRAM_BOT_TOKEN", None, "Telegram bot token (from @BotFather)."),
    EnvVar("TSUR_MAX_BOT_TOKEN", None,
           "MAX bot token (business.max.ru → Чат-боты → Настройки); the bot reads the chats it "
           "administers and its dialogs, and sends replies."),
    EnvVar("TSUR_OK_APPLICATION_KEY", None,
           "Public key of the OK application (ok.ru/dev: the letter with the application's keys)."),
    EnvVar("TSUR_OK_APPLICATION_SECRET_KEY", None,
           "Secret key of the OK application; signs every request, never sent."),
    EnvVar("TSUR_OK_ACCESS_TOKEN", None,
           "Session (access_token) of an administrator of the OK group pages, with the rights "
           "VALUABLE_ACCESS, GROUP_CONTENT and LONG_ACCESS_TOKEN; reads topics and comments "
           "and posts replies as the group."),
    EnvVar("TSUR_OK_GROUP_TOKEN", None,
           "Token of an OK group for its Bot API (group settings → «Работа с API» → «Получить "
           "ключ доступа»): messages residents write to the group, and replies to them."),
    EnvVar("TSUR_OK_WEBHOOK_SECRET", None,
           "The last part of the webhook URL /ok/webhook/<secret> subscribed for the group "
           "(OK signs nothing: the unguessable URL proves the sender)."),
    EnvVar("TSUR_VK_CALLBACK_CONFIRMATION", None,
           "String the VK Callback API expects back from /vk/callback (community settings)."),
    EnvVar("TSUR_VK_CALLBACK_SECRET", None,
           "Secret key of the VK Callback API server; events without it are refused."),
    EnvVar("TSUR_TELEGRAM_WEBHOOK_URL", None,
           "Public https URL of /telegram/webhook; when set, tsur collect uses the webhook "
           "instead of long polling."),
    EnvVar("TSUR_TELEGRAM_WEBHOOK_SECRET", None,
           "Secret token Telegram sends with every webhook call (required for the webhook)."),
    EnvVar("TSUR_MAX_WEBHOOK_URL", None,
           "Public https URL of /max/webhook; when set, tsur collect reads the MAX updates "
           "the webhook stored instead of long polling."),
    EnvVar("TSUR_MAX_WEBHOOK_SECRET", None,
           "Secret MAX sends in X-Max-Bot-Api-Secret with every webhook call (required for "
           "the webhook)."),
    EnvVar("TSUR_SECURE_COOKIES", None,
           "Set to 1 when users reach tsur over HTTPS (behind a proxy): the session cookie "
           "then carries the Secure flag and is never sent over plain HTTP."),
    EnvVar("TSUR_TRUSTED_PROXIES", None,
           "Addresses of the reverse proxies (comma-separated, e.g. 127.0.0.1) whose "
           "X-Forwarded-For and X-Forwarded-Proto tsur serve believes; added to [web] "
           "trusted_proxies."),
    EnvVar(
        "TSUR_SECRET_KEY",
        None,
        "Signs web session cookies; when unset a random key is made at start "
        "and everybody must log in again after a restart.",
    ),
)

TIMEZONES = {"52": "Europe/Moscow", "86": "Asia/Yekaterinburg"}

# Hours per target and urgency; field practice: first public reply within 1–3 h, the
# executor within 24 h, a draft within 8–9 working hours (4 for high), a final answer
# within 7 working days (63 h of a 9-hour day) after an interim reply. `critical` and
# the targets in `calendar_hours` count clock hours, the rest working hours.
DEADLINE_TARGETS = ("first_reply", "executor", "draft", "resolve")
DEFAULT_DEADLINES = {
    "first_reply": {"critical": 1, "high": 2, "normal": 3, "low": 8},
    "executor": {"critical": 2, "high": 24, "normal": 24, "low": 24},
    "draft": {"critical": 4, "high": 4, "normal": 8, "low": 9},
    "resolve": {"critical": 72, "high": 27, "normal": 63, "low": 63},
    "calendar_hours": ["executor"],
    "topics": {},
}


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix."""


def env(name: str, environ: dict | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    default = next((v.default for v in ENVIRONMENT if v.name == name), None)
    return environ.get(name) or default


@dataclass(frozen=True)
class Organisation:
    key: str
    name: str
    municipality: str | None = None
    kind: str = "administration"  # administration | ministry | cur | service
    topics: tuple[str, ...] = ()
    vk_group_id: int | None = None
    vk_token_env: str | None = None
    telegram_chat_id: int | None = None
    supervisor: str | None = None  # who answers for breaches, e.g. a deputy head (= head)
    supervisor_chat_id: int | None = None  # Telegram chat the escalations go to
    head: str | None = None  # the organisation's head: the first escalation goes here
    head_chat_id: int | None = None
    head_of_head: str | None = None  # the head's own head: later escalations climb here
    head_of_head_chat_id: int | None = None
    working_hours: tuple[str, ...] | None = None  # 7 × "09:00-18:00" or "" (day off)


@dataclass(frozen=True)
class SourceConfig:
    key: str
    platform: str
    name: str
    role: str = "watched"  # official | watched
    municipality: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class RoutingRule:
    organisation: str
    topic: str | None = None
    municipality: str | None = None


@dataclass(frozen=True)
class Workflow:
    """The incident worker and queue: warnings, reminders, notifications, round-robin."""

    moderators_chat_id: int | None = None  # Telegram chat of the ЦУР moderators
    warn_before_minutes: int = 60
    info_reminder_hours: float = 24  # remind the author who was asked for details
    auto_close_hours: float = 72  # close a resolved incident nobody disputed
    round_robin: bool = False  # assign incidents to the organisation's officials in turn
    repeat_window_days: int = 30
    feedback_mode: str = "reply"  # reply | dm: how the resident is asked to rate
    info_close_hours: float = 72  # close an incident whose author never answered (0: never)


@dataclass(frozen=True)
class Spikes:
    """Spike alerts: a burst of similar messages about one topic in one municipality
    within `window_minutes` becomes one mass incident (monitor.incidents.spikes)."""

    enabled: bool = True
    window_minutes: int = 60
    similarity: float = 0.4  # mean likeness of a message to the rest of the burst (0..1)
    follow_hours: float = 12  # later similar messages join a spike detected this recently
    min_messages: dict = field(default_factory=lambda: {"default": 10})  # topic -> messages

    def threshold(self, topic: str) -> int:
        return int(self.min_messages.get(topic, self.min_messages.get("default", 10)))


@dataclass(frozen=True)
class Autopilot:
    """Delivery without a moderator where the model is sure (monitor.incidents.autopilot):
    thresholds per topic chosen by `tsur autopilot thresholds` from the moderators' history."""

    enabled: bool = False  # the one switch; off: every incident waits for a moderator
    target_precision: float = 0.97  # share of autopiloted incidents whose labels were right
    critical: bool = False  # `critical` incidents skip the human look too
    min_reviews: int = 30  # decided incidents a topic needs before thresholds are chosen


@dataclass(frozen=True)
class MunicipalCentre:
    """A municipal ЦУР: its moderators work the incidents of these municipalities."""

    key: str
    name: str
    municipalities: tuple[str, ...] = ()
    chat_id: int | None = None  # the centre's Telegram chat: hand-downs and breaches go there


@dataclass(frozen=True)
class Tiers:
    """Regional and municipal moderation (monitor.incidents.tiers): an incident in a
    municipality with a municipal centre goes to that centre, unless its topic or its
    organisation stays regional."""

    centres: tuple[MunicipalCentre, ...] = ()
    regional_topics: tuple[str, ...] = ()
    regional_organisations: tuple[str, ...] = ()

    def centre_of(self, municipality: str | None) -> MunicipalCentre | None:
        return next((c for c in self.centres if municipality and municipality in c.municipalities),
                    None)


@dataclass(frozen=True)
class Extensions:
    """«Перенос срока» (monitor.incidents.extensions): which targets may be moved, how
    many times per incident and how far past the deadline in force."""

    targets: tuple[str, ...] = ("draft", "resolve")
    max_per_incident: int = 2
    max_days: float = 30


RATING_WEIGHTS = {"on_time": 0.25, "speed": 0.15, "not_overdue": 0.15, "quality": 0.15,
                  "satisfied": 0.15, "score": 0.15}


@dataclass(frozen=True)
class Ratings:
    """Monthly ratings (monitor.reports.ratings): the weights of the parts of the score,
    the volume below which a body is not rated, the reply time that scores zero."""

    min_incidents: int = 2
    reference_hours: float = 72
    weights: dict = field(default_factory=lambda: dict(RATING_WEIGHTS))


@dataclass(frozen=True)
class Backups:
    """`tsur db backup` (monitor.store.backup): where the copies go, how many stay."""

    dir: Path | None = None  # default: backups/ beside the database
    keep: int = 14  # the newest copies kept
    max_age_days: float = 30  # older copies deleted (the newest one always stays)


@dataclass(frozen=True)
class Settings:
    region: str = "52"
    timezone: str = "Europe/Moscow"
    database: Path = Path("tsur.db")
    data_dir: Path = DEFAULT_DATA_DIR
    models_dir: Path = DEFAULT_MODELS_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    # [web] trusted_proxies: the only addresses whose X-Forwarded-For/-Proto are believed
    trusted_proxies: tuple[str, ...] = ()
    organisations: tuple[Organisation, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    routing: tuple[RoutingRule, ...] = ()
    deadlines: dict = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    workflow: Workflow = field(default_factory=Workflow)
    tgweb: dict = field(default_factory=dict)  # [tgweb]: public channel preview politeness
    vk: dict = field(default_factory=dict)  # [vk]: which posts of a polled wall are watched
    spikes: Spikes = field(default_factory=Spikes)
    autopilot: Autopilot = field(default_factory=Autopilot)
    backups: Backups = field(default_factory=Backups)
    tiers: Tiers = field(default_factory=Tiers)
    extensions: Extensions = field(default_factory=Extensions)
    ratings: Ratings = field(default_factory=Ratings)
    environ: dict = field(default_factory=dict, repr=False)
    path: Path | None = None

    @property
    def region_csv(self) -> Path:
        matches = sorted((self.data_dir / "regions").glob(f"{self.region}-*.csv"))
        matches = [p for p in matches if p.name.count(".") == 1]
        if not matches:
            raise ConfigError(
                f"no municipality list for region {self.region!r} in {self.data_dir / 'regions'}"
            )
        return matches[0]

    @property
    def backup_dir(self) -> Path:
        return self.backups.dir or self.database.parent / "backups"

    def secret(self, name: str) -> str | None:
        return env(name, self.environ)

    def organisation(self, key: str | None) -> Organisation | None:
        return next((o for o in self.organisations if o.key == key), None)


def load_settings(path: str | Path | None = None, environ: dict | None = None) -> Settings:
    """Read tsur.toml (from `path`, else $TSUR_CONFIG, else defaults only)."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get("TSUR_CONFIG")
    raw: dict = {}
    if path:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
    return settings_from_dict(raw, environ=environ, path=Path(path) if path else None)


def settings_from_dict(raw: dict, environ: dict | None = None, path: Path | None = None):
    environ = dict(os.environ if environ is None else environ)
    base = path.parent if path else Path.cwd()
    _refuse_secrets(raw, path)
    region = raw.get("region", {})
    code = str(region.get("code", "52"))
    paths = raw.get("paths", {})
    database = environ.get("TSUR_DB") or raw.get("database", {}).get("path", "tsur.db")
    web = raw.get("web", {})
    deadlines = _merge_deadlines(raw.get("deadlines", {}))
    data_dir = _resolve(base, paths["data"]) if "data" in paths else DEFAULT_DATA_DIR
    try:
        settings = Settings(
            region=code,
            timezone=region.get("timezone") or _region_timezone(data_dir, code)
            or TIMEZONES.get(code, "Europe/Moscow"),
            database=_resolve(base, database),
            data_dir=data_dir,
            models_dir=_resolve(base, paths["models"]) if "models" in paths else DEFAULT_MODELS_DIR,
            host=web.get("host", "127.0.0.1"),
            port=int(web.get("port", 8000)),
            trusted_proxies=_trusted_proxies(web.get("trusted_proxies", ()), environ, path),
            organisations=tuple(Organisation(**o) for o in raw.get("organisations", [])),
            sources=tuple(SourceConfig(**s) for s in raw.get("sources", [])),
            routing=tuple(RoutingRule(**r) for r in raw.get("routing", [])),
            deadlines=deadlines,
            workflow=Workflow(**raw.get("workflow", {})),
            tgweb=dict(raw.get("tgweb", {})),
            vk=dict(raw.get("vk", {})),
            spikes=Spikes(**{"min_messages": {"default": 10},
                             **raw.get("spikes", {})}),
            autopilot=Autopilot(**raw.get("autopilot", {})),
            backups=_backups(base, raw.get("backup", {})),
            tiers=_tiers(raw.get("tiers", {})),
            extensions=Extensions(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in raw.get("extensions", {}).items()}),
            ratings=Ratings(**{**raw.get("ratings", {}), "weights": {
                **RATING_WEIGHTS, **raw.get("ratings", {}).get("weights", {})}}),
            environ=environ,
            path=path,
        )
    except TypeError as error:
        raise ConfigError(f"{path or 'configuration'}: {error}") from None
    _validate(settings)
    return settings


def _trusted_proxies(value, environ: dict, path) -> tuple[str, ...]:
    """[web] trusted_proxies (a list, or one comma-separated string), and the addresses in
    TSUR_TRUSTED_PROXIES (an environment file may name them); none by default."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path or 'configuration'}: [web] trusted_proxies must be a list of "
                          "addresses, e.g. [\"127.0.0.1\"]")
    named = [*value, *(environ.get("TSUR_TRUSTED_PROXIES") or "").split(",")]
    return tuple(dict.fromkeys(v.strip() for v in named if v.strip()))


def _backups(base: Path, raw: dict) -> Backups:
    return Backups(**{**raw, "dir": _resolve(base, raw["dir"]) if raw.get("dir") else None})


def _tiers(raw: dict) -> Tiers:
    centres = tuple(MunicipalCentre(**{**c, "municipalities": tuple(c.get("municipalities", ()))})
                    for c in raw.get("centres", []))
    return Tiers(centres=centres, regional_topics=tuple(raw.get("regional_topics", ())),
                 regional_organisations=tuple(raw.get("regional_organisations", ())))


def _region_timezone(data_dir: Path, code: str) -> str | None:
    """The zone `tsur region add --timezone` recorded beside the region's CSV files
    (None: not recorded)."""
    for path in sorted((data_dir / "regions").glob(f"{code}-*.region.json")):
        try:
            return json.loads(path.read_text(encoding="utf-8")).get("timezone") or None
        except (OSError, ValueError):
            return None
    return None


def _merge_deadlines(raw: dict) -> dict:
    """The defaults with the file's values on top, urgency by urgency."""
    merged = {}
    for key, default in DEFAULT_DEADLINES.items():
        value = raw.get(key, default)
        merged[key] = {**default, **value} if key in DEADLINE_TARGETS and isinstance(value, dict) else value
    return {**raw, **merged}


def _resolve(base: Path, value) -> Path:
    value = Path(value)
    return value if value.is_absolute() else base / value


def _refuse_secrets(raw: dict, path) -> None:
    def walk(node, trail):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.lower() in {"token", "secret", "secret_key", "password", "access_token"}:
                    raise ConfigError(
                        f"{path or 'configuration'}: {'.'.join(trail + [key])} looks like a "
                        "secret; put secrets in environment variables, not in tsur.toml"
                    )
                walk(value, trail + [key])
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, trail + [str(i)])

    walk(raw, [])


def _validate(settings: Settings) -> None:
    where = settings.path or "configuration"
    org_keys = {o.key for o in settings.organisations}
    for source in settings.sources:
        if source.platform not in {"vk", "telegram", "tgweb", "max", "ok", "replay"}:
            raise ConfigError(f"{where}: source {source.key}: unknown platform {source.platform!r}")
        if source.role not in {"official", "watched"}:
            raise ConfigError(f"{where}: source {source.key}: role must be official or watched")
        if source.organisation and source.organisation not in org_keys:
            raise ConfigError(
                f"{where}: source {source.key}: unknown organisation {source.organisation!r}"
            )
    for rule in settings.routing:
        if rule.organisation not in org_keys:
            raise ConfigError(f"{where}: routing rule names unknown organisation {rule.organisation!r}")
        if rule.topic and rule.topic not in TOPICS:
            raise ConfigError(f"{where}: routing rule names unknown topic {rule.topic!r}")
    for org in settings.organisations:
        for topic in org.topics:
            if topic not in TOPICS:
                raise ConfigError(f"{where}: organisation {org.key}: unknown topic {topic!r}")
    _validate_deadlines(settings.deadlines, where)
    _validate_spikes(settings.spikes, where)
    if not isinstance(settings.backups.keep, int) or settings.backups.keep < 1:
        raise ConfigError(f"{where}: backup.keep must be a whole number of at least 1")
    if not isinstance(settings.backups.max_age_days, int | float) or settings.backups.max_age_days <= 0:
        raise ConfigError(f"{where}: backup.max_age_days must be a positive number of days")
    pilot = settings.autopilot
    if not isinstance(pilot.target_precision, int | float) or not 0.5 <= pilot.target_precision <= 1:
        raise ConfigError(f"{where}: autopilot.target_precision must be between 0.5 and 1")
    if not isinstance(pilot.min_reviews, int) or pilot.min_reviews < 1:
        raise ConfigError(f"{where}: autopilot.min_reviews must be a whole number of at least 1")
    if settings.workflow.feedback_mode not in {"reply", "dm"}:
        raise ConfigError(f"{where}: workflow.feedback_mode must be reply or dm")
    _validate_regional(settings, org_keys, where)
    for org in settings.organisations:
        if org.working_hours is not None and len(org.working_hours) != 7:
            raise ConfigError(f"{where}: organisation {org.key}: working_hours needs 7 entries"
                              " (Monday to Sunday, \"\" for a day off)")


def _validate_regional(settings: Settings, org_keys: set[str], where) -> None:
    """[tiers], [extensions], [ratings] and the workflow's question limit."""
    tiers = settings.tiers
    for topic in tiers.regional_topics:
        if topic not in TOPICS:
            raise ConfigError(f"{where}: tiers.regional_topics: unknown topic {topic!r}")
    for key in tiers.regional_organisations:
        if key not in org_keys:
            raise ConfigError(f"{where}: tiers.regional_organisations: unknown organisation {key!r}")
    seen: dict[str, str] = {}
    for centre in tiers.centres:
        if not centre.municipalities:
            raise ConfigError(f"{where}: tiers.centres {centre.key}: no municipalities")
        for name in centre.municipalities:
            if name in seen:
                raise ConfigError(f"{where}: municipality {name!r} belongs to two centres "
                                  f"({seen[name]}, {centre.key})")
            seen[name] = centre.key
    ext = settings.extensions
    for target in ext.targets:
        if target not in DEADLINE_TARGETS:
            raise ConfigError(f"{where}: extensions.targets: unknown target {target!r}")
    if not isinstance(ext.max_per_incident, int) or ext.max_per_incident < 0:
        raise ConfigError(f"{where}: extensions.max_per_incident must be a whole number >= 0")
    if not isinstance(ext.max_days, int | float) or ext.max_days <= 0:
        raise ConfigError(f"{where}: extensions.max_days must be a positive number of days")
    ratings = settings.ratings
    unknown = set(ratings.weights) - set(RATING_WEIGHTS)
    if unknown:
        raise ConfigError(f"{where}: ratings.weights: unknown part {sorted(unknown)}; expected "
                          f"{', '.join(RATING_WEIGHTS)}")
    if any(not isinstance(w, int | float) or w < 0 for w in ratings.weights.values()):
        raise ConfigError(f"{where}: ratings.weights must be non-negative numbers")
    if not isinstance(ratings.min_incidents, int) or ratings.min_incidents < 1:
        raise ConfigError(f"{where}: ratings.min_incidents must be a whole number >= 1")
    if not isinstance(ratings.reference_hours, int | float) or ratings.reference_hours <= 0:
        raise ConfigError(f"{where}: ratings.reference_hours must be a positive number of hours")
    if settings.workflow.info_close_hours < 0:
        raise ConfigError(f"{where}: workflow.info_close_hours must be >= 0 (0: never)")


def _validate_spikes(spikes: Spikes, where) -> None:
    if not isinstance(spikes.window_minutes, int) or spikes.window_minutes <= 0:
        raise ConfigError(f"{where}: spikes.window_minutes must be a positive whole number")
    if not isinstance(spikes.similarity, int | float) or not 0 <= spikes.similarity <= 1:
        raise ConfigError(f"{where}: spikes.similarity must be between 0 and 1")
    if not isinstance(spikes.min_messages, dict):
        raise ConfigError(f"{where}: spikes.min_messages must be a table of topic = messages")
    for topic, count in spikes.min_messages.items():
        if topic != "default" and topic not in TOPICS:
            raise ConfigError(f"{where}: spikes.min_messages: unknown topic {topic!r}; "
                              f"expected default or one of {', '.join(TOPICS)}")
        if not isinstance(count, int) or count < 2:
            raise ConfigError(f"{where}: spikes.min_messages.{topic} must be a whole number "
                              f"of at least 2, got {count!r}")


def _validate_deadlines(deadlines: dict, where) -> None:
    def check_targets(table: dict, trail: str) -> None:
        for target, hours in table.items():
            if not isinstance(hours, dict):
                raise ConfigError(f"{where}: {trail}.{target} must be a table of hours per urgency")
            if target not in DEADLINE_TARGETS:
                raise ConfigError(f"{where}: {trail}.{target}: unknown target; expected one of "
                                  f"{', '.join(DEADLINE_TARGETS)}")
            unknown = set(hours) - set(URGENCIES)
            if unknown:
                raise ConfigError(f"{where}: {trail}.{target}: unknown urgency {sorted(unknown)}")
            for urgency, value in hours.items():
                if not isinstance(value, int | float) or value < 0:
                    raise ConfigError(f"{where}: {trail}.{target}.{urgency}: hours must be a "
                                      f"non-negative number, got {value!r}")

    check_targets({k: v for k, v in deadlines.items() if k not in {"calendar_hours", "topics"}},
                  "deadlines")
    for target in deadlines.get("calendar_hours", []):
        if target not in DEADLINE_TARGETS:
            raise ConfigError(f"{where}: deadlines.calendar_hours: unknown target {target!r}")
    for topic, table in deadlines.get("topics", {}).items():
        if topic not in TOPICS:
            raise ConfigError(f"{where}: deadlines.topics: unknown topic {topic!r}")
        check_targets(table, f"deadlines.topics.{topic}")
