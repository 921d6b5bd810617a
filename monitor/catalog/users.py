"""People who log in: moderators, officials, data scientists, admins."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from monitor.catalog.organisations import organisation_id
from monitor.clock import iso

ROLES = ("admin", "moderator", "official", "data_scientist")
_hasher = PasswordHasher()


class UserError(Exception):
    """A user cannot be created or changed as asked."""


def create_user(db: Database, login: str, password: str, role: str, now: datetime, *,
                name: str | None = None, organisation: str | None = None) -> int:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    org_id = organisation_id(db, organisation)
    if role == "official" and org_id is None:
        raise UserError(f"an official needs an existing organisation (got {organisation!r})")
    if list(db["users"].rows_where("login = ?", [login])):
        raise UserError(f"user {login!r} already exists")
    with db.atomic():
        return db["users"].insert({
            "login": login, "name": name or login, "role": role, "organisation_id": org_id,
            "password_hash": _hasher.hash(password), "created_at": iso(now),
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


def get_user(db: Database, user_id: int) -> dict | None:
    rows = list(db["users"].rows_where("id = ? AND disabled = 0", [user_id]))
    return rows[0] if rows else None
