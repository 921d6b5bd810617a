"""MAX through a bot (the MAX Bot API over httpx): group chats it administers, dialogs."""

from .collector import BOT_SOURCE, MaxCollector

__all__ = ["BOT_SOURCE", "MaxCollector"]
