"""The one record every collector yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.clock import as_utc

CHANNELS = ("vk_post", "vk_comment", "telegram", "max", "ok_post", "ok_comment", "ok_message")


@dataclass(frozen=True)
class Post:
    """A resident's message as collected, before any labelling.

    `source` is the source key (``vk:-100001``, ``telegram:-1001…``); `external_id`
    is unique within the source, so (source, external_id) identifies a post forever.
    """

    source: str
    external_id: str
    channel: str
    text: str
    created_at: datetime
    author_id: str | None = None
    author_name: str | None = None
    url: str | None = None
    parent_id: str | None = None
    raw: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNELS}")
        if not self.source or not self.external_id:
            raise ValueError("a post needs a source and an external id")
        if not isinstance(self.text, str):
            raise ValueError("post text must be a string")
        object.__setattr__(self, "created_at", as_utc(self.created_at))
