"""Admin pages: users and roles, organisations and their linked accounts, sources'
health, routing rules and the audit log. Admins only; every change is audited."""

from __future__ import annotations

import json
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from monitor.catalog import audit
from monitor.catalog.organisations import create_organisation as insert_organisation
from monitor.catalog.organisations import list_organisations, organisation_by_id
from monitor.catalog.organisations import update_organisation as save_organisation
from monitor.catalog.sources import (
    SourceProblem,
    add_source,
    listed_sources,
    municipalities,
    remove_source,
    set_paused,
)
from monitor.catalog.users import (
    MIN_PASSWORD,
    ROLES,
    UserError,
    check_password,
    create_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
    user_by_id,
)
from monitor.clock import parse_time
from monitor.context import Context
from monitor.incidents.routing import CUR_KEY, add_rule, edited_rules, rule_by_id
from monitor.incidents.routing import delete_rule as drop_rule
from monitor.store.backup import stale_warning
from monitor.titles import ORGANISATION_KIND_TITLES
from nlp.labels import TOPICS

from .auth import (
    CtxDep,
    UserDep,
    check_csrf,
    render,
    revoke_sessions,
)

router = APIRouter(prefix="/admin")

ORG_KINDS = ORGANISATION_KIND_TITLES
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,99}$")
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
NOT_A_TOKEN = {"TSUR_SECRET_KEY", "TSUR_CONFIG", "TSUR_DB"}


class FormError(Exception):
    """A form value that cannot be accepted; the message is shown to the admin."""


def admin_user(user: UserDep) -> dict:
    if user["role"] != "admin":
        raise HTTPException(403, "Раздел доступен только администратору")
    return user


AdminDep = Annotated[dict, Depends(admin_user)]


def _org_by_id(db, org_id: int) -> dict:
    org = organisation_by_id(db, org_id)
    if org is None:
        raise HTTPException(404, "Организация не найдена")
    return org


def _user_by_id(db, user_id: int) -> dict:
    target = user_by_id(db, user_id)
    if target is None:
        raise HTTPException(404, "Пользователь не найден")
    return target


def _ip(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("")
def admin_home(user: AdminDep):
    return RedirectResponse("/admin/users", status_code=303)


# --- users and roles ----------------------------------------------------------------


def _users_page(request, ctx: Context, user, *, error=None, form=None, status_code=200, notice=None):
    return render(request, "admin/users.html", status_code=status_code, user=user,
                  users=list_users(ctx.db), organisations=list_organisations(ctx.db), roles=ROLES, error=error,
                  form=form or {}, notice=notice, section="users")


@router.get("/users")
def users_page(request: Request, ctx: CtxDep, user: AdminDep):
    return _users_page(request, ctx, user)


def _organisation_key(db, raw: str, role: str) -> str | None:
    if not raw:
        if role == "official":
            raise FormError("Сотруднику органа нужна организация.")
        return None
    org = organisation_by_id(db, _int(raw, "Организация"))
    if org is None:
        raise FormError("Такой организации нет.")
    return org["key"]


def _int(raw: str, field: str, *, positive: bool = False) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise FormError(f"{field}: нужно целое число.") from None
    if positive and value <= 0:
        raise FormError(f"{field}: нужно положительное число.")
    return value


@router.post("/users", dependencies=[Depends(check_csrf)])
def create_user_form(request: Request, ctx: CtxDep, user: AdminDep, login: str = Form(""),
                     name: str = Form(""), role: str = Form(""), organisation_id: str = Form(""),
                     password: str = Form("")):
    form = {"login": login, "name": name, "role": role, "organisation_id": organisation_id}
    login = login.strip().lower()
    try:
        if not LOGIN.match(login):
            raise FormError("Логин: 2–50 символов, латинские строчные буквы, цифры, точка, дефис, "
                            "подчёркивание.")
        if role not in ROLES:
            raise FormError("Выберите роль.")
        check_password(password)
        org_key = _organisation_key(ctx.db, organisation_id, role) if role == "official" else None
        with ctx.db.atomic():
            new_id = create_user(ctx.db, login, password, role, ctx.clock.now(),
                                 name=name.strip()[:200] or None, organisation=org_key)
            audit.record(ctx.db, user["login"], "user_create", f"user:{login}",
                         {"id": new_id, "role": role, "organisation": org_key}, ctx.clock.now())
    except (FormError, UserError) as error:
        return _users_page(request, ctx, user, error=_russian(error), form=form, status_code=400)
    return RedirectResponse("/admin/users", status_code=303)


def _russian(error: Exception) -> str:
    text = str(error)
    if "already exists" in text:
        return "Такой логин уже есть."
    if "needs an existing organisation" in text:
        return "Сотруднику органа нужна существующая организация."
    if "a password needs" in text:
        return f"Пароль: не короче {MIN_PASSWORD} символов."
    return text


@router.post("/users/{user_id}/role", dependencies=[Depends(check_csrf)])
def change_role(request: Request, ctx: CtxDep, user: AdminDep, user_id: int, role: str = Form(""),
                organisation_id: str = Form("")):
    target = _user_by_id(ctx.db, user_id)
    try:
        if role not in ROLES:
            raise FormError("Выберите роль.")
        if target["id"] == user["id"] and role != "admin":
            raise FormError("Нельзя снять роль администратора с самого себя.")
        org_key = _organisation_key(ctx.db, organisation_id, role) if role == "official" else None
    except FormError as error:
        return _users_page(request, ctx, user, error=str(error), status_code=400)
    with ctx.db.atomic():
        org_id = set_role(ctx.db, user_id, role, org_key)
        audit.record(ctx.db, user["login"], "user_role", f"user:{target['login']}",
                     {"old": {"role": target["role"], "organisation_id": target["organisation_id"]},
                      "new": {"role": role, "organisation_id": org_id}}, ctx.clock.now())
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/disable", dependencies=[Depends(check_csrf)])
def disable_user(request: Request, ctx: CtxDep, user: AdminDep, user_id: int):
    return _set_disabled(request, ctx, user, user_id, True)


@router.post("/users/{user_id}/enable", dependencies=[Depends(check_csrf)])
def enable_user(request: Request, ctx: CtxDep, user: AdminDep, user_id: int):
    return _set_disabled(request, ctx, user, user_id, False)


def _set_disabled(request, ctx: Context, user, user_id: int, disabled: bool):
    target = _user_by_id(ctx.db, user_id)
    if target["id"] == user["id"] and disabled:
        return _users_page(request, ctx, user, status_code=400,
                           error="Нельзя отключить собственную учётную запись.")
    if bool(target["disabled"]) != disabled:
        with ctx.db.atomic():
            set_disabled(ctx.db, user_id, disabled)
            if disabled:
                revoke_sessions(ctx.db, user_id, ctx.clock.now())
            audit.record(ctx.db, user["login"], "user_disable" if disabled else "user_enable",
                         f"user:{target['login']}", {}, ctx.clock.now())
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/password", dependencies=[Depends(check_csrf)])
def reset_password(request: Request, ctx: CtxDep, user: AdminDep, user_id: int,
                   password: str = Form("")):
    """A typed password, or a generated one shown once on this page and never again."""
    target = _user_by_id(ctx.db, user_id)
    generated = not password
    password = password or secrets.token_urlsafe(12)
    try:
        check_password(password)
    except UserError as error:
        return _users_page(request, ctx, user, status_code=400, error=_russian(error))
    with ctx.db.atomic():
        set_password(ctx.db, user_id, password)
        ended = revoke_sessions(ctx.db, user_id, ctx.clock.now())
        audit.record(ctx.db, user["login"], "user_password_reset", f"user:{target['login']}",
                     {"generated": generated, "sessions_ended": ended}, ctx.clock.now())
    notice = (f"Новый пароль пользователя {target['login']}: {password} — передайте его лично, "
              "больше он показан не будет.") if generated else \
        f"Пароль пользователя {target['login']} изменён."
    return _users_page(request, ctx, user, notice=notice)


# --- organisations and linked accounts ----------------------------------------------


def _env_state(ctx: Context, name: str | None) -> str | None:
    """Whether the named variable is set; its value never leaves the server."""
    if not name:
        return None
    return "set" if ctx.settings.secret(name) else "unset"


def _with_env(ctx: Context, orgs: list[dict]) -> list[dict]:
    for org in orgs:
        org["vk_token_state"] = _env_state(ctx, org.get("vk_token_env"))
        org["telegram_token_state"] = _env_state(
            ctx, org.get("telegram_token_env") or ("TSUR_TELEGRAM_BOT_TOKEN"
                                                  if org.get("telegram_chat_id") else None))
        org["topic_list"] = json.loads(org.get("topics") or "[]")
    return orgs


@router.get("/organisations")
def organisations_page(request: Request, ctx: CtxDep, user: AdminDep):
    return _organisations_page(request, ctx, user)


def _organisations_page(request, ctx: Context, user, *, error=None, form=None, status_code=200):
    return render(request, "admin/organisations.html", status_code=status_code, user=user,
                  organisations=_with_env(ctx, list_organisations(ctx.db)), kinds=ORG_KINDS,
                  error=error, form=form or {}, section="organisations")


def _linked_accounts(vk_group_id: str, vk_token_env: str, telegram_chat_id: str,
                     telegram_token_env: str) -> dict:
    """Validated linked-account fields; a pasted token is refused, not stored."""
    values: dict = {}
    vk = vk_group_id.strip()
    # VK writes a community as a negative owner id (-100003); the community id is 100003.
    values["vk_group_id"] = abs(_int(vk, "ID сообщества VK")) if vk else None
    if values["vk_group_id"] == 0:
        raise FormError("ID сообщества VK: нужно ненулевое число.")
    tg = telegram_chat_id.strip()
    values["telegram_chat_id"] = _int(tg, "ID чата Telegram") if tg else None
    for field, raw, title in (("vk_token_env", vk_token_env, "Переменная с токеном VK"),
                              ("telegram_token_env", telegram_token_env,
                               "Переменная с токеном Telegram")):
        name = raw.strip()
        if name and not ENV_NAME.match(name):
            raise FormError(f"{title}: укажите ИМЯ переменной окружения (латинские заглавные, "
                            "цифры и _), а не сам токен.")
        if name in NOT_A_TOKEN:
            raise FormError(f"{title}: {name} не может хранить токен.")
        values[field] = name or None
    return values


def _org_fields(name: str, municipality: str, kind: str) -> dict:
    name = name.strip()
    if not name or len(name) > 300:
        raise FormError("Название: от 1 до 300 символов.")
    if kind not in ORG_KINDS:
        raise FormError("Выберите вид организации.")
    return {"name": name, "municipality": municipality.strip()[:200] or None, "kind": kind}


@router.post("/organisations", dependencies=[Depends(check_csrf)])
def create_organisation(request: Request, ctx: CtxDep, user: AdminDep, key: str = Form(""),
                        name: str = Form(""), municipality: str = Form(""), kind: str = Form("")):
    form = {"key": key, "name": name, "municipality": municipality, "kind": kind}
    key = key.strip().lower()
    try:
        if not re.match(r"^[a-z0-9][a-z0-9-]{1,49}$", key):
            raise FormError("Ключ: 2–50 символов, латинские строчные буквы, цифры и дефис.")
        if any(o["key"] == key for o in list_organisations(ctx.db)):
            raise FormError("Организация с таким ключом уже есть.")
        row = {"key": key, **_org_fields(name, municipality, kind), "topics": "[]"}
    except FormError as error:
        return _organisations_page(request, ctx, user, error=str(error), form=form, status_code=400)
    with ctx.db.atomic():
        org_id = insert_organisation(ctx.db, row)
        audit.record(ctx.db, user["login"], "organisation_create", f"organisation:{key}",
                     {"id": org_id, "name": row["name"], "kind": row["kind"]}, ctx.clock.now())
    return RedirectResponse(f"/admin/organisations/{org_id}", status_code=303)


@router.get("/organisations/{org_id}")
def organisation_page(request: Request, ctx: CtxDep, user: AdminDep, org_id: int):
    org = _with_env(ctx, [_org_by_id(ctx.db, org_id)])[0]
    return _organisation_page(request, ctx, user, org, org)


def _organisation_page(request, ctx: Context, user, org, form, *, error=None, status_code=200):
    configured = ctx.settings.organisation(org["key"]) is not None
    return render(request, "admin/organisation.html", status_code=status_code, user=user, org=org,
                  form=form, kinds=ORG_KINDS, error=error, section="organisations",
                  configured=configured, config_path=ctx.settings.path)


@router.post("/organisations/{org_id}", dependencies=[Depends(check_csrf)])
def update_organisation(request: Request, ctx: CtxDep, user: AdminDep, org_id: int,
                        name: str = Form(""), municipality: str = Form(""), kind: str = Form(""),
                        vk_group_id: str = Form(""), vk_token_env: str = Form(""),
                        telegram_chat_id: str = Form(""), telegram_token_env: str = Form("")):
    org = _with_env(ctx, [_org_by_id(ctx.db, org_id)])[0]
    form = {"name": name, "municipality": municipality, "kind": kind, "vk_group_id": vk_group_id,
            "vk_token_env": vk_token_env, "telegram_chat_id": telegram_chat_id,
            "telegram_token_env": telegram_token_env}
    try:
        if org["key"] == CUR_KEY and kind != "cur":
            raise FormError("Организация «cur» — это сам ЦУР, её вид менять нельзя.")
        row = {**_org_fields(name, municipality, kind),
               **_linked_accounts(vk_group_id, vk_token_env, telegram_chat_id, telegram_token_env)}
    except FormError as error:
        for field in ("vk_token_env", "telegram_token_env"):  # never echo a pasted token
            if not ENV_NAME.match(form[field].strip() or "X0"):
                form[field] = ""
        return _organisation_page(request, ctx, user, org, form, error=str(error), status_code=400)
    changes = {k: {"old": org.get(k), "new": v} for k, v in row.items() if org.get(k) != v}
    if changes:
        with ctx.db.atomic():
            save_organisation(ctx.db, org_id, row)
            audit.record(ctx.db, user["login"], "organisation_update", f"organisation:{org['key']}",
                         changes, ctx.clock.now())
    return RedirectResponse(f"/admin/organisations/{org_id}", status_code=303)


# --- sources, routing, audit (read-only) --------------------------------------------


def source_health(source: dict) -> str:
    """paused | error | ok | never: the last error counts if it came after the last success."""
    if source.get("paused"):
        return "paused"
    success, error = source.get("last_success_at"), source.get("last_error_at")
    if error and (not success or parse_time(error) >= parse_time(success)):
        return "error"
    return "ok" if success else "never"


@router.get("/sources")
def sources_page(request: Request, ctx: CtxDep, user: AdminDep):
    return _sources_page(request, ctx, user)


def _sources_page(request, ctx: Context, user, *, error=None, form=None, status_code=200):
    sources = listed_sources(ctx.db)
    for source in sources:
        source["health"] = source_health(source)
    return render(request, "admin/sources.html", status_code=status_code, user=user,
                  sources=sources, section="sources", error=error, form=form or {},
                  backup_warning=stale_warning(ctx.settings.backup_dir, ctx.clock.now()),
                  organisations=list_organisations(ctx.db),
                  municipalities=sorted(municipalities(ctx.settings)))


@router.post("/sources", dependencies=[Depends(check_csrf)])
def create_source(request: Request, ctx: CtxDep, user: AdminDep, platform: str = Form(""),
                  ident: str = Form(""), name: str = Form(""), role: str = Form("watched"),
                  municipality: str = Form(""), organisation: str = Form("")):
    form = {"platform": platform, "ident": ident, "name": name, "role": role,
            "municipality": municipality, "organisation": organisation}
    if platform not in ("vk", "telegram", "tgweb", "max", "ok"):
        return _sources_page(request, ctx, user, error="Выберите платформу.", form=form,
                             status_code=400)
    try:
        with ctx.db.atomic():
            row = add_source(ctx.db, ctx.settings, ctx.clock.now(), platform, ident.strip(),
                             name=name.strip() or None, role=role,
                             municipality=municipality or None, organisation=organisation or None)
            audit.record(ctx.db, user["login"], "source_add", f"source:{row['key']}",
                         {k: v for k, v in form.items() if v}, ctx.clock.now())
    except SourceProblem as error:
        return _sources_page(request, ctx, user, error=str(error), form=form, status_code=400)
    return RedirectResponse("/admin/sources", status_code=303)


@router.post("/sources/{action}", dependencies=[Depends(check_csrf)])
def change_source(request: Request, ctx: CtxDep, user: AdminDep, action: str, key: str = Form("")):
    """Pause, resume or remove a source (its cursor, posts and incidents stay)."""
    if action not in ("pause", "resume", "remove"):
        raise HTTPException(404, "Нет такого действия")
    try:
        with ctx.db.atomic():
            if action == "remove":
                remove_source(ctx.db, key, ctx.clock.now())
            else:
                set_paused(ctx.db, key, action == "pause")
            audit.record(ctx.db, user["login"], f"source_{action}", f"source:{key}", {},
                         ctx.clock.now())
    except SourceProblem as error:
        return _sources_page(request, ctx, user, error=str(error), status_code=400)
    return RedirectResponse("/admin/sources", status_code=303)


@router.get("/routing")
def routing_page(request: Request, ctx: CtxDep, user: AdminDep):
    return _routing_page(request, ctx, user)


def _routing_page(request, ctx: Context, user, *, error=None, form=None, status_code=200):
    names = {o["key"]: o["name"] for o in list_organisations(ctx.db)}
    settings = ctx.settings
    edited = edited_rules(ctx.db)
    return render(request, "admin/routing.html", status_code=status_code, user=user,
                  rules=settings.routing, edited=edited, names=names,
                  organisations=settings.organisations, config_path=settings.path,
                  section="routing", error=error, form=form or {}, topics=TOPICS,
                  municipalities=sorted(municipalities(settings)), all_organisations=names)


@router.post("/routing", dependencies=[Depends(check_csrf)])
def create_rule(request: Request, ctx: CtxDep, user: AdminDep, topic: str = Form(""),
                municipality: str = Form(""), organisation: str = Form("")):
    form = {"topic": topic, "municipality": municipality, "organisation": organisation}
    problem = None
    if not topic and not municipality:
        problem = "Правилу нужна тема, муниципалитет или и то и другое."
    elif topic and topic not in TOPICS:
        problem = f"Неизвестная тема {topic!r}."
    elif municipality and municipality not in municipalities(ctx.settings):
        problem = f"Неизвестный муниципалитет {municipality!r}."
    elif organisation not in {o["key"] for o in list_organisations(ctx.db)}:
        problem = "Выберите организацию."
    if problem:
        return _routing_page(request, ctx, user, error=problem, form=form, status_code=400)
    now = ctx.clock.now()
    with ctx.db.atomic():
        rule_id = add_rule(ctx.db, topic, municipality, organisation, user["login"], now)
        audit.record(ctx.db, user["login"], "routing_rule_add", f"routing_rule:{rule_id}", form, now)
    return RedirectResponse("/admin/routing", status_code=303)


@router.post("/routing/{rule_id}/delete", dependencies=[Depends(check_csrf)])
def delete_rule(request: Request, ctx: CtxDep, user: AdminDep, rule_id: int):
    found = rule_by_id(ctx.db, rule_id)
    if found is None:
        raise HTTPException(404, "Нет такого правила")
    with ctx.db.atomic():
        drop_rule(ctx.db, rule_id)
        rule = {k: found[k] for k in ("topic", "municipality", "organisation_key")}
        audit.record(ctx.db, user["login"], "routing_rule_delete", f"routing_rule:{rule_id}",
                     rule, ctx.clock.now())
    return RedirectResponse("/admin/routing", status_code=303)


@router.get("/audit")
def audit_page(request: Request, ctx: CtxDep, user: AdminDep, actor: str = "", action: str = "",
               before: int | None = None):
    rows = audit.recent(ctx.db, actor=actor or None, action=action or None, before=before,
                        limit=101)
    more = len(rows) > 100
    rows = rows[:100]
    actions = audit.actions(ctx.db)
    return render(request, "admin/audit.html", user=user, rows=rows, actions=actions,
                  actor=actor, action=action, next_before=rows[-1]["id"] if more else None,
                  section="audit")
