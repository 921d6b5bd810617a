"""People who log in: moderators, officials, data scientists, admins.

A moderator may be scoped to one or several municipalities (a municipal ЦУР); without a
scope a moderator works for the whole region (monitor.incidents.access)."""

from __future__ import annotations

import json
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from monitor.catalog.organisations import organisation_id
from monitor.clock import iso

ROLES = ("admin", "moderator", "official", "data_scientist")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


class UserError(Exception):
    """A user cannot be created or changed as asked."""


def _scope(role: str, municipalities) -> str | None:
    """The stored scope (a JSON list) of a moderator; other roles have none."""
    names = sorted({" ".join(str(m).split()) for m in municipalities or () if str(m).strip()})
    if names and role != "moderator":
        raise UserError("only a moderator can be scoped to municipalities (a municipal ЦУР)")
    return json.dumps(names, ensure_ascii=False) if names else None


def create_user(db: Database, login: str, password: str, role: str, now: datetime, *,
                name: str | None = None, organisation: str | None = None,
                municipalities=()) -> int:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    check_password(password)
    org_id = organisation_id(db, organisation)
    if role == "official" and org_id is None:
        raise UserError(f"an official needs an existing organisation (got {organisation!r})")
    scope = _scope(role, municipalities)
    if list(db["users"].rows_where("login = ?", [login])):
        raise UserError(f"user {login!r} already exists")
    with db.atomic():
        return db["users"].insert({
            "login": login, "name": name or login, "role": role, "organisation_id": org_id,
            "password_hash": _hasher.hash(password), "created_at": iso(now),
            "municipalities": scope,
        }).last_pk


def authenticate(db: Database, login: str, password: str) -> dict | None:
    """The user row if the password matches, else None (same answer for unknown logins)."""
    rows = list(db["users"].rows_where("login = ? AND disabled = 0", [login]))
    if not rows:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(rows[0]["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    return rows[0]


def user_by_login(db: Database, login: str) -> dict | None:
    rows = list(db["users"].rows_where("login = ? AND disabled = 0", [login]))
    return rows[0] if rows else None


def get_user(db: Database, user_id: int) -> dict | None:
    rows = list(db["users"].rows_where("id = ? AND disabled = 0", [user_id]))
    return rows[0] if rows else None


def check_password(password: str) -> None:
    """The one password rule, for new users and resets alike."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")


def list_users(db: Database) -> list[dict]:
    """Every user (disabled ones too) with their organisation's name and a moderator's
    municipalities (`scope`, a list), by login."""
    rows = list(db.query(
        "SELECT u.id, u.login, u.name, u.role, u.disabled, u.created_at, u.organisation_id,"
        " u.municipalities, o.name AS organisation_name FROM users u"
        " LEFT JOIN organisations o ON o.id = u.organisation_id ORDER BY u.login"))
    for row in rows:
        row["scope"] = json.loads(row["municipalities"]) if row["municipalities"] else []
    return rows


def user_by_id(db: Database, user_id: int) -> dict | None:
    """A user (disabled or not) with their organisation's name; None if there is none."""
    rows = list(db.query(
        "SELECT u.*, o.name AS organisation_name FROM users u"
        " LEFT JOIN organisations o ON o.id = u.organisation_id WHERE u.id = ?", [user_id]))
    return rows[0] if rows else None


def set_role(db: Database, user_id: int, role: str, organisation: str | None) -> int | None:
    """Give a user a role (an official: within an organisation); returns the organisation id."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    org_id = organisation_id(db, organisation) if role == "official" else None
    if role == "official" and org_id is None:
        raise UserError(f"an official needs an existing organisation (got {organisation!r})")
    with db.atomic():
        changes = {"role": role, "organisation_id": org_id}
        if role != "moderator":
            changes["municipalities"] = None  # a scope belongs to a moderator only
        db["users"].update(user_id, changes)
    return org_id


def set_municipalities(db: Database, user_id: int, municipalities) -> None:
    """Scope a moderator to municipalities (empty: the whole region again)."""
    user = user_by_id(db, user_id)
    if user is None:
        raise UserError(f"no user {user_id}")
    scope = _scope(user["role"], municipalities)
    with db.atomic():
        db["users"].update(user_id, {"municipalities": scope})


def set_disabled(db: Database, user_id: int, disabled: bool) -> None:
    with db.atomic():
        db["users"].update(user_id, {"disabled": int(disabled)})


def set_password(db: Database, user_id: int, password: str) -> None:
    check_password(password)
    with db.atomic():
        db["users"].update(user_id, {"password_hash": _hasher.hash(password)})
