"""Telegram through a bot (aiogram 3): channels it administers, chats it is in, DMs."""

from .collector import BOT_SOURCE, TelegramCollector

__all__ = ["BOT_SOURCE", "TelegramCollector"]
