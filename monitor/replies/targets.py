"""Where a reply goes and from which account: the resident's post → one platform call.

- a VK comment `<owner>_<post>_<comment>`: `wall.createComment` under the same post,
  `reply_to_comment` = the resident's comment, from the community (`from_group`);
- a VK wall post `<owner>_<post>`: a comment under that post, from the community;
- a Telegram message `<chat>_<message>`: `sendMessage` to the chat replying to it;
- a MAX message `<chat>_<mid>`: `POST /messages` to the chat (or dialog) linked as a reply,
  from the ЦУР's bot (TSUR_MAX_BOT_TOKEN);
- an OK topic `<group>_<topic>` or comment `<group>_<topic>_<comment>`: a comment from
  the group under the same topic, answering the resident's comment (TSUR_OK_ACCESS_TOKEN,
  a group administrator's session); a message to the group `<chat>_<mid>`: a message
  back into the same chat through the group Bot API (TSUR_OK_GROUP_TOKEN).

The account is the organisation's linked one: for VK the community that owns the
wall (a reply on an administration's page comes from that administration) when the
ЦУР holds its token, else the incident's organisation; for Telegram the bot of the
organisation whose chat it is (`telegram_token_env`), else the ЦУР's bot. Tokens are
read from the environment variable named in the organisation, never stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the Context type only: context.py imports this layer
    from monitor.context import Context

VK_ID = re.compile(r"^(-?\d+)_(\d+)(?:_(\d+))?$")
TG_ID = re.compile(r"^(-?\d+)_(\d+)$")
MAX_ID = re.compile(r"^(-?\d+)_(\S+)$")
BOT_TOKEN = "TSUR_TELEGRAM_BOT_TOKEN"
MAX_TOKEN = "TSUR_MAX_BOT_TOKEN"
OK_ID = re.compile(r"^(\d+)_(\d+)(?:_(\d+))?$")
OK_TOKEN = "TSUR_OK_ACCESS_TOKEN"
OK_GROUP_TOKEN = "TSUR_OK_GROUP_TOKEN"
OK_CHAT_ID = re.compile(r"^(chat:[^_]+)_(mid:.+)$")


class NotPublishable(Exception):
    """This reply cannot be sent by tsur at all; `kind` is a key of FAILURE_TITLES."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Target:
    platform: str  # vk | telegram | max | ok
    params: dict  # the call's parameters, without the token
    token_env: str  # the environment variable holding the token
    account: str  # who speaks, for people: "vk:club100003", "telegram:bot"


def resolve(ctx: Context, row: dict) -> Target:
    """The platform call for a reply (monitor.incidents.outbox.describe); NotPublishable
    if none."""
    if row.get("post_deleted_at"):
        raise NotPublishable("deleted", f"the resident's message was deleted on the platform "
                                        f"({row['post_deleted_at']}); nothing to reply to")
    platform = row["source_platform"]
    if platform == "vk":
        return _vk(ctx, row)
    if platform == "telegram":
        return _telegram(ctx, row)
    if platform == "max":
        return _max(row)
    if platform == "ok":
        return _ok(row)
    if platform == "tgweb":
        raise NotPublishable("unsupported", "a public channel read through its t.me/s web page: "
                                            "the bot is not in it and cannot reply; answer by hand")
    raise NotPublishable("unsupported", f"posts from {row['source_key']} ({platform}) "
                                        "cannot be answered from tsur; answer by hand")


def _organisations(ctx: Context) -> list[dict]:
    cursor = ctx.db.execute("SELECT * FROM organisations ORDER BY id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _token_env(ctx: Context, org: dict, field: str) -> str | None:
    """The env var name: edited in the admin pages (database) or declared in tsur.toml."""
    if org.get(field):
        return org[field]
    declared = ctx.settings.organisation(org["key"])
    return getattr(declared, field, None) if declared else None


def _vk(ctx: Context, row: dict) -> Target:
    m = VK_ID.match(row["post_external_id"] or "")
    if not m:
        raise NotPublishable("unsupported", f"{row['post_external_id']} is a private message to "
                             "a VK community: answer it in the community's messages by hand")
    if row["mode"] == "dm":
        raise NotPublishable("unsupported", "private VK messages are not sent by tsur: "
                             "answer in the community's messages by hand")
    owner, post_id, comment_id = int(m.group(1)), int(m.group(2)), m.group(3)
    orgs = _organisations(ctx)
    wall_owner = next((o for o in orgs if owner < 0 and o["vk_group_id"] == -owner), None)
    incident_org = next((o for o in orgs if o["id"] == row["incident_organisation_id"]), None)
    for org in (wall_owner, incident_org):
        env = org and org["vk_group_id"] and _token_env(ctx, org, "vk_token_env")
        if env:
            params = {"owner_id": owner, "post_id": post_id, "from_group": org["vk_group_id"],
                      "message": row["text"], "guid": row["guid"]}
            if comment_id:
                params["reply_to_comment"] = int(comment_id)
            return Target("vk", params, env, f"vk:club{org['vk_group_id']}")
    names = ", ".join(f"«{o['name']}»" for o in (wall_owner, incident_org) if o) or "none"
    raise NotPublishable("no_account", f"no linked VK account for wall {owner}: give the "
                         f"organisation ({names}) a vk_group_id and vk_token_env")


def _telegram(ctx: Context, row: dict) -> Target:
    if row["mode"] == "dm":
        author = row["author_id"] or ""
        if not author.startswith("tg:"):
            raise NotPublishable("unsupported", f"author {author or '?'} has no Telegram id")
        params = {"chat_id": int(author[3:]), "text": row["text"],
                  "link_preview_options": {"is_disabled": True}}
        return Target("telegram", params, BOT_TOKEN, "telegram:bot")
    m = TG_ID.match(row["post_external_id"] or "")
    if not m:
        raise NotPublishable("unsupported", f"cannot tell the chat and message of "
                                            f"{row['post_external_id']!r}")
    chat_id, message_id = int(m.group(1)), int(m.group(2))
    env, account = BOT_TOKEN, "telegram:bot"
    for org in _organisations(ctx):
        own_env = _token_env(ctx, org, "telegram_token_env")
        if org["telegram_chat_id"] == chat_id and own_env:
            env, account = own_env, f"telegram:{org['key']}"
    params = {"chat_id": chat_id, "text": row["text"],
              "reply_parameters": {"message_id": message_id,
                                   "allow_sending_without_reply": False},
              "link_preview_options": {"is_disabled": True}}
    return Target("telegram", params, env, account)


def _max(row: dict) -> Target:
    if row["mode"] == "dm":
        author = row["author_id"] or ""
        if not author.startswith("max:"):
            raise NotPublishable("unsupported", f"author {author or '?'} has no MAX id")
        return Target("max", {"user_id": int(author[4:]), "text": row["text"]}, MAX_TOKEN,
                      "max:bot")
    m = MAX_ID.match(row["post_external_id"] or "")
    if not m:
        raise NotPublishable("unsupported", f"cannot tell the chat and message of "
                                            f"{row['post_external_id']!r}")
    return Target("max", {"chat_id": int(m.group(1)), "reply_to": m.group(2),
                          "text": row["text"]}, MAX_TOKEN, "max:bot")


def _ok(row: dict) -> Target:
    chat = OK_CHAT_ID.match(row["post_external_id"] or "")
    if chat:  # a message to the group: the answer goes back into the same chat
        return Target("ok_bot", {"chat_id": chat.group(1), "text": row["text"]},
                      OK_GROUP_TOKEN, "ok:messages")
    if row["mode"] == "dm":
        raise NotPublishable("unsupported", "private messages on Одноклассники are not sent by "
                                            "tsur: answer by hand")
    m = OK_ID.match(row["post_external_id"] or "")
    if not m:
        raise NotPublishable("unsupported", f"cannot tell the group and topic of "
                                            f"{row['post_external_id']!r}")
    return Target("ok", {"group_id": m.group(1), "topic_id": m.group(2), "reply_to": m.group(3),
                          "text": row["text"]}, OK_TOKEN, f"ok:{m.group(1)}")


def shown(params: dict) -> str:
    """The call's parameters for a log line (never the token, the text shortened)."""
    text = {k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v)
            for k, v in params.items()}
    return json.dumps(text, ensure_ascii=False)
