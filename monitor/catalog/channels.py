"""What an operator types for a public channel, reduced to its one username.

People paste «@name», «name», «t.me/name», the web preview «https://t.me/s/name» or
a link to one post «https://t.me/name/123»; all of them mean the same channel, so
they must give the same source key. Usernames are case-insensitive on Telegram, so
the canonical form is lower case.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Telegram usernames: a letter first, then letters, digits or underscores; 5–32
# characters (4 for the short names sold on Fragment). This checks a name, not HTML.
USERNAME = re.compile(r"[a-z][a-z0-9_]{2,30}[a-z0-9]")
HOSTS = {"t.me", "www.t.me", "telegram.me", "www.telegram.me"}
# First path segments of t.me that are not channels.
NOT_CHANNELS = {
    "c": "a link into a private channel (t.me/c/…) cannot be read without joining it",
    "joinchat": "an invite link is for private chats; only public channels have a preview",
    "addstickers": "a sticker set link is not a channel",
    "addemoji": "an emoji set link is not a channel",
    "addlist": "a folder link is not a channel",
    "share": "a share link is not a channel",
    "proxy": "a proxy link is not a channel",
    "socks": "a proxy link is not a channel",
    "iv": "an Instant View link is not a channel",
    "boost": "a boost link is not a channel",
    "login": "a login link is not a channel",
}


def channel_name(value: str) -> str:
    """The lower-case username of a public channel given as a name or a t.me link.

    Raises ValueError saying what was wrong and which forms are accepted.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_explain("an empty channel name"))
    text = value.strip()
    if text.startswith("@"):
        name = text[1:]
    elif "/" in text or "." in text:
        name = _from_link(text)
    else:
        name = text
    if not USERNAME.fullmatch(name.lower()) or "__" in name:
        raise ValueError(_explain(f"{value!r} is not a public channel username"))
    return name.lower()


def _from_link(text: str) -> str:
    link = text if "://" in text else "https://" + text
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or parts.hostname not in HOSTS:
        raise ValueError(_explain(f"{text!r} is not a t.me link"))
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0] == "s":
        segments = segments[1:]
    if not segments:
        raise ValueError(_explain(f"{text!r} names no channel"))
    first = segments[0]
    if first.startswith("+"):
        raise ValueError(f"{text!r}: {NOT_CHANNELS['joinchat']}")
    if first.lower() in NOT_CHANNELS:
        raise ValueError(f"{text!r}: {NOT_CHANNELS[first.lower()]}")
    rest = segments[1:]
    if len(rest) > 1 or (rest and not rest[0].isdigit()):
        raise ValueError(_explain(f"{text!r} is not a link to a channel or to one of its posts"))
    return first


def _explain(problem: str) -> str:
    return (f"{problem}; give a public channel as @name, name, t.me/name, "
            "https://t.me/s/name or a post link https://t.me/name/123")


PLATFORM = "tgweb"


def source_key(value: str) -> str:
    """The source key for a channel given in any accepted form: ``tgweb:<username>``."""
    return f"{PLATFORM}:{channel_name(value)}"


def message_url(chat_id: int, username: str | None, message_id: int) -> str | None:
    """The t.me link of a message in a public channel or supergroup; None in a private chat."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    digits = str(chat_id)
    if digits.startswith("-100"):
        return f"https://t.me/c/{digits[4:]}/{message_id}"
    return None
